import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasOwnFileSystem, isMountPoint, mountOne, unmountAll } from './mount.js';

test('hasOwnFileSystem and unmountAll: a tmpfs on a dir, a plain dir, a missing path', async () => {
  const root = await mkdtemp(join(tmpdir(), 'berth-mount-'));
  const target = join(root, 'mnt');
  await mkdir(target);
  try {
    assert.equal(hasOwnFileSystem(target), false);
    assert.equal(hasOwnFileSystem(join(root, 'missing')), false);
    await mountOne({ type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] }, target);
    assert.equal(hasOwnFileSystem(target), true);
    assert.equal(await isMountPoint(target), true);
    await unmountAll(target);
    assert.equal(hasOwnFileSystem(target), false);
    assert.equal(await isMountPoint(target), false);
    await unmountAll(join(root, 'missing')); // nothing there: no error
  } finally {
    await unmountAll(target).catch(() => {});
    await rm(root, { recursive: true, force: true });
  }
});
