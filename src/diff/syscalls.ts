import { libc, errno, strerror, type LibcFunction } from '../common/libc.js';
import { internal } from '../common/errors.js';

/**
 * The few file system calls Node lacks, through koffi: mknod (device nodes and
 * overlay whiteouts) and lsetxattr/lgetxattr (opaque dirs, file capabilities).
 * The l* variants never follow a symlink at the last component.
 */
let mknodFn: LibcFunction | undefined;
let lsetxattrFn: LibcFunction | undefined;
let lgetxattrFn: LibcFunction | undefined;

export const S_IFIFO = 0o010000;
export const S_IFCHR = 0o020000;
export const S_IFBLK = 0o060000;

/** glibc's makedev for a 64-bit dev_t. */
export function makedev(major: number, minor: number): bigint {
  const ma = BigInt(major >>> 0);
  const mi = BigInt(minor >>> 0);
  return ((ma & 0xfffff000n) << 32n) | ((ma & 0xfffn) << 8n) | ((mi & 0xffffff00n) << 12n) | (mi & 0xffn);
}

export function mknod(path: string, mode: number, dev: bigint): void {
  mknodFn ??= libc().func('int mknod(const char *path, uint32_t mode, uint64_t dev)');
  if ((mknodFn(path, mode, dev) as number) !== 0) {
    const e = errno();
    throw internal(`mknod ${path}: ${strerror(e)}`);
  }
}

export function lsetxattr(path: string, name: string, value: Buffer): void {
  lsetxattrFn ??= libc().func('int lsetxattr(const char *path, const char *name, const void *value, size_t size, int flags)');
  if ((lsetxattrFn(path, name, value, value.length, 0) as number) !== 0) {
    const e = errno();
    throw internal(`setxattr ${name} on ${path}: ${strerror(e)}`);
  }
}

/** The xattr's value, or undefined when the file has no such attribute. */
export function lgetxattr(path: string, name: string): Buffer | undefined {
  lgetxattrFn ??= libc().func('intptr_t lgetxattr(const char *path, const char *name, _Out_ uint8_t *value, size_t size)');
  const buf = Buffer.alloc(65536);
  const n = lgetxattrFn(path, name, buf, buf.length) as number;
  if (n < 0) {
    const e = errno();
    if (e === 61 /* ENODATA */) return undefined;
    throw internal(`getxattr ${name} on ${path}: ${strerror(e)}`);
  }
  return buf.subarray(0, n);
}
