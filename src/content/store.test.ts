import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createContentStore } from './index.js';
import { sha256Digest } from '../common/ids.js';
import { isBerthError } from '../common/errors.js';

async function withStore(fn: (root: string) => Promise<void>) {
  const root = await mkdtemp(join(tmpdir(), 'berth-content-'));
  try { await fn(root); } finally { await rm(root, { recursive: true, force: true }); }
}

test('ingest verifies digest and size, read/stat/list/delete', { timeout: 10_000 }, () => withStore(async (root) => {
  const cs = createContentStore(root);
  const data = Buffer.from('hello berth');
  const digest = sha256Digest(data);
  const info = await cs.ingest(Readable.from([data.subarray(0, 5), data.subarray(5)]), { digest, size: data.length });
  assert.equal(info.digest, digest);
  assert.equal(info.size, data.length);
  assert.deepEqual(await cs.readBuffer(digest), data);
  const chunks: Buffer[] = [];
  for await (const c of await cs.read(digest)) chunks.push(c as Buffer);
  assert.deepEqual(Buffer.concat(chunks), data);
  assert.equal((await cs.stat(digest))?.size, data.length);
  assert.deepEqual((await cs.list()).map((b) => b.digest), [digest]);
  // Ingesting the same content again is idempotent.
  assert.equal((await cs.ingest(data)).digest, digest);
  assert.equal(await cs.delete(digest), true);
  assert.equal(await cs.delete(digest), false);
  assert.equal(await cs.stat(digest), undefined);
  await assert.rejects(cs.read(digest), (e) => isBerthError(e, 'NOT_FOUND'));
}));

test('a wrong digest or size is refused and leaves nothing', { timeout: 10_000 }, () => withStore(async (root) => {
  const cs = createContentStore(root);
  const wrong = sha256Digest('something else');
  await assert.rejects(cs.ingest(Buffer.from('payload'), { digest: wrong }), (e) => isBerthError(e, 'INVALID_ARGUMENT') && /digest mismatch/.test(e.message));
  await assert.rejects(cs.ingest(Buffer.from('payload'), { size: 3 }), /size mismatch/);
  assert.deepEqual(await cs.list(), []);
  assert.deepEqual(await readdir(join(root, 'content', 'ingest')), []);
  assert.deepEqual(await readdir(join(root, 'content', 'blobs', 'sha256')), []);
  await assert.rejects(cs.ingest(Buffer.from('x'), { digest: 'md5:abc' }), /invalid digest/);
}));

test('a failing source stream aborts the ingest', { timeout: 10_000 }, () => withStore(async (root) => {
  const cs = createContentStore(root);
  async function* broken() { yield Buffer.from('partial'); throw new Error('network dropped'); }
  await assert.rejects(cs.ingest(Readable.from(broken())), /network dropped/);
  assert.deepEqual(await readdir(join(root, 'content', 'ingest')), []);
  assert.deepEqual(await cs.list(), []);
}));

test('queued writes: many chunks past the queue bound land in order; abort mid-queue leaves nothing', { timeout: 10_000 }, () => withStore(async (root) => {
  const cs = createContentStore(root);
  // 12 MiB in 64 KiB chunks, each chunk distinct: more than the writer queues (8 MiB).
  const chunks = Array.from({ length: 192 }, (_, i) => Buffer.alloc(64 << 10, i));
  const all = Buffer.concat(chunks);
  const w = await cs.writer();
  for (const c of chunks) await w.write(c);
  assert.equal(w.offset, all.length);
  const info = await w.commit({ digest: sha256Digest(all), size: all.length });
  assert.deepEqual(await cs.readBuffer(info.digest), all);

  const w2 = await cs.writer();
  for (const c of chunks.slice(0, 100)) await w2.write(c);
  await w2.abort();
  await assert.rejects(w2.write(chunks[0]!), (e) => isBerthError(e, 'FAILED_PRECONDITION'));
  assert.deepEqual(await readdir(join(root, 'content', 'ingest')), []);
}));
