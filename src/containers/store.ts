import { randomBytes } from 'node:crypto';
import { renameSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureDir, readJsonIfExists, sweepAtomicTemps, writeFileAtomic, type AtomicWriteOptions } from '../common/fs.js';
import { notFound, conflict, invalidArgument, isErrno } from '../common/errors.js';
import { trash } from '../common/trash.js';
import type { ContainerRecord } from './types.js';

/** Container dirs moved aside by delete(), removed in the background. */
const TRASH = '.trash-';
/** The files of a container's dir written with writeFileAtomic: their crash-left temps go at load. */
const ATOMIC_FILES = ['container.json', 'creating.json', 'hosts', 'hostname', 'resolv.conf'];

/**
 * The crash-safe record of every container: `<root>/containers/<id>/container.json`,
 * rewritten atomically on each change, plus an in-memory index by id and name.
 */
export class ContainerStore {
  readonly root: string;
  #byId = new Map<string, ContainerRecord>();
  #byName = new Map<string, string>();
  /** Ids of container dirs without a record, found by load(). */
  readonly abandoned: string[] = [];

  constructor(dataRoot: string) {
    this.root = join(dataRoot, 'containers');
  }

  dir(id: string): string {
    return join(this.root, id);
  }

  async load(): Promise<ContainerRecord[]> {
    await ensureDir(this.root, 0o710);
    for (const id of await readdir(this.root)) {
      if (id.startsWith(TRASH)) await rm(join(this.root, id), { recursive: true, force: true }).catch(() => {});
      if (!/^[a-f0-9]{64}$/.test(id)) continue;
      const rec = await readJsonIfExists<ContainerRecord>(join(this.dir(id), 'container.json')).catch(() => undefined);
      if (!rec) {
        // A create that died before its first write: nothing references it, but its
        // rootfs may still be mounted and its snapshot and volumes exist; the manager
        // undoes it (cleanupAbandoned) rather than an rm -r through a live mount.
        if (!this.abandoned.includes(id)) this.abandoned.push(id);
        continue;
      }
      // Files of the container's dir written atomically (record, create journal, /etc files).
      await sweepAtomicTemps(...ATOMIC_FILES.map((f) => join(this.dir(id), f)));
      this.#byId.set(id, rec);
      this.#byName.set(rec.Name, id);
    }
    return [...this.#byId.values()];
  }

  all(): ContainerRecord[] {
    return [...this.#byId.values()];
  }

  /** Reserve a name before anything is created; CONFLICT when taken. */
  reserveName(name: string, id: string): void {
    const owner = this.#byName.get(name);
    if (owner && owner !== id) {
      throw conflict(`Conflict. The container name "/${name}" is already in use by container "${owner}". You have to remove (or rename) that container to be able to reuse that name.`);
    }
    this.#byName.set(name, id);
  }

  releaseName(name: string, id: string): void {
    if (this.#byName.get(name) === id) this.#byName.delete(name);
  }

  nameTaken(name: string): boolean {
    return this.#byName.has(name);
  }

  /** The first write of a new container's record (its directory exists since the create began). */
  async add(rec: ContainerRecord): Promise<void> {
    if (this.#byId.has(rec.Id)) throw conflict(`container ${rec.Id} already exists`);
    await ensureDir(this.dir(rec.Id), 0o710);
    await writeFileAtomic(join(this.dir(rec.Id), 'container.json'), JSON.stringify(rec, null, 1) + '\n', 0o600);
    this.#byId.set(rec.Id, rec);
    this.#byName.set(rec.Name, rec.Id);
  }

  /**
   * Rewrite a record the store holds. One it no longer holds (removed while the caller
   * waited, or a stale copy of it) is refused with NOT_FOUND: an operation racing an rm
   * would otherwise bring the container back on disk and in the index, name and all.
   * The directory is never re-created here: a removal that moves it away meanwhile
   * makes the write fail rather than land in a fresh one.
   */
  async save(rec: ContainerRecord, opts: AtomicWriteOptions = {}): Promise<void> {
    if (this.#byId.get(rec.Id) !== rec) throw notFound(`No such container: ${rec.Id}`);
    try {
      await writeFileAtomic(join(this.dir(rec.Id), 'container.json'), JSON.stringify(rec, null, 1) + '\n', 0o600, opts);
    } catch (err) {
      if (isErrno(err, 'ENOENT') && this.#byId.get(rec.Id) !== rec) throw notFound(`No such container: ${rec.Id}`);
      throw err;
    }
    if (this.#byId.get(rec.Id) === rec) this.#byName.set(rec.Name, rec.Id);
  }

  async delete(id: string): Promise<void> {
    const rec = this.#byId.get(id);
    // One rename takes the record away; the directory's files (log, /etc files) are
    // deleted in the background (common/trash.ts): a dozen thread-pool round trips (~1 ms)
    // on the path of every rm and `run --rm` otherwise. A crash meanwhile: load() sweeps it.
    const trashDir = join(this.root, `${TRASH}${id.slice(0, 12)}-${randomBytes(4).toString('hex')}`);
    try {
      renameSync(this.dir(id), trashDir);
      trash.add(trashDir);
    } catch (err) {
      if (!isErrno(err, 'ENOENT')) await rm(this.dir(id), { recursive: true, force: true });
    }
    this.#byId.delete(id);
    if (rec) this.releaseName(rec.Name, id);
  }

  tryGet(id: string): ContainerRecord | undefined {
    return this.#byId.get(id);
  }

  /** By full id, name (with or without '/'), or unique id prefix, like docker. */
  resolve(ref: string): ContainerRecord {
    if (!ref) throw invalidArgument('container name or ID cannot be empty');
    const byId = this.#byId.get(ref);
    if (byId) return byId;
    const name = ref.startsWith('/') ? ref.slice(1) : ref;
    const byName = this.#byName.get(name);
    if (byName) {
      const rec = this.#byId.get(byName);
      if (rec) return rec;
    }
    if (/^[a-f0-9]+$/.test(ref)) {
      const matches = [...this.#byId.keys()].filter((id) => id.startsWith(ref));
      if (matches.length === 1) return this.#byId.get(matches[0]!)!;
      if (matches.length > 1) throw invalidArgument(`multiple IDs found with provided prefix: ${ref}`);
    }
    throw notFound(`No such container: ${ref}`);
  }
}
