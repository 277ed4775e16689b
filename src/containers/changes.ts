/**
 * `docker diff` and the layer `docker commit` records, both from the container's upper
 * dir. The upper dir is written by the container, so it is read only through the
 * chrooted copy helper. The image's lower layers are berth's own read-only snapshots:
 * they are looked up here, component by component with lstat, never through a symlink.
 */
import { lstat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { ContainerManager } from './manager.js';
import { helperJson, startHelper } from './archive-run.js';
import { isOpaque, isWhiteout, type UpperEntry } from './archive-walk.js';

export interface Change {
  Path: string;
  /** 0 changed, 1 added, 2 deleted (docker's). */
  Kind: 0 | 1 | 2;
}

/** The lower dirs of the container's snapshot, top first. */
async function lowers(m: ContainerManager, id: string): Promise<string[]> {
  const out: string[] = [];
  const snaps = m.deps.snapshots;
  for (let key = (await snaps.stat(id))?.parent; key !== undefined; key = (await snaps.stat(key))?.parent) {
    out.push(await snaps.committedDir(key));
  }
  return out;
}

type Found = 'found' | 'hidden' | 'absent';

/** Is `parts` present in this one layer, hidden by it (whiteout, opaque dir), or absent? */
async function lookup(dir: string, parts: string[]): Promise<Found> {
  let cur = dir;
  for (let i = 0; i < parts.length; i++) {
    const next = `${cur}/${parts[i]}`;
    const st = await lstat(next).catch(() => undefined);
    if (!st) return i > 0 && isOpaque(cur) ? 'hidden' : 'absent';
    if (isWhiteout(st)) return 'hidden';
    if (i === parts.length - 1) return 'found';
    // A file or symlink here means nothing below it exists in the layers beneath.
    if (!st.isDirectory()) return 'hidden';
    cur = next;
  }
  return 'found';
}

async function inLowers(layers: string[], path: string): Promise<boolean> {
  const parts = path.split('/').filter(Boolean);
  for (const l of layers) {
    const r = await lookup(l, parts);
    if (r === 'found') return true;
    if (r === 'hidden') return false;
  }
  return false;
}

export async function containerChanges(m: ContainerManager, ref: string): Promise<Change[]> {
  const c = m.get(ref);
  const upper = await m.deps.snapshots.upperDir(c.Id);
  const entries = await helperJson<UpperEntry[]>({ op: 'changes', root: upper });
  const below = await lowers(m, c.Id);
  const all: Change[] = [];
  for (const e of entries) {
    if (e.kind === 'whiteout') all.push({ Path: e.path, Kind: 2 });
    else if (MOUNT_POINTS.has(e.path) && e.kind === 'other' && e.size === 0 && !(await inLowers(below, e.path))) continue;
    else all.push({ Path: e.path, Kind: (await inLowers(below, e.path)) ? 0 : 1 });
  }
  // A directory copied up only to hold those mount points is no change either.
  const dirs = new Set(entries.filter((e) => e.kind === 'dir').map((e) => e.path));
  return all.filter((c) => !(c.Kind === 0 && dirs.has(c.Path) && !all.some((o) => o.Path.startsWith(c.Path + '/'))));
}

/**
 * Files berth creates in the upper dir only as targets of its bind mounts (docker keeps
 * them in a hidden "-init" layer): not the container's changes, so neither diff nor
 * commit shows them while they are empty.
 */
export const MOUNT_POINTS = new Set(['/etc/hostname', '/etc/hosts', '/etc/resolv.conf', '/.dockerenv']);

/** The upper dir as an OCI layer tar; done settles when the helper has finished. */
export async function changesLayer(m: ContainerManager, id: string): Promise<{ tar: Readable; done: Promise<void> }> {
  const upper = await m.deps.snapshots.upperDir(id);
  const run = startHelper({ op: 'layer', root: upper, skipEmpty: [...MOUNT_POINTS] });
  return { tar: run.stdout, done: run.done };
}
