/**
 * docker load's JSON files are size-checked before they are read: an archive whose
 * manifest.json, config, index.json or OCI manifest is over the 8 MiB bound is refused
 * without its bytes being read into memory (they were read whole, then measured).
 * Reads are counted by wrapping node:fs/promises' readFile and FileHandle's read.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fsp, { mkdtemp, open, readdir, rm } from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import tar from 'tar-stream';
import { loadImages, type LoadDeps } from './load.js';

const LIMIT = 8 << 20;
let tmpRoot: string;
let bytesRead = 0;
const restore: Array<() => void> = [];

before(async () => {
  tmpRoot = await mkdtemp(join(tmpdir(), 'berth-load-'));
  const realReadFile = fsp.readFile;
  fsp.readFile = (async (...args: Parameters<typeof realReadFile>) => {
    const r = await realReadFile(...args);
    bytesRead += r.length;
    return r;
  }) as typeof realReadFile;
  syncBuiltinESMExports();
  restore.push(() => {
    fsp.readFile = realReadFile;
    syncBuiltinESMExports();
  });
  const fh = await open(tmpRoot, 'r');
  const proto = Object.getPrototypeOf(fh) as { read: (...a: unknown[]) => Promise<{ bytesRead: number }> };
  await fh.close();
  const realRead = proto.read;
  proto.read = async function (this: unknown, ...args: unknown[]) {
    const r = await realRead.apply(this, args);
    bytesRead += r.bytesRead;
    return r;
  };
  restore.push(() => { proto.read = realRead; });
});

after(async () => {
  for (const r of restore) r();
  await rm(tmpRoot, { recursive: true, force: true });
});

async function archive(entries: Record<string, Buffer | string>): Promise<Readable> {
  const pack = tar.pack();
  for (const [name, data] of Object.entries(entries)) pack.entry({ name }, typeof data === 'string' ? Buffer.from(data) : data);
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  return Readable.from([Buffer.concat(chunks)]);
}

const deps = (): LoadDeps => ({
  tmpRoot,
  register: () => Promise.reject(new Error('nothing may be registered')),
} as unknown as LoadDeps);

async function refusedUnread(entries: Record<string, Buffer | string>, message: RegExp, allowed: number): Promise<void> {
  const input = await archive(entries);
  bytesRead = 0;
  await assert.rejects(loadImages(deps(), input, () => {}), message);
  assert.ok(bytesRead <= allowed, `${bytesRead} bytes were read before the refusal (at most ${allowed} expected)`);
  assert.deepEqual(await readdir(tmpRoot), [], 'the load temp dir is removed');
}

const big = Buffer.alloc(LIMIT + 1, 0x20);
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

test('an oversized manifest.json or config is refused before it is read', { timeout: 30_000 }, async () => {
  await refusedUnread({ 'manifest.json': big }, /file "manifest\.json" is larger than 8388608 bytes/, 0);
  const manifest = JSON.stringify([{ Config: 'c.json', RepoTags: ['x:1'], Layers: [] }]);
  await refusedUnread({ 'manifest.json': manifest, 'c.json': big }, /config "c\.json" is larger than 8388608 bytes/, manifest.length);
});

test('an oversized OCI index.json or manifest blob is refused before it is read', { timeout: 30_000 }, async () => {
  await refusedUnread({ 'index.json': big }, /file "index\.json" is larger than 8388608 bytes/, 0);
  const index = JSON.stringify({ manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${sha(big)}`, size: big.length }] });
  await refusedUnread({ 'index.json': index, [`blobs/sha256/${sha(big)}`]: big }, /manifest "blobs\/sha256\/[a-f0-9]{64}" is larger than 8388608 bytes/, index.length);
});

test('a JSON file of exactly the bound is still read whole', { timeout: 30_000 }, async () => {
  const atLimit = Buffer.alloc(LIMIT, 0x20);
  atLimit.write('[]', 0);
  const input = await archive({ 'manifest.json': atLimit });
  await assert.rejects(loadImages(deps(), input, () => {}), /manifest\.json lists no images/);
  assert.deepEqual(await readdir(tmpRoot), []);
});
