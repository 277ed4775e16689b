/**
 * COPY/ADD sources from the build context: glob expansion, symlinks resolved inside the
 * context only (a link to /etc/passwd means <context>/etc/passwd, as docker does), the
 * files listed with the names they get under the destination, a content hash for the
 * layer cache, and the tar the copy helper extracts into the build container.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, open, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import tar from 'tar-stream';
import { invalidArgument, notFound } from '../common/errors.js';
import { writeTarEntry } from '../common/tar-entry.js';
import { contextPath } from './context.js';
import { goPathPattern } from '../common/glob.js';

export interface CopyItem {
  /** Absolute path in the context dir (no symlink on the way). */
  abs: string;
  /** Name under the extraction point. */
  name: string;
  type: 'file' | 'directory' | 'symlink' | 'archive';
  mode: number;
  mtime: Date;
  size: number;
  linkname?: string;
}

export interface Owner {
  uid: number;
  gid: number;
}

const GLOB = /[*?[]/;
const MAX_HOPS = 255;

/** FollowSymlinkInScope: `rel` resolved inside root; the result has no symlink in it. */
export async function resolveInScope(root: string, rel: string): Promise<string> {
  let parts = rel.split('/').filter(Boolean);
  let resolved: string[] = [];
  let hops = 0;
  while (parts.length) {
    const c = parts.shift()!;
    if (c === '.') continue;
    if (c === '..') {
      resolved.pop();
      continue;
    }
    const st = await lstat(join(root, ...resolved, c)).catch(() => undefined);
    if (st?.isSymbolicLink()) {
      if (++hops > MAX_HOPS) throw invalidArgument(`too many levels of symbolic links resolving ${rel} in the build context`);
      const target = await readlink(join(root, ...resolved, c));
      if (target.startsWith('/')) resolved = [];
      parts = [...target.split('/').filter(Boolean), ...parts];
      continue;
    }
    resolved.push(c);
  }
  return resolved.join('/');
}

/** Go's filepath.Match on a whole relative path: `*` and `?` stop at `/`. */
export function globRegExp(pattern: string): RegExp {
  const re = goPathPattern(pattern);
  if (!re) throw invalidArgument(`syntax error in pattern ${pattern}`);
  return re;
}

async function walk(root: string, rel: string, out: string[]): Promise<void> {
  const entries = await readdir(join(root, rel), { withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    const p = rel ? `${rel}/${e.name}` : e.name;
    out.push(p);
    if (e.isDirectory()) await walk(root, p, out);
  }
}

/** Each source pattern to the context paths it names (resolved in scope), in order. */
export async function expandSources(root: string, sources: string[]): Promise<string[]> {
  const out: string[] = [];
  let all: string[] | undefined;
  for (const src of sources) {
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(src)) throw invalidArgument(`${src}: only http and https URLs can be ADD sources (and none can be COPY's); download it in a RUN step instead`);
    const rel = contextPath(src);
    if (!GLOB.test(rel)) {
      const r = await resolveInScope(root, rel);
      if (!(await lstat(join(root, r)).catch(() => undefined))) throw notFound(`COPY failed: file not found in build context or excluded by .dockerignore: stat ${rel}: file does not exist`);
      out.push(r);
      continue;
    }
    if (!all) {
      all = [];
      await walk(root, '', all);
    }
    const re = globRegExp(rel);
    const matched = all.filter((p) => re.test(p));
    if (matched.length === 0) throw notFound(`COPY failed: no source files were specified (no match for ${src} in the build context)`);
    for (const m of matched) out.push(await resolveInScope(root, m));
  }
  return out;
}

/** Is this context file a tar archive ADD unpacks (plain or gzip)? */
export async function isArchive(abs: string): Promise<boolean> {
  const fh = await open(abs, 'r');
  try {
    const buf = Buffer.alloc(512);
    const { bytesRead } = await fh.read(buf, 0, 512, 0);
    if (bytesRead >= 2 && buf[0] === 0x1f && buf[1] === 0x8b) return true;
    return bytesRead >= 262 && buf.subarray(257, 262).toString('latin1') === 'ustar';
  } finally {
    await fh.close();
  }
}

/**
 * The items of one source path: a file (named `fileName`) or a directory's contents
 * (under `dirPrefix`), never following a symlink inside it.
 */
export async function itemsOf(root: string, rel: string, names: { fileName: string; dirPrefix: string }, unpack: boolean): Promise<CopyItem[]> {
  const abs = join(root, rel);
  const st = await lstat(abs);
  if (!st.isDirectory()) {
    if (st.isFile() && unpack && (await isArchive(abs))) {
      await checkArchive(abs);
      return [{ abs, name: names.dirPrefix, type: 'archive', mode: 0, mtime: st.mtime, size: st.size }];
    }
    return [item(abs, names.fileName, st, st.isSymbolicLink() ? await readlink(abs) : undefined)].filter((x): x is CopyItem => !!x);
  }
  const out: CopyItem[] = [];
  const rec = async (dirAbs: string, prefix: string) => {
    const entries = (await readdir(dirAbs)).sort();
    for (const n of entries) {
      const a = join(dirAbs, n);
      const s = await lstat(a);
      const name = prefix ? `${prefix}/${n}` : n;
      const it = item(a, name, s, s.isSymbolicLink() ? await readlink(a) : undefined);
      if (!it) continue;
      out.push(it);
      if (s.isDirectory()) await rec(a, name);
    }
  };
  await rec(abs, names.dirPrefix);
  return out;
}

function item(abs: string, name: string, st: import('node:fs').Stats, linkname?: string): CopyItem | undefined {
  const type = st.isFile() ? 'file' : st.isDirectory() ? 'directory' : st.isSymbolicLink() ? 'symlink' : undefined;
  if (!type) return undefined;
  return { abs, name, type, mode: st.mode & 0o7777, mtime: st.mtime, size: st.size, linkname };
}

/** Hash of names, types, modes and contents: the cache key of a COPY (mtimes left out, as docker does). */
export async function hashItems(items: CopyItem[], extra: string): Promise<string> {
  const h = createHash('sha256').update(extra);
  for (const it of items) {
    h.update(`\0${it.type}\0${it.name}\0${it.mode}\0${it.linkname ?? ''}\0`);
    if (it.type === 'file' || it.type === 'archive') {
      for await (const c of createReadStream(it.abs)) h.update(c as Buffer);
    }
  }
  return h.digest('hex');
}

/** The tar for the copy helper: owners set to `owner` (ADD keeps an archive's own, unless chowned). */
export function packItems(items: CopyItem[], owner: Owner | undefined, chmod: number | undefined): Readable {
  const pack = tar.pack();
  const out = new PassThrough();
  // A failure reaches the reader through `out`; the pack itself must not throw unheard.
  pack.on('error', () => {});
  const run = async () => {
    for (const it of items) {
      if (it.type === 'archive') {
        await unpackArchive(pack, it, owner);
        continue;
      }
      const header = {
        name: it.name,
        mode: chmod ?? it.mode,
        mtime: it.mtime,
        uid: owner?.uid ?? 0,
        gid: owner?.gid ?? 0,
      };
      if (it.type === 'directory') await entry(pack, { ...header, type: 'directory' });
      else if (it.type === 'symlink') await entry(pack, { ...header, type: 'symlink', linkname: it.linkname ?? '' });
      else await entry(pack, { ...header, type: 'file', size: it.size }, createReadStream(it.abs));
    }
    pack.finalize();
  };
  pack.pipe(out);
  run().catch((err) => {
    pack.destroy(err as Error);
    out.destroy(err as Error);
  });
  return out;
}

function entry(pack: tar.Pack, header: Partial<tar.Header> & { name: string }, body?: Readable): Promise<void> {
  return writeTarEntry(pack, header as tar.Header, body);
}

/** ADD of a local tar: its entries, names kept inside the destination (escapes refused). */
async function unpackArchive(pack: tar.Pack, it: CopyItem, owner: Owner | undefined): Promise<void> {
  const ex = tar.extract();
  ex.on('error', () => {});
  const src = createReadStream(it.abs);
  const gz = await isGzip(it.abs);
  const feeding = pipeline(gz ? src.pipe(createGunzip()) : src, ex);
  feeding.catch(() => {}); // observed below; an early throw must not leave it unhandled
  for await (const e of ex) {
    const h = e.header;
    const rel = contextPath(h.name);
    if (!rel || !['file', 'contiguous-file', 'directory', 'symlink', 'link', 'character-device', 'block-device', 'fifo'].includes(h.type ?? '')) {
      e.resume();
      continue;
    }
    const name = it.name ? `${it.name}/${rel}` : rel;
    const header: tar.Header = { ...h, name, uid: owner?.uid ?? h.uid ?? 0, gid: owner?.gid ?? h.gid ?? 0 };
    if (h.type === 'link') {
      const target = contextPath(h.linkname ?? '');
      header.linkname = it.name ? `${it.name}/${target}` : target;
    }
    if (h.type === 'file' || h.type === 'contiguous-file') await entry(pack, { ...header, type: 'file' }, e as unknown as Readable);
    else {
      await entry(pack, header);
      e.resume();
    }
  }
  await feeding;
}

/** Every name of an archive ADD unpacks must stay under the destination: checked before anything is written. */
async function checkArchive(abs: string): Promise<void> {
  const ex = tar.extract();
  const src = createReadStream(abs);
  const feeding = pipeline((await isGzip(abs)) ? src.pipe(createGunzip()) : src, ex);
  feeding.catch(() => {}); // observed below; an early throw must not leave it unhandled
  try {
    for await (const e of ex) {
      contextPath(e.header.name);
      if (e.header.type === 'link') contextPath(e.header.linkname ?? '');
      e.resume();
    }
    await feeding;
  } catch (err) {
    ex.destroy();
    src.destroy();
    throw err;
  }
}

async function isGzip(abs: string): Promise<boolean> {
  const fh = await open(abs, 'r');
  try {
    const b = Buffer.alloc(2);
    await fh.read(b, 0, 2, 0);
    return b[0] === 0x1f && b[1] === 0x8b;
  } finally {
    await fh.close();
  }
}

