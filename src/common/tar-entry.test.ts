import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough, Readable } from 'node:stream';
import tar from 'tar-stream';
import { writeTarEntry } from './tar-entry.js';

test('writeTarEntry: a pack destroyed mid-entry rejects the entry (no unhandled error) and releases its stream', async () => {
  const pack = tar.pack();
  pack.on('error', () => {}); // the pack's own error is its pipeline's (save.ts); the entry's is the question here
  pack.resume();
  const body = new PassThrough();
  let released = false;
  body.on('close', () => { released = true; });
  const writing = writeTarEntry(pack, { name: 'big', size: 1 << 20 }, body);
  body.write(Buffer.alloc(1024));
  await new Promise((r) => setTimeout(r, 10));
  // What a client that stops reading does to the pipeline: the pack is destroyed.
  pack.destroy(new Error('reader went away'));
  await assert.rejects(writing);
  await new Promise((r) => setImmediate(r));
  assert.ok(released, 'the entry\'s data stream is destroyed');
  // Entries after that reject too, instead of throwing or emitting.
  await assert.rejects(writeTarEntry(pack, { name: 'late', size: 1 }, Buffer.from('x')));
});

test('writeTarEntry: buffers, streams and bare headers make a tar that reads back', async () => {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c) => { chunks.push(c as Buffer); });
  const ended = new Promise<void>((r) => pack.on('end', () => r()));
  await writeTarEntry(pack, { name: 'a.txt', size: 3 }, Buffer.from('abc'));
  await writeTarEntry(pack, { name: 'b.txt', size: 4 }, Readable.from([Buffer.from('de'), Buffer.from('fg')]));
  await writeTarEntry(pack, { name: 'dir/', type: 'directory' });
  pack.finalize();
  await ended;
  const ex = tar.extract();
  const seen: string[] = [];
  ex.on('entry', (h, s, next) => { const parts: Buffer[] = []; s.on('data', (c) => { parts.push(c as Buffer); }); s.on('end', () => { seen.push(`${h.name}=${Buffer.concat(parts).toString()}`); next(); }); });
  const done = new Promise<void>((r) => ex.on('finish', () => r()));
  ex.end(Buffer.concat(chunks));
  await done;
  assert.deepEqual(seen, ['a.txt=abc', 'b.txt=defg', 'dir/=']);
});
