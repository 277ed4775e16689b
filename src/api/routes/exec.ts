/** Exec endpoints. Start hijacks the connection unless Detach. */
import type { Ctx, HijackCtx, HijackPlan, Router } from '../router.js';
import type { ExecConfig } from '../../containers/types.js';
import { BerthError, invalidArgument } from '../../common/errors.js';
import { messageOf, parseJson, readJson, sendEmpty, sendJson } from '../http-util.js';
import { dims } from './containers.js';
import { checkShape, EXEC_BODY } from '../wire/create-body.js';

async function create(ctx: Ctx): Promise<void> {
  const cfg = await readJson<ExecConfig | null>(ctx.req, null);
  if (cfg === null || typeof cfg !== 'object' || Array.isArray(cfg)) throw invalidArgument('config cannot be empty in order to create an exec');
  checkShape(cfg, EXEC_BODY);
  // docker's StrSlice: a bare string is a one-word command.
  if (typeof cfg.Cmd === 'string') cfg.Cmd = [cfg.Cmd];
  if (!Array.isArray(cfg.Cmd) || cfg.Cmd.length === 0) throw invalidArgument('No exec command specified');
  const id = await ctx.deps.containers.execCreate(ctx.params.id!, cfg);
  sendJson(ctx.res, 201, { Id: id });
}

/** Errors that dockerd reports as HTTP statuses; anything else happened "inside" the exec. */
const HTTP_ERRORS = new Set(['NOT_FOUND', 'CONFLICT', 'ALREADY_EXISTS', 'NOT_MODIFIED', 'UNAVAILABLE', 'INVALID_ARGUMENT']);

async function start(ctx: HijackCtx): Promise<HijackPlan> {
  // testcontainers sends lower-case `stdin`/`detach`; accept both spellings.
  const body = parseJson<Record<string, unknown>>(ctx.body, {});
  const detach = Boolean(body.Detach ?? body.detach);
  const tty = Boolean(body.Tty ?? body.tty);
  try {
    const session = await ctx.deps.containers.execStart(ctx.params.id!, { detach, tty });
    if (detach || !session) return { kind: 'empty' };
    return { kind: 'stream', session };
  } catch (err) {
    if (detach || (err instanceof BerthError && HTTP_ERRORS.has(err.code))) throw err;
    // dockerd hijacks first and writes a failed start (e.g. missing binary) into the stream.
    return { kind: 'text', text: messageOf(err), tty };
  }
}

export function registerExec(r: Router): void {
  r.add('POST', '/containers/{id}/exec', create);
  r.hijack('POST', '/exec/{id}/start', start);
  r.add('GET', '/exec/{id}/json', async (ctx) => sendJson(ctx.res, 200, await ctx.deps.containers.execInspect(ctx.params.id!)));
  r.add('POST', '/exec/{id}/resize', async (ctx) => {
    const [h, w] = dims(ctx.query);
    await ctx.deps.containers.execResize(ctx.params.id!, h, w);
    sendEmpty(ctx.res, 200);
  });
}
