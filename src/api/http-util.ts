/**
 * Response helpers shared by every route: the one error-to-status map, JSON
 * encoding, and body reading. Handlers never set a status for an error themselves.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import diagnostics from 'node:diagnostics_channel';
import { BerthError, errorMessage, invalidArgument, type ErrorCode } from '../common/errors.js';

export const API_VERSION = '1.47';
export const MIN_API_VERSION = '1.24';

/** Unexpected failures go here (the daemon subscribes and logs them); clients only get the message. */
export const apiErrorChannel = diagnostics.channel('berth:api:error');

const STATUS: Record<ErrorCode, number> = {
  NOT_FOUND: 404,
  ALREADY_EXISTS: 409,
  CONFLICT: 409,
  INVALID_ARGUMENT: 400,
  FAILED_PRECONDITION: 409,
  NOT_MODIFIED: 304,
  UNAVAILABLE: 503,
  NOT_IMPLEMENTED: 501,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  CANCELED: 500,
  INTERNAL: 500,
};

export function statusOf(err: unknown): number {
  return err instanceof BerthError ? STATUS[err.code] : 500;
}

export const STATUS_TEXT: Record<number, string> = {
  200: 'OK', 201: 'Created', 204: 'No Content', 304: 'Not Modified', 400: 'Bad Request', 401: 'Unauthorized',
  403: 'Forbidden', 404: 'Not Found', 409: 'Conflict', 500: 'Internal Server Error', 501: 'Not Implemented', 503: 'Service Unavailable',
};

/** The message clients print after "Error response from daemon: ": one line, no stack. */
export function messageOf(err: unknown): string {
  return errorMessage(err).split('\n')[0] ?? '';
}

export function reportUnexpected(err: unknown, where: string): void {
  if (!(err instanceof BerthError) && apiErrorChannel.hasSubscribers) apiErrorChannel.publish({ where, error: err });
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const data = Buffer.from(JSON.stringify(body) + '\n');
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': data.length });
  res.end(data);
}

export function sendEmpty(res: ServerResponse, status: number): void {
  res.writeHead(status);
  res.end();
}

export function sendError(res: ServerResponse, err: unknown, status = statusOf(err), where = 'request'): void {
  reportUnexpected(err, where);
  if (res.headersSent) {
    // A stream already started; the client can only learn of it by the connection closing.
    res.destroy();
    return;
  }
  if (status === 304) return sendEmpty(res, 304);
  sendJson(res, status, { message: messageOf(err) });
}

/** An HTTP error written straight onto a socket that Node's HTTP layer no longer owns. */
export function writeRawError(socket: Socket, err: unknown, headers: Record<string, string>, status = statusOf(err)): void {
  reportUnexpected(err, 'hijack');
  const body = status === 304 ? '' : JSON.stringify({ message: messageOf(err) }) + '\n';
  const lines = [`HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}`, 'Content-Type: application/json', `Content-Length: ${Buffer.byteLength(body)}`, 'Connection: close'];
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
  socket.end(lines.join('\r\n') + '\r\n\r\n' + body);
}

/** Reads the whole request body (chunked or not: Node's parser decodes both). */
export async function readBody(req: IncomingMessage, limit = 64 << 20): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw invalidArgument(`request body larger than ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** No docker body nests deeper than ~8; a deeper one is an attack on our recursion (stack overflow → 500). */
export const MAX_JSON_DEPTH = 64;
/** A create body with a few MiB of env already cannot exec (ARG_MAX); dockerd has no cap, berthd must not balloon. */
export const MAX_JSON_BODY = 8 << 20;

/** The deepest {/[ nesting of a JSON text, strings skipped: one linear pass, no recursion. */
function jsonDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) { if (++depth > max) max = depth; }
    else if (c === 0x7d || c === 0x5d) depth--;
  }
  return max;
}

/** Parses a JSON body; empty means `fallback`. A syntax error is the client's fault: 400, one line. */
export function parseJson<T>(buf: Buffer, fallback: T): T {
  const text = buf.toString('utf8').trim();
  if (text === '') return fallback;
  if (jsonDepth(text) > MAX_JSON_DEPTH) throw invalidArgument(`invalid JSON: nested deeper than ${MAX_JSON_DEPTH} levels`);
  try {
    const v = JSON.parse(text) as unknown;
    return (v ?? fallback) as T;
  } catch (err) {
    throw invalidArgument(`invalid JSON: ${messageOf(err)}`);
  }
}

export async function readJson<T>(req: IncomingMessage, fallback: T): Promise<T> {
  return parseJson(await readBody(req, MAX_JSON_BODY), fallback);
}

/** Streaming responses must show their headers at once (clients time out otherwise, see podman#23712). */
export function startStream(res: ServerResponse, status: number, contentType: string | undefined): void {
  const headers: Record<string, string> = {};
  if (contentType) headers['Content-Type'] = contentType;
  res.writeHead(status, headers);
  res.flushHeaders();
}

/** Write respecting backpressure; resolves false when the client has gone. */
export function writeAndDrain(res: ServerResponse | Socket, data: Buffer | string): Promise<boolean> {
  if (res.destroyed) return Promise.resolve(false);
  if (res.write(data)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (ok: boolean) => { res.off('drain', onDrain); res.off('close', onClose); resolve(ok); };
    const onDrain = () => done(true);
    const onClose = () => done(false);
    res.on('drain', onDrain);
    res.on('close', onClose);
  });
}

export { BerthError };
