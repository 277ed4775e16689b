/**
 * Hostile values for today's flags against a private berthd: legacy links (aliases that
 * would break /etc/hosts or the variable names, a target whose exposed ports explode
 * the linker's environment), MAC addresses, cgroup parents (climbing out, or nesting in
 * another container's cgroup), annotations, real-time CPU, prune `until` overflows,
 * --use-api-socket with a hostile config.json, and attach churn. Each bad request is a
 * one-line 4xx that leaves nothing behind; berthd neither crashes nor leaks fds.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { mkdtemp, mkdir, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestDaemon, REPO, run, type ApiResponse } from '../testing/daemon.js';

let d: TestDaemon;
let tmp: string;
before(async () => {
  d = await TestDaemon.start();
  tmp = await mkdtemp('/tmp/bt-hflags-');
});
after(async () => {
  await d?.stop();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

function assertClientError(r: ApiResponse, what: string, status = 400): string {
  assert.equal(r.status, status, `${what}: ${r.status} ${r.body.toString().slice(0, 300)}`);
  const m = r.json<{ message: string }>().message;
  assert.equal(m.includes('\n'), false, `${what}: one line`);
  assert.ok(m.length < 400, `${what}: short (${m.length})`);
  return m;
}

async function count(): Promise<number> {
  return (await d.api('GET', '/containers/json?all=1')).json<unknown[]>().length;
}

const daemonPid = () => Number(readFileSync(join(d.dir, 'run', 'berthd.pid'), 'utf8').trim());
const fds = () => readdirSync(`/proc/${daemonPid()}/fd`).length;

async function create(body: unknown, name?: string): Promise<ApiResponse> {
  return d.api('POST', `/containers/create${name ? `?name=${name}` : ''}`, body);
}

test('link aliases that would break /etc/hosts or variable names, bad MACs, cgroup parents, annotations, rt values: one-line 400, nothing created', { timeout: 20000 }, async () => {
  const target = await create({ Image: 'busybox', Cmd: ['sleep', '60'] }, 'hf-target');
  assert.equal(target.status, 201);
  const tid = target.json<{ Id: string }>().Id;
  assert.equal((await d.api('POST', '/containers/hf-target/start')).status, 204);
  const start = await count();
  const img = { Image: 'busybox', Cmd: ['true'] };
  const bodies: Array<[string, unknown]> = [
    ['alias with #', { ...img, HostConfig: { Links: ['hf-target:a#b'] } }],
    ['alias with =', { ...img, HostConfig: { Links: ['hf-target:path=x'] } }],
    ['alias ../x', { ...img, HostConfig: { Links: ['hf-target:../x'] } }],
    ['unicode alias', { ...img, HostConfig: { Links: ['hf-target:ä'] } }],
    ['alias of 5000 bytes', { ...img, HostConfig: { Links: [`hf-target:${'x'.repeat(5000)}`] } }],
    ['alias with a tab', { ...img, HostConfig: { Links: ['hf-target:a\tb'] } }],
    ['alias with NUL', { ...img, HostConfig: { Links: ['hf-target:a\0b'] } }],
    ['link to a missing container', { ...img, HostConfig: { Links: ['hf-nope:x'] } }],
    ['links with host networking', { ...img, HostConfig: { NetworkMode: 'host', Links: ['hf-target:x'] } }],
    ['endpoint link alias with #', { ...img, NetworkingConfig: { EndpointsConfig: { bridge: { Links: ['hf-target:a#b'] } } } }],
    ['Links of a number', { ...img, HostConfig: { Links: [5] } }],
    ['all-zero MAC', { ...img, MacAddress: '00:00:00:00:00:00' }],
    ['broadcast MAC', { ...img, MacAddress: 'ff:ff:ff:ff:ff:ff' }],
    ['multicast MAC', { ...img, NetworkingConfig: { EndpointsConfig: { bridge: { MacAddress: '01:00:5e:00:00:01' } } } }],
    ['MAC of a number', { ...img, MacAddress: 5 }],
    ['MAC with a newline', { ...img, MacAddress: '02:42:ac:11:00:02\n' }],
    ['MAC on host networking', { ...img, MacAddress: '02:42:ac:11:00:02', HostConfig: { NetworkMode: 'host' } }],
    ['cgroup parent ..', { ...img, HostConfig: { CgroupParent: '..' } }],
    ['cgroup parent /../..', { ...img, HostConfig: { CgroupParent: '/../..' } }],
    ['cgroup parent a/../../b', { ...img, HostConfig: { CgroupParent: 'a/../../b' } }],
    ['cgroup parent with a newline', { ...img, HostConfig: { CgroupParent: 'a\nb' } }],
    ['cgroup parent with NUL', { ...img, HostConfig: { CgroupParent: 'a\0b' } }],
    ['cgroup parent in systemd syntax', { ...img, HostConfig: { CgroupParent: 'system.slice:x:y' } }],
    ['cgroup parent of 5000 bytes', { ...img, HostConfig: { CgroupParent: 'a/'.repeat(2500) } }],
    ["cgroup parent inside a running container's cgroup", { ...img, HostConfig: { CgroupParent: `/berth/${tid}` } }],
    ["cgroup parent inside dockerd's container", { ...img, HostConfig: { CgroupParent: `/docker/${'a'.repeat(64)}/x` } }],
    ['annotation key with NUL', { ...img, HostConfig: { Annotations: { 'a\0b': 'x' } } }],
    ['empty annotation key', { ...img, HostConfig: { Annotations: { '': 'x' } } }],
    ['annotation value of a number', { ...img, HostConfig: { Annotations: { a: 1 } } }],
    ['negative rt runtime', { ...img, HostConfig: { CpuRealtimeRuntime: -1 } }],
    ['rt runtime of 1e300', { ...img, HostConfig: { CpuRealtimeRuntime: 1e300 } }],
    ['rt period as a string', { ...img, HostConfig: { CpuRealtimePeriod: '1000' } }],
  ];
  for (const [what, body] of bodies) assertClientError(await create(body), what);
  assert.equal(await count(), start, 'nothing half-created');
  // The target is untouched by all that (a parent inside its cgroup used to nest a container in it).
  assert.equal((await d.api('GET', '/containers/hf-target/json')).json<{ State: { Running: boolean } }>().State.Running, true);
  // Still accepted: container-name characters, the inspect form, and odd annotation keys (they go to the OCI runtime as is).
  for (const body of [
    { ...img, HostConfig: { Links: ['hf-target:db.1_x-y'] } },
    { ...img, HostConfig: { Links: ['/hf-target:/linker/db'] } },
    { ...img, HostConfig: { Annotations: { 'a=b': 'x', 'k\nv': 'y' } } },
  ]) {
    const r = await create(body);
    assert.equal(r.status, 201, r.body.toString());
    await d.api('DELETE', `/containers/${r.json<{ Id: string }>().Id}?force=1`);
  }
});

test('a link target exposing all 65535 ports: the linker start fails fast with a 400, nothing left running', { timeout: 30000 }, async () => {
  const ports: Record<string, object> = {};
  for (let p = 1; p < 65536; p++) ports[`${p}/tcp`] = {};
  assert.equal((await create({ Image: 'busybox', Cmd: ['sleep', '60'], ExposedPorts: ports }, 'hf-ports')).status, 201);
  assert.equal((await d.api('POST', '/containers/hf-ports/start')).status, 204);
  assert.equal((await create({ Image: 'busybox', Cmd: ['true'], HostConfig: { Links: ['hf-ports:p'] } }, 'hf-linker')).status, 201);
  const netnsBefore = (await readdir(join(d.dir, 'run', 'netns')).catch(() => [])).length;
  const t0 = Date.now();
  // runc 1.1 took minutes on the ~262 000 variables (then berthd answered "runtime wedged").
  const m = assertClientError(await d.api('POST', '/containers/hf-linker/start'), 'linker start');
  assert.match(m, /environment has \d+ variables/);
  assert.ok(Date.now() - t0 < 5000, `refused in ${Date.now() - t0} ms`);
  const st = (await d.api('GET', '/containers/hf-linker/json')).json<{ State: { Running: boolean; Pid: number } }>().State;
  assert.equal(st.Running, false);
  assert.equal((await readdir(join(d.dir, 'run', 'netns')).catch(() => [])).length, netnsBefore, 'no netns left by the failed start');
  // A value over the kernel's 128 KiB per string never execs either: refused before runc.
  assert.equal((await create({ Image: 'busybox', Cmd: ['true'], Env: [`BIG=${'x'.repeat(140 * 1024)}`] }, 'hf-bigenv')).status, 201);
  assert.match(assertClientError(await d.api('POST', '/containers/hf-bigenv/start'), 'big env value'), /more than the kernel's/);
  for (const n of ['hf-ports', 'hf-linker', 'hf-bigenv']) await d.api('DELETE', `/containers/${n}?force=1`);
});

test('prune filters with hostile values: overflowing until is a 400 (was a 500 or "prune all"); 1000 label filters answer', { timeout: 20000 }, async () => {
  const q = (f: unknown) => `filters=${encodeURIComponent(JSON.stringify(f))}`;
  for (const ep of ['/containers/prune', '/images/prune', '/networks/prune']) {
    for (const until of ['99999999999999999999999', '9999999999999999', '1e400', '2026-13-45T99:99:99Z', 'x']) {
      assertClientError(await d.api('POST', `${ep}?${q({ until: [until] })}`), `${ep} until=${until}`);
    }
  }
  assertClientError(await d.api('POST', `/networks/prune?${q({ until: ['99999999999999999999h'] })}`), 'networks until of 1e20 hours');
  const labels = Array.from({ length: 1000 }, (_, i) => `hf.l${i}=.*(`);
  for (const ep of ['/containers/prune', '/networks/prune', '/volumes/prune', '/images/prune']) {
    const r = await d.api('POST', `${ep}?${q({ label: labels, 'label!': ['=x', ''] })}`);
    assert.ok(r.status === 200 || r.status === 400, `${ep}: ${r.status} ${r.body.toString().slice(0, 200)}`);
  }
  // The running target survived every prune.
  assert.equal((await d.api('GET', '/containers/hf-target/json')).status, 200);
});

test('run --use-api-socket with a hostile config.json: no bytes of another file printed, no endless read', { timeout: 30000 }, async () => {
  const secret = join(tmp, 'secret');
  await writeFile(secret, 'TOPSECRET-hostile-flags\n');
  const cases: Array<[string, string]> = [['symlink to a non-JSON file', secret], ['symlink to /dev/zero', '/dev/zero']];
  for (const [what, target] of cases) {
    const dir = join(tmp, what.replace(/\W/g, '_'));
    await mkdir(dir);
    await symlink(target, join(dir, 'config.json'));
    const r = await runCli(['run', '--rm', '--use-api-socket', 'busybox', 'true'], { DOCKER_CONFIG: dir });
    assert.notEqual(r.code, 0, what);
    assert.doesNotMatch(r.stderr, /TOPSECRET/, `${what}: ${r.stderr}`);
    assert.match(r.stderr, /resolving credentials failed/, what);
  }
  assert.equal(await count(), 1, 'no container created by the refused runs');
});

function runCli(args: string[], env: Record<string, string>) {
  return run(process.execPath, [join(REPO, 'dist/berth-cli.mjs'), ...args], { BERTH_HOST: d.host, ...env }, { timeout: 15000 });
}

/** One raw attach that the client closes after `ms`, output flooding meanwhile. */
function attachOnce(id: string, ms: number): Promise<number> {
  return new Promise((resolve) => {
    let got = 0;
    const s = net.connect(d.socket, () => s.write(`POST /containers/${id}/attach?stream=1&stdout=1&stderr=1 HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n`));
    s.on('data', (b: Buffer) => { got += b.length; });
    const t = setTimeout(() => s.destroy(), ms);
    s.on('error', () => {});
    s.on('close', () => { clearTimeout(t); resolve(got); });
  });
}

async function pingWithin(ms: number): Promise<boolean> {
  return Promise.race([d.api('GET', '/_ping').then((r) => r.status === 200, () => false), new Promise<boolean>((r) => setTimeout(() => r(false), ms))]);
}

// A client's FIN alone is a half-close (stdin EOF, output goes on); a client gone altogether
// (EPOLLHUP on its socket) is let go at once, with the container's attach socket, even when
// the container prints nothing (src/api/hijack.ts watchHangUp).
test('attach churn on a quiet container: 300 attach/detach cycles leak no fd', { timeout: 30000 }, async () => {
  assert.equal((await create({ Image: 'busybox', Cmd: ['sleep', '60'], OpenStdin: true }, 'hf-quiet')).status, 201);
  assert.equal((await d.api('POST', '/containers/hf-quiet/start')).status, 204);
  await attachOnce('hf-quiet', 50);
  const before = fds();
  let next = 0;
  await Promise.all(Array.from({ length: 5 }, async () => { while (next++ < 300) await attachOnce('hf-quiet', 3 + (next % 10)); }));
  await new Promise((r) => setTimeout(r, 1000));
  assert.ok(await pingWithin(3000), 'berthd answers');
  assert.ok(fds() <= before + 2, `fds ${before} → ${fds()}`);
  await d.api('DELETE', '/containers/hf-quiet?force=1');
});

// connect(2) to conmon's attach socket used to block the event loop: with conmon's accept
// backlog full and conmon blocked writing to an attach socket berthd must drain, berthd
// wedged for good. The connect is non-blocking now (src/runtime/conmon/seqpacket.ts).
test('attach churn while output floods: berthd keeps answering', { timeout: 30000 }, async () => {
  assert.equal((await create({ Image: 'busybox', Cmd: ['sh', '-c', 'while :; do echo floodfloodflood; done'] }, 'hf-flood')).status, 201);
  assert.equal((await d.api('POST', '/containers/hf-flood/start')).status, 204);
  let next = 0;
  const churn = Promise.all(Array.from({ length: 50 }, async () => { while (next++ < 2000) await attachOnce('hf-flood', 5 + (next % 20)); }));
  const done = await Promise.race([churn.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 15000))]);
  const alive = await pingWithin(3000);
  const log = alive ? '' : d.log.slice(-3000); // why it stopped answering, before the relaunch
  if (!alive) {
    // Recover the private daemon so the teardown can clean up: kill it and start it again.
    await d.kill('SIGKILL');
    await d.launch();
  }
  await d.api('DELETE', '/containers/hf-flood?force=1');
  assert.ok(done && alive, `churn finished: ${done}; berthd answering: ${alive}${log ? `; its log: ${log}` : ''}`);
});
