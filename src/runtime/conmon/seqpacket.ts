/**
 * conmon's attach socket is AF_UNIX SOCK_SEQPACKET, which Node's net module can't
 * open or wrap. This talks to it through libc via koffi: recv runs through koffi's
 * .async (one libuv pool thread per pending recv) so the event loop never blocks.
 *
 * Closing: an fd must not be closed while a recv on it is pending in a worker
 * thread (the number could be reused underneath it). close() shuts the socket down
 * to wake the recv, and the last in-flight call closes the fd.
 */
import { libc, errno, strerror, type LibcFunction } from '../../common/libc.js';
import { BerthError } from '../../common/errors.js';
import type { IoSession, StdioChunk } from '../types.js';

const AF_UNIX = 1;
const SOCK_SEQPACKET = 5;
const SOCK_CLOEXEC = 0o2000000;
const SHUT_WR = 1;
const SHUT_RDWR = 2;
const MSG_NOSIGNAL = 0x4000;
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

function callAsync(fn: LibcFunction, ...args: unknown[]): Promise<number> {
  return new Promise((resolve, reject) => {
    (fn as any).async(...args, (err: unknown, res: number | bigint) => (err ? reject(err) : resolve(Number(res))));
  });
}

/** Connect to a SOCK_SEQPACKET unix socket; returns the fd. */
export function connectSeqpacket(path: string): number {
  const p = Buffer.from(path);
  if (p.length >= SUN_PATH_MAX) {
    throw new BerthError('INVALID_ARGUMENT', `attach socket path ${path} is ${p.length} bytes, over the ${SUN_PATH_MAX - 1}-byte sun_path limit: use a shorter exec root`);
  }
  const { socket, connect, close } = f();
  const fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0) as number;
  if (fd < 0) throw new BerthError('INTERNAL', `socket(AF_UNIX, SOCK_SEQPACKET): ${strerror(errno())}`);
  const addr = Buffer.alloc(2 + SUN_PATH_MAX);
  addr.writeUInt16LE(AF_UNIX, 0);
  p.copy(addr, 2);
  if ((connect(fd, addr, 2 + p.length + 1) as number) !== 0) {
    const e = errno();
    close(fd);
    const code = e === 2 || e === 111 ? 'NOT_FOUND' : 'INTERNAL';
    throw new BerthError(code, `connect to attach socket ${path}: ${strerror(e)}`);
  }
  return fd;
}

/** An IoSession over a connected conmon attach socket. */
export class SeqpacketSession implements IoSession {
  #fd: number;
  #inflight = 0;
  #closed = false;
  #fdClosed = false;
  #reading = false;
  #eof = false;
  #queue: StdioChunk[] = [];
  #waiter: (() => void) | undefined;
  #sendChain: Promise<void> = Promise.resolve();
  readonly output: AsyncIterable<StdioChunk>;

  constructor(fd: number) {
    this.#fd = fd;
    this.output = { [Symbol.asyncIterator]: () => this.#iterate() };
    this.#pump();
  }

  static connect(path: string): SeqpacketSession {
    return new SeqpacketSession(connectSeqpacket(path));
  }

  async *#iterate(): AsyncGenerator<StdioChunk> {
    try {
      for (;;) {
        const chunk = this.#queue.shift();
        if (chunk) {
          if (this.#queue.length < HIGH_WATER / 2) this.#pump();
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

  #pump(): void {
    if (this.#reading || this.#eof || this.#closed || this.#queue.length >= HIGH_WATER) return;
    this.#reading = true;
    this.#inflight++;
    const buf = Buffer.alloc(PACKET_SIZE);
    callAsync(f().recv, this.#fd, buf, PACKET_SIZE, 0).then(
      (n) => this.#onRecv(buf, n),
      () => this.#onRecv(buf, -1),
    );
  }

  #onRecv(buf: Buffer, n: number): void {
    this.#reading = false;
    this.#release();
    if (n <= 0 || this.#closed) {
      // 0 = conmon closed the socket (process exited); <0 = error or our shutdown.
      this.#eof = true;
      this.#markClosed();
      this.#wake();
      return;
    }
    const stream = buf[0];
    if (n > 1 && (stream === 2 || stream === 3)) {
      this.#queue.push({ stream: stream === 3 ? 'stderr' : 'stdout', data: Buffer.from(buf.subarray(1, n)) });
      this.#wake();
    }
    this.#pump();
  }

  #release(): void {
    this.#inflight--;
    if (this.#closed && this.#inflight === 0 && !this.#fdClosed) {
      this.#fdClosed = true;
      f().close(this.#fd);
    }
  }

  write(data: Buffer): void {
    if (this.#closed || data.length === 0) return;
    const copy = Buffer.from(data);
    this.#sendChain = this.#sendChain.then(async () => {
      let off = 0;
      while (off < copy.length && !this.#closed) {
        this.#inflight++;
        let n: number;
        try {
          n = await callAsync(f().send, this.#fd, copy.subarray(off), copy.length - off, MSG_NOSIGNAL);
        } catch {
          n = -1;
        } finally {
          this.#release();
        }
        if (n <= 0) return; // peer gone: stdin is no longer wanted
        off += n;
      }
    });
  }

  closeStdin(): void {
    if (this.#closed) return;
    // After queued writes, so EOF never overtakes data.
    this.#sendChain = this.#sendChain.then(() => {
      if (!this.#closed) f().shutdown(this.#fd, SHUT_WR);
    });
  }

  /** Detach: drop unread output and release the socket. */
  close(): void {
    if (this.#closed) return;
    this.#eof = true;
    this.#queue.length = 0;
    f().shutdown(this.#fd, SHUT_RDWR); // wakes a pending recv (it returns 0)
    this.#markClosed();
    this.#wake();
  }

  /** No new calls start; the fd is closed now or by the last in-flight call. */
  #markClosed(): void {
    this.#closed = true;
    this.#inflight++;
    this.#release();
  }

  /** Resolves when every queued write has been handed to the socket. */
  flush(): Promise<void> {
    return this.#sendChain;
  }
}
