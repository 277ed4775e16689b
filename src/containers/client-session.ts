/**
 * One client's attachment to a container's or exec's stdio. It may be created before
 * the process exists (docker run attaches before start): output waits, stdin is
 * buffered, and connect() joins it to the runtime's session once there is one.
 */
import type { IoSession, StdioChunk } from '../runtime/types.js';
import type { StdioSession } from './types.js';
import { AsyncQueue } from './async-queue.js';
import { DetachKeyScanner } from './support/detach-keys.js';

export interface ClientSessionOptions {
  tty: boolean;
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  /** Close the process's stdin when this client closes its stdin (docker's StdinOnce). */
  stdinOnce: boolean;
  /** Detach sequence, or undefined for none. */
  detachKeys?: Buffer;
  /** Waited for after the runtime output ends, before the client's stream ends (exec exit codes). */
  beforeEnd?: () => Promise<unknown>;
  /** The client has the response head (see StdioSession.start). */
  onStart?: () => void;
  onClose?: () => void;
}

export class ClientSession implements StdioSession {
  readonly tty: boolean;
  readonly #opts: ClientSessionOptions;
  readonly #queue = new AsyncQueue<StdioChunk>();
  readonly #scanner?: DetachKeyScanner;
  #io: IoSession | undefined;
  #pendingStdin: Buffer[] = [];
  #stdinClosed = false;
  #closed = false;
  /** Resolves when the runtime's output has ended (EOF) or this client left. */
  #outputEnded: Promise<void>;
  #markOutputEnded!: () => void;
  /** Its process waits for start() (exec): no output can precede the response head. */
  readonly gated: boolean;

  constructor(opts: ClientSessionOptions) {
    this.#opts = opts;
    this.tty = opts.tty;
    this.gated = !!opts.onStart;
    this.#outputEnded = new Promise((resolve) => (this.#markOutputEnded = resolve));
    // Only a terminal's input is scanned for the detach keys (docker's copyEscapable): piped,
    // non-TTY stdin is data, and its 0x10 0x11 bytes must reach the process untouched.
    if (opts.tty && opts.detachKeys && opts.detachKeys.length && opts.stdin) this.#scanner = new DetachKeyScanner(opts.detachKeys);
  }

  get output(): AsyncIterable<StdioChunk> {
    return this.#queue;
  }

  get connected(): boolean {
    return this.#io !== undefined;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Push replayed log content before the live stream. */
  pushReplay(chunk: StdioChunk): void {
    this.#deliver(chunk);
  }

  connect(io: IoSession): void {
    if (this.#closed) {
      io.close();
      return;
    }
    this.#io = io;
    for (const b of this.#pendingStdin) io.write(b);
    this.#pendingStdin = [];
    if (this.#stdinClosed && this.#opts.stdinOnce && !this.#opts.tty) io.closeStdin();
    void this.#pump(io);
  }

  async #pump(io: IoSession): Promise<void> {
    try {
      for await (const chunk of io.output) this.#deliver(chunk);
    } catch {
      // A broken attach socket ends this client's stream; the process is unaffected.
    }
    this.#markOutputEnded();
    if (this.#opts.beforeEnd) await this.#opts.beforeEnd().catch(() => {});
    this.#queue.end();
    // Live until the client's writer has taken the last output: the exit path's flush looks
    // for this session, and a quick container's output can end before its start recorded it
    // running (beforeEnd then waits for nothing) while the writer still holds that output.
    await this.#queue.idle();
    this.#finish();
  }

  #deliver(chunk: StdioChunk): void {
    if (chunk.stream === 'stdout' && !this.#opts.stdout) return;
    if (chunk.stream === 'stderr' && !this.#opts.stderr) return;
    this.#queue.push(chunk);
  }

  /**
   * Resolves once every byte the runtime sent (up to its EOF) was taken by the client's
   * writer: the exit path waits for this (bounded) before answering waiters, as dockerd
   * waits for its stream copiers, so `wait` never overtakes the last output.
   */
  async flushed(): Promise<void> {
    if (!this.#io) return;
    await this.#outputEnded;
    if (!this.#closed) await this.#queue.idle();
  }

  start(): void {
    const cb = this.#opts.onStart;
    this.#opts.onStart = undefined;
    cb?.();
  }

  /** No live stream will come (the process is gone or never started). */
  end(): void {
    this.#queue.end();
    this.#finish();
  }

  write(data: Buffer): void {
    if (!this.#opts.stdin || this.#closed) return;
    let forward = data;
    if (this.#scanner) {
      const r = this.#scanner.feed(data);
      forward = r.forward;
      if (forward.length) this.#send(forward);
      if (r.detach) this.close();
      return;
    }
    this.#send(forward);
  }

  #send(b: Buffer): void {
    if (this.#io) this.#io.write(b);
    else this.#pendingStdin.push(Buffer.from(b));
  }

  /**
   * The client's stdin ended. With StdinOnce and no TTY the process's stdin is closed and the
   * output keeps coming; otherwise (docker's rule) this client's stream ends, the process
   * runs on: `echo x | docker attach c` returns once its input is sent.
   */
  closeStdin(): void {
    if (this.#stdinClosed) return;
    this.#stdinClosed = true;
    if (!this.#opts.stdin) return;
    if (this.#opts.stdinOnce && !this.#opts.tty) {
      if (this.#io) this.#io.closeStdin();
      return;
    }
    this.close();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.start();
    this.#io?.close();
    this.#queue.end();
    this.#markOutputEnded();
    this.#finish();
  }

  #finish(): void {
    const cb = this.#opts.onClose;
    this.#opts.onClose = undefined;
    cb?.();
  }
}
