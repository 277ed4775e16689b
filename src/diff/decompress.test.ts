import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { applyLayer, decompress } from './index.js';
import { makeTar } from './test-tar.js';
import { sha256Digest } from '../common/ids.js';
import { isBerthError } from '../common/errors.js';

const zstd = (b: Buffer) => execFileSync('zstd', ['-q', '-c', '-3'], { input: b });
/** zstd children of this process: none may outlive a decompression. */
const zstdChildren = () => execFileSync('ps', ['-o', 'comm=', '--ppid', String(process.pid)]).toString().split('\n').filter((c) => c === 'zstd').length;

test('a zstd layer is detected by its magic and unpacked through the zstd program', { timeout: 20_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-zstd-'));
  try {
    const big = Buffer.alloc(3 << 20, 'z');
    const plain = await makeTar([{ name: 'etc/', type: 'directory' }, { name: 'etc/hello', content: 'zstd\n' }, { name: 'big', content: big }]);
    // Fed in small chunks, as it comes off the network.
    const z = zstd(plain);
    const chunks = Array.from({ length: Math.ceil(z.length / 1000) }, (_, i) => z.subarray(i * 1000, (i + 1) * 1000));
    const { stream, compression } = await decompress(Readable.from(chunks));
    assert.equal(compression, 'zstd');
    const r = await applyLayer(stream, dir);
    assert.equal(r.diffId, sha256Digest(plain));
    assert.equal(await readFile(join(dir, 'etc/hello'), 'utf8'), 'zstd\n');
    assert.equal((await readFile(join(dir, 'big'))).length, big.length);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  assert.equal(zstdChildren(), 0);
});

test('corrupt or truncated zstd is a clear INVALID_ARGUMENT and leaves no process', { timeout: 20_000 }, async () => {
  const plain = await makeTar([{ name: 'f', content: Buffer.alloc(200_000, 'q') }]);
  const z = zstd(plain);
  for (const bad of [z.subarray(0, z.length - 20), Buffer.concat([z.subarray(0, 8), Buffer.alloc(64, 0xff)])]) {
    const dir = await mkdtemp(join(tmpdir(), 'berth-zstd-'));
    try {
      const { stream } = await decompress(Readable.from([bad]));
      await assert.rejects(applyLayer(stream, dir), (e) => isBerthError(e, 'INVALID_ARGUMENT') && /zstd could not decompress it/.test(e.message));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  // A consumer that gives up early kills the child.
  const { stream } = await decompress(Readable.from([z]));
  stream.destroy();
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(zstdChildren(), 0);
});
