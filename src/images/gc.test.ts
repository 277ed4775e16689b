import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createImageService } from './index.js';
import { createContentStore } from '../content/index.js';
import { createOverlaySnapshotter } from '../snapshots/index.js';
import { makeTar } from '../diff/test-tar.js';

test('a lease keeps layers and blobs from rmi and prune until released', { timeout: 20_000 }, async () => {
  const root = await mkdtemp(join(tmpdir(), 'berth-gc-'));
  try {
    const content = createContentStore(root);
    const snapshots = createOverlaySnapshotter(root);
    const images = createImageService({ root, content, snapshots });
    const a = await images.import(Readable.from([await makeTar([{ name: 'f', content: 'x' }])]), { reference: 'a' });
    // What a pull of the same layers does before it checks what exists.
    const lease = await images.lease([...a.chainIds, a.id]);
    assert.deepEqual(await images.remove('a', {}, () => []), [{ Untagged: 'a:latest' }, { Deleted: a.id }]);
    assert.deepEqual(await images.prune(), []);
    assert.ok(await snapshots.stat(a.chainIds[0]!));
    assert.ok(await content.stat(a.id));
    lease.release();
    lease.release(); // idempotent
    const swept = await images.collectGarbage();
    assert.deepEqual(swept.snapshots, a.chainIds);
    assert.ok(swept.bytes > 0);
    assert.deepEqual(await content.list(), []);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
