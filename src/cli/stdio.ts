/**
 * Moving bytes between the terminal and a hijacked attach/exec connection: frame demux,
 * stdin pumping with half-close, detach-key detection, raw mode and terminal resize.
 */
import type { Client, Hijacked } from './client.js';

import { childProcess } from './child-process.js';

/**
 * Splits docker's multiplexed stream: 8-byte header [stream,0,0,0,len BE32] then payload.
 * Stateful, because frames straddle chunk boundaries.
 */
export class FrameDemuxer {
  private buf: Buffer = Buffer.alloc(0);
  constructor(private readonly onFrame: (stream: number, payload: Buffer) => void) {}

  push(chunk: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    while (this.buf.length >= 8) {
      const len = this.buf.readUInt32BE(4);
      if (this.buf.length < 8 + len) break;
      const stream = this.buf[0]!;
      const payload = this.buf.subarray(8, 8 + len);
      this.buf = this.buf.subarray(8 + len);
      if (len > 0) this.onFrame(stream, payload);
    }
  }

  /** Bytes of an unfinished frame left at end of stream. */
  get pending(): number { return this.buf.length; }
}

/** Encode one frame (tests and fakes use it). */
export function encodeFrame(stream: number, payload: Buffer | string): Buffer {
  const p = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const h = Buffer.alloc(8);
  h[0] = stream;
  h.writeUInt32BE(p.length, 4);
  return Buffer.concat([h, p]);
}

/** docker's detach-key syntax ("ctrl-p,ctrl-q", "ctrl-a,x") to bytes. */
export function parseDetachKeys(spec: string): number[] {
  const keys: number[] = [];
  for (const part of spec.split(',')) {
    const k = part.trim().toLowerCase();
    if (k.startsWith('ctrl-') && k.length === 6) {
      const c = k[5]!;
      if (c >= 'a' && c <= 'z') keys.push(c.charCodeAt(0) - 96);
      else if (c === '@') keys.push(0);
      else if (c === '[') keys.push(27);
      else if (c === '\\') keys.push(28);
      else if (c === ']') keys.push(29);
      else if (c === '^') keys.push(30);
      else if (c === '_') keys.push(31);
      else throw new Error(`invalid detach keys (${spec}) provided`);
    } else if (part.length === 1) keys.push(part.charCodeAt(0));
    else throw new Error(`invalid detach keys (${spec}) provided`);
  }
  return keys;
}

/** Watches a byte stream for the detach sequence (the daemon acts on it; we only need to know). */
export class DetachWatcher {
  private matched = 0;
  detached = false;
  constructor(private readonly keys: number[]) {}
  feed(data: Buffer): void {
    for (const b of data) {
      if (b === this.keys[this.matched]) {
        this.matched++;
        if (this.matched === this.keys.length) { this.detached = true; this.matched = 0; }
      } else this.matched = b === this.keys[0] ? 1 : 0;
    }
  }
}

export interface StreamOptions {
  tty: boolean;
  /** Forward our stdin to the connection. */
  stdin: boolean;
  detachKeys?: string;
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
  input?: NodeJS.ReadableStream;
}

/**
 * Copy a hijacked connection to stdout/stderr (demuxed unless tty) and, with stdin, stdin to
 * the connection, half-closing on EOF so the process sees EOF and we keep reading its output.
 * Resolves when the output ends; `detached` tells whether the user typed the detach keys.
 */
export function pumpStreams(conn: Hijacked, o: StreamOptions): Promise<{ detached: boolean }> {
  const stdout = o.stdout ?? process.stdout;
  const stderr = o.stderr ?? process.stderr;
  const watcher = new DetachWatcher(parseDetachKeys(o.detachKeys || 'ctrl-p,ctrl-q'));
  return new Promise((resolve, reject) => {
    const demux = o.tty ? null : new FrameDemuxer((s, p) => (s === 2 ? stderr : stdout).write(p));
    let input: NodeJS.ReadableStream | undefined;
    const onData = (c: Buffer) => {
      if (o.tty) watcher.feed(c);
      conn.input!.write(c);
    };
    const onEnd = () => {
      // Half-close: the daemon closes the process's stdin and keeps the output coming.
      if (conn.input && !conn.input.destroyed) conn.input.end();
    };
    const cleanup = () => {
      if (input) { input.removeListener('data', onData); input.removeListener('end', onEnd); input.pause(); }
    };
    if (o.stdin && conn.input) {
      input = o.input ?? process.stdin;
      input.on('data', onData);
      input.on('end', onEnd);
      input.resume();
    }
    conn.output.on('data', (c: Buffer) => (demux ? demux.push(c) : stdout.write(c)));
    conn.output.on('end', () => { cleanup(); resolve({ detached: watcher.detached }); });
    conn.output.on('close', () => { cleanup(); resolve({ detached: watcher.detached }); });
    conn.output.on('error', (e: NodeJS.ErrnoException) => {
      cleanup();
      // A reset after the output is complete is an ordinary end for our purposes.
      if (e.code === 'ECONNRESET' || e.code === 'EPIPE') resolve({ detached: watcher.detached });
      else reject(e);
    });
    if (conn.input) conn.input.on('error', () => { /* write after the peer closed: output side reports */ });
  });
}

/** Put the local terminal in raw mode; returns the restore function. */
export function setRawTerminal(): () => void {
  const stdin = process.stdin;
  if (!stdin.isTTY) return () => {};
  stdin.setRawMode(true);
  // libuv's raw mode keeps output post-processing (ONLCR), so the container's own \r\n
  // would reach the screen as \r\r\n and full-screen programs that move down with a
  // bare \n would lose their column. docker's raw mode (cfmakeraw) clears OPOST too; node
  // has no termios call, so stty does it. setRawMode(false) restores the saved termios.
  childProcess().spawnSync('stty', ['-opost'], { stdio: ['inherit', 'ignore', 'ignore'], timeout: 2000 });
  let restored = false;
  const restore = () => {
    if (restored) return;
    restored = true;
    try { stdin.setRawMode(false); } catch { /* terminal gone */ }
  };
  process.once('exit', restore);
  return restore;
}

/**
 * Send the terminal size now and on every resize. `path` is `/containers/{id}/resize`
 * or `/exec/{id}/resize`. Returns the function that stops monitoring.
 */
export function monitorTtySize(client: Client, path: string, opts: { redraw?: boolean } = {}): () => void {
  if (!process.stdout.isTTY) return () => {};
  let stopped = false;
  // One request at a time, always the latest size: two in flight on two connections can
  // be applied out of order and leave the container at a stale size.
  let chain: Promise<unknown> = Promise.resolve();
  let want: [number, number] | undefined;
  /** The first sends have their own retries (the process may not exist yet). */
  let initialPhase = true;
  const resize = (h: number, w: number): Promise<boolean> => {
    want = [h, w];
    const run = chain.then(async () => {
      if (!want) return true;
      const [wh, ww] = want;
      want = undefined;
      // Bounded: one request that never gets an answer must not hold every later resize.
      const post = () => client.json('POST', path, { query: { h: wh, w: ww }, signal: AbortSignal.timeout(2000) }).then(() => true, () => false);
      // A failed request (a lost connection, a busy daemon) is tried again, briefly: a lost
      // resize would leave the process at a stale size until the terminal changes again.
      let ok = await post();
      for (let i = 1; !ok && !stopped && !initialPhase && i <= 2; i++) {
        await new Promise((r) => setTimeout(r, 50 * i));
        ok = await post();
      }
      // The terminal may have changed again while this was on its way (`stty rows R cols C`
      // is two resizes): end on the size it has now, whatever the events said.
      // Read from the terminal itself: the cached size waits for a SIGWINCH.
      const [columns, rows] = process.stdout.getWindowSize?.() ?? [process.stdout.columns, process.stdout.rows];
      if (ok && !stopped && !want && rows && columns && (rows !== wh || columns !== ww)) want = [rows, columns];
      if (want) void resize(...want);
      return ok;
    });
    // A failed step must not stop every later resize.
    chain = run.catch(() => false);
    return run;
  };
  const send = () => {
    const { rows, columns } = process.stdout;
    if (!rows || !columns) return Promise.resolve(true);
    return resize(rows, columns);
  };
  // The first resize can come before the process has started (an exec starts only once we
  // hold the stream): retry a few times, as docker's CLI does, rather than keep 0x0.
  const initial = async () => {
    try {
      for (let i = 0; i <= 10 && !stopped; i++) {
        if (i > 0) await new Promise((r) => setTimeout(r, i * 10));
        if (await send()) return;
      }
    } finally {
      initialPhase = false;
    }
  };
  // Reattaching to a shell shows nothing until it redraws; a size change makes the kernel
  // send it SIGWINCH (an unchanged size would not), so flip the size once.
  if (opts.redraw && process.stdout.rows && process.stdout.columns) {
    void resize(process.stdout.rows + 1, process.stdout.columns + 1).then(initial);
  } else void initial();
  // 'resize' comes after node has re-read the size on SIGWINCH (a raw SIGWINCH listener
  // may run first and see the old one).
  const onResize = () => { void send(); };
  process.stdout.on('resize', onResize);
  return () => { stopped = true; process.stdout.removeListener('resize', onResize); };
}
