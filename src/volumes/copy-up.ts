import { chmod, lchown, link, lstat, lutimes, mkdir, open, readdir, readlink, symlink, utimes, type FileHandle } from 'node:fs/promises';
import { constants, type BigIntStats } from 'node:fs';
import { join } from 'node:path';
import { internal, isErrno } from '../common/errors.js';
import { errno, libc, strerror, type LibcFunction } from '../common/libc.js';

/**
 * docker populates a new, empty volume with what the image has at the mount path
 * ("copy-up"), keeping modes, owners, times, symlinks and hard links, then gives the
 * volume's root the source directory's owner and mode. Nothing is followed: every
 * entry is lstat'ed, symlinks are recreated as links, and files are opened with
 * O_NOFOLLOW, so a hostile image cannot make us read outside srcDir. The caller must
 * resolve srcDir itself inside the container root (containers/support resolveInRoot).
 */

let mknodFn: LibcFunction | undefined;
function mknod(path: string, mode: number, dev: bigint): void {
  mknodFn ??= libc().func('int mknod(const char *path, uint32_t mode, uint64_t dev)');
  if ((mknodFn(path, mode, dev) as number) !== 0) {
    const e = errno();
    throw internal(`mknod ${path}: ${strerror(e)}`);
  }
}

async function copyFileData(src: string, dst: string, mode: number): Promise<void> {
  let sfh: FileHandle | undefined;
  let dfh: FileHandle | undefined;
  try {
    sfh = await open(src, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    dfh = await open(dst, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode & 0o777);
    const buf = Buffer.allocUnsafe(1024 * 1024);
    for (;;) {
      const { bytesRead } = await sfh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      let off = 0;
      while (off < bytesRead) off += (await dfh.write(buf, off, bytesRead - off)).bytesWritten;
    }
  } finally {
    await sfh?.close();
    await dfh?.close();
  }
}

/** Owner, then mode (chown clears set-id bits), then times; symlinks get owner and times only. */
async function applyMeta(dst: string, st: BigIntStats): Promise<void> {
  await lchown(dst, Number(st.uid), Number(st.gid));
  const atime = Number(st.atimeNs) / 1e9;
  const mtime = Number(st.mtimeNs) / 1e9;
  if (st.isSymbolicLink()) {
    await lutimes(dst, atime, mtime);
    return;
  }
  await chmod(dst, Number(st.mode) & 0o7777);
  await utimes(dst, atime, mtime);
}

async function copyTree(src: string, dst: string, links: Map<string, string>): Promise<void> {
  for (const name of await readdir(src)) {
    const s = join(src, name);
    const d = join(dst, name);
    let st: BigIntStats;
    try {
      st = await lstat(s, { bigint: true });
    } catch (err) {
      if (isErrno(err, 'ENOENT')) continue;
      throw err;
    }
    const mode = Number(st.mode);
    if (st.isDirectory()) {
      await mkdir(d, { mode: 0o700 });
      await copyTree(s, d, links);
      await applyMeta(d, st);
      continue;
    }
    if (!st.isSymbolicLink() && st.nlink > 1n) {
      const key = `${st.dev}:${st.ino}`;
      const first = links.get(key);
      if (first) {
        await link(first, d);
        continue;
      }
      links.set(key, d);
    }
    if (st.isFile()) await copyFileData(s, d, mode);
    else if (st.isSymbolicLink()) await symlink(await readlink(s), d);
    else if (st.isFIFO() || st.isCharacterDevice() || st.isBlockDevice()) mknod(d, mode, st.rdev);
    else continue; // sockets are bound by a process; there is nothing to copy
    await applyMeta(d, st);
  }
}

/**
 * Copy srcDir's content into volumeDir when the volume is empty and srcDir is a real
 * directory (a symlink or a missing path copies nothing, as in docker). Returns whether
 * anything was copied.
 */
export async function copyImageDataIntoVolume(srcDir: string, volumeDir: string): Promise<boolean> {
  let st: BigIntStats;
  try {
    st = await lstat(srcDir, { bigint: true });
  } catch (err) {
    if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR')) return false;
    throw err;
  }
  if (!st.isDirectory()) return false;
  if ((await readdir(volumeDir)).length > 0) return false;
  await copyTree(srcDir, volumeDir, new Map());
  await applyMeta(volumeDir, st);
  return true;
}
