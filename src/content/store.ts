import { createHash, randomBytes, type Hash } from 'node:crypto';
import { open, rename, rm, stat, readdir, readFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { BerthError, invalidArgument, notFound, isErrno } from '../common/errors.js';
import { ensureDir, fsyncDir } from '../common/fs.js';
import { isDigest } from '../common/ids.js';
import type { BlobInfo, BlobWriter, ContentStore, Expected } from './types.js';

/**
 * Layout: <root>/content/blobs/sha256/<hex> for committed blobs and
 * <root>/content/ingest/<random> for writes in progress. The ingest dir sits on the
 * same filesystem so commit is a rename; leftovers there after a crash are garbage.
 */
export function createContentStore(root: string): ContentStore {
  return new FileContentStore(join(root, 'content'));
}

function checkDigest(digest: string): string {
  if (!isDigest(digest)) throw invalidArgument(`invalid digest "${digest}": want sha256:<64 hex>`);
  return digest.slice(7);
}

/** Bytes a writer may hold before write() waits for the disk (backpressure). */
const MAX_QUEUED = 8 << 20;

/**
 * Writes are queued and flushed in the background with writev, so a producer (a
 * download feeding an unpack) does not wait for a thread-pool round trip per chunk;
 * write() waits only when MAX_QUEUED bytes are pending. A write error surfaces on the
 * next write() or at commit().
 */
class FileWriter implements BlobWriter {
  #hash: Hash = createHash('sha256');
  #offset = 0;
  #done = false;
  #queue: Buffer[] = [];
  #queued = 0;
  #flushing: Promise<void> | undefined;
  #error: unknown;
  constructor(private store: FileContentStore, private fh: FileHandle, private tmp: string) {}

  get offset(): number {
    return this.#offset;
  }

  async write(chunk: Buffer): Promise<void> {
    if (this.#done) throw new BerthError('FAILED_PRECONDITION', 'content write after commit or abort');
    if (this.#error) throw this.#error;
    if (chunk.length === 0) return;
    this.#hash.update(chunk);
    this.#offset += chunk.length;
    this.#queue.push(chunk);
    this.#queued += chunk.length;
    this.#flushing ??= this.#flush();
    if (this.#queued >= MAX_QUEUED) await this.#drain();
  }

  async #flush(): Promise<void> {
    try {
      while (this.#queue.length > 0 && !this.#error) {
        const bufs = this.#queue;
        this.#queue = [];
        this.#queued = 0;
        await writeAll(this.fh, bufs);
      }
    } catch (err) {
      this.#error = err;
      this.#queue = [];
      this.#queued = 0;
    } finally {
      this.#flushing = undefined;
    }
  }

  /** Everything queued is on its way to disk, or the first write error is thrown. */
  async #drain(): Promise<void> {
    while (this.#flushing) await this.#flushing;
    if (this.#error) throw this.#error;
  }

  async commit(expected: Expected = {}): Promise<BlobInfo> {
    if (this.#done) throw new BerthError('FAILED_PRECONDITION', 'content commit after commit or abort');
    this.#done = true;
    const digest = 'sha256:' + this.#hash.digest('hex');
    const size = this.#offset;
    try {
      await this.#drain();
      if (expected.size !== undefined && expected.size !== size) {
        throw invalidArgument(`content size mismatch: got ${size} bytes, expected ${expected.size}; the blob was refused`);
      }
      if (expected.digest !== undefined && expected.digest !== digest) {
        throw invalidArgument(`content digest mismatch: got ${digest}, expected ${expected.digest}; the blob was refused`);
      }
      await this.fh.sync();
      await this.fh.close();
      const dest = this.store.blobPath(digest);
      // Content-addressed: an existing blob with this digest already has these bytes.
      const existing = await this.store.stat(digest);
      if (existing) {
        await rm(this.tmp, { force: true });
        return existing;
      }
      await rename(this.tmp, dest);
      await fsyncDir(this.store.blobDir);
      return (await this.store.stat(digest))!;
    } catch (err) {
      await this.fh.close().catch(() => {});
      await rm(this.tmp, { force: true });
      throw err;
    }
  }

  async abort(): Promise<void> {
    if (this.#done) return;
    this.#done = true;
    await this.#drain().catch(() => {});
    await this.fh.close().catch(() => {});
    await rm(this.tmp, { force: true });
  }
}

/** writev until every byte is written (a short write resumes where it stopped). */
async function writeAll(fh: FileHandle, bufs: Buffer[]): Promise<void> {
  let left = bufs.reduce((n, b) => n + b.length, 0);
  while (left > 0) {
    const { bytesWritten } = await fh.writev(bufs);
    left -= bytesWritten;
    let skip = bytesWritten;
    while (left > 0 && skip >= bufs[0]!.length) skip -= bufs.shift()!.length;
    if (left > 0) bufs[0] = bufs[0]!.subarray(skip);
  }
}

class FileContentStore implements ContentStore {
  readonly blobDir: string;
  readonly ingestDir: string;
  #ready: Promise<void> | undefined;

  constructor(readonly dir: string) {
    this.blobDir = join(dir, 'blobs', 'sha256');
    this.ingestDir = join(dir, 'ingest');
  }

  #init(): Promise<void> {
    this.#ready ??= (async () => {
      await ensureDir(this.blobDir, 0o700);
      // Anything left in ingest/ is from a process that died mid-write.
      await rm(this.ingestDir, { recursive: true, force: true });
      await ensureDir(this.ingestDir, 0o700);
    })();
    return this.#ready;
  }

  blobPath(digest: string): string {
    return join(this.blobDir, checkDigest(digest));
  }

  async writer(): Promise<BlobWriter> {
    await this.#init();
    const tmp = join(this.ingestDir, randomBytes(8).toString('hex'));
    const fh = await open(tmp, 'wx', 0o644);
    return new FileWriter(this, fh, tmp);
  }

  async ingest(data: Readable | Buffer, expected?: Expected): Promise<BlobInfo> {
    if (expected?.digest !== undefined) checkDigest(expected.digest);
    const w = await this.writer();
    try {
      if (Buffer.isBuffer(data)) {
        await w.write(data);
      } else {
        for await (const chunk of data) await w.write(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
      }
    } catch (err) {
      await w.abort();
      throw err;
    }
    return w.commit(expected);
  }

  async read(digest: string): Promise<Readable> {
    const path = this.blobPath(digest);
    // Open first so a missing blob is a NOT_FOUND here, not a stream error later.
    const fh = await open(path, 'r').catch((err) => {
      if (isErrno(err, 'ENOENT')) throw notFound(`content ${digest}: not found`);
      throw err;
    });
    return fh.createReadStream({ autoClose: true });
  }

  async readBuffer(digest: string): Promise<Buffer> {
    try {
      return await readFile(this.blobPath(digest));
    } catch (err) {
      if (isErrno(err, 'ENOENT')) throw notFound(`content ${digest}: not found`);
      throw err;
    }
  }

  async stat(digest: string): Promise<BlobInfo | undefined> {
    try {
      const st = await stat(this.blobPath(digest));
      return { digest, size: st.size, createdAt: st.mtime.toISOString() };
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return undefined;
      throw err;
    }
  }

  async list(): Promise<BlobInfo[]> {
    await this.#init();
    const out: BlobInfo[] = [];
    for (const name of await readdir(this.blobDir)) {
      if (!/^[a-f0-9]{64}$/.test(name)) continue;
      const info = await this.stat('sha256:' + name);
      if (info) out.push(info);
    }
    return out;
  }

  async delete(digest: string): Promise<boolean> {
    try {
      await rm(this.blobPath(digest));
      await fsyncDir(this.blobDir);
      return true;
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return false;
      throw err;
    }
  }
}
