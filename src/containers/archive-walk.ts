/**
 * Walking a tree that berth does not trust (a container's root, or its upper dir) and
 * writing it as a tar. Runs only inside the chrooted copy helper (archive-helper.ts):
 * the chroot is what makes a symlink swapped in mid-walk harmless; this code on top
 * never follows a symlink itself (lstat, O_NOFOLLOW) and never blocks on a FIFO.
 */
import { constants, type Stats } from 'node:fs';
import { lstat, open, readdir, readlink } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import tar from 'tar-stream';
import { lgetxattr } from '../diff/index.js';

export interface WalkOptions {
  /** 'copy' for cp/export; 'layer' turns overlay whiteouts into OCI `.wh.` entries. */
  mode: 'copy' | 'layer';
  /** Paths left out when they are empty regular files (berth's bind-mount targets). */
  skipEmpty?: string[];
}

type Header = Partial<tar.Header> & { name: string; pax?: Record<string, string> };

/** Linux dev_t to major/minor, glibc's encoding. */
function major(rdev: number): number {
  return Number((BigInt(rdev) >> 8n) & 0xfffn) | Number((BigInt(rdev) >> 32n) & ~0xfffn);
}
function minor(rdev: number): number {
  return Number(BigInt(rdev) & 0xffn) | Number((BigInt(rdev) >> 12n) & ~0xffn & 0xffffffffn);
}

export function isWhiteout(st: Stats): boolean {
  return st.isCharacterDevice() && st.rdev === 0;
}

export function isOpaque(path: string): boolean {
  try {
    return lgetxattr(path, 'trusted.overlay.opaque')?.toString() === 'y';
  } catch {
    return false;
  }
}

/**
 * Tar `src` (an absolute path inside the chroot) as `name` and, for a directory, all
 * below it. Hard links inside the walk are kept as links; sockets are skipped (tar
 * has no type for them, as docker).
 */
export async function packTree(src: string, name: string, out: Writable, opts: WalkOptions): Promise<void> {
  const pack = tar.pack();
  const done = new Promise<void>((resolve, reject) => {
    pack.on('error', reject);
    out.on('error', reject);
    out.on('finish', resolve);
    out.on('close', resolve);
  });
  pack.pipe(out);
  const links = new Map<string, string>();
  await walk(pack, src, name, links, opts);
  pack.finalize();
  await done;
}

async function walk(pack: tar.Pack, path: string, name: string, links: Map<string, string>, opts: WalkOptions): Promise<void> {
  const st = await lstat(path);
  if (st.isFile() && st.size === 0 && opts.skipEmpty?.includes(path)) return;
  const base: Header = { name, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: st.mtime };
  if (opts.mode === 'layer') {
    const cap = safeXattr(path, 'security.capability');
    if (cap) base.pax = { 'SCHILY.xattr.security.capability': cap.toString('latin1') };
  }
  if (st.isDirectory()) {
    // The walk root of a layer is the layer's "./"; a nameless entry would be invalid.
    if (name !== '') await entry(pack, { ...base, name: name + '/', type: 'directory' });
    if (opts.mode === 'layer' && name !== '' && isOpaque(path)) {
      await entry(pack, { name: `${name}/.wh..wh..opq`, mode: 0o644, uid: 0, gid: 0, mtime: st.mtime, type: 'file', size: 0 });
    }
    const names = (await readdir(path)).sort();
    for (const n of names) {
      await walk(pack, path === '/' ? `/${n}` : `${path}/${n}`, name === '' ? n : `${name}/${n}`, links, opts);
    }
    return;
  }
  if (opts.mode === 'layer' && isWhiteout(st)) {
    const slash = name.lastIndexOf('/');
    const wh = slash < 0 ? `.wh.${name}` : `${name.slice(0, slash)}/.wh.${name.slice(slash + 1)}`;
    await entry(pack, { name: wh, mode: 0o644, uid: 0, gid: 0, mtime: st.mtime, type: 'file', size: 0 });
    return;
  }
  if (!st.isSymbolicLink() && st.nlink > 1) {
    const key = `${st.dev}:${st.ino}`;
    const first = links.get(key);
    if (first !== undefined) {
      await entry(pack, { ...base, type: 'link', linkname: first, size: 0 });
      return;
    }
    links.set(key, name);
  }
  if (st.isFile()) return packFile(pack, path, base);
  if (st.isSymbolicLink()) return entry(pack, { ...base, type: 'symlink', linkname: await readlink(path) });
  if (st.isFIFO()) return entry(pack, { ...base, type: 'fifo' });
  if (st.isCharacterDevice() || st.isBlockDevice()) {
    return entry(pack, { ...base, type: st.isCharacterDevice() ? 'character-device' : 'block-device', devmajor: major(st.rdev), devminor: minor(st.rdev) });
  }
  // Sockets: nothing to archive.
}

function safeXattr(path: string, name: string): Buffer | undefined {
  try {
    return lgetxattr(path, name);
  } catch {
    return undefined;
  }
}

function entry(pack: tar.Pack, hdr: Header): Promise<void> {
  return new Promise((resolve, reject) => {
    // With an (empty) body the entry completes by itself; without one tar-stream
    // would wait for a sink that nobody ends.
    pack.entry(hdr as tar.Header, Buffer.alloc(0), (err) => (err ? reject(err) : resolve()));
  });
}

/**
 * A regular file's bytes. O_NOFOLLOW + O_NONBLOCK: a file swapped for a symlink or a
 * FIFO after lstat is refused rather than followed or waited on. Exactly the size
 * from fstat is written (a file that shrinks meanwhile is padded with zeros, one that
 * grows is cut), so the tar stays well-formed.
 */
async function packFile(pack: tar.Pack, path: string, base: Header): Promise<void> {
  let fh;
  try {
    fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return; // gone or swapped since lstat: skip it, as a racing writer would have
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) return;
    const size = st.size;
    await new Promise<void>((resolve, reject) => {
      const sink = pack.entry({ ...base, type: 'file', size } as tar.Header, (err) => (err ? reject(err) : resolve()));
      void (async () => {
        let left = size;
        const buf = Buffer.allocUnsafe(256 * 1024);
        while (left > 0) {
          const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, left), null);
          const chunk = bytesRead === 0 ? Buffer.alloc(Math.min(buf.length, left)) : Buffer.from(buf.subarray(0, bytesRead));
          left -= chunk.length;
          if (!sink.write(chunk)) await new Promise<void>((r) => sink.once('drain', () => r()));
        }
        sink.end(() => {});
      })().catch(reject);
    });
  } finally {
    await fh.close();
  }
}

export interface UpperEntry {
  path: string;
  kind: 'whiteout' | 'opaque' | 'dir' | 'other';
  size: number;
}

/** Every entry of an upper dir (chrooted at it), for `docker diff`. */
export async function listUpper(dir = '/', out: UpperEntry[] = []): Promise<UpperEntry[]> {
  for (const n of (await readdir(dir)).sort()) {
    const p = dir === '/' ? `/${n}` : `${dir}/${n}`;
    const st = await lstat(p);
    if (isWhiteout(st)) out.push({ path: p, kind: 'whiteout', size: 0 });
    else if (st.isDirectory()) {
      out.push({ path: p, kind: isOpaque(p) ? 'opaque' : 'dir', size: 0 });
      await listUpper(p, out);
    } else out.push({ path: p, kind: 'other', size: st.isFile() ? st.size : -1 });
  }
  return out;
}
