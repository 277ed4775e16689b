/**
 * The CLI's Docker Engine API client: HTTP/1.1 over berthd's unix socket (or tcp),
 * version negotiation, JSON calls, streamed bodies and hijacked (upgraded) connections.
 * On http-lite.ts, not node:http, because the CLI sits on the container start path.
 */
import type { Socket } from 'node:net';
import { LitePool, LiteResponse, liteRequest, type Endpoint, type LiteRequest, type Upgraded } from './http-lite.js';

export const DEFAULT_HOST = 'unix:///run/berth/berth.sock';
/** The newest API version this CLI speaks; the server may negotiate it down. */
export const CLIENT_API_VERSION = '1.47';

/** A non-2xx answer from the daemon. `message` is the daemon's own text. */
export class ApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
    this.name = 'ApiError';
  }
}

/** The daemon could not be reached at all (docker's "Cannot connect" case). */
export class ConnectError extends Error {
  constructor(message: string, readonly errno?: string) {
    super(message);
  }
}

/** Arrays repeat the key (`changes=a&changes=b`), as Go's url.Values does. */
export type Query = Record<string, string | number | boolean | string[] | undefined | null>;

export interface RequestOptions {
  query?: Query;
  /** Object → JSON; Buffer/stream → raw. */
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

export function parseHost(host: string): Endpoint {
  if (host.startsWith('unix://')) return { socketPath: host.slice('unix://'.length) };
  if (host.startsWith('/')) return { socketPath: host };
  const m = /^(?:tcp|http):\/\/([^:/]+)(?::(\d+))?\/?$/.exec(host);
  if (m) return { host: m[1], port: m[2] ? Number(m[2]) : 2375 };
  throw new Error(`unable to parse docker host \`${host}\``);
}

/** Compare dotted versions numerically ("1.9" < "1.41"). */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number), pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

function queryString(q?: Query): string {
  if (!q) return '';
  const parts: string[] = [];
  for (const [k, v] of Object.entries(q)) {
    if (v === undefined || v === null) continue;
    for (const item of Array.isArray(v) ? v : [v]) {
      const s = typeof item === 'boolean' ? (item ? '1' : '0') : String(item);
      parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(s)}`);
    }
  }
  return parts.length ? '?' + parts.join('&') : '';
}

function readBody(res: LiteResponse): Promise<Buffer> {
  return res.readAll();
}

function errorText(res: LiteResponse, body: Buffer): string {
  const text = body.toString('utf8').trim();
  try {
    const j = JSON.parse(text) as { message?: string };
    if (j && typeof j.message === 'string') return j.message;
  } catch { /* plain-text error bodies exist (too-old API version) */ }
  return text || `${res.statusCode} ${res.statusMessage}`.trim();
}

const isUpgraded = (r: LiteResponse | Upgraded): r is Upgraded => !(r instanceof LiteResponse);

export class Client {
  readonly endpoint: Endpoint;
  private prefix: string | undefined;
  /** The API version negotiated with the server (after the first call). */
  apiVersion = CLIENT_API_VERSION;
  serverApiVersion = '';
  /** keep-alive: one connection for the many small calls of one command. */
  private readonly pool: LitePool;

  constructor(readonly host: string) {
    this.endpoint = parseHost(host);
    this.pool = new LitePool(this.endpoint);
  }

  /** Release pooled connections so the process can exit by itself. */
  close(): void { this.pool.destroy(); }

  private request(method: string, path: string, opts: RequestOptions = {}, upgrade = false): LiteRequest {
    const headers: Record<string, string> = { Host: 'api.moby.localhost', 'User-Agent': 'berth-cli', ...opts.headers };
    let body = opts.body as LiteRequest['body'];
    if (body !== undefined && typeof body !== 'string' && !Buffer.isBuffer(body) && typeof (body as NodeJS.ReadableStream).pipe !== 'function') {
      // Objects go as JSON; streams go chunked, as docker's CLI sends tar uploads.
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(body);
    }
    return { method, path: path + queryString(opts.query), headers, body, signal: opts.signal, upgrade };
  }

  private connectError(e: unknown): unknown {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ECONNREFUSED' || code === 'EACCES') {
      return new ConnectError(`Cannot connect to the berth daemon at ${this.host}. Is the berth daemon running?`, code);
    }
    return e;
  }

  private async connectOnce(method: string, path: string, opts: RequestOptions = {}): Promise<LiteResponse> {
    try {
      return await liteRequest(this.pool, this.request(method, path, opts)) as LiteResponse;
    } catch (e) {
      throw this.connectError(e);
    }
  }

  /** HEAD /_ping once per process; picks min(client, server) as the path prefix. */
  async negotiate(): Promise<string> {
    if (this.prefix !== undefined) return this.prefix;
    let res: LiteResponse;
    try {
      res = await this.connectOnce('HEAD', '/_ping');
    } catch (e) {
      if (!(e instanceof ConnectError)) throw e;
      // Loaded only here: it brings child_process, which no other start path needs.
      const { shouldAutostart, startDaemon } = await import('./autostart.js');
      if (!shouldAutostart(this.host, DEFAULT_HOST, e.errno)) throw e;
      try {
        await startDaemon({ socketPath: this.endpoint.socketPath! });
      } catch (err) {
        throw new ConnectError((err as Error).message);
      }
      res = await this.connectOnce('HEAD', '/_ping');
    }
    res.resume();
    if (res.statusCode !== 200 && res.statusCode !== 500) {
      // moby's client retries a HEAD the server did not understand as GET.
      res = await this.connectOnce('GET', '/_ping');
      res.resume();
    }
    // A missing header means a very old server (moby assumes 1.24).
    return this.#settle(String(res.headers['api-version'] ?? '1.24'));
  }

  #settle(server: string): string {
    this.serverApiVersion = server;
    this.apiVersion = compareVersions(server, CLIENT_API_VERSION) < 0 ? server : CLIENT_API_VERSION;
    this.prefix = `/v${this.apiVersion}`;
    return this.prefix;
  }

  /**
   * A versioned request; the response is returned whatever its status. The first one goes
   * out at this CLI's own version without a /_ping before it: every answer carries the
   * server's Api-Version, and a server older than this CLI refuses the path with a 400
   * (dockerd: "client version … is too new"), so the request is sent again at the version
   * negotiated then. That spares one round trip, ~4 ms, on every command (`berth run`
   * included). A body that cannot be sent twice (a stream) waits for /_ping, as before.
   */
  async call(method: string, path: string, opts: RequestOptions = {}): Promise<LiteResponse> {
    if (this.prefix !== undefined) return this.connectOnce(method, this.prefix + path, opts);
    const body = opts.body as { pipe?: unknown } | undefined;
    if (body !== undefined && body !== null && typeof body.pipe === 'function') {
      return this.connectOnce(method, (await this.negotiate()) + path, opts);
    }
    let res: LiteResponse;
    try {
      res = await this.connectOnce(method, `/v${CLIENT_API_VERSION}` + path, opts);
    } catch (e) {
      // Not reachable: negotiate() starts berthd if it should (or says why not).
      if (!(e instanceof ConnectError)) throw e;
      return this.connectOnce(method, (await this.negotiate()) + path, opts);
    }
    const server = res.headers['api-version'];
    const refused = res.statusCode === 400 || res.statusCode === 404;
    if (typeof server === 'string' && server) {
      if (!(refused && compareVersions(server, CLIENT_API_VERSION) < 0)) {
        this.#settle(server);
        return res;
      }
    } else if (!refused) {
      // No Api-Version (a very old server) but handled: keep it, never send it twice.
      return res;
    }
    // An older server refused this version: the same request at the negotiated one.
    res.resume();
    return this.connectOnce(method, (await this.negotiate()) + path, opts);
  }

  /** A versioned request whose non-2xx answers throw ApiError; body left unread. */
  async stream(method: string, path: string, opts: RequestOptions = {}): Promise<LiteResponse> {
    const res = await this.call(method, path, opts);
    const status = res.statusCode;
    if (status >= 400) throw new ApiError(status, errorText(res, await readBody(res)));
    return res;
  }

  /** A versioned JSON call: parsed body, or undefined for empty bodies (204, 304). */
  async json<T = unknown>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const res = await this.stream(method, path, opts);
    const buf = await readBody(res);
    if (buf.length === 0) return undefined as T;
    try {
      return JSON.parse(buf.toString('utf8')) as T;
    } catch {
      return buf.toString('utf8') as T;
    }
  }

  /**
   * Hijack: POST with `Connection: Upgrade, Upgrade: tcp`; on 101 the socket is a raw duplex
   * pipe of the process's stdio. A 200 (a server that hijacks without upgrading) yields the
   * response body as output only. Hijacked requests get their own connection.
   */
  async hijack(path: string, opts: RequestOptions = {}): Promise<Hijacked> {
    const prefix = await this.negotiate();
    const req = this.request('POST', prefix + path, { ...opts, headers: { Connection: 'Upgrade', Upgrade: 'tcp', ...opts.headers } }, true);
    let res: LiteResponse | Upgraded;
    try {
      res = await liteRequest(this.pool, req);
    } catch (e) {
      throw this.connectError(e);
    }
    if (isUpgraded(res)) {
      const socket = res.socket;
      // Bytes that arrived with the 101 belong to the stream.
      if (res.head.length) socket.unshift(res.head);
      return { output: socket, input: socket, destroy: () => socket.destroy() };
    }
    if (res.statusCode >= 400) throw new ApiError(res.statusCode, errorText(res, await readBody(res)));
    const out = res;
    return { output: out, input: null, destroy: () => out.destroy() };
  }
}

export interface Hijacked {
  output: NodeJS.ReadableStream;
  /** The write side (null when the server answered 200 without upgrading). end() half-closes. */
  input: Socket | null;
  destroy(): void;
}

/** -H/--host, else BERTH_HOST, else the default socket. */
export function resolveHost(flag?: string): string {
  return flag || process.env.BERTH_HOST || DEFAULT_HOST;
}
