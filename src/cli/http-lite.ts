/**
 * The CLI's HTTP/1.1 transport: requests written as one string on a node:net socket,
 * answers parsed by hand (status line, headers, Content-Length, chunked, or up to close;
 * 101 hands the socket over). Why not node:http: loading it and running its request
 * machinery cold cost ~4.5 ms of every `berth run` (four requests: measured 10.3 ms with
 * node:http against 5.8 ms on a bare socket, fresh process each), and the CLI sits on the
 * container start path. It speaks only what the Engine API needs of HTTP/1.1; anything
 * malformed is an error, never a guess.
 */
import { connect, type Socket } from 'node:net';
import { Readable } from 'node:stream';

export interface Endpoint { socketPath?: string; host?: string; port?: number }

export interface LiteRequest {
  method: string;
  /** Path and query, already encoded. */
  path: string;
  headers: Record<string, string>;
  /** A string or Buffer goes with Content-Length; a stream goes chunked. */
  body?: string | Buffer | NodeJS.ReadableStream;
  signal?: AbortSignal;
  /** Hijack: resolve with the socket itself when the server answers 101. */
  upgrade?: boolean;
}

/** A response whose body is this stream; headers keyed in lower case. */
export class LiteResponse extends Readable {
  #resume: (() => void) | undefined;
  constructor(readonly statusCode: number, readonly statusMessage: string, readonly headers: Record<string, string>) {
    super();
    // A body that fails before its reader is there (a bad chunk in the first packet) must
    // not end the process: the error stays on the stream (errored) for the reader to get.
    this.on('error', () => {});
  }
  /** @internal the socket's flow control: paused when a push is refused. */
  setResume(fn: () => void): void { this.#resume = fn; }
  override _read(): void { this.#resume?.(); }

  /**
   * The whole body. With 'data' and 'end' listeners, not `for await`: a stream's async
   * iterator is compiled on its first use in a process, ~1 ms of every `berth run`'s
   * first JSON answer (measured with --cpu-prof). Rejects as the iterator did: with the
   * body's error, also one raised before this was called, or on a close before the end.
   */
  readAll(): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      if (this.errored) { reject(this.errored); return; }
      if (this.readableEnded) { resolve(Buffer.alloc(0)); return; }
      if (this.destroyed) { reject(prematureClose()); return; }
      const chunks: Buffer[] = [];
      const settle = (err: Error | null) => {
        this.removeListener('data', onData).removeListener('end', onEnd).removeListener('error', onError).removeListener('close', onClose);
        if (err) reject(err); else resolve(Buffer.concat(chunks));
      };
      const onData = (c: Buffer | string) => { chunks.push(typeof c === 'string' ? Buffer.from(c) : c); };
      const onEnd = () => settle(null);
      const onError = (e: Error) => settle(e);
      const onClose = () => settle(this.errored ?? prematureClose());
      this.on('data', onData).once('end', onEnd).once('error', onError).once('close', onClose);
    });
  }
}

function prematureClose(): Error {
  return Object.assign(new Error('Premature close'), { code: 'ERR_STREAM_PREMATURE_CLOSE' });
}

export interface Upgraded { statusCode: 101; headers: Record<string, string>; socket: Socket; head: Buffer }

const MAX_HEAD = 64 * 1024;
const CRLF = Buffer.from('\r\n');

/** An error a connect() gives, with its errno code (ENOENT, ECONNREFUSED ...). */
type ErrnoError = Error & { code?: string };

function abortError(): Error {
  return Object.assign(new Error('The operation was aborted'), { name: 'AbortError', code: 'ABORT_ERR' });
}

function protocolError(msg: string): Error {
  return Object.assign(new Error(`malformed answer from the daemon: ${msg}`), { code: 'HPE_INVALID' });
}

interface Head { status: number; message: string; headers: Record<string, string>; rest: Buffer }

/** The status line and headers once the blank line has arrived; undefined while incomplete. */
function parseHead(buf: Buffer): Head | undefined {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) {
    if (buf.length > MAX_HEAD) throw protocolError('response headers over 64 KiB');
    return undefined;
  }
  const lines = buf.subarray(0, end).toString('latin1').split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(lines[0] ?? '');
  if (!m) throw protocolError(`status line ${JSON.stringify((lines[0] ?? '').slice(0, 80))}`);
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const i = line.indexOf(':');
    if (i <= 0) throw protocolError(`header line ${JSON.stringify(line.slice(0, 80))}`);
    const k = line.slice(0, i).trim().toLowerCase();
    const v = line.slice(i + 1).trim();
    headers[k] = k in headers ? `${headers[k]}, ${v}` : v;
  }
  return { status: Number(m[1]), message: m[2] ?? '', headers, rest: buf.subarray(end + 4) };
}

/**
 * Body framing per RFC 9112 §6.3: none, a length, chunked, or up to the connection's close.
 * feed() takes raw bytes and returns the body bytes in them plus any bytes past the end.
 */
class BodyDecoder {
  #left: number;
  #chunked: boolean;
  #state: 'size' | 'data' | 'data-crlf' | 'trailer' | 'done' = 'size';
  #line = '';
  done: boolean;

  constructor(readonly mode: 'none' | 'length' | 'chunked' | 'close', length = 0) {
    this.#chunked = mode === 'chunked';
    this.#left = length;
    this.done = mode === 'none' || (mode === 'length' && length === 0);
  }

  feed(buf: Buffer): { body: Buffer[]; extra: Buffer } {
    const body: Buffer[] = [];
    if (this.done) return { body, extra: buf };
    if (this.mode === 'close') { body.push(buf); return { body, extra: Buffer.alloc(0) }; }
    if (!this.#chunked) {
      const n = Math.min(this.#left, buf.length);
      body.push(buf.subarray(0, n));
      this.#left -= n;
      if (this.#left === 0) this.done = true;
      return { body, extra: buf.subarray(n) };
    }
    let i = 0;
    while (i < buf.length && !this.done) {
      if (this.#state === 'data') {
        const n = Math.min(this.#left, buf.length - i);
        body.push(buf.subarray(i, i + n));
        i += n;
        this.#left -= n;
        if (this.#left === 0) this.#state = 'data-crlf';
        continue;
      }
      // Line-oriented states: the size line, the CRLF after data, trailer lines.
      const nl = buf.indexOf(10, i);
      const upto = nl < 0 ? buf.length : nl + 1;
      this.#line += buf.subarray(i, upto).toString('latin1');
      i = upto;
      if (nl < 0) {
        if (this.#line.length > 4096) throw protocolError('chunk line over 4 KiB');
        break;
      }
      const line = this.#line.replace(/\r?\n$/, '');
      this.#line = '';
      if (this.#state === 'data-crlf') {
        if (line !== '') throw protocolError('chunk not followed by CRLF');
        this.#state = 'size';
      } else if (this.#state === 'size') {
        const hex = line.split(';')[0]!.trim();
        if (!/^[0-9a-fA-F]{1,12}$/.test(hex)) throw protocolError(`chunk size ${JSON.stringify(hex.slice(0, 20))}`);
        this.#left = parseInt(hex, 16);
        this.#state = this.#left === 0 ? 'trailer' : 'data';
      } else if (line === '') {
        this.#state = 'done';
        this.done = true;
      }
    }
    return { body, extra: buf.subarray(i) };
  }
}

function framing(method: string, head: Head): BodyDecoder {
  const { status, headers } = head;
  if (method === 'HEAD' || status === 204 || status === 304 || (status >= 100 && status < 200)) return new BodyDecoder('none');
  if (/\bchunked\b/i.test(headers['transfer-encoding'] ?? '')) return new BodyDecoder('chunked');
  const cl = headers['content-length'];
  if (cl !== undefined) {
    if (!/^\d{1,15}$/.test(cl)) throw protocolError(`Content-Length ${JSON.stringify(cl.slice(0, 20))}`);
    return new BodyDecoder('length', Number(cl));
  }
  return new BodyDecoder('close');
}

/** Idle keep-alive connections of one client, reused for its next requests. */
export class LitePool {
  #idle: Socket[] = [];
  /** The listeners an idle socket carries (only ours: net.Socket has its own). */
  #watch = new WeakMap<Socket, () => void>();
  constructor(readonly endpoint: Endpoint) {}

  take(): { socket: Socket; reused: boolean } {
    while (this.#idle.length) {
      const s = this.#idle.pop()!;
      const drop = this.#watch.get(s);
      if (drop) { s.removeListener('error', drop).removeListener('close', drop).removeListener('end', drop); this.#watch.delete(s); }
      if (!s.destroyed && s.readable && s.writable) return { socket: s, reused: true };
      s.destroy();
    }
    return { socket: freshSocket(this.endpoint), reused: false };
  }

  give(s: Socket): void {
    // A pooled socket keeps no process alive; one the server closes meanwhile is dropped.
    const drop = () => { s.destroy(); this.#idle = this.#idle.filter((x) => x !== s); };
    this.#watch.set(s, drop);
    s.on('error', drop).on('close', drop).on('end', drop);
    s.unref();
    this.#idle.push(s);
  }

  destroy(): void {
    for (const s of this.#idle.splice(0)) s.destroy();
  }
}

function requestHead(r: LiteRequest, bodyLength: number | 'chunked' | undefined): string {
  let head = `${r.method} ${r.path} HTTP/1.1\r\n`;
  for (const [k, v] of Object.entries(r.headers)) {
    if (/[\r\n]/.test(k) || /[\r\n]/.test(v)) throw new Error(`invalid header ${k}: it holds a line break`);
    head += `${k}: ${v}\r\n`;
  }
  if (bodyLength === 'chunked') head += 'Transfer-Encoding: chunked\r\n';
  else if (bodyLength !== undefined) head += `Content-Length: ${bodyLength}\r\n`;
  return head + '\r\n';
}

/** A request being written: sent() once all of it is out; stop() abandons a streamed body. */
interface Outgoing { sent(): boolean; stop(): void }

/** Write the request; a stream body goes chunked, with the socket's backpressure. */
function writeRequest(socket: Socket, r: LiteRequest): Outgoing {
  const body = r.body;
  const whole: Outgoing = { sent: () => true, stop: () => {} };
  if (body === undefined) {
    // POST and friends without a body still say so, as Go's and Node's clients do.
    socket.write(requestHead(r, r.method === 'GET' || r.method === 'HEAD' ? undefined : 0));
    return whole;
  }
  if (typeof body === 'string' || Buffer.isBuffer(body)) {
    const buf = typeof body === 'string' ? Buffer.from(body) : body;
    socket.write(Buffer.concat([Buffer.from(requestHead(r, buf.length), 'latin1'), buf]));
    return whole;
  }
  socket.write(requestHead(r, 'chunked'));
  const src = body as NodeJS.ReadableStream;
  let done = false;
  const onData = (c: Buffer | string) => {
    const chunk = typeof c === 'string' ? Buffer.from(c) : c;
    if (chunk.length === 0) return;
    const ok = socket.write(Buffer.concat([Buffer.from(chunk.length.toString(16) + '\r\n'), chunk, CRLF]));
    if (!ok) { src.pause(); socket.once('drain', () => src.resume()); }
  };
  const onEnd = () => {
    done = true;
    if (!socket.destroyed) socket.write('0\r\n\r\n');
  };
  const onError = (e: Error) => socket.destroy(e);
  src.on('data', onData);
  src.once('end', onEnd);
  src.once('error', onError);
  return {
    sent: () => done,
    stop: () => {
      src.removeListener('data', onData).removeListener('end', onEnd).removeListener('error', onError);
      src.pause();
    },
  };
}

/**
 * One request. Resolves once the response's head has arrived: with the response (its body
 * streams), or with the socket for a 101 when `upgrade` was asked. Connection errors
 * before an answer reject, with the errno code kept (ENOENT, ECONNREFUSED, EACCES ...).
 */
export function liteRequest(pool: LitePool, r: LiteRequest, retried = false): Promise<LiteResponse | Upgraded> {
  return new Promise((resolve, reject) => {
    if (r.signal?.aborted) { reject(abortError()); return; }
    const { socket, reused } = r.upgrade ? { socket: freshSocket(pool.endpoint), reused: false } : pool.take();
    socket.ref();
    let buf: Buffer = Buffer.alloc(0);
    let res: LiteResponse | undefined;
    let decoder: BodyDecoder | undefined;
    let gotBytes = false;
    let settled = false;
    const onAbort = () => fail(abortError());
    r.signal?.addEventListener('abort', onAbort, { once: true });
    const detach = () => {
      r.signal?.removeEventListener('abort', onAbort);
      socket.removeListener('data', onData).removeListener('end', onEnd).removeListener('close', onClose).removeListener('error', fail);
    };
    let out: Outgoing | undefined;
    const finish = (keepAlive: boolean) => {
      detach();
      res!.push(null);
      // An answer that came before the whole body was sent (an early error): the rest of
      // the upload is dropped, and so is the connection, whose request never ended.
      const reuse = keepAlive && !r.upgrade && (out?.sent() ?? false);
      if (!out?.sent()) out?.stop();
      if (reuse) pool.give(socket); else socket.destroy();
    };
    function fail(err: ErrnoError): void {
      detach();
      out?.stop();
      socket.destroy();
      if (!settled) {
        settled = true;
        // A kept-alive connection the server had closed: once more on a new one.
        const replayable = r.body === undefined || typeof r.body === 'string' || Buffer.isBuffer(r.body);
        if (reused && !gotBytes && !retried && replayable && err.name !== 'AbortError') {
          liteRequest(pool, r, true).then(resolve, reject);
          return;
        }
        reject(err);
      } else if (res && !res.destroyed) {
        res.destroy(err);
      }
    }
    function body(bytes: Buffer): void {
      const { body: parts, extra } = decoder!.feed(bytes);
      let more = true;
      for (const p of parts) if (p.length) more = res!.push(p) && more;
      if (decoder!.done) {
        // Bytes past the body on a connection we would reuse: not a server to trust twice.
        const close = /\bclose\b/i.test(res!.headers['connection'] ?? '') || extra.length > 0;
        finish(!close);
      } else if (!more) {
        socket.pause();
      }
    }
    function onData(chunk: Buffer): void {
      gotBytes = true;
      try {
        if (res) { body(chunk); return; }
        buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
        let head = parseHead(buf);
        // Interim answers (100 Continue) are skipped; 101 is one only when asked for.
        while (head && head.status >= 100 && head.status < 200 && head.status !== 101) {
          buf = head.rest;
          head = parseHead(buf);
        }
        if (!head) return;
        if (head.status === 101) {
          if (!r.upgrade) throw protocolError('101 Switching Protocols to a plain request');
          settled = true;
          detach();
          resolve({ statusCode: 101, headers: head.headers, socket, head: head.rest });
          return;
        }
        decoder = framing(r.method, head);
        settled = true;
        res = new LiteResponse(head.status, head.message, head.headers);
        res.setResume(() => socket.resume());
        res.once('close', () => { if (!decoder!.done) { detach(); socket.destroy(); } });
        resolve(res);
        body(head.rest);
      } catch (e) {
        fail(e as Error);
      }
    }
    function onEnd(): void {
      if (res && decoder?.mode === 'close') { finish(false); return; }
      fail(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
    }
    function onClose(): void { onEnd(); }
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.once('close', onClose);
    socket.once('error', fail);
    try {
      out = writeRequest(socket, r);
    } catch (e) {
      fail(e as Error);
    }
  });
}

function freshSocket(e: Endpoint): Socket {
  return e.socketPath !== undefined ? connect(e.socketPath) : connect({ host: e.host!, port: e.port! });
}
