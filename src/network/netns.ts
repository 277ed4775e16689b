/**
 * Named network namespaces: a new netns bind-mounted on a file (like `ip netns add`)
 * so it exists, configured, before the container's process starts, and outlives
 * berthd restarts. The main thread enters a namespace only for the duration of a
 * synchronous call and always comes back (sockets keep the netns they were made in).
 */
import { closeSync, openSync, writeFileSync, rmSync } from 'node:fs';
import { BerthError } from '../common/errors.js';
import { libc, errno, strerror, type LibcFunction } from '../common/libc.js';
import { unmount } from '../mount/mount.js';

const CLONE_NEWNET = 0x40000000;
const MS_BIND = 4096;

interface Fns { unshare: LibcFunction; setns: LibcFunction; mount: LibcFunction }
let fns: Fns | undefined;
function f(): Fns {
  if (!fns) {
    const l = libc();
    fns = {
      unshare: l.func('int unshare(int flags)'),
      setns: l.func('int setns(int fd, int nstype)'),
      mount: l.func('int mount(const char *source, const char *target, const char *fstype, unsigned long flags, const char *data)'),
    };
  }
  return fns;
}

let hostNsFd: number | undefined;
/** The namespace berthd runs in, opened once so every switch can come back to it. */
function hostNs(): number {
  hostNsFd ??= openSync('/proc/thread-self/ns/net', 'r');
  return hostNsFd;
}

function back(): void {
  if (f().setns(hostNs(), CLONE_NEWNET) !== 0) {
    // Continuing in a foreign namespace would misroute every later socket.
    process.stderr.write(`berthd: cannot return to the host network namespace: ${strerror(errno())}\n`);
    process.exit(70);
  }
}

/**
 * Create a netns bound at path and run fn inside it (synchronously), e.g. to open a
 * netlink socket there. A failure leaves no file or mount behind.
 */
export function createNetns<T>(path: string, fn: () => T): T {
  hostNs();
  writeFileSync(path, '', { mode: 0o444, flag: 'wx' });
  let entered = false;
  try {
    if (f().unshare(CLONE_NEWNET) !== 0) throw new BerthError('INTERNAL', `create network namespace: unshare: ${strerror(errno())}`);
    entered = true;
    if (f().mount('/proc/thread-self/ns/net', path, null, MS_BIND, null) !== 0) {
      throw new BerthError('INTERNAL', `create network namespace: bind mount on ${path}: ${strerror(errno())}`);
    }
    try {
      return fn();
    } finally {
      back();
      entered = false;
    }
  } catch (err) {
    if (entered) back();
    void unmount(path, { detach: true }).catch(() => {}).finally(() => rmSync(path, { force: true }));
    throw err;
  }
}

/** Run fn inside the netns at path (synchronously). */
export function inNetns<T>(path: string, fn: () => T): T {
  hostNs();
  const fd = openSync(path, 'r');
  try {
    if (f().setns(fd, CLONE_NEWNET) !== 0) throw new BerthError('INTERNAL', `enter network namespace ${path}: ${strerror(errno())}`);
    try {
      return fn();
    } finally {
      back();
    }
  } finally {
    closeSync(fd);
  }
}

/** Unmount and delete a named netns; a missing one is not an error. */
export async function removeNetns(path: string): Promise<void> {
  await unmount(path, { detach: true }).catch(() => {});
  rmSync(path, { force: true });
}
