import { createHash } from 'node:crypto';
import { chmodSync, closeSync, constants, fchmodSync, fchownSync, futimesSync, lchownSync, linkSync, lstatSync, lutimesSync, mkdirSync, openSync, symlinkSync, writev } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { BerthError, invalidArgument, isBerthError, errorMessage } from '../common/errors.js';
import { breakout, entryComponents, safeParent, VerifiedDirs } from './safe-path.js';
import { lsetxattr, makedev, mknod, S_IFBLK, S_IFCHR, S_IFIFO } from './syscalls.js';
import { patchTarStreamPax, XATTR_PREFIX } from './tar-pax.js';

export interface ApplyResult {
  /** sha256 of the uncompressed tar: the layer's diff id. */
  diffId: string;
  /** Bytes of the uncompressed tar. */
  size: number;
  /** Bytes of regular file content (docker's layer size). */
  contentSize: number;
}

const WHITEOUT_PREFIX = '.wh.';
const WHITEOUT_META_PREFIX = '.wh..wh.';
const WHITEOUT_OPAQUE = '.wh..wh..opq';
/** File content is gathered up to this much and written with one writev. */
const FLUSH_BYTES = 1 << 20;
const CREATE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

type Header = Omit<tar.Header, 'pax'> & { pax?: Record<string, string> | null };

/**
 * Apply one uncompressed OCI layer tar onto dir, streaming. OCI whiteouts become
 * overlayfs ones (char 0/0, trusted.overlay.opaque=y) so dir can be a lower layer
 * directly. Every entry is resolved inside dir without following symlinks; a
 * hostile entry refuses the whole layer (the caller discards dir).
 *
 * Speed (bench/pull.mjs): metadata calls (lstat, mkdir, chown, chmod, utimes) are
 * sync: a few microseconds each against a thread-pool round trip per call, for
 * hundreds of thousands of calls in a large image. File content, the bulk, is
 * written asynchronously in batches of up to FLUSH_BYTES, so a slow disk never
 * blocks the event loop for long.
 */
export async function applyLayer(input: Readable, dir: string): Promise<ApplyResult> {
  patchTarStreamPax();
  const hash = createHash('sha256');
  let size = 0;
  const hashing = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      size += chunk.length;
      cb(null, chunk);
    },
  });
  const extract = tar.extract();
  const state: ApplyState = { root: dir, dirTimes: [], contentSize: 0, dirs: new VerifiedDirs() };
  const piping = pipeline(input, hashing, extract);
  piping.catch(() => {}); // observed below; avoid an unhandled rejection meanwhile
  try {
    for await (const entry of extract) {
      await applyEntry(state, entry.header as Header, entry as AsyncIterable<Buffer>);
      entry.resume();
    }
    await piping;
    // Directory times last, deepest first: creating children changed them.
    for (let i = state.dirTimes.length - 1; i >= 0; i--) {
      const [p, t] = state.dirTimes[i]!;
      lutimesSync(p, t, t);
    }
  } catch (err) {
    extract.destroy();
    input.destroy();
    // The iterator reports a bare "destroyed"; the pipeline holds the real cause
    // (truncated tar, bad gzip) unless the failure was ours.
    const cause = isBerthError(err) ? err : ((await piping.then(() => undefined, (e: unknown) => e)) ?? err);
    throw wrapTarError(cause);
  }
  return { diffId: 'sha256:' + hash.digest('hex'), size, contentSize: state.contentSize };
}

function wrapTarError(err: unknown): unknown {
  if (isBerthError(err)) return err;
  const msg = errorMessage(err);
  if (/Unexpected end of data|Invalid tar header|unexpected end of file|incorrect header check|invalid (stored )?block|Z_/i.test(msg) || (err as { code?: string })?.code?.startsWith?.('Z_')) {
    return invalidArgument(`invalid layer archive: ${msg}; the tarball is corrupt or truncated`, err);
  }
  return new BerthError('INTERNAL', `applying layer: ${msg}`, { cause: err });
}

interface ApplyState {
  root: string;
  dirTimes: Array<[string, Date]>;
  contentSize: number;
  dirs: VerifiedDirs;
}

/** Remove path (never following a link) and forget what was verified under it. */
async function remove(s: ApplyState, path: string): Promise<void> {
  s.dirs.forget(path);
  await rm(path, { recursive: true, force: true });
}

async function applyEntry(s: ApplyState, hdr: Header, body: AsyncIterable<Buffer>): Promise<void> {
  const name = hdr.name;
  const parts = entryComponents(name);
  if (parts.length === 0) {
    // The layer's own root ("./"): only its metadata applies.
    if (hdr.type === 'directory') setMetadata(s, s.root, hdr);
    return;
  }
  const base = parts[parts.length - 1]!;
  const parent = safeParent(s.root, parts.slice(0, -1), name, s.dirs);

  if (base.startsWith(WHITEOUT_PREFIX)) {
    if (base === WHITEOUT_OPAQUE) {
      lsetxattr(parent, 'trusted.overlay.opaque', Buffer.from('y'));
    } else if (!base.startsWith(WHITEOUT_META_PREFIX)) {
      const hidden = base.slice(WHITEOUT_PREFIX.length);
      // ".wh..." would hide the parent's parent (one level above the layer root at the
      // top), ".wh." and ".wh.." the parent itself: only a plain name can be whited out.
      if (hidden === '' || hidden === '.' || hidden === '..' || hidden.includes('/')) {
        throw breakout(name, `is a whiteout for "${hidden}", which is not a name inside its directory`);
      }
      const target = join(parent, hidden);
      if (lstatSync(target, { throwIfNoEntry: false })) await remove(s, target);
      mknod(target, S_IFCHR, makedev(0, 0));
      lchownSync(target, hdr.uid ?? 0, hdr.gid ?? 0);
    }
    // Other .wh..wh. names are aufs bookkeeping with no meaning here.
    return;
  }

  const path = join(parent, base);
  const isDir = hdr.type === 'directory';
  const existing = isDir && s.dirs.has(path) ? 'dir' : kindAt(path);
  // Replace whatever is there, except a directory by a directory (its children stay).
  // rm never follows a symlink, and every new node is created fresh (O_EXCL), so
  // nothing is ever written through a link left by an earlier entry.
  if (existing && !(existing === 'dir' && isDir)) await remove(s, path);

  switch (hdr.type) {
    case 'file':
    case 'contiguous-file':
      await writeFile(s, path, hdr, body);
      return; // metadata set through the open fd
    case 'directory':
      if (existing !== 'dir') mkdirSync(path, { mode: 0o700 });
      s.dirs.add(path);
      break;
    case 'symlink':
      // Created as given: it is resolved inside the container, never by us.
      symlinkSync(hdr.linkname ?? '', path);
      break;
    case 'link':
      hardlink(s, name, hdr.linkname ?? '', path);
      return; // a hard link shares its target's inode and metadata
    case 'character-device':
    case 'block-device':
    case 'fifo': {
      const kind = hdr.type === 'fifo' ? S_IFIFO : hdr.type === 'block-device' ? S_IFBLK : S_IFCHR;
      mknod(path, kind | ((hdr.mode ?? 0o600) & 0o7777), makedev(hdr.devmajor ?? 0, hdr.devminor ?? 0));
      break;
    }
    default:
      // Sparse files and other exotic types are not produced by image builders.
      throw invalidArgument(`layer entry "${name}" has the unsupported tar type "${hdr.type}"`);
  }
  setMetadata(s, path, hdr);
}

function kindAt(path: string): 'dir' | 'other' | undefined {
  const st = lstatSync(path, { throwIfNoEntry: false });
  return st ? (st.isDirectory() ? 'dir' : 'other') : undefined;
}

async function writeFile(s: ApplyState, path: string, hdr: Header, body: AsyncIterable<Buffer>): Promise<void> {
  // Async: creating a file is the one metadata call that costs ~0.2 ms on ext4
  // (journal, inode allocation); other layers are parsed meanwhile.
  const fd = openSync(path, CREATE_FLAGS, 0o600);
  try {
    let batch: Buffer[] = [];
    let n = 0;
    for await (const chunk of body) {
      batch.push(chunk);
      n += chunk.length;
      if (n >= FLUSH_BYTES) {
        await writeAll(fd, batch, n);
        s.contentSize += n;
        batch = [];
        n = 0;
      }
    }
    if (n > 0) await writeAll(fd, batch, n);
    s.contentSize += n;
    // chown clears set-id bits, so the mode comes after it; times after the last write.
    fchownSync(fd, hdr.uid ?? 0, hdr.gid ?? 0);
    fchmodSync(fd, (hdr.mode ?? 0o644) & 0o7777);
    setXattrs(path, hdr);
    const mtime = hdr.mtime ?? new Date(0);
    futimesSync(fd, mtime, mtime);
  } finally {
    closeSync(fd);
  }
}

/** writev until every byte of bufs is written (a short write resumes where it stopped). */
async function writeAll(fd: number, bufs: Buffer[], total: number): Promise<void> {
  while (total > 0) {
    const written = await new Promise<number>((resolve, reject) => writev(fd, bufs, (err, n) => (err ? reject(err) : resolve(n))));
    total -= written;
    if (total === 0) return;
    let skip = written;
    while (skip >= bufs[0]!.length) skip -= bufs.shift()!.length;
    bufs[0] = bufs[0]!.subarray(skip);
  }
}

function hardlink(s: ApplyState, name: string, linkname: string, path: string): void {
  const tparts = entryComponents(linkname);
  if (tparts.length === 0) throw breakout(name, `hard-links to the layer root "${linkname}"`);
  // Check-only walk: the target's parents must already be real directories.
  let cur = s.root;
  for (const p of tparts.slice(0, -1)) {
    cur = join(cur, p);
    if (s.dirs.has(cur)) continue;
    const st = lstatSync(cur, { throwIfNoEntry: false });
    if (!st) throw invalidArgument(`layer entry "${name}" hard-links to "${linkname}", which does not exist in this layer`);
    if (st.isSymbolicLink()) throw breakout(name, `hard-links through the symlink "${p}"`);
    if (!st.isDirectory()) throw breakout(name, `hard-links through the non-directory "${p}"`);
    s.dirs.add(cur);
  }
  const target = join(cur, tparts[tparts.length - 1]!);
  const st = lstatSync(target, { throwIfNoEntry: false });
  if (!st) throw invalidArgument(`layer entry "${name}" hard-links to "${linkname}", which does not exist in this layer`);
  if (st.isDirectory()) throw invalidArgument(`layer entry "${name}" hard-links to the directory "${linkname}"`);
  // link(2) on Linux does not follow a symlink target: the link is to the symlink itself.
  linkSync(target, path);
}

function setMetadata(s: ApplyState, path: string, hdr: Header): void {
  lchownSync(path, hdr.uid ?? 0, hdr.gid ?? 0);
  // chown clears set-id bits, so the mode comes after it. Never chmod a symlink:
  // chmod follows links, and Linux symlinks have no mode of their own.
  if (hdr.type !== 'symlink') chmodSync(path, (hdr.mode ?? 0o644) & 0o7777);
  setXattrs(path, hdr);
  const mtime = hdr.mtime ?? new Date(0);
  if (hdr.type === 'directory') s.dirTimes.push([path, mtime]);
  else lutimesSync(path, mtime, mtime);
}

function setXattrs(path: string, hdr: Header): void {
  for (const [key, value] of Object.entries(hdr.pax ?? {})) {
    if (!key.startsWith(XATTR_PREFIX)) continue;
    const xname = key.slice(XATTR_PREFIX.length);
    // Overlay's own xattrs from an image could redirect lookups; refuse to carry them.
    if (xname.startsWith('trusted.overlay.')) continue;
    lsetxattr(path, xname, Buffer.from(value, 'latin1'));
  }
}
