import { open, rename, mkdir, readFile, rm, stat } from 'node:fs/promises';
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
  const tmp = join(dir, `.${basename(path)}.${randomBytes(4).toString('hex')}.tmp`);
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
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(4).toString('hex')}.tmp`);
  writeFileSync(tmp, data, { mode });
  try {
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
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
