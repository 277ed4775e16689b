import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { chmod, lchown, link, lstat, lutimes, mkdir, open, rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { BerthError, invalidArgument, isErrno, isBerthError, errorMessage } from '../common/errors.js';
import { breakout, entryComponents, safeParent } from './safe-path.js';
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

type Header = Omit<tar.Header, 'pax'> & { pax?: Record<string, string> | null };

/**
 * Apply one uncompressed OCI layer tar onto dir, streaming. OCI whiteouts become
 * overlayfs ones (char 0/0, trusted.overlay.opaque=y) so dir can be a lower layer
 * directly. Every entry is resolved inside dir without following symlinks; a
 * hostile entry refuses the whole layer (the caller discards dir).
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
  const state: ApplyState = { root: dir, dirTimes: [], contentSize: 0 };
  const piping = pipeline(input, hashing, extract);
  piping.catch(() => {}); // observed below; avoid an unhandled rejection meanwhile
  try {
    for await (const entry of extract) {
      await applyEntry(state, entry.header as Header, entry as AsyncIterable<Buffer>);
      entry.resume();
    }
    await piping;
  } catch (err) {
    extract.destroy();
    input.destroy();
    // The iterator reports a bare "destroyed"; the pipeline holds the real cause
    // (truncated tar, bad gzip) unless the failure was ours.
    const cause = isBerthError(err) ? err : ((await piping.then(() => undefined, (e: unknown) => e)) ?? err);
    throw wrapTarError(cause);
  }
  // Directory times last, deepest first: creating children changed them.
  for (let i = state.dirTimes.length - 1; i >= 0; i--) {
    const [p, t] = state.dirTimes[i]!;
    await lutimes(p, t, t);
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
}

async function applyEntry(s: ApplyState, hdr: Header, body: AsyncIterable<Buffer>): Promise<void> {
  const name = hdr.name;
  const parts = entryComponents(name);
  if (parts.length === 0) {
    // The layer's own root ("./"): only its metadata applies.
    if (hdr.type === 'directory') await setMetadata(s, s.root, hdr);
    return;
  }
  const base = parts[parts.length - 1]!;
  const parent = await safeParent(s.root, parts.slice(0, -1), name, () => {});

  if (base.startsWith(WHITEOUT_PREFIX)) {
    if (base === WHITEOUT_OPAQUE) {
      lsetxattr(parent, 'trusted.overlay.opaque', Buffer.from('y'));
    } else if (!base.startsWith(WHITEOUT_META_PREFIX)) {
      const target = join(parent, base.slice(WHITEOUT_PREFIX.length));
      await rm(target, { recursive: true, force: true });
      mknod(target, S_IFCHR, makedev(0, 0));
      await lchown(target, hdr.uid ?? 0, hdr.gid ?? 0);
    }
    // Other .wh..wh. names are aufs bookkeeping with no meaning here.
    return;
  }

  const path = join(parent, base);
  const existing = await lstat(path).catch((err) => {
    if (isErrno(err, 'ENOENT')) return undefined;
    throw err;
  });
  // Replace whatever is there, except a directory by a directory (its children stay).
  // rm never follows a symlink, and every new node is created fresh (O_EXCL), so
  // nothing is ever written through a link left by an earlier entry.
  if (existing && !(existing.isDirectory() && hdr.type === 'directory')) {
    await rm(path, { recursive: true, force: true });
  }

  switch (hdr.type) {
    case 'file':
    case 'contiguous-file':
      await writeFile(s, path, body);
      break;
    case 'directory':
      if (!existing?.isDirectory()) await mkdir(path, { mode: 0o700 });
      break;
    case 'symlink':
      // Created as given: it is resolved inside the container, never by us.
      await symlink(hdr.linkname ?? '', path);
      break;
    case 'link':
      await hardlink(s, name, hdr.linkname ?? '', path);
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
  await setMetadata(s, path, hdr);
}

async function writeFile(s: ApplyState, path: string, body: AsyncIterable<Buffer>): Promise<void> {
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
  const fh = await open(path, flags, 0o600);
  try {
    for await (const chunk of body) {
      const b = chunk as Buffer;
      let off = 0;
      while (off < b.length) off += (await fh.write(b, off, b.length - off)).bytesWritten;
      s.contentSize += b.length;
    }
  } finally {
    await fh.close();
  }
}

async function hardlink(s: ApplyState, name: string, linkname: string, path: string): Promise<void> {
  const tparts = entryComponents(linkname);
  if (tparts.length === 0) throw breakout(name, `hard-links to the layer root "${linkname}"`);
  // Check-only walk: the target's parents must already be real directories.
  let cur = s.root;
  for (const p of tparts.slice(0, -1)) {
    cur = join(cur, p);
    const st = await lstat(cur).catch(() => undefined);
    if (!st) throw invalidArgument(`layer entry "${name}" hard-links to "${linkname}", which does not exist in this layer`);
    if (st.isSymbolicLink()) throw breakout(name, `hard-links through the symlink "${p}"`);
    if (!st.isDirectory()) throw breakout(name, `hard-links through the non-directory "${p}"`);
  }
  const target = join(cur, tparts[tparts.length - 1]!);
  const st = await lstat(target).catch(() => undefined);
  if (!st) throw invalidArgument(`layer entry "${name}" hard-links to "${linkname}", which does not exist in this layer`);
  if (st.isDirectory()) throw invalidArgument(`layer entry "${name}" hard-links to the directory "${linkname}"`);
  // link(2) on Linux does not follow a symlink target: the link is to the symlink itself.
  await link(target, path);
}

async function setMetadata(s: ApplyState, path: string, hdr: Header): Promise<void> {
  await lchown(path, hdr.uid ?? 0, hdr.gid ?? 0);
  // chown clears set-id bits, so the mode comes after it. Never chmod a symlink:
  // chmod follows links, and Linux symlinks have no mode of their own.
  if (hdr.type !== 'symlink') await chmod(path, (hdr.mode ?? 0o644) & 0o7777);
  for (const [key, value] of Object.entries(hdr.pax ?? {})) {
    if (!key.startsWith(XATTR_PREFIX)) continue;
    const xname = key.slice(XATTR_PREFIX.length);
    // Overlay's own xattrs from an image could redirect lookups; refuse to carry them.
    if (xname.startsWith('trusted.overlay.')) continue;
    lsetxattr(path, xname, Buffer.from(value, 'latin1'));
  }
  const mtime = hdr.mtime ?? new Date(0);
  if (hdr.type === 'directory') s.dirTimes.push([path, mtime]);
  else await lutimes(path, mtime, mtime);
}
