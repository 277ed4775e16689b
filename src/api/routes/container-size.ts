/**
 * `?size=1` on GET /containers/json and /containers/{id}/json: SizeRw is the bytes of
 * the files in the container's upper dir (docker counts file sizes, each inode once),
 * SizeRootFs that plus the image's layers. Only computed when asked: it walks the
 * upper dir of every listed container.
 */
import type { ApiDeps } from '../types.js';

export interface ContainerSizes {
  SizeRw: number;
  SizeRootFs: number;
}

/** Sizes per container id; an empty map when the image service cannot tell. */
export async function containerSizes(deps: ApiDeps, containers: ReadonlyArray<{ Id: string; Image: string }>): Promise<Map<string, ContainerSizes>> {
  const out = new Map<string, ContainerSizes>();
  const { images } = deps;
  if (!images.upperSize || containers.length === 0) return out;
  const imageSize = new Map((await images.list()).map((i) => [i.id, i.size]));
  for (const c of containers) {
    const rw = await images.upperSize(c.Id);
    out.set(c.Id, { SizeRw: rw, SizeRootFs: rw + (imageSize.get(c.Image) ?? 0) });
  }
  return out;
}

/** `obj` with the sizes inserted right before `beforeKey`, where docker's JSON has them. */
export function withSizes<T extends object>(obj: T, sizes: ContainerSizes | undefined, beforeKey: string): T {
  if (!sizes) return obj;
  const out: Record<string, unknown> = {};
  let placed = false;
  for (const [k, v] of Object.entries(obj)) {
    if (k === beforeKey && !placed) {
      Object.assign(out, sizes);
      placed = true;
    }
    out[k] = v;
  }
  if (!placed) Object.assign(out, sizes);
  return out as T;
}
