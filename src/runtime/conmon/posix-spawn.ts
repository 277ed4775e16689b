/**
 * Launch a detached process with posix_spawn(3) through koffi, instead of Node's
 * spawn().
 *
 * Why: libuv forks. fork() copies the page tables of the whole berthd process, so
 * each spawn() blocks the event loop for a time that grows with berthd's memory
 * (measured here: 0.8 ms at 0 MB of heap, 2.9 ms at 100 MB, 9.6 ms at 500 MB), and
 * conmon is spawned for every container start and every exec. glibc's posix_spawn
 * uses clone(CLONE_VM|CLONE_VFORK): no copy, a constant ~0.1 ms.
 *
 * The child gets: stdin /dev/null, stdout+stderr on `outputFd`, the child ends of
 * `pipes` pipes on fds 3, 4, 5..., default signal dispositions and an empty signal
 * mask (Node ignores SIGPIPE; ignored dispositions would survive exec), its own
 * session (setsid, like spawn's `detached`), and `cwd`. Our ends come back as
 * net.Sockets. The spawned process is reaped by a waitpid on koffi's worker.
 */
import { Socket } from 'node:net';
import { closeSync } from 'node:fs';
import { koffi, libc, type LibcFunction } from '../../common/libc.js';

/** glibc x86_64: posix_spawn_file_actions_t is 80 bytes, posix_spawnattr_t 336, sigset_t 128: room to spare. */
const OPAQUE = 512;
const O_RDONLY = 0;
const O_CLOEXEC = 0o2000000;
const POSIX_SPAWN_SETSIGDEF = 0x04;
const POSIX_SPAWN_SETSIGMASK = 0x08;
const POSIX_SPAWN_SETSID = 0x80;

interface Fns {
  spawn: LibcFunction;
  faInit: LibcFunction;
  faDestroy: LibcFunction;
  faDup2: LibcFunction;
  faOpen: LibcFunction;
  faChdir: LibcFunction;
  attrInit: LibcFunction;
  attrDestroy: LibcFunction;
  attrFlags: LibcFunction;
  attrMask: LibcFunction;
  attrDefault: LibcFunction;
  sigfill: LibcFunction;
  sigempty: LibcFunction;
  pipe2: LibcFunction;
  waitpid: LibcFunction;
}

let fns: Fns | undefined;
function f(): Fns {
  if (!fns) {
    const l = libc();
    fns = {
      spawn: l.func('int posix_spawn(_Out_ int *pid, const char *path, void *actions, void *attr, const char **argv, const char **envp)'),
      faInit: l.func('int posix_spawn_file_actions_init(void *fa)'),
      faDestroy: l.func('int posix_spawn_file_actions_destroy(void *fa)'),
      faDup2: l.func('int posix_spawn_file_actions_adddup2(void *fa, int fd, int newfd)'),
      faOpen: l.func('int posix_spawn_file_actions_addopen(void *fa, int fd, const char *path, int oflag, uint32_t mode)'),
      faChdir: l.func('int posix_spawn_file_actions_addchdir_np(void *fa, const char *path)'),
      attrInit: l.func('int posix_spawnattr_init(void *attr)'),
      attrDestroy: l.func('int posix_spawnattr_destroy(void *attr)'),
      attrFlags: l.func('int posix_spawnattr_setflags(void *attr, short flags)'),
      attrMask: l.func('int posix_spawnattr_setsigmask(void *attr, const void *set)'),
      attrDefault: l.func('int posix_spawnattr_setsigdefault(void *attr, const void *set)'),
      sigfill: l.func('int sigfillset(void *set)'),
      sigempty: l.func('int sigemptyset(void *set)'),
      pipe2: l.func('int pipe2(void *fds, int flags)'),
      waitpid: l.func('int waitpid(int pid, void *status, int options)'),
    };
  }
  return fns;
}

export interface DetachedSpawnOptions {
  path: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
  /** Opened by the caller (and closed by it afterwards): the child's stdout and stderr. */
  outputFd: number;
  /** How many pipes: the child's ends land on fds 3, 4, ...; even indexes are read by us (child writes), see `parentWrites`. */
  pipes: number;
  /** Indexes of the pipes the parent writes to (the child reads); the others the parent reads. */
  parentWrites: number[];
}

export interface DetachedChild {
  pid: number;
  /** Our end of each pipe, in order. */
  pipes: Socket[];
}

function check(rc: number, what: string): void {
  // posix_spawn* return the error number itself; pipe2 returns -1 and sets errno.
  if (rc !== 0) throw Object.assign(new Error(`${what} failed: ${rc < 0 ? `errno ${koffi.errno()}` : `error ${rc}`}`), { errno: rc < 0 ? koffi.errno() : rc });
}

/** posix_spawn the process; throws (with nothing left open) when it cannot be started. */
export function spawnDetached(o: DetachedSpawnOptions): DetachedChild {
  const fn = f();
  const ours: number[] = [];
  const theirs: number[] = [];
  const closeAll = (fds: number[]) => { for (const fd of fds.splice(0)) try { closeSync(fd); } catch { /* already */ } };
  try {
    for (let i = 0; i < o.pipes; i++) {
      const buf = Buffer.alloc(8);
      check(fn.pipe2(buf, O_CLOEXEC) as number, 'pipe2');
      const [r, w] = [buf.readInt32LE(0), buf.readInt32LE(4)];
      if (o.parentWrites.includes(i)) { ours.push(w); theirs.push(r); } else { ours.push(r); theirs.push(w); }
    }
    // dup2 onto 3, 4, ... must not clobber a source still to be moved: sources are
    // fresh fds above Node's own (stdio, epoll, signal pipes), but check.
    const targets = theirs.map((_, i) => 3 + i);
    if ([...theirs, o.outputFd].some((fd) => fd <= 2 + o.pipes)) {
      throw new Error(`posix_spawn: a source fd is in the target range 0-${2 + o.pipes}`);
    }
    const fa = Buffer.alloc(OPAQUE);
    const attr = Buffer.alloc(OPAQUE);
    const sigs = Buffer.alloc(OPAQUE);
    const none = Buffer.alloc(OPAQUE);
    check(fn.faInit(fa) as number, 'posix_spawn_file_actions_init');
    check(fn.attrInit(attr) as number, 'posix_spawnattr_init');
    try {
      check(fn.faOpen(fa, 0, '/dev/null', O_RDONLY, 0) as number, 'addopen');
      check(fn.faDup2(fa, o.outputFd, 1) as number, 'adddup2');
      check(fn.faDup2(fa, o.outputFd, 2) as number, 'adddup2');
      theirs.forEach((fd, i) => check(fn.faDup2(fa, fd, targets[i]!) as number, 'adddup2'));
      check(fn.faChdir(fa, o.cwd) as number, 'addchdir');
      fn.sigfill(sigs);
      fn.sigempty(none);
      check(fn.attrDefault(attr, sigs) as number, 'setsigdefault');
      check(fn.attrMask(attr, none) as number, 'setsigmask');
      check(fn.attrFlags(attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK) as number, 'setflags');
      const argv = [o.path, ...o.args, null];
      const envp = [...Object.entries(o.env).map(([k, v]) => `${k}=${v}`), null];
      const pid = [0];
      const rc = fn.spawn(pid, o.path, fa, attr, argv, envp) as number;
      if (rc !== 0) throw Object.assign(new Error(`spawn ${o.path}: error ${rc}`), { errno: rc });
      closeAll(theirs);
      reap(pid[0]!);
      const pipes = ours.map((fd, i) => new Socket({ fd, readable: !o.parentWrites.includes(i), writable: o.parentWrites.includes(i) }));
      ours.length = 0;
      return { pid: pid[0]!, pipes };
    } finally {
      fn.faDestroy(fa);
      fn.attrDestroy(attr);
    }
  } finally {
    closeAll(theirs);
    closeAll(ours);
  }
}

const WNOHANG = 1;
/** Retry delays (ms) of the reaping poll; the launched conmon exits within a few ms. */
const REAP_DELAYS = [0, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2000, 5000, 10_000, 30_000];

/**
 * The launched process exits right after daemonizing: reap it. Non-blocking
 * waitpid calls on the main thread, on a short back-off: no worker thread writes into
 * JS memory (an async call would need its status buffer pinned until it returns).
 */
function reap(pid: number, attempt = 0): void {
  const status = Buffer.alloc(4);
  const rc = f().waitpid(pid, status, WNOHANG) as number;
  if (rc !== 0) return; // reaped (pid), or not our child any more (-1)
  const delay = REAP_DELAYS[attempt + 1];
  if (delay !== undefined) setTimeout(() => reap(pid, attempt + 1), delay).unref();
}
