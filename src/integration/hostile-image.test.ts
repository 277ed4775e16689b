/**
 * Hostile images against a private berthd: a rootfs whose paths berth touches from the
 * host side (/etc/hosts, hostname, resolv.conf, passwd, group, the working dir, VOLUME
 * paths, --tmpfs/-v destinations, the --init binary) are symlinks aimed at host canary
 * files. Nothing on the host may be read, written or mounted over.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { lstat, mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TestDaemon, REPO } from '../testing/daemon.js';

let d: TestDaemon;
let tmp: string;
let canary: string;

before(async () => {
  d = await TestDaemon.start();
  tmp = await mkdtemp('/tmp/bt-hostile-');
  canary = join(tmp, 'canary');
  for (const sub of ['voldata', 'tmpfsdir', 'vdir', 'workdir']) await mkdir(join(canary, sub), { recursive: true });
  await writeFile(join(canary, 'secret'), 'host-secret\n');
  await writeFile(join(canary, 'voldata', 'secret'), 'host-secret\n');
  // A host passwd/group with a user the image does not have: found only if berth reads the host's.
  await writeFile(join(canary, 'passwd'), 'root:x:0:0:root:/root:/bin/sh\nevil:x:4242:4242::/:/bin/sh\n');
  await writeFile(join(canary, 'group'), 'root:x:0:\nevil:x:4242:\n');

  const root = join(tmp, 'rootfs');
  await mkdir(root);
  const bb = execFileSync(process.execPath, [join(REPO, 'scripts/busybox-rootfs.mjs')], { maxBuffer: 64 << 20 });
  execFileSync('tar', ['-x', '-C', root], { input: bb });
  for (const f of ['hosts', 'hostname', 'resolv.conf', 'passwd', 'group']) await rm(join(root, 'etc', f), { force: true });
  const links: Array<[string, string]> = [
    ['etc/hosts', `${canary}/hosts`],
    ['etc/hostname', `../../../../../../..${canary}/hostname`],
    ['etc/resolv.conf', `${canary}/resolv.conf`],
    ['etc/passwd', `${canary}/passwd`],
    ['etc/group', `${canary}/group`],
    ['work', `${canary}/workdir`],
    ['data', `${canary}/voldata`],
    ['mnt/t', `${canary}/tmpfsdir`],
    ['mnt/v', `${canary}/vdir`],
    ['sbin/docker-init', `${canary}/init`],
    ['vol2/leak', `${canary}/secret`],
    ['vol2/d', canary],
  ];
  await mkdir(join(root, 'mnt'));
  await mkdir(join(root, 'vol2'));
  await writeFile(join(root, 'vol2', 'own'), 'in-image\n');
  for (const [at, target] of links) await symlink(target, join(root, at));
  const layer = execFileSync('tar', ['-c', '-C', root, '.'], { maxBuffer: 64 << 20 });
  const changes = ['VOLUME ["/data","/vol2"]', 'CMD ["sh"]'].map((c) => `changes=${encodeURIComponent(c)}`).join('&');
  const r = await d.api('POST', `/images/create?fromSrc=-&repo=hostile&tag=1&${changes}`, layer, { 'Content-Type': 'application/x-tar' });
  assert.equal(r.status, 200, r.body.toString());
});

after(async () => {
  await d?.docker(['rmi', '-f', 'hostile:1']).catch(() => {});
  await d?.stop();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

/** Names, kinds, sizes, mtimes and contents of everything under the canary dir. */
async function snapshot(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of (await readdir(dir, { recursive: true })).sort()) {
    const p = join(dir, e);
    const st = await lstat(p);
    out.push(`${e} ${st.mode} ${st.size} ${st.mtimeMs}${st.isFile() ? ' ' + (await readFile(p, 'utf8')) : ''}`);
  }
  return out;
}

async function mountsUnder(dir: string): Promise<string[]> {
  const info = await readFile('/proc/self/mountinfo', 'utf8');
  return info.split('\n').map((l) => l.split(' ')[4] ?? '').filter((p) => p === dir || p.startsWith(dir + '/'));
}

test('symlinks to the host at every path berth touches stay inside the container', { timeout: 45000 }, async () => {
  const before = await snapshot(canary);

  // -u resolves against the image's passwd, which is a dangling link inside the rootfs.
  const u = await d.docker(['run', '--rm', '-u', 'evil', 'hostile:1', 'id']);
  assert.equal(u.code, 125, u.stdout);
  assert.match(u.stderr, /unable to find user evil: no matching entries in passwd file/);
  const ug = await d.docker(['run', '--rm', '-u', '0:evil', 'hostile:1', 'id']);
  assert.match(ug.stderr, /unable to find group evil/);

  // One run exercises /etc files, WorkingDir creation, --tmpfs, -v, --init and both VOLUMEs.
  const script = [
    'pwd', 'echo t > /mnt/t/f', 'echo v > /mnt/v/f', 'echo w > f', 'cat /etc/hostname >/dev/null', 'grep -q localhost /etc/hosts && echo hosts-ok',
    'cat /vol2/own', 'ls /data | wc -l', 'readlink /vol2/leak', `cat /vol2/leak 2>/dev/null || echo no-host-secret`,
  ].join('; ');
  const r = await d.docker(['run', '--name', 'hx', '--init', '-w', '/work/sub', '--tmpfs', '/mnt/t', '-v', 'hostile-v:/mnt/v', 'hostile:1', 'sh', '-c', script], { timeout: 30000 });
  assert.equal(r.code, 0, r.stderr);
  // getcwd shows the link's target: a path inside the container, not the host's.
  assert.deepEqual(r.stdout.trim().split('\n'), [`${canary}/workdir/sub`, 'hosts-ok', 'in-image', '0', `${canary}/secret`, 'no-host-secret']);

  // The anonymous volumes: /data got nothing from the host dir its link names, /vol2's links stay links.
  const mounts = JSON.parse((await d.docker(['inspect', '-f', '{{json .Mounts}}', 'hx'])).stdout) as Array<{ Destination: string; Source: string }>;
  const src = (dest: string) => mounts.find((m) => m.Destination === dest)!.Source;
  assert.deepEqual(await readdir(src('/data')), []);
  assert.deepEqual((await readdir(src('/vol2'))).sort(), ['d', 'leak', 'own']);
  assert.ok((await lstat(join(src('/vol2'), 'leak'))).isSymbolicLink());
  assert.equal(await readFile(join(src('/mnt/v'), 'f'), 'utf8'), 'v\n');

  assert.deepEqual(await snapshot(canary), before, 'no host canary read into, written or created');
  assert.equal(existsSync(join(canary, 'workdir', 'sub')), false);
  assert.deepEqual(await mountsUnder(canary), [], 'nothing mounted over the host canaries');
  await d.docker(['rm', '-f', '-v', 'hx']);
  await d.docker(['volume', 'rm', 'hostile-v']);
});

test('a missing WorkingDir is made inside the rootfs, and a file in its way is a clean error', { timeout: 30000 }, async () => {
  const r = await d.docker(['run', '--rm', '-w', '/work/a/../b/c', 'hostile:1', 'pwd']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), `${canary}/workdir/b/c`);
  const f = await d.docker(['run', '--rm', '-w', '/vol2/own/x', 'hostile:1', 'pwd']);
  assert.equal(f.code, 125);
  assert.match(f.stderr, /working directory \/vol2\/own\/x: \/vol2\/own is not a directory/);
  assert.equal(existsSync(join(canary, 'workdir', 'b')), false);
});

test('a ".wh..." whiteout (the layer root\'s parent) is refused by docker import and leaves the layer store as it was', { timeout: 30000 }, async () => {
  const overlay = join(d.dir, 'data', 'overlay');
  // .trash-* dirs are removals still under way (the containers of the tests before).
  const layers = async () => (await readdir(overlay)).filter((n) => !n.startsWith('.trash-')).sort();
  const before = await layers();
  const file = join(tmp, 'wh.tar');
  // One empty regular file named ".wh...": the whiteout of "..".
  execFileSync('python3', ['-c', `import tarfile;t=tarfile.open(${JSON.stringify(file)},'w');t.addfile(tarfile.TarInfo('.wh...'));t.close()`]);
  const r = await d.docker(['import', file, 'whimg']);
  assert.notEqual(r.code, 0, 'the import was accepted');
  assert.match(r.stderr, /layer entry "\.wh\.\.\." is a whiteout for "\.\."/);
  assert.deepEqual(await layers(), before);
  for (const n of before.filter((x) => /^\d+$/.test(x))) assert.ok((await lstat(join(overlay, n, 'fs'))).isDirectory(), `overlay/${n} was replaced`);
  assert.equal((await d.docker(['image', 'inspect', 'whimg'])).code, 1);
  assert.equal((await d.docker(['run', '--rm', 'busybox', 'true'])).code, 0);
});

// Open: rotation polls once a second and conmon runs with --log-size-max 0
// (src/containers/lifecycle.ts, the lead's), so `yes` (~400 MB/s in k8s-file form)
// grows one file to hundreds of MB before the rename + reopen. Passes once conmon is
// given the container's max-size as --log-size-max.
test('a log flood stays within max-size × max-file', { timeout: 30000 }, async () => {
  const r = await d.docker(['run', '--name', 'flood', '--log-opt', 'max-size=1m', '--log-opt', 'max-file=2', 'busybox', 'sh', '-c', 'timeout 3 yes >/dev/null & timeout 3 yes; echo done'], { timeout: 20000 });
  try {
    assert.equal(r.code, 0, r.stderr);
    const logPath = (await d.docker(['inspect', '-f', '{{.LogPath}}', 'flood'])).stdout.trim();
    const dir = join(logPath, '..');
    let total = 0;
    for (const f of await readdir(dir)) if (f.startsWith('ctr.log')) total += (await lstat(join(dir, f))).size;
    assert.ok(total <= 4 << 20, `log files hold ${total} bytes`);
  } finally {
    await d.docker(['rm', '-f', 'flood']);
  }
});
