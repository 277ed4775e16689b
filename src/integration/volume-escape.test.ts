/**
 * What containers put in volumes must stay theirs.
 * - docker's copy-up fills a new volume with the image's content at its mount path. A
 *   container that already has the volume mounted can swap the volume's directories for
 *   symlinks while the copy runs; berthd must never follow them out of the volume (a
 *   security review got 5000 image files written into a host directory that way).
 * - A setuid binary a container leaves in a volume must not be runnable by an
 *   unprivileged host user (CVE-2021-41091: docker's data root is 0710 since).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TestDaemon } from '../testing/daemon.js';

let d: TestDaemon;
let tmp: string;
let canary: string;

before(async () => {
  d = await TestDaemon.start();
  tmp = await mkdtemp('/tmp/bt-volrace-');
  canary = join(tmp, 'canary');
  await mkdir(canary);
  // An image whose VOLUME /data holds one directory of many small files: a long copy.
  const root = join(tmp, 'rootfs');
  await mkdir(join(root, 'data', 'd'), { recursive: true });
  for (let i = 0; i < 4000; i++) await writeFile(join(root, 'data', 'd', `f${i}`), 'x');
  const layer = execFileSync('tar', ['-c', '-C', root, '.'], { maxBuffer: 64 << 20 });
  const r = await d.api('POST', `/images/create?fromSrc=-&repo=volrace&tag=1&changes=${encodeURIComponent('VOLUME ["/data"]')}`, layer, { 'Content-Type': 'application/x-tar' });
  assert.equal(r.status, 200, r.body.toString());
});

after(async () => {
  await d?.docker(['rm', '-f', 'racer', 'victim0', 'victim1', 'victim2']).catch(() => {});
  for (const v of ['race0', 'race1', 'race2', 'suid']) await d?.docker(['volume', 'rm', '-f', v]).catch(() => {});
  await d?.docker(['rmi', '-f', 'volrace:1']).catch(() => {});
  await d?.stop();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

test('a container racing symlinks into a volume cannot lead its copy-up out of it', { timeout: 90000 }, async () => {
  for (let i = 0; i < 3; i++) {
    const vol = `race${i}`;
    assert.equal((await d.docker(['volume', 'create', vol])).code, 0);
    // The racer swaps /vol/d, as soon as the copy makes it, for a link to the host canary.
    const loop = `while :; do if [ -d /vol/d ] && [ ! -L /vol/d ]; then mv /vol/d /vol/old$RANDOM; ln -s ${canary} /vol/d; fi; done`;
    const racer = await d.docker(['run', '-d', '--name', 'racer', '-v', `${vol}:/vol`, 'busybox', 'sh', '-c', loop]);
    assert.equal(racer.code, 0, racer.stderr);
    // The copy-up runs at create. Where the race lands decides whether the copy completes
    // or the create fails (a file the copy made vanished under it); never the host's files.
    const v = await d.docker(['create', '--name', `victim${i}`, '-v', `${vol}:/data`, 'volrace:1', 'true'], { timeout: 60000 });
    if (v.code !== 0) {
      assert.match(v.stderr, /^Error response from daemon: .*(ENOENT|ENOTDIR|ELOOP)/, v.stderr);
      assert.equal((await d.api('GET', `/containers/victim${i}/json`)).status, 404, 'a failed create leaves no container');
    }
    await d.docker(['rm', '-f', 'racer', `victim${i}`]);
    assert.deepEqual(await readdir(canary), [], `attempt ${i}: nothing written into the host directory`);
    const ls = await d.docker(['run', '--rm', '-v', `${vol}:/v`, 'busybox', 'sh', '-c', 'ls /v | wc -l']);
    assert.ok(Number(ls.stdout.trim()) >= 1, 'the volume got the image content');
  }
});

test('an unprivileged host user cannot reach a setuid binary a container left in a volume', { timeout: 30000 }, async () => {
  const w = await d.docker(['run', '--rm', '-v', 'suid:/x', 'busybox', 'sh', '-c', 'cp /bin/busybox /x/bb && chmod 4755 /x/bb']);
  assert.equal(w.code, 0, w.stderr);
  const mountpoint = (await d.docker(['volume', 'inspect', '-f', '{{.Mountpoint}}', 'suid'])).stdout.trim();
  assert.ok(mountpoint.startsWith(join(d.dir, 'data') + '/'), mountpoint);
  assert.equal((await stat(join(d.dir, 'data'))).mode & 0o7777, 0o710);
  // As nobody: the binary is root's and setuid; reaching it would be a root shell. Through
  // a shell: setpriv's own exec still holds root's capabilities during the path lookup.
  const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'sh', '-c', 'exec "$0" id -u', join(mountpoint, 'bb')], { encoding: 'utf8', timeout: 10000 });
  assert.notEqual(r.status, 0, `ran as nobody and printed ${r.stdout}`);
  assert.match(r.stderr, /Permission denied/);
});
