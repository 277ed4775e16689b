/**
 * What pushes remember, in <root>/images/distribution.json:
 *  - compressed: uncompressed layer digest → the gzip blob made from it, so repeated
 *    pushes of an imported layer send the same bytes and produce the same digests;
 *  - sources: blob digest → repositories ("host/path") known to hold it, for
 *    cross-repository mounts (filled by pulls and pushes).
 */
import { join } from 'node:path';
import { createGzip } from 'node:zlib';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import type { ContentStore } from '../content/index.js';
import { ensureDir, readJsonIfExists, sweepAtomicTemps, writeJsonAtomic } from '../common/fs.js';
import { KeyedMutex } from '../common/lock.js';
import { notFound } from '../common/errors.js';

interface CacheFile {
  version: 1;
  compressed: Record<string, { digest: string; size: number }>;
  sources: Record<string, string[]>;
}

const MAX_SOURCES = 8;

export class DistributionCache {
  #path: string;
  #data: CacheFile | undefined;
  #lock = new KeyedMutex();

  constructor(root: string, private content: ContentStore) {
    this.#path = join(root, 'images', 'distribution.json');
  }

  async #load(): Promise<CacheFile> {
    if (!this.#data) {
      await ensureDir(join(this.#path, '..'), 0o700);
      await sweepAtomicTemps(this.#path);
      const f = await readJsonIfExists<CacheFile>(this.#path);
      this.#data = f && f.version === 1 ? f : { version: 1, compressed: {}, sources: {} };
    }
    return this.#data;
  }

  #update(fn: (d: CacheFile) => void): Promise<void> {
    return this.#lock.run('file', async () => {
      const d = await this.#load();
      fn(d);
      await writeJsonAtomic(this.#path, d, 0o600);
    });
  }

  /** Repositories known to hold the blob. */
  async sources(digest: string): Promise<string[]> {
    return [...((await this.#load()).sources[digest] ?? [])];
  }

  async addSource(digests: string[], repo: string): Promise<void> {
    await this.#update((d) => {
      for (const g of digests) {
        const list = (d.sources[g] ?? []).filter((r) => r !== repo);
        list.unshift(repo);
        d.sources[g] = list.slice(0, MAX_SOURCES);
      }
    });
  }

  /**
   * The gzip blob of an uncompressed layer blob, made once and kept in the content
   * store (made again, identically, if a prune removed it).
   */
  async gzipOf(digest: string): Promise<{ digest: string; size: number }> {
    const known = (await this.#load()).compressed[digest];
    if (known && (await this.content.stat(known.digest))) return known;
    if (!(await this.content.stat(digest))) throw notFound(`layer blob ${digest} is missing from the content store; pull or load the image again`);
    const writer = await this.content.writer();
    try {
      const sink = new Writable({
        write(chunk: Buffer, _enc, cb) { writer.write(chunk).then(() => cb(), cb); },
      });
      // Fixed level and no name/mtime in the header: the same input gives the same bytes.
      await pipeline(await this.content.read(digest), createGzip({ level: 6 }), sink);
    } catch (err) {
      await writer.abort();
      throw err;
    }
    const info = await writer.commit();
    const entry = { digest: info.digest, size: info.size };
    await this.#update((d) => { d.compressed[digest] = entry; });
    return entry;
  }
}
