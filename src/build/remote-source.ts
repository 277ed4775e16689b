/**
 * `ADD <http(s) url> <dest>`, as docker's classic builder does it: berthd downloads
 * the file itself (on its own network, whatever the build's --network: the RUN
 * containers' network mode does not apply to the daemon), following redirects; the
 * file is named after the URL path's last element, gets mode 0600 and the
 * Last-Modified time (else the epoch), and is never unpacked even when it is an
 * archive. Its digest goes into the step's cache key, so a changed download misses.
 * `--checksum=<algo>:<hex>` must match the download.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { invalidArgument, BerthError } from '../common/errors.js';

export interface Download {
  /** The downloaded file on the host. */
  abs: string;
  /** The name it gets under a directory destination ("" when the URL names none). */
  fileName: string;
  size: number;
  mtime: Date;
  /** sha256:<hex> of the contents. */
  digest: string;
}

const ALGOS: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };

export function isRemoteUrl(src: string): boolean {
  return /^https?:\/\//i.test(src);
}

/** `--checksum=sha256:<hex>` checked for shape before anything is fetched. */
export function parseChecksum(v: string | undefined): { algo: string; hex: string } | undefined {
  if (v === undefined) return undefined;
  const m = /^([a-z0-9]+):([0-9a-f]+)$/.exec(v);
  if (!m || ALGOS[m[1]!] !== m[2]!.length) throw invalidArgument(`invalid --checksum=${v}: give <algorithm>:<hex digest>, e.g. sha256:<64 hex digits>`);
  return { algo: m[1]!, hex: m[2]! };
}

/** The URL path's last element, as docker names the file ("" for `http://h/` or `http://h/dir/`). */
export function urlFileName(url: string): string {
  const p = new URL(url).pathname;
  if (p.endsWith('/')) return '';
  const base = posix.basename(decodeURIComponent(p));
  return base === '.' || base === '/' || base === '..' ? '' : base;
}

/** Fetch `url` into a fresh directory under tmpRoot; the caller removes `dir` when done. */
export async function download(url: string, tmpRoot: string, opts: { checksum?: { algo: string; hex: string }; signal?: AbortSignal; progress?: (current: number, total: number) => void }): Promise<{ file: Download; dir: string }> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalidArgument(`ADD: invalid URL ${url}`);
  }
  if (parsed.username || parsed.password) throw invalidArgument(`ADD: credentials in the URL ${parsed.host} are not supported; use a RUN step with a secret instead`);
  const dir = await mkdtemp(join(tmpRoot, 'add-'));
  try {
    let res: Response;
    try {
      // fetch follows up to 20 redirects; a loop or an unreachable host is an error here.
      res = await fetch(url, { redirect: 'follow', signal: opts.signal });
    } catch (err) {
      const why = (err as { cause?: { message?: string } }).cause?.message ?? (err as Error).message;
      throw new BerthError('UNAVAILABLE', `ADD: cannot download ${url}: ${why}`, { cause: err });
    }
    if (!res.ok || !res.body) {
      await res.body?.cancel().catch(() => {});
      throw new BerthError('UNAVAILABLE', `ADD: cannot download ${url}: the server answered ${res.status} ${res.statusText}`.trimEnd());
    }
    const fileName = urlFileName(url);
    const abs = join(dir, fileName || '__unnamed__');
    const total = Number(res.headers.get('content-length') ?? -1);
    const sha256 = createHash('sha256');
    const check = opts.checksum && opts.checksum.algo !== 'sha256' ? createHash(opts.checksum.algo) : undefined;
    let size = 0;
    let last = 0;
    const count = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        size += chunk.length;
        sha256.update(chunk);
        check?.update(chunk);
        if (opts.progress && Date.now() - last > 500) {
          last = Date.now();
          opts.progress(size, total);
        }
        cb(null, chunk);
      },
    });
    await pipeline(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream), count, createWriteStream(abs, { mode: 0o600, flags: 'wx' }));
    opts.progress?.(size, total);
    const hex = sha256.digest('hex');
    if (opts.checksum) {
      const got = check ? check.digest('hex') : hex;
      if (got !== opts.checksum.hex) throw invalidArgument(`ADD --checksum: ${url} has digest ${opts.checksum.algo}:${got}, not the expected ${opts.checksum.algo}:${opts.checksum.hex}`);
    }
    const lm = res.headers.get('last-modified');
    const t = lm ? Date.parse(lm) : NaN;
    return { file: { abs, fileName, size, mtime: new Date(Number.isNaN(t) ? 0 : t), digest: `sha256:${hex}` }, dir };
  } catch (err) {
    await rm(dir, { recursive: true, force: true }).catch(() => {});
    throw err;
  }
}
