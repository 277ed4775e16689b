/**
 * Connection hijacking for attach and exec start. After the response head the
 * socket is a raw byte pipe: client bytes are the process's stdin, process output
 * goes back framed (or raw with a tty).
 *
 * Two entry points: a request with `Upgrade: tcp` arrives through Node's 'upgrade'
 * event (Node already let go of the socket, and the body is still unread), and a
 * request without it (docker-modem's exec start) arrives as an ordinary request,
 * so we detach the socket from Node's HTTP parser ourselves, the way Node does for
 * upgrades, before writing `200 OK`.
 */
import type { Socket } from 'node:net';
import type { IncomingHttpHeaders } from 'node:http';
import type { StdioSession } from '../containers/types.js';
import { invalidArgument } from '../common/errors.js';
import { fdPoller, dupFd, closeFd } from '../common/fd-poller.js';
import { frame, streamContentType } from './frames.js';

/** Node's own listeners on a server socket (lib/_http_server.js); stable names since Node 12. */
const NODE_HTTP_LISTENERS = new Set([
  'bound socketOnData', 'bound socketOnEnd', 'bound socketOnDrain', 'bound socketOnTimeout',
  'socketOnError', 'socketOnTimeout', 'onSocketPause', 'onSocketResume', 'socketOnDrain', 'socketOnWrap',
]);

/**
 * Take the socket away from Node's HTTP server so that the next client bytes are not
 * parsed as a request. Call only once the request body has been fully read and
 * before any response byte is written: the client sends nothing in between.
 */
export function detachFromHttpParser(socket: Socket): void {
  const parser = (socket as unknown as { parser?: { _consumed?: boolean; unconsume?: () => void } }).parser;
  // The parser may read the fd directly (consumed mode); give the stream back to JS.
  if (parser?._consumed && typeof parser.unconsume === 'function') {
    parser.unconsume();
    parser._consumed = false;
  }
  for (const ev of ['data', 'end', 'drain', 'error', 'timeout', 'pause', 'resume'] as const) {
    for (const fn of socket.listeners(ev)) {
      if (NODE_HTTP_LISTENERS.has((fn as { name?: string }).name ?? '')) socket.removeListener(ev, fn as (...a: unknown[]) => void);
    }
  }
  // Restore plain net.Socket listener methods (Node wraps them to unconsume lazily).
  const proto = Object.getPrototypeOf(socket) as Socket;
  socket.on = proto.on;
  socket.addListener = proto.addListener;
  socket.prependListener = proto.prependListener;
  (socket as unknown as { _paused?: boolean })._paused = false;
  socket.setTimeout(0);
  (socket as unknown as { readableFlowing: boolean | null }).readableFlowing = null;
}

/**
 * Read an upgrade request's body from the bytes Node handed over (`head`) and the
 * socket. Returns the body and whatever followed it (already stdin).
 */
export function readRawBody(socket: Socket, head: Buffer, headers: IncomingHttpHeaders): Promise<{ body: Buffer; rest: Buffer }> {
  const chunked = /chunked/i.test(String(headers['transfer-encoding'] ?? ''));
  const length = chunked ? 0 : Number(headers['content-length'] ?? 0);
  if (!Number.isFinite(length) || length < 0) return Promise.reject(invalidArgument('invalid Content-Length'));
  let buf = head;
  const tryParse = (): { body: Buffer; rest: Buffer } | undefined => {
    if (!chunked) return buf.length >= length ? { body: buf.subarray(0, length), rest: buf.subarray(length) } : undefined;
    return parseChunked(buf);
  };
  const done = tryParse();
  if (done) return Promise.resolve(done);
  return new Promise((resolve, reject) => {
    const cleanup = () => { socket.off('data', onData); socket.off('end', onEnd); socket.off('error', onEnd); };
    const onData = (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      let r: { body: Buffer; rest: Buffer } | undefined;
      try {
        r = tryParse();
      } catch (err) {
        cleanup();
        reject(err);
        return;
      }
      if (r) { cleanup(); socket.pause(); resolve(r); }
    };
    const onEnd = () => { cleanup(); reject(invalidArgument('connection closed before the request body ended')); };
    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.on('error', onEnd);
  });
}

/** A complete chunked body at the start of buf, or undefined when more bytes are needed. */
function parseChunked(buf: Buffer): { body: Buffer; rest: Buffer } | undefined {
  const parts: Buffer[] = [];
  let pos = 0;
  for (;;) {
    const eol = buf.indexOf('\r\n', pos);
    if (eol < 0) return undefined;
    const size = parseInt(buf.subarray(pos, eol).toString('latin1').split(';')[0] ?? '', 16);
    if (Number.isNaN(size)) throw invalidArgument('invalid chunked request body');
    if (size === 0) {
      // The last chunk: (empty) trailers, then a blank line.
      if (buf.length < eol + 4) return undefined;
      if (buf.subarray(eol + 2, eol + 4).toString('latin1') === '\r\n') return { body: Buffer.concat(parts), rest: buf.subarray(eol + 4) };
      const end = buf.indexOf('\r\n\r\n', eol + 2);
      return end < 0 ? undefined : { body: Buffer.concat(parts), rest: buf.subarray(end + 4) };
    }
    if (buf.length < eol + 2 + size + 2) return undefined;
    parts.push(buf.subarray(eol + 2, eol + 2 + size));
    pos = eol + 2 + size + 2;
  }
}

/**
 * docker-py reads the response head through a buffered reader and then reads the raw
 * socket: bytes that arrived together with the head are lost to it. Output ready at
 * once waits this long after the head was written, so the head arrives alone (long
 * enough for a client on a loaded machine; exec output comes later than this anyway).
 */
const HEAD_ALONE_MS = 50;

export interface HijackHead {
  upgrade: boolean;
  contentType: string;
  /** Api-Version, Server: the headers every response carries. */
  headers: Record<string, string>;
}

export function hijackHead(h: HijackHead): string {
  const lines = h.upgrade
    ? ['HTTP/1.1 101 UPGRADED', `Content-Type: ${h.contentType}`, 'Connection: Upgrade', 'Upgrade: tcp']
    : ['HTTP/1.1 200 OK', `Content-Type: ${h.contentType}`];
  for (const [k, v] of Object.entries(h.headers)) lines.push(`${k}: ${v}`);
  return lines.join('\r\n') + '\r\n\r\n';
}

export interface PipeOptions {
  upgrade: boolean;
  version: string;
  headers: Record<string, string>;
  /** Bytes that followed the request body: already stdin. */
  rest?: Buffer;
}

/**
 * Write the response head, then pump: socket → session.write, client half-close →
 * closeStdin, session output → socket (framed unless tty), output end → socket end,
 * client gone → session.close(). Resolves when both sides are finished.
 */
export function pipeSession(socket: Socket, session: StdioSession, opts: PipeOptions): Promise<void> {
  const tty = session.tty;
  socket.setNoDelay?.(true);
  // The process starts only once the head is on its way (session.start), as dockerd
  // does: output that arrived with the head would be swallowed by clients that read
  // the head through a buffered reader and then switch to the raw socket (docker-py).
  //
  // A session without that gate (attach: with logs=1 it replays the log at once) holds
  // its first output a moment longer, so the head alone reaches such a client's first
  // read. Gated sessions (exec) need no hold: their process starts after the head.
  const gated = session.gated === true;
  let headRead: Promise<void> | undefined = new Promise<void>((resolve) => {
    socket.write(hijackHead({ upgrade: opts.upgrade, contentType: streamContentType(tty, opts.version), headers: opts.headers }), () => {
      session.start?.();
      if (gated) resolve();
      else setTimeout(resolve, HEAD_ALONE_MS);
    });
  });
  let outputDone = false;
  let clientGone = false;
  if (opts.rest && opts.rest.length > 0) session.write(opts.rest);
  const onData = (d: Buffer) => session.write(d);
  const onEnd = () => session.closeStdin();
  const onClose = () => {
    clientGone = true;
    socket.off('data', onData);
    socket.off('end', onEnd);
    if (!outputDone) session.close();
  };
  socket.on('data', onData);
  socket.on('end', onEnd);
  socket.on('close', onClose);
  const stopWatch = watchHangUp(socket);
  socket.on('close', stopWatch);
  socket.on('error', () => { /* 'close' follows and releases the session */ });
  socket.resume();

  return (async () => {
    try {
      for await (const chunk of session.output) {
        if (headRead) {
          await headRead;
          headRead = undefined;
        }
        if (clientGone) break;
        const data = tty ? chunk.data : frame(chunk.stream, chunk.data);
        if (!socket.write(data)) {
          await new Promise<void>((resolve) => {
            const go = () => { socket.off('drain', go); socket.off('close', go); resolve(); };
            socket.on('drain', go);
            socket.on('close', go);
          });
        }
      }
    } catch {
      // An output error ends the stream like an exit does; the exit code is in inspect.
    } finally {
      outputDone = true;
      if (!clientGone) socket.end();
    }
  })();
}

/**
 * A client's EOF is only a half-close (the docker CLI closes its writing side at once when
 * it sends no stdin) and the output goes on; Node reports a client that is gone altogether
 * only when a write fails, so a client that left a quiet container would hold its socket and
 * the container's attach socket until the next output. A unix socket whose peer closed both
 * ways reads as EPOLLHUP: watch for that and let the client go at once.
 */
function watchHangUp(socket: Socket): () => void {
  const nodeFd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (typeof nodeFd !== 'number' || nodeFd < 0) return () => {};
  // A duplicate of our own: Node closes its fd before 'close' is emitted, and the number may
  // be reused by then; the dup stays ours until stop() removes the watch and closes it.
  const fd = dupFd(nodeFd);
  if (fd < 0) return () => {};
  let token: number | undefined;
  const stop = () => {
    if (token !== undefined) fdPoller().remove(token);
    token = undefined;
    if (fd >= 0) closeFd(fd);
  };
  let stopped = false;
  const once = () => { if (!stopped) { stopped = true; stop(); } };
  try {
    token = fdPoller().add(fd, { onReady: () => { once(); socket.destroy(); } });
    fdPoller().arm(token, 0); // no events asked: EPOLLHUP and EPOLLERR are reported regardless
  } catch {
    once();
  }
  return once;
}

/** dockerd reports an exec that failed to start inside the already-hijacked stream. */
export function writeHijackText(socket: Socket, text: string, opts: PipeOptions & { tty: boolean }): void {
  const data = Buffer.from(text.endsWith('\n') ? text : text + '\r\n');
  // The text after the head alone, as in pipeSession (docker-py would drop it otherwise).
  socket.write(hijackHead({ upgrade: opts.upgrade, contentType: streamContentType(opts.tty, opts.version), headers: opts.headers }), () => {
    setTimeout(() => { if (!socket.destroyed) socket.end(opts.tty ? data : frame('stdout', data)); }, HEAD_ALONE_MS);
  });
}
