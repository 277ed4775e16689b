import { lstat, mkdir, open, readlink, realpath, type FileHandle } from 'node:fs/promises';
import { constants } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { errorMessage, invalidArgument, isErrno, notFound } from '../../common/errors.js';

/**
 * Path resolution scoped to a container root (CVE-2024-9676 class): every component
 * is resolved inside `root`, symlinks are followed as if `root` were `/`, and `..`
 * never climbs above it. A symlinked /etc/passwd -> /etc/shadow therefore reads the
 * image's /etc/shadow, never the host's.
 */

const MAX_SYMLINKS = 255;

/** The host path of `path` interpreted inside `root`. Missing trailing components are kept lexically. */
export async function resolveInRoot(root: string, path: string): Promise<string> {
  const rootReal = await realpath(root);
  // Components still to walk; symlink targets are pushed in front.
  let pending = path.split('/').filter((c) => c !== '' && c !== '.');
  const done: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const c = pending.shift()!;
    if (c === '..') {
      done.pop();
      continue;
    }
    const here = join(rootReal, ...done, c);
    let st;
    try {
      st = await lstat(here);
    } catch (err) {
      if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR')) {
        // The rest does not exist: keep it lexically (still clamped inside root).
        done.push(c);
        for (const r of pending) {
          if (r === '..') done.pop();
          else if (r !== '.' && r !== '') done.push(r);
        }
        pending = [];
        break;
      }
      throw err;
    }
    if (!st.isSymbolicLink()) {
      done.push(c);
      continue;
    }
    if (++links > MAX_SYMLINKS) throw invalidArgument(`too many levels of symbolic links resolving ${path}`);
    const target = await readlink(here);
    const parts = target.split('/').filter((x) => x !== '' && x !== '.');
    if (target.startsWith('/')) done.length = 0;
    pending = [...parts, ...pending];
  }
  return join(rootReal, ...done);
}

/** True when `p` is `root` or below it (both absolute, normalised). */
export function isWithin(root: string, p: string): boolean {
  return p === root || p.startsWith(root.endsWith(sep) ? root : root + sep);
}

/**
 * Open a regular file inside `root` for reading. The final open uses O_NOFOLLOW and
 * O_NONBLOCK (a FIFO planted as /etc/passwd must not hang us), and the opened fd is
 * checked through /proc/self/fd to still lie inside the root (a rename race between
 * resolution and open would show up there). NOT_FOUND when the file does not exist.
 */
export async function openFileInRoot(root: string, path: string): Promise<FileHandle> {
  const rootReal = await realpath(root);
  const host = await resolveInRoot(rootReal, path);
  let fh: FileHandle;
  try {
    fh = await open(host, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR')) throw notFound(`${path}: no such file in container root`, err);
    if (isErrno(err, 'ELOOP')) throw invalidArgument(`${path}: symlink changed while resolving`, err);
    throw err;
  }
  try {
    const actual = await readlink(`/proc/self/fd/${fh.fd}`);
    if (!isWithin(rootReal, actual)) throw invalidArgument(`${path}: resolves outside the container root`);
    const st = await fh.stat();
    if (!st.isFile()) throw invalidArgument(`${path}: not a regular file`);
    return fh;
  } catch (err) {
    await fh.close();
    throw err;
  }
}

/** Read a whole small file inside `root`; refuses files larger than maxBytes (DoS cap). */
export async function readFileInRoot(root: string, path: string, maxBytes = 4 * 1024 * 1024): Promise<Buffer> {
  const fh = await openFileInRoot(root, path);
  try {
    // Read in chunks rather than trusting st.size (procfs-like files report 0).
    const chunks: Buffer[] = [];
    let n = 0;
    for (;;) {
      const buf = Buffer.allocUnsafe(64 * 1024);
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      n += bytesRead;
      if (n > maxBytes) throw invalidArgument(`${path}: larger than ${maxBytes} bytes`);
      chunks.push(buf.subarray(0, bytesRead));
    }
    return Buffer.concat(chunks, n);
  } finally {
    await fh.close();
  }
}

/** Like readFileInRoot, but undefined when the file does not exist (distroless images). */
export async function readFileInRootIfExists(root: string, path: string, maxBytes?: number): Promise<Buffer | undefined> {
  try {
    return await readFileInRoot(root, path, maxBytes);
  } catch (err) {
    if (err instanceof Error && (err as { code?: string }).code === 'NOT_FOUND') return undefined;
    throw err;
  }
}

/**
 * docker's WorkingDir rule: a missing working directory is created (root-owned, 0755)
 * before the container starts, resolved inside `root` like resolveInRoot, so an image
 * whose /work is a symlink to /srv/host creates <root>/srv/host/..., never a host
 * directory. resolveInRoot leaves no symlink among the existing components; the missing
 * rest is created level by level, each checked with lstat to be a plain directory (the
 * container is not running, so nothing in it can race us; the check guards that).
 */
export async function mkdirAllInRoot(root: string, path: string): Promise<string> {
  const rootReal = await realpath(root);
  const host = await resolveInRoot(rootReal, path);
  if (!isWithin(rootReal, host)) throw invalidArgument(`working directory ${path}: resolves outside the container root`);
  let cur = rootReal;
  for (const c of relative(rootReal, host).split(sep).filter((x) => x !== '')) {
    cur = join(cur, c);
    try {
      await mkdir(cur, { mode: 0o755 });
    } catch (err) {
      if (isErrno(err, 'ENOTDIR')) throw invalidArgument(`working directory ${path}: ${relative(rootReal, dirname(cur))} is not a directory`, err);
      if (!isErrno(err, 'EEXIST')) throw invalidArgument(`working directory ${path}: ${errorMessage(err)}`, err);
    }
    const st = await lstat(cur);
    if (!st.isDirectory()) throw invalidArgument(`working directory ${path}: /${relative(rootReal, cur)} is not a directory`);
  }
  return host;
}
