import { libc, errno, strerror, type LibcFunction } from '../common/libc.js';
import { existsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { BerthError } from '../common/errors.js';

/**
 * The currency between services that produce filesystems (snapshots, volumes) and
 * those that consume them (runtime): a mount that has not happened yet.
 * Options are fstab-style; flag words (ro, nosuid, bind, ...) become mount flags,
 * everything else is passed to the filesystem as data.
 */
export interface Mount {
  type: string;
  source: string;
  options: string[];
}

const MS: Record<string, [set: boolean, flag: number]> = {
  ro: [true, 1], rw: [false, 1],
  nosuid: [true, 2], suid: [false, 2],
  nodev: [true, 4], dev: [false, 4],
  noexec: [true, 8], exec: [false, 8],
  sync: [true, 16], async: [false, 16],
  remount: [true, 32],
  mand: [true, 64], nomand: [false, 64],
  dirsync: [true, 128],
  noatime: [true, 1024], atime: [false, 1024],
  nodiratime: [true, 2048], diratime: [false, 2048],
  bind: [true, 4096],
  rbind: [true, 4096 | 16384],
  relatime: [true, 1 << 21], norelatime: [false, 1 << 21],
  strictatime: [true, 1 << 24],
  private: [true, 1 << 18], rprivate: [true, (1 << 18) | 16384],
  slave: [true, 1 << 19], rslave: [true, (1 << 19) | 16384],
  shared: [true, 1 << 20], rshared: [true, (1 << 20) | 16384],
  unbindable: [true, 1 << 17],
};

export const MNT_DETACH = 2;

/** Split fstab-style options into mount(2) flags and the filesystem data string. */
export function parseMountOptions(options: string[]): { flags: number; data: string } {
  let flags = 0;
  const data: string[] = [];
  for (const opt of options) {
    const f = MS[opt];
    if (f) {
      if (f[0]) flags |= f[1];
      else flags &= ~f[1];
    } else {
      data.push(opt);
    }
  }
  return { flags, data: data.join(',') };
}

let mountFn: LibcFunction | undefined;
let umountFn: LibcFunction | undefined;

function callAsync(fn: any, ...args: unknown[]): Promise<{ rc: number; err: number }> {
  // errno must be read on the same thread as the call: do both in the worker by
  // running synchronously when cheap. mount(2) is fast; a sync call keeps errno exact.
  const rc = fn(...args) as number;
  return Promise.resolve({ rc, err: rc < 0 ? errno() : 0 });
}

/** mount(2) one Mount at target. The page-size limit on data is checked first. */
export async function mountOne(m: Mount, target: string): Promise<void> {
  mountFn ??= libc().func('int mount(const char *source, const char *target, const char *fstype, unsigned long flags, const char *data)');
  const { flags, data } = parseMountOptions(m.options);
  if (data.length >= 4096) {
    throw new BerthError('INVALID_ARGUMENT', `mount of ${m.type} at ${target}: options are ${data.length} bytes, over the kernel's page-size limit`);
  }
  const bindLike = (flags & 4096) !== 0;
  const ro = (flags & 1) !== 0;
  // A read-only bind mount needs a second remount call: the first ignores MS_RDONLY.
  const first = bindLike ? flags & ~1 : flags;
  const r = await callAsync(mountFn, m.source, target, m.type, first, data || null);
  if (r.rc !== 0) {
    throw new BerthError('INTERNAL', `mount ${m.type} ${m.source} on ${target}: ${strerror(r.err)}`);
  }
  if (bindLike && ro) {
    const r2 = await callAsync(mountFn, m.source, target, m.type, first | 32 | 1, null);
    if (r2.rc !== 0) {
      await unmount(target, { detach: true }).catch(() => {});
      throw new BerthError('INTERNAL', `remount read-only ${target}: ${strerror(r2.err)}`);
    }
  }
}

/** Mount a list of mounts on the same target (a rootfs is usually one overlay mount). */
export async function mountAll(mounts: Mount[], target: string): Promise<void> {
  for (const m of mounts) await mountOne(m, target);
}

/** umount2(2). A target that is not mounted is not an error. */
export async function unmount(target: string, opts: { detach?: boolean } = {}): Promise<void> {
  umountFn ??= libc().func('int umount2(const char *target, int flags)');
  const r = await callAsync(umountFn, target, opts.detach ? MNT_DETACH : 0);
  if (r.rc !== 0 && r.err !== 22 /* EINVAL: not a mount point */ && r.err !== 2 /* ENOENT */) {
    throw new BerthError('INTERNAL', `umount ${target}: ${strerror(r.err)}`);
  }
}

/**
 * Unmount every mount at target, however many are stacked there: umount2 until the
 * kernel answers EINVAL (not a mount point) or ENOENT. No /proc/self/mountinfo read:
 * that file grows with every running container and sits on each container's exit path.
 */
export async function unmountAll(target: string): Promise<void> {
  // Nothing there, nothing mounted: no thread-pool round trip (the exit path asks this of
  // several paths that usually do not exist).
  if (!existsSync(target)) return;
  umountFn ??= libc().func('int umount2(const char *target, int flags)');
  for (let i = 0; i < 32; i++) {
    const r = await callAsync(umountFn, target, MNT_DETACH);
    if (r.rc === 0) continue;
    if (r.err === 22 /* EINVAL: not a mount point */ || r.err === 2 /* ENOENT */) return;
    throw new BerthError('INTERNAL', `umount ${target}: ${strerror(r.err)}`);
  }
}

import { readFile } from 'node:fs/promises';

/**
 * True when another file system is mounted on path: its device differs from its parent's.
 * Two stat calls, where isMountPoint reads all of /proc/self/mountinfo (which grows with
 * every running container); blind to a bind mount of the same file system, so only for
 * paths that only ever get a file system of their own (an overlay root, a tmpfs).
 */
export function hasOwnFileSystem(path: string): boolean {
  try {
    return statSync(path).dev !== statSync(dirname(path)).dev;
  } catch {
    return false;
  }
}

/** True when path is a mount point in this mount namespace (from /proc/self/mountinfo). */
export async function isMountPoint(path: string): Promise<boolean> {
  const info = await readFile('/proc/self/mountinfo', 'utf8');
  const esc = path.replace(/[ \t\n\\]/g, (c) => '\\' + c.charCodeAt(0).toString(8).padStart(3, '0'));
  for (const line of info.split('\n')) {
    const f = line.split(' ');
    if (f[4] === esc) return true;
  }
  return false;
}
