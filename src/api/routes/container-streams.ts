/**
 * The long-lived container endpoints: wait (long poll), logs (framed stream) and
 * attach (hijack). Each releases its service call when the client goes away.
 */
import type { Ctx, HijackCtx, HijackPlan, Router } from '../router.js';
import type { WaitCondition } from '../../containers/types.js';
import { invalidArgument, isBerthError } from '../../common/errors.js';
import { messageOf, startStream, writeAndDrain } from '../http-util.js';
import { qBool, qStr, qTail, qTime } from '../query.js';
import { frame, formatLogTimestamp, streamContentType } from '../frames.js';

const CONDITIONS: Record<string, WaitCondition> = { '': 'not-running', 'not-running': 'not-running', 'next-exit': 'next-exit', removed: 'removed' };

/** True when p has already resolved (checked after the pending microtasks and I/O of this turn). */
function settledAtOnce(p: Promise<unknown>): Promise<boolean> {
  return Promise.race([p.then(() => true, () => false), new Promise<boolean>((r) => setImmediate(() => r(false)))]);
}

async function wait(ctx: Ctx): Promise<void> {
  const { res, deps } = ctx;
  const condition = CONDITIONS[ctx.query.get('condition') ?? ''];
  if (!condition) throw invalidArgument(`invalid condition: ${JSON.stringify(ctx.query.get('condition'))}`);
  const ac = new AbortController();
  res.on('close', () => ac.abort());
  ctx.req.resume();
  // Register the wait first (a next-exit wait must see an exit that happens now),
  // then confirm the container exists so a bad name is a 404, not a 200 stream.
  const waiting = deps.containers.wait(ctx.params.id!, condition, ac.signal);
  waiting.catch(() => { /* observed below */ });
  try {
    await deps.containers.inspect(ctx.params.id!);
  } catch (err) {
    // Gone already, yet its wait has answered: an --rm container removed moments ago
    // (containers' waiters keep its exit a while) answers like one that still exists.
    const answered = isBerthError(err, 'NOT_FOUND') ? await settledAtOnce(waiting) : false;
    if (!answered) {
      ac.abort();
      throw err;
    }
  }
  // dockerd sends the 200 and headers at once; the body arrives when the condition holds.
  startStream(res, 200, 'application/json');
  let body: { StatusCode: number; Error: { Message: string } | null };
  try {
    const r = await waiting;
    body = { StatusCode: r.StatusCode, Error: r.Error ?? null };
  } catch (err) {
    if (ac.signal.aborted || res.destroyed) return;
    body = { StatusCode: -1, Error: { Message: messageOf(err) } };
  }
  if (!res.destroyed) res.end(JSON.stringify(body) + '\n');
}

async function logs(ctx: Ctx): Promise<void> {
  const { res, query, deps } = ctx;
  const stdout = qBool(query, 'stdout');
  const stderr = qBool(query, 'stderr');
  if (!stdout && !stderr) throw invalidArgument('Bad parameters: you must choose at least one stream');
  const id = ctx.params.id!;
  const c = await deps.containers.inspect(id);
  const tty = c.Config.Tty === true;
  const timestamps = qBool(query, 'timestamps');
  const ac = new AbortController();
  res.on('close', () => ac.abort());
  const entries = await deps.containers.logs(id, {
    follow: qBool(query, 'follow'), tail: qTail(query), since: qTime(query, 'since'), until: qTime(query, 'until'),
    timestamps, stdout, stderr,
  }, ac.signal);
  // Headers now: a follow on a quiet container must not look like a hung daemon.
  startStream(res, 200, streamContentType(tty, ctx.version));
  try {
    for await (const e of entries) {
      if (ac.signal.aborted) break;
      const data = timestamps ? Buffer.concat([Buffer.from(formatLogTimestamp(e.time) + ' '), e.data]) : e.data;
      if (!(await writeAndDrain(res, tty ? data : frame(e.stream, data)))) break;
    }
  } finally {
    ac.abort();
    if (!res.writableEnded && !res.destroyed) res.end();
  }
}

async function attach(ctx: HijackCtx): Promise<HijackPlan> {
  const q = ctx.query;
  const logsOpt = qBool(q, 'logs');
  const stream = qBool(q, 'stream');
  if (!logsOpt && !stream) throw invalidArgument('Bad parameters: you must choose at least one stream');
  const session = await ctx.deps.containers.attach(ctx.params.id!, {
    stdin: qBool(q, 'stdin'), stdout: qBool(q, 'stdout'), stderr: qBool(q, 'stderr'), logs: logsOpt, stream,
    detachKeys: qStr(q, 'detachKeys'),
  });
  return { kind: 'stream', session };
}

export function registerContainerStreams(r: Router): void {
  r.add('POST', '/containers/{id}/wait', wait);
  r.add('GET', '/containers/{id}/logs', logs);
  r.hijack('POST', '/containers/{id}/attach', attach);
}
