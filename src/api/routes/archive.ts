/**
 * Archive endpoints: image save/load, container export/changes/commit, and docker cp's
 * archive API (HEAD/GET/PUT /containers/{id}/archive).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { Ctx, Router } from '../router.js';
import type { ImageArchiver } from '../../images/archive.js';
import type { ImageRuntimeConfig } from '../../oci/image-spec.js';
import type { ContainerService } from '../../containers/types.js';
import { notImplemented } from '../../common/errors.js';
import { readJson, sendJson, startStream, writeAndDrain } from '../http-util.js';
import { qBool, qStr } from '../query.js';
import { joinRef } from './images.js';
import { checkShape } from '../wire/create-body.js';
import { COMMIT_BODY } from '../wire/bodies.js';

/** The containers service's archive methods (optional in the interface, for fakes). */
function ctr(ctx: Ctx): Required<Pick<ContainerService, 'archiveStat' | 'archiveGet' | 'archivePut' | 'export' | 'changes' | 'commit'>> {
  const c = ctx.deps.containers;
  if (!c.archiveStat || !c.archiveGet || !c.archivePut || !c.export || !c.changes || !c.commit) throw notImplemented('this berthd has no container archive support');
  return c as Required<ContainerService>;
}

function archiver(ctx: Ctx): ImageArchiver {
  const a = ctx.deps.images as Partial<ImageArchiver>;
  if (typeof a.save !== 'function' || typeof a.load !== 'function') throw notImplemented('this berthd has no image archive support');
  return a as ImageArchiver;
}

/** Send a tar the helper produces; a failure after the headers can only cut the stream. */
async function sendTar(res: ServerResponse, out: { tar: Readable; done: Promise<void> }, headers: Record<string, string> = {}): Promise<void> {
  res.writeHead(200, { 'Content-Type': 'application/x-tar', ...headers });
  res.on('close', () => out.tar.destroy());
  out.tar.pipe(res);
  try {
    await out.done;
  } catch {
    res.destroy();
  }
}

async function save(ctx: Ctx, names: string[]): Promise<void> {
  const write = await archiver(ctx).save(names);
  startStream(ctx.res, 200, 'application/x-tar');
  try {
    await write(ctx.res);
  } catch {
    ctx.res.destroy();
  }
}

/** Drain what is left of a request body (bounded), so an early error reaches the client. */
async function drain(req: IncomingMessage): Promise<void> {
  if (req.readableEnded) return;
  await new Promise<void>((resolve) => {
    const t = setTimeout(resolve, 5000);
    t.unref();
    req.on('end', () => { clearTimeout(t); resolve(); });
    req.on('close', () => { clearTimeout(t); resolve(); });
    req.resume();
  });
}

async function load(ctx: Ctx): Promise<void> {
  const a = archiver(ctx);
  const lines: string[] = [];
  try {
    await a.load(ctx.req, (l) => lines.push(l));
  } catch (err) {
    await drain(ctx.req);
    throw err;
  }
  startStream(ctx.res, 200, 'application/json');
  for (const l of lines) await writeAndDrain(ctx.res, JSON.stringify({ stream: l + '\n' }) + '\n');
  ctx.res.end();
}

function statHeader(stat: unknown): string {
  return Buffer.from(JSON.stringify(stat)).toString('base64');
}

async function getArchive(ctx: Ctx): Promise<void> {
  const path = qStr(ctx.query, 'path') ?? '';
  const containers = ctr(ctx);
  if (ctx.req.method === 'HEAD') {
    const stat = await containers.archiveStat(ctx.params.id!, path);
    ctx.res.writeHead(200, { 'X-Docker-Container-Path-Stat': statHeader(stat), 'Content-Type': 'application/x-tar' });
    ctx.res.end();
    return;
  }
  const out = await containers.archiveGet(ctx.params.id!, path);
  await sendTar(ctx.res, out, { 'X-Docker-Container-Path-Stat': statHeader(out.stat) });
}

async function putArchive(ctx: Ctx): Promise<void> {
  const path = qStr(ctx.query, 'path') ?? '';
  try {
    await ctr(ctx).archivePut(ctx.params.id!, path, ctx.req, {
      noOverwriteDirNonDir: qBool(ctx.query, 'noOverwriteDirNonDir'),
      copyUIDGID: qBool(ctx.query, 'copyUIDGID'),
    });
  } catch (err) {
    await drain(ctx.req);
    throw err;
  }
  ctx.res.writeHead(200);
  ctx.res.end();
}

async function commit(ctx: Ctx): Promise<void> {
  const q = ctx.query;
  const config = await readJson<ImageRuntimeConfig | null>(ctx.req, null);
  // A container.Config, decoded as Go would (Env: [null] was a 500 from deep in the merge).
  checkShape(config, COMMIT_BODY);
  const repo = qStr(q, 'repo');
  const id = await ctr(ctx).commit(qStr(q, 'container') ?? '', {
    reference: repo ? joinRef(repo, qStr(q, 'tag') || 'latest') : undefined,
    comment: qStr(q, 'comment'),
    author: qStr(q, 'author'),
    changes: q.getAll('changes').filter((c) => c !== ''),
    pause: qBool(q, 'pause', true),
    config: config ?? undefined,
  });
  sendJson(ctx.res, 201, { Id: id });
}

export function registerArchive(r: Router): void {
  r.add('GET', '/images/get', (ctx) => save(ctx, ctx.query.getAll('names').filter(Boolean)));
  r.add('GET', '/images/{name*}/get', (ctx) => save(ctx, [ctx.params.name!]));
  r.add('POST', '/images/load', load);
  r.add('GET', '/containers/{id}/export', async (ctx) => sendTar(ctx.res, await ctr(ctx).export(ctx.params.id!)));
  r.add('GET', '/containers/{id}/changes', async (ctx) => sendJson(ctx.res, 200, await ctr(ctx).changes(ctx.params.id!)));
  r.add('GET', '/containers/{id}/archive', getArchive);
  r.add('PUT', '/containers/{id}/archive', putArchive);
  r.add('POST', '/commit', commit);
}
