import { lstatSync, mkdirSync } from 'node:fs';
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
 * The directories of one layer dir already known to be real directories (created by
 * us or checked with lstat), so each entry does not lstat every component of its
 * path again. Anything that removes or replaces a node must call forget(): a cached
 * dir could otherwise have become a symlink planted by a later entry. The layer dir
 * is private to berth while it is applied, so nothing else changes it meanwhile.
 */
export class VerifiedDirs {
  #dirs = new Set<string>();

  has(dir: string): boolean {
    return this.#dirs.has(dir);
  }

  add(dir: string): void {
    this.#dirs.add(dir);
  }

  /** path was removed or replaced: it and everything under it are unknown again. */
  forget(path: string): void {
    if (!this.#dirs.delete(path) && this.#dirs.size === 0) return;
    const prefix = path + '/';
    for (const d of this.#dirs) if (d.startsWith(prefix)) this.#dirs.delete(d);
  }
}

/**
 * The directory that will hold an entry, created as needed, never through a symlink.
 * Every component not already verified is checked with lstat: a symlink (planted by
 * an earlier entry of the same tar) or a non-directory in the parent path refuses the
 * entry. Sync calls on purpose: each is a few microseconds of metadata work, far
 * cheaper than a thread-pool round trip per component.
 */
export function safeParent(root: string, parts: string[], name: string, dirs: VerifiedDirs): string {
  let dir = root;
  for (const part of parts) {
    dir = join(dir, part);
    if (dirs.has(dir)) continue;
    const st = lstatSync(dir, { throwIfNoEntry: false });
    if (st) {
      if (st.isSymbolicLink()) throw breakout(name, `goes through the symlink "${part}"`);
      if (!st.isDirectory()) throw breakout(name, `has the non-directory "${part}" in its parent path`);
    } else {
      // Missing parents get docker's default 0755; a later entry for the dir fixes it.
      try {
        mkdirSync(dir, { mode: 0o755 });
      } catch (err) {
        if (!isErrno(err, 'EEXIST')) throw err;
        throw breakout(name, `raced on "${part}"`);
      }
    }
    dirs.add(dir);
  }
  return dir;
}
