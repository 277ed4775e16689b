/**
 * Readiness for file descriptors outside libuv: conmon's SOCK_SEQPACKET attach sockets, and
 * the hang-up of a hijacked client (EPOLLHUP, which Node does not report).
 * One epoll instance and one blocking epoll_wait at a time, run through koffi's .async
 * on a single libuv pool thread, however many sockets are watched: a blocking recv per
 * socket would hold one pool thread each, and with every pool thread parked on a quiet
 * container's attach socket Node's own file I/O (which shares the pool) would stall.
 *
 * Each socket is armed EPOLLONESHOT: after one report it stays quiet until its owner
 * re-arms it, so an owner that stops reading (back-pressure) never makes the wait spin.
 * Reports carry a token, not the fd: a report for a socket closed meanwhile (its number
 * perhaps reused) finds no owner and is dropped.
 */
import { libc, errno, strerror, type LibcFunction } from './libc.js';
import { BerthError } from './errors.js';

export const EPOLLIN = 0x001;
export const EPOLLOUT = 0x004;
const EPOLLERR = 0x008;
const EPOLLHUP = 0x010;
const EPOLLRDHUP = 0x2000;
const EPOLLONESHOT = 1 << 30;
const EPOLL_CTL_ADD = 1;
const EPOLL_CTL_DEL = 2;
const EPOLL_CTL_MOD = 3;
const EPOLL_CLOEXEC = 0o2000000;
const EFD_CLOEXEC = 0o2000000;
const EFD_NONBLOCK = 0o4000;
const MAX_EVENTS = 64;
/** struct epoll_event is packed on x86-64 (12 bytes), naturally aligned elsewhere (16). */
const EVENT_SIZE = process.arch === 'x64' ? 12 : 16;
const DATA_OFFSET = process.arch === 'x64' ? 4 : 8;
const WAKE_TOKEN = 0;
const F_DUPFD_CLOEXEC = 1030;

export interface PollOwner {
  /**
   * The armed watch fired (and is disarmed). readable: data, EOF or an error to read
   * (the owner reads until EAGAIN); writable: room again after an EAGAIN.
   */
  onReady(readable: boolean, writable: boolean): void;
}

interface Fns { epollCreate: LibcFunction; epollCtl: LibcFunction; epollWait: LibcFunction; eventfd: LibcFunction; write: LibcFunction; read: LibcFunction; fcntl: LibcFunction; close: LibcFunction }
let fns: Fns | undefined;
function f(): Fns {
  if (!fns) {
    const l = libc();
    fns = {
      epollCreate: l.func('int epoll_create1(int flags)'),
      epollCtl: l.func('int epoll_ctl(int epfd, int op, int fd, void *event)'),
      epollWait: l.func('int epoll_wait(int epfd, void *events, int maxevents, int timeout)'),
      eventfd: l.func('int eventfd(unsigned int initval, int flags)'),
      write: l.func('intptr_t write(int fd, const void *buf, size_t count)'),
      read: l.func('intptr_t read(int fd, void *buf, size_t count)'),
      fcntl: l.func('int fcntl(int fd, int cmd, int arg)'),
      close: l.func('int close(int fd)'),
    };
  }
  return fns;
}

interface Watch { fd: number; owner: PollOwner }

export class FdPoller {
  readonly #epfd: number;
  readonly #wakeFd: number;
  readonly #watches = new Map<number, Watch>();
  readonly #events = Buffer.alloc(EVENT_SIZE * MAX_EVENTS);
  #nextToken = 1;
  #waiting = false;

  constructor() {
    const { epollCreate, eventfd } = f();
    this.#epfd = epollCreate(EPOLL_CLOEXEC) as number;
    if (this.#epfd < 0) throw new BerthError('INTERNAL', `epoll_create1: ${strerror(errno())}`);
    this.#wakeFd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK) as number;
    if (this.#wakeFd < 0) throw new BerthError('INTERNAL', `eventfd: ${strerror(errno())}`);
    this.#ctl(EPOLL_CTL_ADD, this.#wakeFd, EPOLLIN, WAKE_TOKEN);
  }

  /**
   * Watch fd for its owner; nothing is reported until arm(). Returns the watch's token.
   * The owner must own fd: call remove() before closing it (an fd closed by someone else
   * could be reused meanwhile, and remove() would then drop the new owner's watch).
   */
  add(fd: number, owner: PollOwner): number {
    const token = this.#nextToken++;
    this.#ctl(EPOLL_CTL_ADD, fd, EPOLLONESHOT, token);
    this.#watches.set(token, { fd, owner });
    return token;
  }

  /** Report the next time fd is readable (EPOLLIN) and/or writable (EPOLLOUT), once. */
  arm(token: number, interest: number): void {
    const w = this.#watches.get(token);
    if (!w) return;
    const events = (interest & EPOLLIN ? interest | EPOLLRDHUP : interest) | EPOLLONESHOT;
    try {
      this.#ctl(EPOLL_CTL_MOD, w.fd, events, token);
    } catch {
      // ENOENT: the kernel dropped the registration (its file was closed and reopened
      // under the same number); register again rather than lose the owner's events.
      try {
        this.#ctl(EPOLL_CTL_ADD, w.fd, events, token);
      } catch {
        // The fd is unusable: let the owner find that out by reading (EOF or an error).
        queueMicrotask(() => { if (this.#watches.get(token) === w) w.owner.onReady(true, true); });
        return;
      }
    }
    this.#wait();
  }

  /** Stop watching (before the owner closes the fd). */
  remove(token: number): void {
    const w = this.#watches.get(token);
    if (!w) return;
    this.#watches.delete(token);
    f().epollCtl(this.#epfd, EPOLL_CTL_DEL, w.fd, null);
    // The pending wait holds a pool thread (and keeps the process alive): release it
    // when nothing is left to watch.
    if (this.#watches.size === 0 && this.#waiting) f().write(this.#wakeFd, Buffer.from([1, 0, 0, 0, 0, 0, 0, 0]), 8);
  }

  get watching(): number {
    return this.#watches.size;
  }

  #ctl(op: number, fd: number, events: number, token: number): void {
    const ev = Buffer.alloc(EVENT_SIZE);
    ev.writeUInt32LE(events >>> 0, 0);
    ev.writeUInt32LE(token >>> 0, DATA_OFFSET);
    ev.writeUInt32LE(Math.floor(token / 2 ** 32), DATA_OFFSET + 4);
    if ((f().epollCtl(this.#epfd, op, fd, ev) as number) !== 0) {
      throw new BerthError('INTERNAL', `epoll_ctl(${op}, fd ${fd}): ${strerror(errno())}`);
    }
  }

  #wait(): void {
    if (this.#waiting || this.#watches.size === 0) return;
    this.#waiting = true;
    (f().epollWait as any).async(this.#epfd, this.#events, MAX_EVENTS, -1, (err: unknown, n: number) => {
      this.#waiting = false;
      if (err) {
        process.stderr.write(`berthd: epoll_wait: ${String(err)}\n`);
        return;
      }
      this.#dispatch(Number(n));
      this.#wait();
    });
  }

  #dispatch(n: number): void {
    if (n < 0) return; // EINTR (a signal on the pool thread): wait again
    const due: [number, number][] = [];
    for (let i = 0; i < n; i++) {
      const off = i * EVENT_SIZE;
      const events = this.#events.readUInt32LE(off);
      const token = this.#events.readUInt32LE(off + DATA_OFFSET) + this.#events.readUInt32LE(off + DATA_OFFSET + 4) * 2 ** 32;
      if (token === WAKE_TOKEN) {
        f().read(this.#wakeFd, Buffer.alloc(8), 8);
        continue;
      }
      due.push([token, events]);
    }
    // Owners run after the whole batch is decoded; each is looked up when its turn
    // comes, since an earlier one may have removed it.
    for (const [token, events] of due) {
      try {
        this.#watches.get(token)?.owner.onReady((events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) !== 0, (events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) !== 0);
      } catch (err) {
        // This runs in koffi's completion callback: an owner's exception must not end berthd.
        process.stderr.write(`berthd: fd poller: ${String((err as Error)?.stack ?? err)}\n`);
      }
    }
  }
}

/** dup(2) with close-on-exec; -1 on failure. */
export function dupFd(fd: number): number {
  return f().fcntl(fd, F_DUPFD_CLOEXEC, 0) as number;
}

export function closeFd(fd: number): void {
  f().close(fd);
}

let shared: FdPoller | undefined;
/** The process's poller, made on first use. */
export function fdPoller(): FdPoller {
  shared ??= new FdPoller();
  return shared;
}
