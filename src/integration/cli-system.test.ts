/**
 * berth's system/builder management commands and the image/volume/network/system groups,
 * side by side with docker CLI 28 against one private berthd: what a docker user types
 * must print the same (object IDs aside) and exit the same.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { TestDaemon } from '../testing/daemon.js';

let d: TestDaemon;
const tag = randomBytes(3).toString('hex');
const L = `sys-${tag}`; // the label the prune tests filter on

before(async () => { d = await TestDaemon.start(); });
after(async () => { await d?.stop(); });

type Out = { code: number; stdout: string; stderr: string };
const both = async (args: string[], input = ''): Promise<[Out, Out]> => [await d.docker(args, { input }), await d.berth(args, { input })];
/** docker's words for itself become berth's; 64-hex IDs (and sha256 digests) are compared as <ID>. */
const norm = (s: string) => s.replace(/\bdocker\b/g, 'berth').replace(/[0-9a-f]{64}/g, '<ID>');
// docker 28 without buildx warns about its legacy builder on `builder` commands; berth has no such thing.
const dropLegacyBuilder = (s: string) => s.replace(/^DEPRECATED: The legacy builder[\s\S]*?buildx\/\n\n/, '');

/**
 * docker prints the rows of one image's repositories in Go map order (random from run to
 * run): for `image ls`, the lines are compared as a set.
 */
const rows = (args: string[], s: string) => {
  if (args[0] !== 'image' || args[1] !== 'ls') return s;
  return s.split('\n').sort().join('\n');
};

function assertSame(args: string[], [dk, bt]: [Out, Out]): void {
  const what = `\`${args.join(' ')}\``;
  assert.equal(bt.code, dk.code, `${what} exit: docker ${dk.code}, berth ${bt.code}: ${bt.stderr}`);
  assert.equal(rows(args, norm(bt.stdout)), rows(args, norm(dk.stdout)), `${what} stdout`);
  assert.equal(norm(bt.stderr), norm(dropLegacyBuilder(dk.stderr)), `${what} stderr`);
}

/**
 * "N seconds ago" and "Up N seconds" tick between the docker and the berth run (a slow
 * `system df -v` crossed two second boundaries in a row): seconds are compared as a
 * shape, minutes and longer as written.
 */
const seconds = (s: string) => s.replace(/\b\d+ seconds ago\b/g, '<N> seconds ago').replace(/\bUp \d+ seconds\b/g, 'Up <N> seconds');

async function same(args: string[], input = ''): Promise<Out> {
  const check = ([dk, bt]: [Out, Out]) => assertSame(args, [{ ...dk, stdout: seconds(dk.stdout) }, { ...bt, stdout: seconds(bt.stdout) }]);
  let r = await both(args, input);
  // One more try for a minute boundary ("59 seconds" against "About a minute").
  try { check(r); } catch { r = await both(args, input); check(r); }
  return r[1];
}

async function berth(args: string[], code = 0): Promise<Out> {
  const r = await d.berth(args, { timeout: 30000 });
  assert.equal(r.code, code, `berth ${args.join(' ')}: ${r.stdout}${r.stderr}`);
  return r;
}

/** Objects a prune with --filter label=L should take (and look-alikes without the label that must stay). */
async function scenario(): Promise<void> {
  await berth(['run', '--label', L, '--name', `${L}-c1`, 'busybox', 'true']);
  await berth(['run', '--name', `${L}-c2`, 'busybox', 'sh', '-c', 'echo x > /f']);
  await berth(['network', 'create', '--label', L, `${L}-n1`]);
  await berth(['network', 'create', `${L}-n2`]);
  await berth(['volume', 'create', '--label', L]); // anonymous (no name): system prune --volumes takes it
  await berth(['volume', 'create', '--label', L, `${L}-v1`]); // named: docker 28's system prune keeps it
  await berth(['commit', '-c', `LABEL ${L}=1`, `${L}-c2`, `${L}-img:1`]);
  await berth(['commit', `${L}-c2`, `${L}-keep:1`]);
}

async function leftovers(): Promise<string> {
  const ps = (await berth(['ps', '-a', '--format', '{{.Names}}', '-f', `name=${L}`])).stdout;
  const nets = (await berth(['network', 'ls', '--format', '{{.Name}}', '-f', `name=${L}`])).stdout;
  const vols = (await berth(['volume', 'ls', '-q', '-f', `label=${L}`])).stdout;
  const imgs = (await berth(['images', '--format', '{{.Repository}}:{{.Tag}}', '-f', `reference=${L}*`])).stdout;
  return [ps, nets, vols, imgs].map((s) => s.trim().split('\n').filter(Boolean).sort().join(',')).join(' | ');
}

async function cleanup(): Promise<void> {
  await d.berth(['rm', '-f', `${L}-c1`, `${L}-c2`]);
  await d.berth(['network', 'rm', `${L}-n1`, `${L}-n2`]);
  const vols = (await berth(['volume', 'ls', '-q', '-f', `label=${L}`])).stdout.trim().split('\n').filter(Boolean);
  if (vols.length) await d.berth(['volume', 'rm', ...vols]);
  await d.berth(['rmi', `${L}-img:1`, `${L}-keep:1`]);
}

test('system prune -a --volumes --filter label=L -f: same sections, same survivors as docker', { timeout: 60000 }, async () => {
  const args = ['system', 'prune', '-a', '--volumes', '--filter', `label=${L}`, '-f'];
  await scenario();
  const dk = await d.docker(args);
  const afterDocker = await leftovers();
  await cleanup();
  await scenario();
  const bt = await d.berth(args);
  const afterBerth = await leftovers();
  await cleanup();
  assertSame(args, [dk, bt]);
  assert.match(bt.stdout, /^Deleted Containers:\n[0-9a-f]{64}\n\nDeleted Networks:\n.*-n1\n\nDeleted Volumes:\n[0-9a-f]{64}\n\nDeleted Images:\nuntagged: .*-img:1\ndeleted: sha256:[0-9a-f]{64}\n\nTotal reclaimed space: \d/);
  assert.equal(afterBerth, afterDocker);
  assert.equal(afterBerth, `${L}-c2 | ${L}-n2 | ${L}-v1 | ${L}-keep:1`);
});

test('system prune: the prompt for each flag combination, cancelling, and flag errors as docker', { timeout: 30000 }, async () => {
  await berth(['network', 'create', `${L}-p`]);
  for (const flags of [[], ['-a'], ['--volumes'], ['-a', '--volumes'], ['--filter', 'until=10m', '--filter', 'label!=a10', '--filter', 'label!=a9', '--filter', 'label=x']]) {
    const r = await same(['system', 'prune', ...flags], 'n\n');
    assert.match(r.stdout, /^WARNING! This will remove:\n[\s\S]*\nAre you sure you want to continue\? \[y\/N\] $/);
  }
  // Cancelled: nothing went.
  assert.equal((await berth(['network', 'ls', '-q', '-f', `name=${L}-p`])).stdout.length, 13);
  await same(['system', 'prune', '--volumes', '--filter', 'until=1h']);
  await same(['system', 'prune', '--filter', 'nokey', '-f']);
  await same(['system', 'prune', '--filter', 'bogus=1', '-f']);
  await same(['system', 'prune', 'extra']);
  await same(['builder', 'prune'], 'n\n');
  await same(['builder', 'prune', '-a'], 'n\n');
  await berth(['network', 'rm', `${L}-p`]);
});

test('builder prune, system info/events, image build: docker\'s aliases and output', { timeout: 30000 }, async () => {
  assert.equal((await same(['builder', 'prune', '-af', '--filter', 'until=24h', '--keep-storage', '1g'])).stdout, 'Total reclaimed space: 0B\n');
  await same(['builder', 'prune', '-f', '--keep-storage', '10zz']);
  assert.equal((await berth(['system', 'info', '--format', '{{.Images}}'])).stdout, (await berth(['info', '--format', '{{.Images}}'])).stdout);
  const since = String(Math.floor(Date.now() / 1000) - 600);
  const now = String(Math.floor(Date.now() / 1000));
  const ev = await same(['system', 'events', '--since', since, '--until', now]);
  assert.match(ev.stdout, /image import/);
  assert.match((await berth(['image', 'build', '--help'])).stdout, /Build an image from a Dockerfile/);
  assert.match((await berth(['builder', 'build', '--help'])).stdout, /Build an image from a Dockerfile/);
  assert.match((await berth(['system', '--help'])).stdout, /df .*\n.*events .*\n.*info .*\n.*prune /);
  assert.match((await berth(['system', 'df', '--help'])).stdout, /Show berth disk usage/);
});

test('network prune --filter until: a duration keeps networks newer than it', { timeout: 30000 }, async () => {
  await berth(['network', 'create', `${L}-u`]);
  for (const cli of [d.docker.bind(d), d.berth.bind(d)]) {
    const r = await cli(['network', 'prune', '-f', '--filter', 'until=1h']);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout, new RegExp(`${L}-u`));
  }
  const later = new Date(Date.now() + 3600_000).toISOString();
  assert.match((await berth(['network', 'prune', '-f', '--filter', `until=${later}`])).stdout, new RegExp(`^Deleted Networks:\\n(.*\\n)*${L}-u\\n`));
  await same(['network', 'prune', '-f', '--filter', 'until=bogus']);
});

test('image, volume, network, system groups: a new user\'s flags print what docker prints', { timeout: 60000 }, async () => {
  await berth(['volume', 'create', '--label', 'a=1', `${L}-lv`]);
  await berth(['network', 'create', '--label', 'a=1', `${L}-ln`]);
  await berth(['tag', 'busybox', `${L}-tag:one`]);
  await berth(['run', '-d', '--name', `${L}-r`, '-v', `${L}-rv:/data`, 'busybox', 'sleep', '60']);
  try {
    const cases = [
      ['volume', 'ls'], ['volume', 'ls', '-q'], ['volume', 'ls', '--format', 'json'], ['volume', 'ls', '-f', 'label=a=1'],
      ['volume', 'ls', '-f', 'dangling=true', '-q'], ['volume', 'ls', '--format', '{{.Name}}\t{{.Size}}'], ['volume', 'ls', '-f', 'bad'],
      ['volume', 'inspect', '-f', '{{.Name}}', `${L}-lv`, 'nope'], ['volume', 'rm', 'nope'], ['volume', 'inspect'],
      ['network', 'ls'], ['network', 'ls', '-q', '--no-trunc'], ['network', 'ls', '--format', 'json'], ['network', 'ls', '--format', '{{.Name}} {{.CreatedAt}}'],
      ['network', 'ls', '-f', 'label=a=1'], ['network', 'ls', '-f', 'type=custom', '--format', 'table {{.Name}}\t{{.IPv4}}\t{{.IPv6}}'],
      ['network', 'ls', '-f', 'bogus=1'], ['network', 'inspect', '-f', '{{.Name}}', `${L}-ln`, 'nope'], ['network', 'connect', `${L}-ln`, 'nope'],
      ['image', 'ls'], ['image', 'ls', '-q', '--no-trunc'], ['image', 'ls', '--format', 'json'], ['image', 'ls', '--digests'], ['image', 'ls', 'busybox'],
      ['image', 'ls', '-f', 'dangling=false', '--format', '{{.Repository}}:{{.Tag}} {{.SharedSize}} {{.UniqueSize}}'],
      ['image', 'history', 'busybox'], ['image', 'history', '--human=false', 'busybox'], ['image', 'history', '--format', 'json', '--no-trunc', 'busybox'],
      ['image', 'history', '-q', 'busybox'], ['image', 'inspect', '-f', '{{.Id}}', 'busybox', 'nope'], ['image', 'rm', 'nope'], ['image', 'tag', 'nope', 'x'],
      ['image', 'prune', '-f'], ['image', 'prune', '-f', '--filter', 'bad'],
      ['image', '--help'], ['volume', '--help'], ['network', '--help'], ['builder', '--help'], ['system', 'prune', '--help'], ['builder', 'prune', '--help'],
      ['network', 'prune', '--help'], ['image', 'prune', '--help'], ['volume', 'prune', '--help'],
      ['system', 'df'], ['system', 'df', '-v'], ['system', 'df', '--format', 'json'], ['system', 'df', 'extra'], ['system', 'nope'],
    ];
    for (const args of cases) {
      // docker's `system nope` also prints a bare "Usage:  docker system" line: berth's tail is one shorter.
      if (args[1] === 'nope') {
        const [dk, bt] = await both(args);
        assert.equal(bt.code, dk.code);
        assert.equal(norm(bt.stderr).split('\n')[0], norm(dk.stderr).split('\n')[0]);
        continue;
      }
      await same(args);
    }
  } finally {
    await d.berth(['rm', '-f', `${L}-r`]);
    await d.berth(['volume', 'rm', `${L}-lv`, `${L}-rv`]);
    await d.berth(['network', 'rm', `${L}-ln`]);
    await d.berth(['rmi', `${L}-tag:one`]);
  }
});
