/**
 * conmon's attach socket is AF_UNIX SOCK_SEQPACKET, which Node's net module can't
 * open or wrap. This talks to it through libc via koffi. Every call is non-blocking
 * (MSG_DONTWAIT) on the event loop's thread; readiness comes from the process's one
 * FdPoller, so a thousand quiet attach sessions cost no thread and no open call.
 */
import { libc, errno, strerror, type LibcFunction } from '../../common/libc.js';
import { BerthError } from '../../common/errors.js';
import type { IoSession, StdioChunk } from '../types.js';
import { fdPoller, EPOLLIN, EPOLLOUT, type PollOwner } from '../../common/fd-poller.js';

const AF_UNIX = 1;
const SOCK_SEQPACKET = 5;
const SOCK_CLOEXEC = 0o2000000;
const SOCK_NONBLOCK = 0o4000;
const CONNECT_TIMEOUT_MS = 5000;
const SHUT_WR = 1;
const MSG_DONTWAIT = 0x40;
const MSG_NOSIGNAL = 0x4000;
const EAGAIN = 11;
const EINTR = 4;
/** conmon reads a stdin packet into a 32 KiB buffer (CONN_SOCK_BUF_SIZE): the rest of a longer one would be lost. */
const STDIN_PACKET_MAX = 32768;
/** One stream byte + conmon's STDIO_BUF_SIZE. */
const PACKET_SIZE = 8193;
/** Stop reading when the consumer is this many packets behind (back-pressure). */
const HIGH_WATER = 64;
export const SUN_PATH_MAX = 108;

interface Fns { socket: LibcFunction; connect: LibcFunction; recv: LibcFunction; send: LibcFunction; shutdown: LibcFunction; close: LibcFunction }
let fns: Fns | undefined;
function f(): Fns {
  if (!fns) {
    const l = libc();
    fns = {
      socket: l.func('int socket(int domain, int type, int protocol)'),
      connect: l.func('int connect(int fd, const void *addr, uint32_t len)'),
      recv: l.func('intptr_t recv(int fd, void *buf, size_t len, int flags)'),
      send: l.func('intptr_t send(int fd, const void *buf, size_t len, int flags)'),
      shutdown: l.func('int shutdown(int fd, int how)'),
      close: l.func('int close(int fd)'),
    };
  }
  return fns;
}

/**
 * Connect to a SEQPACKET unix socket; resolves with the fd (non-blocking: every call on it
 * passes MSG_DONTWAIT anyway). A blocking connect(2) waits while the listener's backlog is
 * full, and conmon stops accepting while its output waits for a reader: on the event loop,
 * that reader would be berthd itself, and both would hang. So the connect is non-blocking
 * and an EAGAIN (backlog full) is retried off the loop's back until `timeoutMs`.
 */
export async function connectSeqpacket(path: string, timeoutMs = CONNECT_TIMEOUT_MS): Promise<number> {
  const p = Buffer.from(path);
  if (p.length >= SUN_PATH_MAX) {
    throw new BerthError('INVALID_ARGUMENT', `attach socket path ${path} is ${p.length} bytes, over the ${SUN_PATH_MAX - 1}-byte sun_path limit: use a shorter exec root`);
  }
  const { socket, connect, close } = f();
  const fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0) as number;
  if (fd < 0) throw new BerthError('INTERNAL', `socket(AF_UNIX, SOCK_SEQPACKET): ${strerror(errno())}`);
  const addr = Buffer.alloc(2 + SUN_PATH_MAX);
  addr.writeUInt16LE(AF_UNIX, 0);
  p.copy(addr, 2);
  const deadline = Date.now() + timeoutMs;
  for (let delay = 1; ; delay = Math.min(delay * 2, 50)) {
    if ((connect(fd, addr, 2 + p.length + 1) as number) === 0) return fd;
    const e = errno();
    if ((e === EAGAIN || e === EINTR) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, delay));
      continue;
    }
    close(fd);
    if (e === EAGAIN) throw new BerthError('UNAVAILABLE', `connect to attach socket ${path}: the monitor accepted no connection for ${timeoutMs} ms (backlog full); try again`);
    const code = e === 2 || e === 111 ? 'NOT_FOUND' : 'INTERNAL';
    throw new BerthError(code, `connect to attach socket ${path}: ${strerror(e)}`);
  }
}

/** An IoSession over a connected conmon attach socket. */
export class SeqpacketSession implements IoSession, PollOwner {
  readonly #fd: number;
  readonly #token: number;
  /** The fd is released (closed or at EOF): no more reads or writes. */
  #closed = false;
  #eof = false;
  /** The interest the poller is armed with (0 after it fired). */
  #armed = 0;
  #queue: StdioChunk[] = [];
  #waiter: (() => void) | undefined;
  /** stdin packets not yet taken by the socket (it was full). */
  #out: Buffer[] = [];
  #shutdownAfterWrites = false;
  #flushWaiters: (() => void)[] = [];
  readonly #buf = Buffer.alloc(PACKET_SIZE);
  readonly output: AsyncIterable<StdioChunk>;

  constructor(fd: number) {
    this.#fd = fd;
    this.#token = fdPoller().add(fd, this);
    this.output = { [Symbol.asyncIterator]: () => this.#iterate() };
    // Output already waiting (a replay, a fast process) is read at once.
    this.#read();
    this.#rearm();
  }

  static async connect(path: string): Promise<SeqpacketSession> {
    return new SeqpacketSession(await connectSeqpacket(path));
  }

  async *#iterate(): AsyncGenerator<StdioChunk> {
    try {
      for (;;) {
        const chunk = this.#queue.shift();
        if (chunk) {
          this.#rearm(); // room again after back-pressure
          yield chunk;
          continue;
        }
        if (this.#eof) return;
        await new Promise<void>((r) => (this.#waiter = r));
      }
    } finally {
      // The consumer stopped early (break/return): release the connection.
      if (!this.#eof) this.close();
    }
  }

  #wake(): void {
    const w = this.#waiter;
    this.#waiter = undefined;
    w?.();
  }

  onReady(readable: boolean, writable: boolean): void {
    this.#armed = 0;
    if (readable) this.#read();
    if (writable || this.#out.length) this.#send();
    this.#rearm();
  }

  /** Read what the socket holds, up to the back-pressure mark. */
  #read(): void {
    const { recv } = f();
    let got = false;
    while (!this.#closed && this.#queue.length < HIGH_WATER) {
      const n = Number(recv(this.#fd, this.#buf, PACKET_SIZE, MSG_DONTWAIT));
      if (n < 0) {
        const e = errno();
        if (e === EAGAIN) break;
        if (e === EINTR) continue;
        // Ends the client's stream like an EOF; said in the log, so a stream cut short is explained.
        process.stderr.write(`berthd: attach socket read failed: ${strerror(e)}\n`);
      }
      if (n <= 0) {
        // 0: conmon closed the socket (the process ended); <0: the socket broke.
        this.#eof = true;
        this.#release();
        got = true;
        break;
      }
      const stream = this.#buf[0];
      if (n > 1 && (stream === 2 || stream === 3)) {
        this.#queue.push({ stream: stream === 3 ? 'stderr' : 'stdout', data: Buffer.from(this.#buf.subarray(1, n)) });
        got = true;
      }
    }
    if (got) this.#wake();
  }

  /** Hand queued stdin packets to the socket until it is full. */
  #send(): void {
    const { send, shutdown } = f();
    while (this.#out.length && !this.#closed) {
      const b = this.#out[0]!;
      const n = Number(send(this.#fd, b, b.length, MSG_DONTWAIT | MSG_NOSIGNAL));
      if (n < 0) {
        const e = errno();
        if (e === EAGAIN) return; // re-armed for EPOLLOUT
        if (e === EINTR) continue;
        this.#out.length = 0; // peer gone: stdin is no longer wanted
        break;
      }
      this.#out.shift();
    }
    if (this.#out.length === 0) {
      if (this.#shutdownAfterWrites && !this.#closed) {
        this.#shutdownAfterWrites = false;
        shutdown(this.#fd, SHUT_WR);
      }
      const ws = this.#flushWaiters;
      this.#flushWaiters = [];
      for (const w of ws) w();
    }
  }

  #rearm(): void {
    if (this.#closed) return;
    let interest = 0;
    if (!this.#eof && this.#queue.length < HIGH_WATER) interest |= EPOLLIN;
    if (this.#out.length) interest |= EPOLLOUT;
    if (interest === this.#armed || interest === 0) return;
    this.#armed = interest;
    fdPoller().arm(this.#token, interest);
  }

  write(data: Buffer): void {
    if (this.#closed || data.length === 0) return;
    for (let off = 0; off < data.length; off += STDIN_PACKET_MAX) {
      this.#out.push(Buffer.from(data.subarray(off, off + STDIN_PACKET_MAX)));
    }
    if (this.#out.length === 1 || !(this.#armed & EPOLLOUT)) this.#send();
    this.#rearm();
  }

  closeStdin(): void {
    if (this.#closed) return;
    // After queued writes, so EOF never overtakes data.
    this.#shutdownAfterWrites = true;
    if (this.#out.length === 0) this.#send();
  }

  /** Detach: drop unread output and release the socket. */
  close(): void {
    if (this.#closed) return;
    this.#eof = true;
    this.#queue.length = 0;
    this.#release();
    this.#wake();
  }

  /** Stop watching and close the fd; queued output stays for the consumer. */
  #release(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#out.length = 0;
    fdPoller().remove(this.#token);
    f().close(this.#fd);
    const ws = this.#flushWaiters;
    this.#flushWaiters = [];
    for (const w of ws) w();
  }

  /** Resolves when every queued write has been handed to the socket. */
  flush(): Promise<void> {
    if (this.#out.length === 0 || this.#closed) return Promise.resolve();
    return new Promise((resolve) => this.#flushWaiters.push(resolve));
  }
}
