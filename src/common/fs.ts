import { open, rename, mkdir, readFile, readdir, rm, stat } from 'node:fs/promises';
import { writeFileSync, renameSync, rmSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { isErrno } from './errors.js';

export interface AtomicWriteOptions {
  /**
   * fsync the file and its directory (default true): the new content survives a power
   * loss. false keeps the atomic rename (readers never see a torn file) but skips both
   * fsyncs, for files that are regenerated whenever they matter (a container's bundle
   * and /etc files are rewritten at every start; a machine crash kills the container
   * anyway). A berthd crash loses nothing either way: the page cache stays.
   */
  durable?: boolean;
}

/**
 * Write a file crash-safely: temp file in the same directory, fsync, rename, fsync dir.
 * A reader sees either the old content or the new, never a torn file.
 */
export async function writeFileAtomic(path: string, data: string | Buffer, mode = 0o644, opts: AtomicWriteOptions = {}): Promise<void> {
  const durable = opts.durable !== false;
  // Without fsync the write only reaches the page cache: microseconds as plain system
  // calls, where four thread-pool round trips cost ~1 ms on a busy event loop (the
  // running record is written on every start's path). Callers keep such files small.
  if (!durable) return writeFileAtomicSync(path, data, mode);
  const dir = dirname(path);
  const tmp = tempPathOf(path);
  const fh = await open(tmp, 'w', mode);
  try {
    await fh.writeFile(data);
    if (durable) await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  if (durable) await fsyncDir(dir);
}

/**
 * writeFileAtomic without fsync, synchronously: for small runtime files on hot paths
 * (a bundle's config.json), where four thread-pool round trips cost more than the write.
 */
export function writeFileAtomicSync(path: string, data: string | Buffer, mode = 0o644): void {
  const tmp = tempPathOf(path);
  writeFileSync(tmp, data, { mode });
  try {
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/** The temp file an atomic write of `path` goes through: `.<name>.<8 hex>.tmp` beside it. */
function tempPathOf(path: string): string {
  return join(dirname(path), `.${basename(path)}.${randomBytes(4).toString('hex')}.tmp`);
}

const TEMP_RE = /^\.(.+)\.[0-9a-f]{8}\.tmp$/;

/**
 * Start-up, before anything writes them: remove the temp files of atomic writes of
 * `paths` that a crash cut short (nothing else ever deletes them). Only that exact
 * pattern beside the files named: whatever else shares the directory (a container's
 * log, a volume's data) is not looked at. Best effort: a temp left is only clutter.
 */
export async function sweepAtomicTemps(...paths: string[]): Promise<void> {
  const byDir = new Map<string, Set<string>>();
  for (const p of paths) {
    const names = byDir.get(dirname(p)) ?? new Set<string>();
    names.add(basename(p));
    byDir.set(dirname(p), names);
  }
  for (const [dir, names] of byDir) {
    let entries: string[];
    try {
      entries = await readdir(dir);
    } catch {
      continue;
    }
    for (const e of entries) {
      const m = TEMP_RE.exec(e);
      if (m && names.has(m[1]!)) await rm(join(dir, e), { force: true }).catch(() => {});
    }
  }
}

export async function fsyncDir(dir: string): Promise<void> {
  try {
    const dh = await open(dir, 'r');
    try { await dh.sync(); } finally { await dh.close(); }
  } catch {
    // Some filesystems refuse fsync on directories; the rename is still atomic.
  }
}

export async function writeJsonAtomic(path: string, value: unknown, mode = 0o644): Promise<void> {
  await writeFileAtomic(path, JSON.stringify(value, null, 1) + '\n', mode);
}

export async function readJson<T>(path: string): Promise<T> {
  return JSON.parse(await readFile(path, 'utf8')) as T;
}

/** Read JSON, or undefined when the file does not exist. */
export async function readJsonIfExists<T>(path: string): Promise<T | undefined> {
  try {
    return await readJson<T>(path);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined;
    throw err;
  }
}

export async function ensureDir(path: string, mode = 0o711): Promise<void> {
  await mkdir(path, { recursive: true, mode });
}

export async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
