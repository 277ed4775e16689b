import { lstat, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { BerthError, isErrno } from '../common/errors.js';

/**
 * Turn a tar entry name into path components inside the layer root. "." parts are
 * dropped, a leading "/" is ignored (the entry is contained), and ".." that would
 * climb above the root is refused (CVE-2014-6407 class).
 */
export function entryComponents(name: string): string[] {
  if (name.includes('\0')) throw breakout(name, 'contains a NUL byte');
  const out: string[] = [];
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length === 0) throw breakout(name, 'climbs above the layer root');
      out.pop();
      continue;
    }
    out.push(part);
  }
  return out;
}

export function breakout(name: string, why: string): BerthError {
  return new BerthError('INVALID_ARGUMENT', `layer entry "${name}" ${why}; refusing to apply a layer that could write outside its root`);
}

/**
 * The directory that will hold an entry, created as needed, never through a symlink.
 * Every existing component is checked with lstat: a symlink (planted by an earlier
 * entry of the same tar) or a non-directory in the parent path refuses the entry.
 * The layer dir is private to berth while it is applied, so nothing else races
 * these checks.
 */
export async function safeParent(root: string, parts: string[], name: string, created: (dir: string) => void): Promise<string> {
  let dir = root;
  for (const part of parts) {
    dir = join(dir, part);
    try {
      const st = await lstat(dir);
      if (st.isSymbolicLink()) throw breakout(name, `goes through the symlink "${part}"`);
      if (!st.isDirectory()) throw breakout(name, `has the non-directory "${part}" in its parent path`);
    } catch (err) {
      if (!isErrno(err, 'ENOENT')) throw err;
      // Missing parents get docker's default 0755; a later entry for the dir fixes it.
      await mkdir(dir, { mode: 0o755 });
      created(dir);
    }
  }
  return dir;
}
