/**
 * A tar passed through unchanged, completed when it ends where Go's archive/tar still sees
 * a whole archive: right after an entry's data (no padding) or after its padding (no end
 * blocks). The docker CLI sends such a build context for `docker build -f <Dockerfile
 * outside the context>` (it appends the Dockerfile and never closes the tar writer), and
 * dockerd reads it; tar-stream would call it "Unexpected end of data". A tar cut anywhere
 * else (inside a header, inside data, inside padding) is left as it is, and still fails.
 */
import { Transform, type TransformCallback } from 'node:stream';

const BLOCK = 512;

/** A header's size field: octal digits, or base-256 when the first byte's top bit is set. */
export function tarHeaderSize(h: Buffer): number {
  const field = h.subarray(124, 136);
  if (field[0]! & 0x80) {
    let n = field[0]! & 0x7f;
    for (let i = 1; i < field.length; i++) n = n * 256 + field[i]!;
    return n;
  }
  const text = field.toString('latin1').replace(/[\0 ]+$/, '').trim();
  return text ? parseInt(text, 8) : 0;
}

export class TarTrailer extends Transform {
  /** Bytes seen so far. */
  #pos = 0;
  /** Where the next header starts, and where the current entry's data ends. */
  #next = 0;
  #dataEnd = -1;
  #header: Buffer[] = [];
  #headerLen = 0;
  /** An end block was seen (or the walk lost its way): nothing is added then. */
  #stop = false;

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    let off = 0;
    while (!this.#stop && off < chunk.length) {
      const at = this.#pos + off;
      if (at < this.#next) {
        off += Math.min(chunk.length - off, this.#next - at);
        continue;
      }
      const take = chunk.subarray(off, off + (BLOCK - this.#headerLen));
      this.#header.push(take);
      this.#headerLen += take.length;
      off += take.length;
      if (this.#headerLen < BLOCK) continue;
      const h = Buffer.concat(this.#header);
      this.#header = [];
      this.#headerLen = 0;
      if (h.every((b) => b === 0)) { this.#stop = true; continue; }
      const size = tarHeaderSize(h);
      if (!Number.isSafeInteger(size) || size < 0) { this.#stop = true; continue; }
      this.#dataEnd = this.#next + BLOCK + size;
      this.#next = this.#dataEnd + ((BLOCK - (size % BLOCK)) % BLOCK);
    }
    this.#pos += chunk.length;
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    if (!this.#stop && this.#headerLen === 0 && this.#pos > 0) {
      if (this.#pos === this.#next) this.push(Buffer.alloc(2 * BLOCK));
      else if (this.#pos === this.#dataEnd) this.push(Buffer.alloc(this.#next - this.#pos + 2 * BLOCK));
    }
    cb();
  }
}
