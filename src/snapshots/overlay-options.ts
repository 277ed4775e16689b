/** The overlay snapshotter's pure helpers: its mount options under the page limit, and disk usage. */
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { invalidArgument } from '../common/errors.js';

/** mount(2) data must stay under a page; mount/ refuses longer option strings. */
export const PAGE_LIMIT = 4096;
/** The longest option mounts() may add later (a volatile mount): counted before a snapshot is made. */
const LATER_OPTIONS = ',volatile';

/**
 * The options of an overlay on `lowers` (top first). The kernel takes mount options in one
 * page, so the lower dirs (one short l/ link each) must fit in it: that, not a fixed count,
 * is the limit here. dockerd refuses images deeper than 125 layers; a fixed 125 would be
 * more than fit under a long data root (about 120 under /var/lib/berth) and needlessly few
 * under a short one, so the refusal names the number that fits this store.
 */
export function overlayOptions(lowers: string[], upper: string, work: string): string[] {
  const options = [`lowerdir=${lowers.join(':')}`, `upperdir=${upper}`, `workdir=${work}`];
  const len = options.join(',').length + LATER_OPTIONS.length;
  if (len < PAGE_LIMIT) return options;
  // Every link has the same length: each lower costs it plus a colon.
  const per = lowers[0]!.length + 1;
  const fixed = len - (lowers.length * per - 1);
  const max = Math.max(0, Math.floor((PAGE_LIMIT - fixed) / per));
  throw invalidArgument(`max depth exceeded: the image has ${lowers.length} layers and overlay can mount at most ${max} here (its mount options must fit in one ${PAGE_LIMIT}-byte page); flatten the image (docker export a container of it, then docker import) or rebuild it with fewer layers`);
}

/** Bytes used under dir, each inode counted once (hard links share blocks). */
export async function diskUsage(dir: string): Promise<number> {
  const seen = new Set<number>();
  let total = 0;
  async function walk(d: string): Promise<void> {
    for (const ent of await readdir(d, { withFileTypes: true })) {
      const p = join(d, ent.name);
      const st = await lstat(p);
      if (seen.has(st.ino)) continue;
      seen.add(st.ino);
      total += st.isDirectory() ? 0 : st.size;
      if (st.isDirectory()) await walk(p);
    }
  }
  await walk(dir);
  return total;
}
