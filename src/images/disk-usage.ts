/**
 * What images take on disk, for `docker system df`. Sizes are allocated blocks (what
 * `du` reports), each inode once, so the df figures add up to a `du` of the data root:
 * LayersSize covers every unpacked layer, every blob (compressed layers, configs,
 * gzip twins kept for push) and the image records.
 */
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { isErrno } from '../common/errors.js';
import type { StoredImage } from './store.js';

export interface ImageUsage {
  id: string;
  /** Bytes of layers this image shares with another image. */
  sharedSize: number;
}

export interface ImagesDiskUsage {
  layersSize: number;
  images: ImageUsage[];
}

/** Allocated bytes under path (a file or a tree), not following symlinks; seen dedupes hard links. */
export async function blockUsage(path: string, seen = new Set<string>()): Promise<number> {
  let st;
  try {
    st = await lstat(path);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return 0;
    throw err;
  }
  const key = `${st.dev}:${st.ino}`;
  if (seen.has(key)) return 0;
  seen.add(key);
  let total = st.blocks * 512;
  if (st.isDirectory()) {
    const names = await readdir(path).catch((err) => {
      if (isErrno(err, 'ENOENT')) return [] as string[];
      throw err;
    });
    for (const n of names) total += await blockUsage(join(path, n), seen);
  }
  return total;
}

/** Per image, the bytes of its layers that another image also has (docker's SharedSize). */
export function sharedSizes(images: StoredImage[]): ImageUsage[] {
  const users = new Map<string, number>();
  for (const img of images) for (const c of new Set(img.chainIds)) users.set(c, (users.get(c) ?? 0) + 1);
  return images.map((img) => ({
    id: img.id,
    sharedSize: img.chainIds.reduce((sum, c, i) => sum + ((users.get(c) ?? 0) > 1 ? (img.layerSizes[i] ?? 0) : 0), 0),
  }));
}
