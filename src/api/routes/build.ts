/**
 * `POST /build`: docker's classic builder. The body is the context tar; the answer a
 * newline-delimited JSON stream ({"stream"}, {"aux":{"ID"}}, {"errorDetail","error"}).
 * A failure before the first message is an ordinary HTTP error (a bad Dockerfile is
 * 400); after it, an error line in the 200 stream, on which clients exit 1.
 */
import type { Ctx, Router } from '../router.js';
import type { ApiDeps } from '../types.js';
import { invalidArgument, notImplemented } from '../../common/errors.js';
import { messageOf, startStream } from '../http-util.js';
import { qBool, qInt, qStr } from '../query.js';
import { StepFailed, type BuildMessage } from '../../build/index.js';

/** The tail of a quiet build's log kept for its failure report. */
const QUIET_LOG_LIMIT = 1 << 20;

function jsonParam<T>(q: URLSearchParams, key: string, fallback: T): T {
  const v = qStr(q, key);
  if (v === undefined) return fallback;
  try {
    return JSON.parse(v) as T;
  } catch {
    throw invalidArgument(`invalid ${key}: not JSON: ${v}`);
  }
}

function stringMap(v: unknown, key: string, allowNull: boolean): Record<string, string | null> {
  if (v === null || v === undefined) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw invalidArgument(`invalid ${key}: expected a JSON object`);
  const out: Record<string, string | null> = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if (typeof x === 'string' || (allowNull && x === null)) out[k] = x;
    else throw invalidArgument(`invalid ${key}: the value of ${k} must be a string`);
  }
  return out;
}

/** extrahosts: "h:ip" repeated, comma-separated, or a JSON list (docker-py). */
function extraHosts(q: URLSearchParams): string[] {
  const out: string[] = [];
  for (const v of q.getAll('extrahosts')) {
    if (!v) continue;
    if (v.startsWith('[')) out.push(...jsonParam<string[]>(new URLSearchParams({ x: v }), 'x', []));
    else out.push(...v.split(',').map((s) => s.trim()).filter(Boolean));
  }
  return out;
}

async function build(ctx: Ctx): Promise<void> {
  const { req, res, query } = ctx;
  const builder = ctx.deps.builder;
  if (!builder) {
    req.resume();
    throw notImplemented('this berthd has no image builder');
  }
  if (qStr(query, 'version') === '2') {
    req.resume();
    throw invalidArgument('BuildKit (version=2) is not supported by berthd; use the classic builder (DOCKER_BUILDKIT=0)');
  }
  if (qStr(query, 'remote')) {
    req.resume();
    throw notImplemented('remote build contexts are not supported by berthd; send the context as the request body');
  }
  if (qBool(query, 'squash')) {
    req.resume();
    // dockerd's answer without experimental features (berthd has none).
    throw invalidArgument('squash is only supported with experimental mode');
  }
  const quiet = qBool(query, 'q');
  const ac = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) ac.abort();
  });
  let started = false;
  // q=1: the output is held back (as dockerd does) and sent only if the build fails, but the
  // headers go at the first message (the context was read and the Dockerfile parsed),
  // so a long quiet build is not mistaken for a hung daemon.
  const held: string[] = [];
  let heldBytes = 0;
  const emit = (m: BuildMessage, always = false) => {
    if (!started) {
      startStream(res, 200, 'application/json');
      started = true;
    }
    const line = JSON.stringify(m) + '\n';
    // The aux {"ID"} still goes: clients (berth's CLI, --iidfile) read the id from it.
    if (quiet && !always && !('aux' in m)) {
      heldBytes += line.length;
      held.push(line);
      while (heldBytes > QUIET_LOG_LIMIT && held.length > 1) heldBytes -= held.shift()!.length;
      return;
    }
    if (!res.destroyed) res.write(line);
  };
  try {
    const id = await builder.build({
      context: req,
      dockerfile: qStr(query, 'dockerfile'),
      tags: query.getAll('t').filter(Boolean),
      buildArgs: stringMap(jsonParam(query, 'buildargs', {}), 'buildargs', true),
      labels: stringMap(jsonParam(query, 'labels', {}), 'labels', false) as Record<string, string>,
      target: qStr(query, 'target'),
      noCache: qBool(query, 'nocache'),
      rm: qBool(query, 'rm', true),
      forceRm: qBool(query, 'forcerm'),
      networkMode: qStr(query, 'networkmode'),
      extraHosts: extraHosts(query),
      shmSize: qInt(query, 'shmsize'),
      platform: qStr(query, 'platform'),
      signal: ac.signal,
    }, (m) => emit(m));
    // dockerd's quiet answer: the image id as the only stream line (docker's CLI prints that).
    if (quiet) emit({ stream: id + '\n' }, true);
  } catch (err) {
    if (!started) throw err;
    const message = messageOf(err);
    const detail = err instanceof StepFailed ? { code: err.exitCode, message } : { message };
    if (!res.destroyed && held.length) res.write(held.join(''));
    if (!res.destroyed) res.write(JSON.stringify({ errorDetail: detail, error: message }) + '\n');
  }
  if (!res.writableEnded) {
    if (!started) startStream(res, 200, 'application/json');
    res.end();
  }
}

export function registerBuild(r: Router): void {
  r.add('POST', '/build', build);
  // docker-py's client.api.prune_builds(): berth keeps no separate build cache objects to report.
  r.add('POST', '/build/prune', (ctx) => {
    ctx.res.writeHead(200, { 'Content-Type': 'application/json' });
    ctx.res.end(JSON.stringify({ CachesDeleted: null, SpaceReclaimed: 0 }) + '\n');
  });
}
