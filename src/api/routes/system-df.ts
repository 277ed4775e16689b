/**
 * `GET /system/df`: images, containers and volumes with their disk usage, the shape
 * `docker system df [-v]` and docker-py's df() read.
 * (Restored from its compiled output after an accidental overwrite by the compat
 * work; the original header comment was lost. Owner: please re-check.)
 */
import type { Router, Ctx } from '../router.js';
import { sendJson } from '../http-util.js';
import { imageSummaryWire } from '../wire/image.js';
import { containerSummaryWire } from '../wire/container.js';
import { volumeWire } from '../wire/volume.js';
import { notImplemented } from '../../common/errors.js';
import { stat } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import { readdir } from 'node:fs/promises';

/** A container's json log and its rotated files: berth counts them in SizeRw (docker does not, moby#21925). */
async function logBytes(logPath: string | undefined): Promise<number> {
  if (!logPath) return 0;
  const dir = dirname(logPath);
  const base = basename(logPath);
  let total = 0;
  for (const n of await readdir(dir).catch(() => [] as string[])) {
    if (n !== base && !n.startsWith(base + '.')) continue;
    const st = await stat(join(dir, n)).catch(() => undefined);
    if (st?.isFile()) total += st.blocks * 512;
  }
  return total;
}

async function systemDf(ctx: Ctx): Promise<void> {
  const { images, containers, volumes } = ctx.deps;
  if (!images.diskUsage || !images.snapshotUsage) throw notImplemented('this berthd cannot report disk usage');
  const [du, imgs, ctrs, vols] = await Promise.all([images.diskUsage(), images.list(), containers.list({ all: true }), volumes.list()]);
  const shared = new Map(du.images.map((i) => [i.id, i.sharedSize]));
  const perImage = new Map<string, number>();
  for (const c of ctrs) perImage.set(c.Image, (perImage.get(c.Image) ?? 0) + 1);
  const volRefs = new Map<string, number>();
  for (const c of ctrs) for (const m of c.Mounts) if (m.Type === 'volume' && m.Name) volRefs.set(m.Name, (volRefs.get(m.Name) ?? 0) + 1);

  const Containers = [];
  for (const c of ctrs) {
    const rw = (await images.snapshotUsage(c.Id)) + (await logBytes(c.LogPath));
    const img = imgs.find((i) => i.id === c.Image);
    Containers.push({ ...containerSummaryWire(c), SizeRw: rw, SizeRootFs: rw + (img?.size ?? 0) });
  }
  const Volumes = [];
  for (const v of vols) {
    Volumes.push({ ...volumeWire(v), UsageData: { Size: await volumes.usage(v.Name).catch(() => -1), RefCount: volRefs.get(v.Name) ?? 0 } });
  }
  sendJson(ctx.res, 200, {
    LayersSize: du.layersSize,
    Images: imgs.map((i) => ({ ...imageSummaryWire(i), SharedSize: shared.get(i.id) ?? 0, Containers: perImage.get(i.id) ?? 0 })),
    Containers,
    Volumes,
    BuildCache: [],
  });
}

export function registerSystemDf(r: Router): void {
  r.add('GET', '/system/df', systemDf);
}
