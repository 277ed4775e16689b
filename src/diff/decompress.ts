import { Readable } from 'node:stream';
import * as zlib from 'node:zlib';
import { BerthError } from '../common/errors.js';
import { filterThrough } from './filter-process.js';

export type Compression = 'none' | 'gzip' | 'zstd' | 'bzip2' | 'xz';

/** The compression of a stream, by its magic bytes (as docker's DetectCompression). */
export function detectCompression(head: Buffer): Compression {
  if (head.length >= 3 && head[0] === 0x1f && head[1] === 0x8b && head[2] === 0x08) return 'gzip';
  if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  if (head.length >= 3 && head.toString('latin1', 0, 3) === 'BZh') return 'bzip2';
  if (head.length >= 6 && head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz';
  return 'none';
}

/**
 * Peek at the first bytes of input and return the uncompressed stream. gzip is
 * handled by zlib, zstd by the zstd program (filter-process.ts); bzip2 and xz are refused.
 */
export async function decompress(input: Readable): Promise<{ stream: Readable; compression: Compression }> {
  const it = input[Symbol.asyncIterator]();
  const headChunks: Buffer[] = [];
  let have = 0;
  let ended = false;
  while (have < 6) {
    const r = await it.next();
    if (r.done) { ended = true; break; }
    const b = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value);
    headChunks.push(b);
    have += b.length;
  }
  const head = Buffer.concat(headChunks);
  async function* rest(): AsyncGenerator<Buffer> {
    if (head.length) yield head;
    if (ended) return;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value);
    }
  }
  const raw = Readable.from(rest(), { objectMode: false });
  const compression = detectCompression(head);
  const pipeInto = (t: NodeJS.ReadWriteStream & Readable): Readable => {
    raw.on('error', (e) => t.destroy(e));
    // Consumers (pipeline, for await) see the error themselves; this listener only
    // keeps a late zlib error after the consumer has given up from crashing the daemon.
    t.on('error', () => {});
    raw.pipe(t);
    return t;
  };
  switch (compression) {
    case 'none':
      return { stream: raw, compression };
    case 'gzip':
      // 256 KiB output chunks: with zlib's 16 KiB default, inflating a layer took twice as
      // long (a thread-pool round trip per 16 KiB; bench/pull.mjs).
      return { stream: pipeInto(zlib.createGunzip({ chunkSize: 256 << 10 })), compression };
    case 'zstd':
      // Node 20 has no zstd: Debian's zstd binary decompresses as a streaming filter.
      return { stream: filterThrough(raw, { cmd: 'zstd', args: ['-d', '-c', '-q'], pkg: 'zstd' }), compression };
    default:
      raw.destroy();
      throw new BerthError('NOT_IMPLEMENTED', `${compression}-compressed archive: not supported; use gzip or an uncompressed tar`);
  }
}
