import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, mkdir, readlink, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createImageService } from './index.js';
import { createContentStore } from '../content/index.js';
import { createOverlaySnapshotter } from '../snapshots/index.js';
import { mountAll, unmountAll } from '../mount/mount.js';

const script = fileURLToPath(new URL('../../scripts/busybox-rootfs.mjs', import.meta.url));

test('busybox-rootfs.mjs output imports as busybox:latest and runs /bin/sh', { timeout: 60_000, skip: !existsSync('/bin/busybox') && 'no /bin/busybox' }, async () => {
  const root = await mkdtemp(join(tmpdir(), 'berth-bb-'));
  const target = join(root, 'mnt');
  try {
    const content = createContentStore(root);
    const snapshots = createOverlaySnapshotter(root);
    const images = createImageService({ root, content, snapshots });
    const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise<number | null>((r) => child.on('exit', r));
    const img = await images.import(child.stdout, { reference: 'busybox:latest', changes: ['CMD ["sh"]'] });
    assert.equal(await exited, 0);
    assert.deepEqual(img.repoTags, ['busybox:latest']);
    assert.deepEqual(img.config.config?.Cmd, ['sh']);
    const dir = await snapshots.committedDir(img.chainIds.at(-1)!);
    assert.equal(await readlink(join(dir, 'bin/sh')), 'busybox');
    assert.equal((await stat(join(dir, 'tmp'))).mode & 0o7777, 0o1777);

    await snapshots.prepare('ctr', await images.rootfsParent('busybox'));
    await mkdir(target);
    await mountAll(await snapshots.mounts('ctr'), target);
    const r = spawnSync('chroot', [target, '/bin/sh', '-c', 'echo ok; id -un; ls /etc/passwd'], { encoding: 'utf8', timeout: 10_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'ok\nroot\n/etc/passwd\n');
  } finally {
    await unmountAll(target).catch(() => {});
    await rm(root, { recursive: true, force: true });
  }
});
