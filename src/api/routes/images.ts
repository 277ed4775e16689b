/** Image endpoints. Names may contain slashes and host:port, hence `{name*}` patterns. */
import type { Ctx, Router } from '../router.js';
import type { ImageFilters } from '../../images/types.js';
import { invalidArgument, notImplemented } from '../../common/errors.js';
import { messageOf, sendJson, startStream, writeAndDrain } from '../http-util.js';
import { checkFilterKeys, checkUntilFilter, qBool, qFilters, qStr } from '../query.js';
import { imageInspectWire, imageSummaryWire } from '../wire/image.js';
import { parseTimestamp, openImportUrl } from '../../images/index.js';

export function imageFilters(raw: Record<string, string[]>): ImageFilters {
  checkFilterKeys(raw, ['dangling', 'label', 'before', 'since', 'reference', 'until']);
  const out: ImageFilters = {};
  const d = raw.dangling;
  if (d?.length) {
    const v = d[0]!.toLowerCase();
    if (v !== 'true' && v !== 'false' && v !== '1' && v !== '0') throw invalidArgument(`invalid filter 'dangling=${d[0]}'`);
    out.dangling = v === 'true' || v === '1';
  }
  if (raw.label?.length) out.label = raw.label;
  if (raw.reference?.length) out.reference = raw.reference;
  if (raw.before?.length) out.before = raw.before[0];
  if (raw.since?.length) out.since = raw.since[0];
  if (raw.until?.length) out.until = raw.until[0];
  return out;
}

/** `repo` + `tag` as one reference; a digest arrives as `tag=sha256:…`. */
export function joinRef(repo: string, tag: string | undefined): string {
  if (!tag) return repo;
  return tag.startsWith('sha256:') ? `${repo}@${tag}` : `${repo}:${tag}`;
}

async function createImage(ctx: Ctx): Promise<void> {
  const { req, res, query, deps } = ctx;
  const fromSrc = qStr(query, 'fromSrc');
  const fromImage = qStr(query, 'fromImage');
  const platform = qStr(query, 'platform');
  if (fromSrc !== undefined) {
    // fromSrc=- : the tarball is the body; otherwise an http(s) URL berthd downloads.
    let source: import('node:stream').Readable = req;
    if (fromSrc !== '-') {
      req.resume();
      source = await openImportUrl(fromSrc);
    }
    const repo = qStr(query, 'repo');
    const [os, architecture] = (platform ?? '').split('/');
    const img = await deps.images.import(source, {
      reference: repo ? joinRef(repo, qStr(query, 'tag')) : undefined,
      changes: query.getAll('changes').filter((c) => c !== ''),
      message: qStr(query, 'message'),
      platform: platform ? { os: os || undefined, architecture: architecture || undefined } : undefined,
    });
    startStream(res, 200, 'application/json');
    res.end(JSON.stringify({ status: img.id }) + '\n');
    return;
  }
  if (fromImage === undefined) throw invalidArgument('either fromSrc or fromImage must be given');
  req.resume();
  const ref = joinRef(fromImage, qStr(query, 'tag'));
  if (typeof deps.images.pull !== 'function') {
    throw notImplemented(`cannot pull ${ref}: this berthd has no registry client yet; bring the image in with "docker load" or "docker import"`);
  }
  const ac = new AbortController();
  res.on('close', () => ac.abort());
  // No tag with a bare name: every tag of the repository, as docker does (`pull -a`).
  await streamProgress(ctx, deps.images.pull(ref, { platform, auth: headerStr(req.headers['x-registry-auth']), signal: ac.signal, allTags: !qStr(query, 'tag') }));
}

/**
 * A pull or push progress stream. The first step (resolving the name, finding the
 * image) decides between an HTTP error and a 200 stream; after the 200 a failure can
 * only be a JSON error line, on which the CLI exits 1.
 */
async function streamProgress(ctx: Ctx, progress: AsyncIterable<object>): Promise<void> {
  const { res } = ctx;
  const it = progress[Symbol.asyncIterator]();
  const first = await it.next();
  startStream(res, 200, 'application/json');
  try {
    for (let r = first; !r.done; r = await it.next()) {
      if (!(await writeAndDrain(res, JSON.stringify(r.value) + '\n'))) break;
    }
  } catch (err) {
    res.write(JSON.stringify({ errorDetail: { message: messageOf(err) }, error: messageOf(err) }) + '\n');
  }
  if (!res.writableEnded) res.end();
  await it.return?.();
}

async function pushImage(ctx: Ctx): Promise<void> {
  const { req, res, query, deps } = ctx;
  req.resume();
  if (typeof deps.images.push !== 'function') throw notImplemented('this berthd has no registry client; push is not available');
  const ac = new AbortController();
  res.on('close', () => ac.abort());
  await streamProgress(ctx, deps.images.push(ctx.params.name!, { tag: qStr(query, 'tag') || undefined, auth: headerStr(req.headers['x-registry-auth']), signal: ac.signal }));
}

function headerStr(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** docker image prune: filters dangling (false = all unused), until, label, label!. */
async function pruneImages(ctx: Ctx): Promise<void> {
  const { images, containers } = ctx.deps;
  if (!images.pruneImages) throw notImplemented('this berthd cannot prune images');
  const f = qFilters(ctx.query);
  checkFilterKeys(f, ['dangling', 'until', 'label', 'label!']);
  checkUntilFilter(f);
  const d = f.dangling?.[0]?.toLowerCase();
  if (d !== undefined && !['true', 'false', '1', '0'].includes(d)) throw invalidArgument(`invalid filter 'dangling=${f.dangling![0]}'`);
  if ((f.until?.length ?? 0) > 1) throw invalidArgument('more than one until filter specified');
  const r = await images.pruneImages({
    all: d === 'false' || d === '0',
    until: f.until?.length ? parseTimestamp(f.until[0]!) : undefined,
    label: f.label,
    labelNot: f['label!'],
  }, (id) => containers.imageInUse(id));
  sendJson(ctx.res, 200, r);
}

export function registerImages(r: Router): void {
  r.add('POST', '/images/create', createImage);
  r.add('POST', '/images/prune', pruneImages);
  r.add('POST', '/images/{name*}/push', pushImage);
  r.add('GET', '/images/json', async (ctx) => {
    const imgs = await ctx.deps.images.list(imageFilters(qFilters(ctx.query)));
    sendJson(ctx.res, 200, imgs.map(imageSummaryWire));
  });
  r.add('GET', '/distribution/{name*}/json', async (ctx) => {
    ctx.req.resume();
    const inspect = ctx.deps.images.distributionInspect;
    if (typeof inspect !== 'function') throw notImplemented('this berthd has no registry client; distribution inspect is not available');
    sendJson(ctx.res, 200, await inspect.call(ctx.deps.images, ctx.params.name!, headerStr(ctx.req.headers['x-registry-auth'])));
  });
  // dockerd proxies this to the registry's v1 search API; berth has no such index client.
  r.add('GET', '/images/search', async (ctx) => {
    ctx.req.resume();
    throw notImplemented('image search is not supported by berth: search the registry (e.g. hub.docker.com) in a browser, then pull by name');
  });
  r.add('GET', '/images/{name*}/json', async (ctx) => sendJson(ctx.res, 200, imageInspectWire(await ctx.deps.images.get(ctx.params.name!))));
  r.add('GET', '/images/{name*}/history', async (ctx) => sendJson(ctx.res, 200, await ctx.deps.images.history(ctx.params.name!)));
  r.add('POST', '/images/{name*}/tag', async (ctx) => {
    const repo = qStr(ctx.query, 'repo');
    if (!repo) throw invalidArgument('repository name must have at least one component');
    // dockerd takes a tag inside repo too (docker-py's image.tag("host:5000/x:1")); none means latest.
    await ctx.deps.images.tag(ctx.params.name!, joinRef(repo, qStr(ctx.query, 'tag') || undefined));
    ctx.res.writeHead(201);
    ctx.res.end();
  });
  r.add('DELETE', '/images/{name*}', async (ctx) => {
    const { containers, images } = ctx.deps;
    const users = (id: string) => containers.imageUsers?.(id) ?? containers.imageInUse(id);
    const out = await images.remove(ctx.params.name!, { force: qBool(ctx.query, 'force'), noprune: qBool(ctx.query, 'noprune') }, users);
    sendJson(ctx.res, 200, out);
  });
}
