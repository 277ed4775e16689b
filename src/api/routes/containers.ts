/** Container lifecycle endpoints: decode, one service call, encode. Streams live in container-streams.ts. */
import type { Ctx, Router } from '../router.js';
import type { ListFilters } from '../../containers/types.js';
import type { CreateContainerRequest } from '../../oci/docker-config.js';
import { BerthError, invalidArgument, notFound } from '../../common/errors.js';
import { readJson, sendEmpty, sendError, sendJson } from '../http-util.js';
import { checkFilterKeys, checkUntilFilter, qBool, qFilters, qInt, qLimit, qStr } from '../query.js';
import { containerInspectWire, containerSummaryWire } from '../wire/container.js';
import { compareVersions } from '../frames.js';
import { checkImagePlatform } from '../../images/index.js';
import { summaryFilter } from './container-list-filters.js';
import { containerSizes, withSizes } from './container-size.js';
import { checkShape, CREATE_BODY, dropUnknownFields, normalizeStrSlices } from '../wire/create-body.js';

const LIST_KEYS: readonly string[] = ['ancestor', 'before', 'expose', 'exited', 'health', 'id', 'isolation', 'is-task', 'label', 'name', 'network', 'publish', 'since', 'status', 'volume'];
const SERVED_KEYS: readonly (keyof ListFilters)[] = ['id', 'name', 'label', 'status', 'ancestor', 'exited', 'before', 'since', 'health'];
const STATUSES = ['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead'];

export function listFilters(raw: Record<string, string[]>): ListFilters {
  checkFilterKeys(raw, LIST_KEYS);
  for (const s of raw.status ?? []) {
    if (!STATUSES.includes(s)) throw invalidArgument(`invalid filter 'status=${s}'`);
  }
  const out: ListFilters = {};
  for (const k of SERVED_KEYS) if (raw[k]?.length) out[k] = raw[k];
  return out;
}

/** `t` (and `timeout`, its pre-1.25 spelling); absent means the service's default. */
function stopTimeout(q: URLSearchParams): number | undefined {
  return qInt(q, 't') ?? qInt(q, 'timeout');
}

/**
 * dockerd answers a start that fails on the user's command (missing executable,
 * permission, bad mount target) with 400 and runc's text; the CLI derives `docker
 * run`'s exit code (127/126) from that text.
 */
export function startErrorStatus(err: unknown): number | undefined {
  if (!(err instanceof BerthError)) return undefined;
  if (err.code === 'INVALID_ARGUMENT') return 400;
  if (err.code === 'FAILED_PRECONDITION' && /no such file or directory|executable file not found|permission denied|not a directory/i.test(err.message)) return 400;
  return undefined;
}

async function create(ctx: Ctx): Promise<void> {
  const body = await readJson<CreateContainerRequest | null>(ctx.req, null);
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw invalidArgument('config cannot be empty in order to create a container');
  dropUnknownFields(body as Record<string, unknown>);
  checkShape(body, CREATE_BODY);
  normalizeStrSlices(body as Record<string, unknown>);
  // Healthcheck.StartInterval exists from API 1.44; dockerd ignores it from older clients.
  const hc = body.Healthcheck as { StartInterval?: number } | undefined;
  if (hc && typeof hc === 'object' && compareVersions(ctx.version, '1.44') < 0) delete hc.StartInterval;
  const platform = qStr(ctx.query, 'platform');
  if (platform && typeof body.Image === 'string' && body.Image) checkImagePlatform(await ctx.deps.images.get(body.Image), body.Image, platform);
  const r = await ctx.deps.containers.create(body, qStr(ctx.query, 'name'));
  sendJson(ctx.res, 201, { Id: r.Id, Warnings: r.Warnings ?? [] });
}

async function list(ctx: Ctx): Promise<void> {
  const q = ctx.query;
  const raw = qFilters(q);
  const filters = listFilters(raw);
  const extra = summaryFilter(raw);
  // With a summary-level filter the limit applies after it (newest first either way).
  const limit = qLimit(q);
  const recs = await ctx.deps.containers.list({ all: qBool(q, 'all') || (extra !== undefined && limit !== undefined), limit: extra ? undefined : limit, filters });
  const now = Date.now();
  let rows = recs.map((c) => containerSummaryWire(c, now));
  await showCurrentImageNames(ctx, rows, recs);
  if (extra) {
    rows = rows.filter((row, i) => extra(row, recs[i]!));
    if (limit !== undefined && limit > 0) rows = rows.slice(0, limit);
  }
  if (qBool(q, 'size')) {
    const sizes = await containerSizes(ctx.deps, rows.map((r) => ({ Id: r.Id, Image: r.ImageID })));
    rows = rows.map((r) => withSizes(r, sizes.get(r.Id), 'Labels'));
  }
  sendJson(ctx.res, 200, rows);
}

/**
 * dockerd's refreshImage: a row shows the image name the container was created with only
 * while that name still means the container's image; once it is retagged or removed, the
 * row shows the image id (the CLI shortens it). One lookup per distinct name.
 */
async function showCurrentImageNames(ctx: Ctx, rows: Array<{ Image: string }>, recs: Array<{ Image: string; ImageRef: string }>): Promise<void> {
  const current = new Map<string, Promise<string | undefined>>();
  const idOf = (ref: string) => {
    let p = current.get(ref);
    if (!p) current.set(ref, (p = ctx.deps.images.get(ref).then((img) => img.id, () => undefined)));
    return p;
  };
  await Promise.all(rows.map(async (row, i) => {
    const c = recs[i]!;
    if (!c.ImageRef || c.ImageRef === c.Image) return;
    if ((await idOf(c.ImageRef)) !== c.Image) row.Image = c.Image;
  }));
}

async function inspect(ctx: Ctx): Promise<void> {
  const c = await ctx.deps.containers.inspect(ctx.params.id!);
  const body = containerInspectWire(c);
  if (!qBool(ctx.query, 'size')) return sendJson(ctx.res, 200, body);
  const sizes = await containerSizes(ctx.deps, [c]);
  sendJson(ctx.res, 200, withSizes(body, sizes.get(c.Id), 'Mounts'));
}

async function start(ctx: Ctx): Promise<void> {
  ctx.req.resume();
  try {
    await ctx.deps.containers.start(ctx.params.id!, { detachKeys: qStr(ctx.query, 'detachKeys') });
  } catch (err) {
    sendError(ctx.res, err, startErrorStatus(err));
    return;
  }
  sendEmpty(ctx.res, 204);
}

async function remove(ctx: Ctx): Promise<void> {
  if (qBool(ctx.query, 'link')) {
    await ctx.deps.containers.removeLink(ctx.params.id!);
    sendEmpty(ctx.res, 204);
    return;
  }
  await ctx.deps.containers.remove(ctx.params.id!, { force: qBool(ctx.query, 'force'), volumes: qBool(ctx.query, 'v') });
  sendEmpty(ctx.res, 204);
}

async function prune(ctx: Ctx): Promise<void> {
  const f = qFilters(ctx.query);
  checkFilterKeys(f, ['label', 'label!', 'until']);
  checkUntilFilter(f);
  const r = await ctx.deps.containers.prune({ label: f.label, labelNot: f['label!'], until: f.until });
  sendJson(ctx.res, 200, { ContainersDeleted: r.ContainersDeleted ?? [], SpaceReclaimed: r.SpaceReclaimed ?? 0 });
}

function dims(q: URLSearchParams): [number, number] {
  const h = qInt(q, 'h') ?? 0;
  const w = qInt(q, 'w') ?? 0;
  if (h < 0 || w < 0) throw invalidArgument('invalid terminal size');
  return [h, w];
}

export function registerContainers(r: Router): void {
  r.add('POST', '/containers/create', create);
  r.add('GET', '/containers/json', list);
  r.add('POST', '/containers/prune', prune);
  r.add('GET', '/containers/{id}/json', inspect);
  r.add('POST', '/containers/{id}/start', start);
  r.add('POST', '/containers/{id}/stop', async (ctx) => {
    await ctx.deps.containers.stop(ctx.params.id!, { timeout: stopTimeout(ctx.query), signal: qStr(ctx.query, 'signal') });
    sendEmpty(ctx.res, 204);
  });
  r.add('POST', '/containers/{id}/restart', async (ctx) => {
    await ctx.deps.containers.restart(ctx.params.id!, { timeout: stopTimeout(ctx.query), signal: qStr(ctx.query, 'signal') });
    sendEmpty(ctx.res, 204);
  });
  r.add('POST', '/containers/{id}/kill', async (ctx) => {
    await ctx.deps.containers.kill(ctx.params.id!, qStr(ctx.query, 'signal'));
    sendEmpty(ctx.res, 204);
  });
  r.add('DELETE', '/containers/{id}', remove);
  // docker rm --link PARENT/ALIAS: the link's name has a slash (dockerd's "/parent/alias").
  r.add('DELETE', '/containers/{id}/{alias}', (ctx) => {
    if (!qBool(ctx.query, 'link')) throw notFound('page not found');
    return remove({ ...ctx, params: { ...ctx.params, id: `${ctx.params.id}/${ctx.params.alias}` } });
  });
  r.add('GET', '/containers/{id}/top', async (ctx) => {
    sendJson(ctx.res, 200, await ctx.deps.containers.top(ctx.params.id!, qStr(ctx.query, 'ps_args')));
  });
  r.add('POST', '/containers/{id}/rename', async (ctx) => {
    const name = qStr(ctx.query, 'name');
    if (!name) throw invalidArgument('Neither old nor new names may be empty');
    await ctx.deps.containers.rename(ctx.params.id!, name.replace(/^\//, ''));
    sendEmpty(ctx.res, 204);
  });
  r.add('POST', '/containers/{id}/resize', async (ctx) => {
    const [h, w] = dims(ctx.query);
    await ctx.deps.containers.resize(ctx.params.id!, h, w);
    sendEmpty(ctx.res, 200);
  });
  r.add('POST', '/containers/{id}/pause', async (ctx) => {
    await ctx.deps.containers.pause(ctx.params.id!);
    sendEmpty(ctx.res, 204);
  });
  r.add('POST', '/containers/{id}/unpause', async (ctx) => {
    await ctx.deps.containers.unpause(ctx.params.id!);
    sendEmpty(ctx.res, 204);
  });
}

export { dims };
