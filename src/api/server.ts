/**
 * berthd's Docker Engine API server: version prefixes, common headers, dispatch to
 * the route table, and the two ways into a hijacked connection.
 */
import http from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { invalidArgument, notFound } from '../common/errors.js';
import { API_VERSION, MIN_API_VERSION, readBody, sendEmpty, sendError, writeRawError, reportUnexpected, STATUS_TEXT } from './http-util.js';
import { compareVersions } from './frames.js';
import { detachFromHttpParser, pipeSession, readRawBody, writeHijackText } from './hijack.js';
import { Router, type HijackPlan, type Match } from './router.js';
import { buildRoutes } from './routes/index.js';
import type { ApiDeps } from './types.js';

export type { ApiDeps } from './types.js';

interface Resolved {
  version: string;
  path: string;
  query: URLSearchParams;
}

/** Splits `/v1.41/containers/json?all=1` into version, path, query; throws the version errors dockerd gives. */
export function resolvePath(rawUrl: string): Resolved {
  const q = rawUrl.indexOf('?');
  let path = q < 0 ? rawUrl : rawUrl.slice(0, q);
  const query = new URLSearchParams(q < 0 ? '' : rawUrl.slice(q + 1));
  let version = API_VERSION;
  const m = /^\/v([0-9][0-9.]*)(\/.*)?$/.exec(path);
  if (m) {
    version = m[1] ?? API_VERSION;
    path = m[2] ?? '/';
    if (compareVersions(version, API_VERSION) > 0) {
      throw invalidArgument(`client version ${version} is too new. Maximum supported API version is ${API_VERSION}`);
    }
    if (compareVersions(version, MIN_API_VERSION) < 0) {
      throw invalidArgument(`client version ${version} is too old. Minimum supported API version is ${MIN_API_VERSION}, please upgrade your client to a newer version`);
    }
  }
  return { version, path: path.replace(/\/{2,}/g, '/'), query };
}

/**
 * An upload whose sender goes silent mid-body (a stuck `docker load < fifo`, a slowloris
 * client) must not hold what its handler holds (the image store's lock during import,
 * a container's during cp) forever: after this long without a byte of an unfinished
 * body, the connection is dropped and the handler sees a short read. Streaming
 * responses (logs -f, events, attach) are not affected: the timer ends with the body.
 * BERTH_BODY_IDLE_TIMEOUT_MS overrides it (tests; 0 turns it off).
 */
const DEFAULT_BODY_IDLE_MS = 120_000;

function guardBodyIdle(req: http.IncomingMessage, ms: number): void {
  if (ms <= 0 || req.complete) return;
  const socket = req.socket;
  // Node's server destroys a socket whose timeout fires when nobody else handles it.
  socket.setTimeout(ms);
  const clear = () => {
    // Only undo our own timer, not a keep-alive timeout Node set after the response.
    if (socket.timeout === ms) socket.setTimeout(0);
  };
  req.once('end', clear);
  req.once('close', clear);
}

export function createApiServer(deps: ApiDeps): http.Server {
  const envIdle = Number(process.env['BERTH_BODY_IDLE_TIMEOUT_MS']);
  const bodyIdleMs = Number.isFinite(envIdle) && process.env['BERTH_BODY_IDLE_TIMEOUT_MS'] !== '' && process.env['BERTH_BODY_IDLE_TIMEOUT_MS'] !== undefined ? envIdle : DEFAULT_BODY_IDLE_MS;
  const router = buildRoutes(new Router());
  const v = deps.system.version();
  // Every response carries these; clients negotiate from Api-Version (a missing one means 1.24).
  const common: Record<string, string> = {
    'Api-Version': API_VERSION,
    'Docker-Experimental': 'false',
    Ostype: 'linux',
    Server: `Berth/${v.Version} (linux)`,
  };

  const server = http.createServer({
    // testcontainers repeats the create body in the query string.
    maxHeaderSize: 1 << 20,
    // Uploads (load, build, import) may take longer than Node's 300 s default.
    requestTimeout: 0,
  });

  server.on('request', (req, res) => {
    for (const [k, val] of Object.entries(common)) res.setHeader(k, val);
    req.on('error', () => { /* the client went away mid-body; the handler sees it as a short read */ });
    guardBodyIdle(req, bodyIdleMs);
    void handleRequest(router, deps, common, req, res);
  });

  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    void handleUpgrade(router, deps, common, req, socket as Socket, head);
  });

  return server;
}

async function handleRequest(router: Router, deps: ApiDeps, common: Record<string, string>, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  let match: Match | undefined;
  let r: Resolved;
  try {
    r = resolvePath(req.url ?? '/');
    match = router.match(req.method ?? 'GET', r.path);
    if (!match) throw notFound('page not found');
  } catch (err) {
    req.resume();
    sendError(res, err);
    return;
  }
  const { route, params } = match;
  try {
    if (route.handler) {
      await route.handler({ req, res, params, query: r.query, version: r.version, deps });
      return;
    }
    if (!route.hijack) throw notFound('page not found');
    const body = await readBody(req, 1 << 20);
    const plan = await route.hijack({ params, query: r.query, version: r.version, deps, headers: req.headers, body });
    if (plan.kind === 'empty') {
      sendEmpty(res, 200);
      return;
    }
    // No Upgrade header (docker-modem): hijack anyway, the way dockerd does.
    const socket = req.socket;
    detachFromHttpParser(socket);
    socket.on('error', () => { /* handled by 'close' */ });
    await runPlan(socket, plan, { upgrade: false, version: r.version, headers: common });
  } catch (err) {
    if (res.headersSent || res.destroyed) {
      reportUnexpected(err, `${req.method} ${req.url}`);
      if (!res.writableEnded) res.destroy();
      return;
    }
    sendError(res, err, undefined, `${req.method} ${req.url}`);
  }
}

async function handleUpgrade(router: Router, deps: ApiDeps, common: Record<string, string>, req: http.IncomingMessage, socket: Socket, head: Buffer): Promise<void> {
  socket.on('error', () => { /* handled by 'close' */ });
  try {
    const r = resolvePath(req.url ?? '/');
    const match = router.match(req.method ?? 'GET', r.path);
    if (!match?.route.hijack) throw notFound('page not found');
    const { body, rest } = await readRawBody(socket, head, req.headers);
    const plan = await match.route.hijack({ params: match.params, query: r.query, version: r.version, deps, headers: req.headers, body });
    if (plan.kind === 'empty') {
      const lines = ['HTTP/1.1 200 OK', 'Content-Length: 0', 'Connection: close', ...Object.entries(common).map(([k, val]) => `${k}: ${val}`)];
      socket.end(lines.join('\r\n') + '\r\n\r\n');
      return;
    }
    await runPlan(socket, plan, { upgrade: true, version: r.version, headers: common, rest });
  } catch (err) {
    if (socket.destroyed) return;
    writeRawError(socket, err, common);
  }
}

function runPlan(socket: Socket, plan: Exclude<HijackPlan, { kind: 'empty' }>, opts: { upgrade: boolean; version: string; headers: Record<string, string>; rest?: Buffer }): Promise<void> {
  if (plan.kind === 'text') {
    writeHijackText(socket, plan.text, { ...opts, tty: plan.tty });
    return Promise.resolve();
  }
  return pipeSession(socket, plan.session, opts);
}

export { STATUS_TEXT };
