/** Volume endpoints. */
import type { Ctx, Router } from '../router.js';
import { invalidArgument } from '../../common/errors.js';
import { readJson, sendEmpty, sendJson } from '../http-util.js';
import { checkFilterKeys, qBool, qFilters } from '../query.js';
import { volumeWire } from '../wire/volume.js';
import { checkShape } from '../wire/create-body.js';
import { VOLUME_CREATE_BODY } from '../wire/bodies.js';

interface CreateBody { Name?: string; Driver?: string; DriverOpts?: Record<string, string> | null; Labels?: Record<string, string> | null }

async function create(ctx: Ctx): Promise<void> {
  const b = await readJson<CreateBody>(ctx.req, {});
  // Wrong JSON types are the client's 400, as Go's decoder gives (an array body made an anonymous volume).
  checkShape(b, VOLUME_CREATE_BODY);
  if (b.Driver && b.Driver !== 'local') throw invalidArgument(`volume driver ${b.Driver} is not supported: only "local"`);
  const v = await ctx.deps.volumes.create({ name: b.Name || undefined, labels: b.Labels ?? undefined, driverOpts: b.DriverOpts ?? undefined });
  sendJson(ctx.res, 201, volumeWire(v));
}

async function list(ctx: Ctx): Promise<void> {
  const f = qFilters(ctx.query);
  checkFilterKeys(f, ['name', 'label', 'dangling', 'driver']);
  const d = f.dangling?.[0];
  // Every volume is the local driver's: another driver name matches none.
  if (f.driver?.length && !f.driver.includes('local')) {
    sendJson(ctx.res, 200, { Volumes: [], Warnings: [] });
    return;
  }
  const vols = await ctx.deps.volumes.list(
    { name: f.name, label: f.label, dangling: d === undefined ? undefined : d === 'true' || d === '1' },
    (n) => ctx.deps.containers.volumeInUse(n),
  );
  sendJson(ctx.res, 200, { Volumes: vols.map(volumeWire), Warnings: [] });
}

async function prune(ctx: Ctx): Promise<void> {
  const f = qFilters(ctx.query);
  checkFilterKeys(f, ['label', 'label!', 'all']);
  const all = f.all?.[0];
  // label! (docker volume prune --filter label!=keep) protects volumes; dropping it would delete them.
  const r = await ctx.deps.volumes.prune({ label: f.label, labelNot: f['label!'], all: all === 'true' || all === '1' }, (n) => ctx.deps.containers.volumeInUse(n));
  sendJson(ctx.res, 200, { VolumesDeleted: r.VolumesDeleted ?? [], SpaceReclaimed: r.SpaceReclaimed ?? 0 });
}

export function registerVolumes(r: Router): void {
  r.add('POST', '/volumes/create', create);
  r.add('GET', '/volumes', list);
  r.add('POST', '/volumes/prune', prune);
  r.add('GET', '/volumes/{name}', async (ctx) => sendJson(ctx.res, 200, volumeWire(await ctx.deps.volumes.get(ctx.params.name!))));
  r.add('DELETE', '/volumes/{name}', async (ctx) => {
    await ctx.deps.volumes.remove(ctx.params.name!, { force: qBool(ctx.query, 'force') }, (n) => ctx.deps.containers.volumeInUse(n));
    sendEmpty(ctx.res, 204);
  });
}
