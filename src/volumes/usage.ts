import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { isErrno } from '../common/errors.js';

/**
 * Bytes a directory tree occupies on disk, as `du -s --bytes` would count blocks:
 * st_blocks × 512, each inode once (hard links), symlinks not followed, files that
 * vanish during the walk skipped. Counting blocks, not sizes, is what makes
 * `system df` add up to what du reports (sparse files, small-file overhead).
 */
export async function diskUsage(dir: string): Promise<number> {
  const seen = new Set<string>();
  let total = 0;
  const stack = [dir];
  while (stack.length > 0) {
    const p = stack.pop()!;
    let st;
    try {
      st = await lstat(p, { bigint: true });
    } catch (err) {
      if (isErrno(err, 'ENOENT')) continue;
      throw err;
    }
    const key = `${st.dev}:${st.ino}`;
    if (seen.has(key)) continue;
    seen.add(key);
    total += Number(st.blocks) * 512;
    if (st.isDirectory()) {
      let names: string[];
      try {
        names = await readdir(p);
      } catch (err) {
        if (isErrno(err, 'ENOENT')) continue;
        throw err;
      }
      for (const n of names) stack.push(join(p, n));
    }
  }
  return total;
}
