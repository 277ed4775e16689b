/**
 * Small differences from Docker found by colleagues, each checked against the real
 * docker CLI on the same daemon where it shows: log and event bounds at nanosecond
 * precision, ps/inspect sizes, --security-opt checks and seccomp profiles from a file,
 * reference wording, docker 28's CLI error shapes, unknown create fields dropped.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TestDaemon } from '../testing/daemon.js';

let d: TestDaemon;
before(async () => { d = await TestDaemon.start(); });
after(async () => { await d?.stop(); });

const b = (...args: string[]) => d.berth(args);
const dk = (...args: string[]) => d.docker(args);
/** docker's text with berth's name in it: what berth must print. */
const asBerth = (s: string) => s.replaceAll('docker', 'berth');

/** RFC 3339 with a 9-digit fraction (as `logs -t` prints) → unix nanoseconds. */
function nanosOf(stamp: string): bigint {
  const m = /^(.*T\d\d:\d\d:\d\d)\.(\d{9})Z$/.exec(stamp);
  assert.ok(m, stamp);
  return BigInt(Date.parse(`${m[1]}Z`)) * 1_000_000n + BigInt(m[2]!);
}
/** Unix nanoseconds → the `seconds.nanos` form the CLI and the API take. */
const unix = (ns: bigint) => `${ns / 1_000_000_000n}.${String(ns % 1_000_000_000n).padStart(9, '0')}`;

test('logs --since/--until at the exact stamp of a line keep it; one nanosecond off drops it', { timeout: 20_000 }, async () => {
  const id = (await b('run', '-d', '--name', 'dp-logs', 'busybox', 'sh', '-c', 'for i in 1 2 3 4 5; do echo l$i; sleep 0.05; done')).stdout.trim();
  assert.equal((await b('wait', id)).stdout.trim(), '0');
  const lines = (await dk('logs', '-t', 'dp-logs')).stdout.trim().split('\n').map((l) => l.split(' ') as [string, string]);
  assert.deepEqual(lines.map((l) => l[1]), ['l1', 'l2', 'l3', 'l4', 'l5']);
  const [stamp3] = lines[2]!;
  const t3 = nanosOf(stamp3);
  for (const cli of [dk, b]) {
    const out = async (...a: string[]) => (await cli('logs', ...a, 'dp-logs')).stdout.trim().split('\n').join(' ');
    assert.equal(await out('--since', stamp3), 'l3 l4 l5', 'since: the line stamped at that instant stays');
    assert.equal(await out('--until', stamp3), 'l1 l2 l3');
    assert.equal(await out('--since', unix(t3)), 'l3 l4 l5');
    assert.equal(await out('--since', unix(t3 + 1n)), 'l4 l5');
    assert.equal(await out('--until', unix(t3 - 1n)), 'l1 l2');
    assert.equal(await out('--since', stamp3, '--until', stamp3), 'l3');
  }
  await b('rm', id);
});

test('GET /events since/until select the event stamped at that very nanosecond', { timeout: 20_000 }, async () => {
  const t0 = BigInt(Date.now() - 1000) * 1_000_000n;
  // Labelled: the window also holds the creates of the tests before this one.
  for (const n of ['dp-ev1', 'dp-ev2', 'dp-ev3']) await b('create', '--name', n, '--label', 'dp-ev=1', 'busybox', 'true');
  const t1 = BigInt(Date.now() + 1000) * 1_000_000n;
  const events = async (since: bigint, until: bigint) => {
    const filters = encodeURIComponent(JSON.stringify({ event: ['create'], label: ['dp-ev=1'] }));
    const text = (await d.api('GET', `/events?since=${unix(since)}&until=${unix(until)}&filters=${filters}`)).body.toString();
    // timeNano read as text: JSON.parse would round it to a double.
    return text.trim().split('\n').filter(Boolean).map((l) => ({ name: JSON.parse(l).Actor.Attributes.name as string, ns: BigInt(/"timeNano":(\d+)/.exec(l)![1]!) }));
  };
  const all = await events(t0, t1);
  assert.deepEqual(all.map((e) => e.name), ['dp-ev1', 'dp-ev2', 'dp-ev3']);
  const mid = all[1]!.ns;
  assert.deepEqual((await events(mid, mid)).map((e) => e.name), ['dp-ev2']);
  assert.deepEqual((await events(mid, t1)).map((e) => e.name), ['dp-ev2', 'dp-ev3']);
  assert.deepEqual((await events(mid + 1n, t1)).map((e) => e.name), ['dp-ev3']);
  assert.deepEqual((await events(t0, mid - 1n)).map((e) => e.name), ['dp-ev1']);
  // The docker CLI sends what `docker events` printed: the same event comes back.
  const stamp = new Date(Number(mid / 1_000_000n)).toISOString().slice(0, 19) + `.${String(mid % 1_000_000_000n).padStart(9, '0')}Z`;
  const r = await dk('events', '--since', stamp, '--until', stamp, '--filter', 'event=create', '--format', '{{.Actor.Attributes.name}}');
  assert.equal(r.stdout.trim(), 'dp-ev2', r.stderr);
  await b('rm', 'dp-ev1', 'dp-ev2', 'dp-ev3');
});

test('ps -s and inspect ?size=1: SizeRw is the upper dir, SizeRootFs adds the image; not computed unless asked', { timeout: 20_000 }, async () => {
  const id = (await b('run', '--name', 'dp-size', 'busybox', 'sh', '-c', 'head -c 12345 /dev/zero > /f; mkdir /d; head -c 100 /dev/zero > /d/g')).stdout.trim();
  assert.equal(id, '');
  const imageSize = (await d.api('GET', '/images/busybox/json')).json().Size as number;
  assert.ok(imageSize > 0);
  const row = async (q: string) => (await d.api('GET', `/containers/json?all=1${q}&filters=${encodeURIComponent('{"name":["dp-size"]}')}`)).json()[0];
  const sized = await row('&size=1');
  assert.deepEqual([sized.SizeRw, sized.SizeRootFs], [12445, 12445 + imageSize]);
  assert.deepEqual(Object.keys(sized).slice(6, 10), ['Ports', 'SizeRw', 'SizeRootFs', 'Labels'], "docker's field order");
  const plain = await row('');
  assert.ok(!('SizeRw' in plain) && !('SizeRootFs' in plain));
  const ins = (await d.api('GET', '/containers/dp-size/json?size=1')).json();
  assert.deepEqual([ins.SizeRw, ins.SizeRootFs], [12445, 12445 + imageSize]);
  assert.ok(!('SizeRw' in (await d.api('GET', '/containers/dp-size/json')).json()));
  const col = async (cli: typeof b) => (await cli('ps', '-a', '-s', '--filter', 'name=dp-size', '--format', '{{.Size}}')).stdout.trim();
  const mine = await col(b);
  assert.match(mine, /^12\.4kB \(virtual \d+(\.\d+)?[kM]B\)$/);
  assert.equal(mine, await col(dk));
  const table = (await b('ps', '-a', '-s', '--filter', 'name=dp-size')).stdout.split('\n');
  assert.match(table[0]!, /NAMES\s+SIZE$/);
  assert.ok(table[1]!.endsWith(mine), table[1]);
  assert.match((await b('inspect', '-s', '--format', '{{.SizeRw}}', 'dp-size')).stdout, /^12445\n$/);
  await b('rm', 'dp-size');
});

test('--security-opt: malformed options fail client-side as in docker; seccomp=<file> sends the profile and is enforced', { timeout: 30_000 }, async () => {
  const before = (await b('ps', '-aq')).stdout;
  for (const cmd of ['run', 'create']) {
    const [mine, theirs] = [await b(cmd, '--security-opt', 'bogus', 'busybox', 'true'), await dk(cmd, '--security-opt', 'bogus', 'busybox', 'true')];
    assert.deepEqual([mine.code, mine.stderr], [theirs.code, asBerth(theirs.stderr)], cmd);
    assert.equal(mine.code, 125);
  }
  const missing = ['run', '--security-opt', `seccomp=${d.dir}/none.json`, 'busybox', 'true'];
  const [m1, t1] = [await b(...missing), await dk(...missing)];
  assert.deepEqual([m1.code, m1.stderr], [t1.code, asBerth(t1.stderr)]);
  assert.equal((await b('ps', '-aq')).stdout, before, 'nothing created');

  const profile = join(d.dir, 'no-mkdir.json');
  await writeFile(profile, JSON.stringify({
    defaultAction: 'SCMP_ACT_ALLOW',
    archMap: [{ architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_X32'] }, { architecture: 'SCMP_ARCH_AARCH64', subArchitectures: ['SCMP_ARCH_ARM'] }],
    syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }],
  }, null, 2));
  for (const cli of [b, dk]) {
    const r = await cli('run', '--rm', '--security-opt', `seccomp=${profile}`, 'busybox', 'sh', '-c', 'touch /ok && mkdir /no');
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /mkdir: can't create directory '\/no': Operation not permitted/);
  }
  const ok = await b('run', '--rm', '--security-opt', 'seccomp=unconfined', '--security-opt', 'no-new-privileges', 'busybox', 'mkdir', '/yes');
  assert.equal(ok.code, 0, ok.stderr);
  const id = (await b('create', '--security-opt', `seccomp=${profile}`, 'busybox', 'true')).stdout.trim();
  const opts = (await d.api('GET', `/containers/${id}/json`)).json().HostConfig.SecurityOpt as string[];
  assert.equal(opts.length, 1);
  assert.ok(opts[0]!.startsWith('seccomp={"defaultAction":"SCMP_ACT_ALLOW"'), 'the compacted profile, not the path');
  await b('rm', id);
});

test('reference case errors in docker\'s words, from the CLI and the raw API', { timeout: 20_000 }, async () => {
  const api = await d.api('POST', '/images/create?fromImage=Bad&tag=latest');
  assert.equal(api.status, 400);
  assert.equal(api.json().message, 'invalid reference format: repository name (library/Bad) must be lowercase');
  const created = await d.api('POST', '/containers/create', { Image: 'Bad' });
  assert.equal(created.status, 400);
  assert.equal(created.json().message, 'invalid reference format: repository name (library/Bad) must be lowercase');
  const inspected = await d.api('GET', '/images/Bad/json');
  assert.deepEqual([inspected.status, inspected.json().message], [400, created.json().message]);
  for (const cmd of ['run', 'create']) {
    const [mine, theirs] = [await b(cmd, 'Bad'), await dk(cmd, 'Bad')];
    assert.deepEqual([mine.code, mine.stderr], [theirs.code, asBerth(theirs.stderr)], cmd);
  }
});

test('CLI errors in docker 28\'s shapes: argument counts, run failures, --help order', { timeout: 20_000 }, async () => {
  for (const args of [['version', 'extra'], ['logs'], ['logs', 'a', 'b'], ['rm'], ['run'], ['exec', 'x']]) {
    const [mine, theirs] = [await b(...args), await dk(...args)];
    assert.deepEqual([mine.code, mine.stderr], [theirs.code, asBerth(theirs.stderr)], args.join(' '));
  }
  const [mine, theirs] = [await b('run', '--rm', 'busybox', 'nosuchcmd'), await dk('run', '--rm', 'busybox', 'nosuchcmd')];
  assert.equal(mine.code, 127);
  const anyId = (s: string) => s.replace(/[0-9a-f]{64}/g, '<id>');
  assert.deepEqual([mine.code, anyId(mine.stderr)], [theirs.code, anyId(asBerth(theirs.stderr))]);
  assert.match(mine.stderr, /^berth: Error response from daemon: .*nosuchcmd.*\n\nRun 'berth run --help' for more information\n$/);
  // docker's layout (pflag's columns), the same flags by long name with docker's type names,
  // the Windows-only ones hidden; only docker's own --help line is not listed.
  const flagsOf = (help: string) => [...help.matchAll(/^ {2}(?:-\w, | {4})--([\w-]+)( \w+)?/gm)].map((m) => `${m[1]}${m[2] ?? ''}`);
  const longs = flagsOf((await b('run', '--help')).stdout);
  assert.ok(longs.length > 50, `${longs.length} flags`);
  assert.deepEqual(longs, [...longs].sort(), 'flags by long name, as docker lists them');
  assert.deepEqual(longs, flagsOf((await dk('run', '--help')).stdout).filter((f) => f !== 'help'));
});

test('create: unknown Config/HostConfig fields are dropped, in memory and on disk; known ones read back', { timeout: 20_000 }, async () => {
  const r = await d.api('POST', '/containers/create?name=dp-junk', {
    Image: 'busybox', Cmd: ['true'], Junk: 'x', Labels: { a: 'b' },
    HostConfig: { Memory: 8 << 20, JunkToo: { deep: 1 }, CpuShares: 512, DeviceRequests: null, IOMaximumBandwidth: 0 },
  });
  assert.equal(r.status, 201, r.body.toString());
  const id = r.json().Id as string;
  const ins = (await d.api('GET', `/containers/${id}/json`)).json();
  assert.ok(!('Junk' in ins.Config) && !('JunkToo' in ins.HostConfig));
  assert.deepEqual([ins.HostConfig.Memory, ins.HostConfig.CpuShares, ins.Config.Labels], [8 << 20, 512, { a: 'b' }]);
  const onDisk = await readFile(join(d.dir, 'data', 'containers', id, 'container.json'), 'utf8');
  assert.doesNotMatch(onDisk, /Junk/);
  assert.match(onDisk, /"CpuShares": 512/);
  await b('rm', id);
});
