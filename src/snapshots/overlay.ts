import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync, unlinkSync } from 'node:fs';
import { mkdir, readdir, rm, symlink } from 'node:fs/promises';
import { release } from 'node:os';
import { join } from 'node:path';
import { alreadyExists, failedPrecondition, invalidArgument, notFound, isErrno } from '../common/errors.js';
import { ensureDir, readJsonIfExists, sweepAtomicTemps, writeFileAtomic, writeJsonAtomic } from '../common/fs.js';
import { KeyedMutex } from '../common/lock.js';
import { trash } from '../common/trash.js';
import type { Mount } from '../mount/mount.js';
import type { SnapshotInfo, Snapshotter } from './types.js';
import { diskUsage, overlayOptions } from './overlay-options.js';

/** What the image side needs beyond the container-facing Snapshotter. */
export interface LayerSnapshotter extends Snapshotter {
  /**
   * Create a committed snapshot by filling a fresh dir: apply(dir) writes the layer
   * and returns its key (the chain id, known only once the layer's diff id is).
   * When a committed snapshot with that key exists already, the new dir is dropped
   * and created is false. On failure nothing is left behind.
   */
  commitLayer(parent: string | undefined, apply: (dir: string) => Promise<string>, opts?: CommitLayerOptions): Promise<{ key: string; created: boolean }>;
  /** Remove a committed snapshot when nothing sits on it; true when removed. */
  removeIfUnused(key: string): Promise<boolean>;
  list(): Promise<SnapshotInfo[]>;
}

export interface CommitLayerOptions {
  /**
   * The parent is still being unpacked: apply into the fresh dir now, commit once this
   * resolves (a rejection drops the dir). An overlay layer dir never reads its parent,
   * so the layers of an image unpack side by side and only commit bottom-up.
   */
  parentReady?: Promise<unknown>;
}

interface Entry {
  id: number;
  kind: 'committed' | 'active';
  parent?: string;
  /** Short name in l/ pointing at this snapshot's fs dir (committed only). */
  link?: string;
  created: string;
}

interface State {
  version: 1;
  snapshots: Record<string, Entry>;
}

/** overlayfs took the volatile option in Linux 5.10; older kernels refuse the mount. */
export function overlayVolatile(kernel = release()): boolean {
  const [major = 0, minor = 0] = kernel.split('.').map((n) => Number.parseInt(n, 10));
  return major > 5 || (major === 5 && minor >= 10);
}

/**
 * Layout under <root>/overlay:
 *   metadata.json      every snapshot (key -> id, kind, parent, link), written atomically
 *   <id>/fs            the layer contents (committed) or the upper dir (active)
 *   <id>/work          overlay's work dir (active only)
 *   l/<LINK>           symlink -> ../<id>/fs, so each lowerdir costs a short path
 *   empty/             the single lower of a snapshot with no parent
 * Dirs not named in metadata.json are leftovers of a crash and removed at start.
 */
export function createOverlaySnapshotter(root: string): LayerSnapshotter {
  return new OverlaySnapshotter(join(root, 'overlay'));
}

/** Prefix of a removed snapshot's directory while it is being deleted. */
const TRASH = '.trash-';

class OverlaySnapshotter implements LayerSnapshotter {
  #lock = new KeyedMutex();
  #state: State | undefined;
  #loading: Promise<State> | undefined;
  #writeTimer: NodeJS.Timeout | undefined;
  #nextId = 1;
  /** Parents of layers being applied right now: they must not be removed meanwhile. */
  #pins = new Map<string, number>();

  constructor(private dir: string) {}

  #metaPath(): string {
    return join(this.dir, 'metadata.json');
  }

  /** The current state (mutations swap in a new object, so never keep an old one). */
  async #load(): Promise<State> {
    await this.#init();
    return this.#state!;
  }

  #init(): Promise<State> {
    this.#loading ??= (async () => {
      await ensureDir(join(this.dir, 'l'), 0o700);
      await ensureDir(join(this.dir, 'empty'), 0o755);
      await sweepAtomicTemps(this.#metaPath());
      const state = (await readJsonIfExists<State>(this.#metaPath())) ?? { version: 1, snapshots: {} };
      const ids = new Set(Object.values(state.snapshots).map((e) => e.id));
      const links = new Set(Object.values(state.snapshots).map((e) => e.link).filter(Boolean));
      let max = 0;
      for (const name of await readdir(this.dir)) {
        // Directories moved aside by a removal that a crash interrupted.
        if (name.startsWith(TRASH)) await rm(join(this.dir, name), { recursive: true, force: true });
        if (!/^\d+$/.test(name)) continue;
        max = Math.max(max, Number(name));
        if (!ids.has(Number(name))) await rm(join(this.dir, name), { recursive: true, force: true });
      }
      for (const name of await readdir(join(this.dir, 'l'))) {
        if (!links.has(name)) await rm(join(this.dir, 'l', name), { force: true });
      }
      for (const id of ids) max = Math.max(max, id);
      this.#nextId = max + 1;
      this.#state = state;
      return state;
    })();
    return this.#loading;
  }

  /** Run a metadata change under the lock; the new state is persisted before it is visible. */
  async #mutate<T>(fn: (s: State) => Promise<T> | T, durable = true): Promise<T> {
    await this.#load();
    return this.#lock.run('state', async () => {
      const draft: State = structuredClone(this.#state!);
      const result = await fn(draft);
      if (durable) {
        await writeFileAtomic(this.#metaPath(), JSON.stringify(draft, null, 1) + '\n', 0o600, { durable });
      } else {
        // Not durable, and not waited for either: the file follows in a few ms (after the
        // --rm exit's answer), one write for any number of such changes (a crash before it
        // brings the entries back, which the callers' start-up removes). Each such write
        // was ~0.4 ms of every `--rm` exit.
        this.#writeSoon();
      }
      this.#state = draft;
      return result;
    });
  }

  #writeSoon(): void {
    if (this.#writeTimer) return;
    this.#writeTimer = setTimeout(() => {
      this.#writeTimer = undefined;
      void this.#lock.run('state', () => writeFileAtomic(this.#metaPath(), JSON.stringify(this.#state, null, 1) + '\n', 0o600, { durable: false }))
        .catch(() => { /* as a crash before it: start-up removes what the file still names */ });
    }, 5);
    this.#writeTimer.unref();
  }

  async #get(key: string): Promise<Entry | undefined> {
    const s = await this.#load();
    return s.snapshots[key];
  }

  #fs(id: number): string {
    return join(this.dir, String(id), 'fs');
  }

  async prepare(key: string, parent: string | undefined): Promise<Mount[]> {
    if (!key) throw invalidArgument('snapshot key is empty');
    await this.#mutate((s) => this.#addActive(s, key, parent));
    return this.mounts(key);
  }

  async prepareEarly(key: string, parent: string | undefined): Promise<{ mounts: Mount[]; durable: Promise<void> }> {
    if (!key) throw invalidArgument('snapshot key is empty');
    await this.#load();
    let early!: (m: Mount[]) => void;
    let failed!: (err: unknown) => void;
    const ready = new Promise<Mount[]>((resolve, reject) => { early = resolve; failed = reject; });
    // Under the state lock until the write is done, so later changes queue behind it; the
    // entry is visible (mountable) from the moment its directories exist.
    const durable = this.#lock.run('state', async () => {
      const before = this.#state!;
      const draft: State = structuredClone(before);
      let mounts: Mount[];
      try {
        await this.#addActive(draft, key, parent);
        mounts = this.#mountsOf(draft, key);
      } catch (err) {
        // Every failure must settle `ready`, or the caller (a container create) waits forever.
        failed(err);
        const made = draft.snapshots[key];
        if (made && !before.snapshots[key]) rmSync(join(this.dir, String(made.id)), { recursive: true, force: true });
        throw err;
      }
      this.#state = draft;
      early(mounts);
      try {
        await writeJsonAtomic(this.#metaPath(), draft, 0o600);
      } catch (err) {
        // Not on disk: not there at all (its directories go at the next start-up).
        if (this.#state === draft) this.#state = before;
        throw err;
      }
    });
    durable.catch(() => {}); // the caller sees the error through `ready` or its own await
    return { mounts: await ready, durable };
  }

  /** A new active snapshot in draft: its directories made, its entry added. */
  async #addActive(s: State, key: string, parent: string | undefined): Promise<void> {
    if (s.snapshots[key]) throw alreadyExists(`snapshot ${key}: already exists`);
    if (parent !== undefined) {
      const p = s.snapshots[parent];
      if (!p) throw notFound(`parent snapshot ${parent}: not found`);
      if (p.kind !== 'committed') throw invalidArgument(`parent snapshot ${parent} is active; only committed snapshots can be parents`);
    }
    // Refused before anything is made: an overlay that cannot be mounted is no use to anyone.
    this.#overlayOptions(s, key, this.#nextId, parent);
    const id = this.#nextId++;
    // Synchronous: two mkdirs (~20 µs each) on every container create, where each thread-pool
    // round trip cost 0.1-0.3 ms before the container's runtime could be prepared.
    mkdirSync(this.#fs(id), { recursive: true, mode: 0o755 });
    mkdirSync(join(this.dir, String(id), 'work'), { mode: 0o700 });
    s.snapshots[key] = { id, kind: 'active', parent, created: new Date().toISOString() };
  }

  async mounts(key: string, opts: { volatile?: boolean } = {}): Promise<Mount[]> {
    const s = await this.#load();
    const mounts = this.#mountsOf(s, key);
    const e = s.snapshots[key]!;
    // A volatile mount leaves work/work/incompat/volatile behind, and the kernel refuses
    // any later mount of that upper dir while it exists (it cannot tell a crash from a
    // clean unmount). Only a container that does not outlive a crash is mounted volatile,
    // so a later mount (a restart) finds its data intact: the marker goes (containers/storage
    // does the same before each mount).
    const marker = join(this.dir, String(e.id), 'work', 'work', 'incompat', 'volatile');
    if (existsSync(marker)) rmSync(marker, { recursive: true, force: true });
    if (opts.volatile && overlayVolatile()) mounts[0]!.options.push('volatile');
    return mounts;
  }

  #mountsOf(s: State, key: string): Mount[] {
    const e = s.snapshots[key];
    if (!e) throw notFound(`snapshot ${key}: not found`);
    if (e.kind !== 'active') throw invalidArgument(`snapshot ${key} is committed; prepare an active snapshot on it to mount it`);
    return [{ type: 'overlay', source: 'overlay', options: this.#overlayOptions(s, key, e.id, e.parent) }];
  }

  /** The overlay options of active snapshot `id` on `parent`; refused when too deep to mount. */
  #overlayOptions(s: State, key: string, id: number, parent: string | undefined): string[] {
    const lowers: string[] = [];
    for (let p = parent; p !== undefined; p = s.snapshots[p]?.parent) {
      const pe = s.snapshots[p];
      if (!pe?.link) throw failedPrecondition(`snapshot ${key}: ancestor ${p} is missing; the snapshot store is inconsistent`);
      lowers.push(join(this.dir, 'l', pe.link));
    }
    if (lowers.length === 0) lowers.push(join(this.dir, 'empty'));
    return overlayOptions(lowers, this.#fs(id), join(this.dir, String(id), 'work'));
  }

  async upperDir(key: string): Promise<string> {
    const e = await this.#get(key);
    if (!e || e.kind !== 'active') throw notFound(`active snapshot ${key}: not found`);
    return this.#fs(e.id);
  }

  async committedDir(key: string): Promise<string> {
    const e = await this.#get(key);
    if (!e || e.kind !== 'committed') throw notFound(`committed snapshot ${key}: not found`);
    return this.#fs(e.id);
  }

  async stat(key: string): Promise<SnapshotInfo | undefined> {
    const e = await this.#get(key);
    return e && { key, parent: e.parent, kind: e.kind, created: e.created };
  }

  async list(): Promise<SnapshotInfo[]> {
    const s = await this.#load();
    return Object.entries(s.snapshots).map(([key, e]) => ({ key, parent: e.parent, kind: e.kind, created: e.created }));
  }

  async commitLayer(parent: string | undefined, apply: (dir: string) => Promise<string>, opts: CommitLayerOptions = {}): Promise<{ key: string; created: boolean }> {
    const deferred = opts.parentReady !== undefined;
    // Awaited only after apply: mark it handled now, or a parent failing meanwhile
    // would be an unhandled rejection (fatal to the daemon).
    opts.parentReady?.catch(() => {});
    const id = await this.#mutate(async (s) => {
      // A deferred parent is checked (and cannot vanish) in the commit step below.
      if (parent !== undefined && !deferred) {
        const p = s.snapshots[parent];
        if (!p || p.kind !== 'committed') throw notFound(`parent snapshot ${parent}: not found`);
        this.#pins.set(parent, (this.#pins.get(parent) ?? 0) + 1);
      }
      const n = this.#nextId++;
      await mkdir(this.#fs(n), { recursive: true, mode: 0o755 });
      return n;
    });
    const unpin = () => {
      if (parent === undefined) return;
      const c = (this.#pins.get(parent) ?? 1) - 1;
      if (c <= 0) this.#pins.delete(parent);
      else this.#pins.set(parent, c);
    };
    const drop = () => rm(join(this.dir, String(id)), { recursive: true, force: true });
    let key: string;
    try {
      key = await apply(this.#fs(id));
      await opts.parentReady;
    } catch (err) {
      await drop();
      unpin();
      throw err;
    }
    try {
      return await this.#mutate(async (s) => {
        if (parent !== undefined && s.snapshots[parent]?.kind !== 'committed') throw notFound(`parent snapshot ${parent}: not found`);
        const existing = s.snapshots[key];
        if (existing) {
          if (existing.kind !== 'committed') throw alreadyExists(`snapshot ${key}: exists as an active snapshot`);
          await drop();
          return { key, created: false };
        }
        const link = await this.#newLink(id);
        s.snapshots[key] = { id, kind: 'committed', parent, link, created: new Date().toISOString() };
        return { key, created: true };
      });
    } catch (err) {
      await drop();
      throw err;
    } finally {
      unpin();
    }
  }

  async #newLink(id: number): Promise<string> {
    for (;;) {
      // 6 chars of [A-Z2-7] (30 bits; a collision just retries): with the data root
      // /var/lib/berth each lower costs 32 bytes, so ~120 layers fit under a page.
      const name = base32(randomBytes(4)).slice(0, 6);
      try {
        await symlink(`../${id}/fs`, join(this.dir, 'l', name));
        return name;
      } catch (err) {
        if (!isErrno(err, 'EEXIST')) throw err;
      }
    }
  }

  #dependents(s: State, key: string): string[] {
    return Object.entries(s.snapshots).filter(([, e]) => e.parent === key).map(([k]) => k);
  }

  async remove(key: string, opts: { durable?: boolean } = {}): Promise<void> {
    const removed = await this.#removeWhere(key, true, opts.durable !== false);
    if (!removed) throw notFound(`snapshot ${key}: not found`);
  }

  async removeIfUnused(key: string): Promise<boolean> {
    return this.#removeWhere(key, false);
  }

  async #removeWhere(key: string, strict: boolean, durable = true): Promise<boolean> {
    // Nothing to remove, nothing to write.
    if (!(await this.#get(key))) return false;
    let gone: Entry | undefined;
    await this.#mutate((s) => {
      const e = s.snapshots[key];
      if (!e) return;
      const deps = this.#dependents(s, key);
      if (deps.length > 0 || this.#pins.has(key)) {
        if (!strict) return;
        throw failedPrecondition(`snapshot ${key}: ${deps.length || 'a'} snapshot(s) depend on it; remove them first`);
      }
      delete s.snapshots[key];
      gone = e;
    }, durable);
    if (!gone) return false;
    // Metadata no longer names it, so a crash from here leaves only garbage that start-up
    // removes. The directory is moved aside at once (one rename) and deleted in the background
    // (common/trash.ts): on every `run --rm` that deletion was a dozen thread-pool round trips
    // (~1 ms) between the exit and the answer to `wait?condition=removed`.
    if (gone.link) {
      try { unlinkSync(join(this.dir, 'l', gone.link)); } catch { /* already gone */ }
    }
    const dir = join(this.dir, String(gone.id));
    const trashDir = join(this.dir, `${TRASH}${gone.id}-${randomBytes(4).toString('hex')}`);
    try {
      renameSync(dir, trashDir);
    } catch (err) {
      if (!isErrno(err, 'ENOENT')) await rm(dir, { recursive: true, force: true });
      return true;
    }
    trash.add(trashDir);
    return true;
  }

  async usage(key: string): Promise<number> {
    const e = await this.#get(key);
    if (!e) throw notFound(`snapshot ${key}: not found`);
    return diskUsage(this.#fs(e.id));
  }
}

function base32(buf: Buffer): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  let out = '';
  for (const b of buf) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out;
}
