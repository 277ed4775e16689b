/**
 * The containers service: create, inspect, list, rename, remove and prune, plus the
 * waiters. Starting and stopping live in lifecycle.ts, exec in exec.ts; all share
 * this manager's store and per-container lock.
 */
import { join } from 'node:path';
import { rm } from 'node:fs/promises';
import { mkdirSync } from 'node:fs';
import { newId, randomName, CONTAINER_NAME_RE } from '../common/ids.js';
import { KeyedMutex } from '../common/lock.js';
import { readJsonIfExists, writeJsonAtomic } from '../common/fs.js';
import { conflict, invalidArgument, isBerthError, notFound } from '../common/errors.js';
import type { CreateContainerRequest } from '../oci/docker-config.js';
import { mountAll, unmountAll } from '../mount/mount.js';
import { ContainerStore } from './store.js';
import { Waiters, type WaitResult } from './waiters.js';
import { mergeConfig } from './create-config.js';
import { resolveMounts } from './mounts.js';
import { labelMatch, matchesFilters, newestFirst } from './list-filter.js';
import { assertCanRemove, initialState, nowRFC3339Nano } from './rules.js';
import { helperJson } from './archive-run.js';
import { assertNetworksExist, networkDown } from './network-hooks.js';
import { networkWarnings } from './network-request.js';
import type { ContainerDeps } from './deps.js';
import type { ContainerRecord, ListFilters, WaitCondition } from './types.js';
import { resolveDevices } from './devices.js';
import { mark } from './phases.js';
import { shmDir } from './shared-namespaces.js';
import { PreparedStarts } from './prepared-start.js';

/** The journal of a create in progress: volumes made for it, for undo after a crash. */
const CREATING = 'creating.json';

export class ContainerManager {
  readonly deps: ContainerDeps;
  readonly store: ContainerStore;
  readonly lock = new KeyedMutex();
  readonly waiters = new Waiters();
  /** Runtimes made right after a create, for the start that follows (prepared-start.ts). */
  readonly prepared = new PreparedStarts(this.lock);
  /**
   * Containers a user's restart is stopping (dockerd's HasBeenManuallyRestarted), with how
   * many restarts are under way: their exit is not the end of an --rm container. In memory
   * only: after a crash mid-restart an --rm container is removed, as with dockerd.
   */
  readonly restartingByUser = new Map<string, number>();

  constructor(deps: ContainerDeps) {
    this.deps = deps;
    this.store = new ContainerStore(deps.dataRoot);
  }

  /** Where the container's merged root is mounted while it runs (and briefly at create). */
  rootfsDir(id: string): string {
    return join(this.store.dir(id), 'rootfs');
  }

  get(ref: string): ContainerRecord {
    return this.store.resolve(ref);
  }

  /**
   * Under c's lock, before an operation changes it: c is still the store's record and
   * not being removed. An rm that held the lock meanwhile has taken it away; going on
   * would act on (and try to save) a container that no longer exists.
   */
  assertCurrent(c: ContainerRecord, ref: string = c.Name): void {
    if (this.store.tryGet(c.Id) !== c) throw notFound(`No such container: ${ref}`);
    if (c.State.Status === 'removing') throw conflict(`removal of container ${c.Name} is already in progress`);
  }

  attributes(c: ContainerRecord, extra: Record<string, string> = {}): Record<string, string> {
    return { ...(c.Config.Labels ?? {}), image: c.ImageRef, name: c.Name, ...extra };
  }

  publish(c: ContainerRecord, action: string, extra: Record<string, string> = {}): void {
    this.deps.events.publish('container', action, c.Id, this.attributes(c, extra));
  }

  async create(req: CreateContainerRequest, name?: string, opts: { prepareStart?: boolean } = {}): Promise<{ Id: string; Warnings: string[] }> {
    if (!req || typeof req !== 'object') throw invalidArgument('config cannot be empty in order to create a container');
    if (!req.Image) throw invalidArgument('No image was specified: set Config.Image');
    if (name !== undefined && name !== '') {
      if (!CONTAINER_NAME_RE.test(name)) throw invalidArgument(`Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
      name = name.replace(/^\//, '');
    }
    const image = await this.deps.images.get(req.Image);
    const merged = mergeConfig(req, image.config);
    // dockerd records the swap it applies for --memory without --memory-swap (twice the
    // memory): inspect shows it, and a later update of --memory alone is checked against it.
    const hc = merged.hostConfig;
    if (hc.Memory && hc.Memory > 0 && !hc.MemorySwap) hc.MemorySwap = hc.Memory * 2;
    // One OCI runtime per berthd (its --runtime): another name is refused, as dockerd
    // refuses a runtime it has not configured.
    const rt = merged.hostConfig.Runtime;
    if (rt && rt !== this.deps.runtime.name) throw invalidArgument(`unknown or invalid runtime name: ${rt}`);
    await resolveDevices(merged.hostConfig.Devices);
    assertNetworksExist(this, { HostConfig: merged.hostConfig, NetworkingConfig: req.NetworkingConfig ?? {}, Config: merged.config }, req); // networking hook
    const id = newId();
    if (!name) {
      do name = randomName(); while (this.store.nameTaken(name));
    }
    this.store.reserveName(name, id);
    const dir = this.store.dir(id);
    let snapshotMade = false;
    let mounts: Awaited<ReturnType<typeof resolveMounts>> | undefined;
    let made: ContainerRecord | undefined;
    try {
      mkdirSync(dir, { recursive: true, mode: 0o710 }); // one syscall: no thread-pool round trip on every create
      const journaled: string[] = [];
      mounts = await resolveMounts(merged.hostConfig, merged.config, this.deps.volumes, async (vol) => {
        journaled.push(vol);
        await writeJsonAtomic(join(dir, CREATING), { volumes: journaled }, 0o600);
      }, (ref) => {
        // 400, not 404: the docker CLI answers a 404 from create by pulling the image.
        try { return this.store.resolve(ref).Mounts; } catch (e) { throw isBerthError(e, 'NOT_FOUND') ? invalidArgument(e.message) : e; }
      });
      const parent = image.chainIds.at(-1);
      // Mountable at once; its metadata reaches the disk while the start is prepared.
      const { durable } = await this.deps.snapshots.prepareEarly(id, parent);
      snapshotMade = true;
      mark(id, 'snapshot prepared');
      if (mounts.populate.length) await this.#populateVolumes(id, mounts.populate);
      const rec: ContainerRecord = {
        Id: id,
        Name: name,
        Created: nowRFC3339Nano(),
        Path: merged.path,
        Args: merged.args,
        ImageRef: req.Image,
        Image: image.id,
        Config: merged.config,
        HostConfig: merged.hostConfig,
        NetworkingConfig: req.NetworkingConfig ?? {},
        State: initialState(),
        RestartCount: 0,
        LogPath: join(dir, 'ctr.log'),
        ResolvConfPath: join(dir, 'resolv.conf'),
        HostnamePath: join(dir, 'hostname'),
        HostsPath: join(dir, 'hosts'),
        Driver: 'overlay2',
        Mounts: mounts.inspect,
        OciMounts: mounts.oci,
      };
      // The start's runtime is prepared while the record is saved and the answer sent
      // (a crash meanwhile: start-up removes a runtime and a dir that have no record).
      made = rec;
      if (opts.prepareStart !== false) this.prepared.schedule(rec);
      // The record names the snapshot: the snapshot's own record is on disk first.
      await durable;
      await this.store.add(rec);
      await rm(join(dir, CREATING), { force: true });
      mark(id, 'create saved');
      this.publish(rec, 'create');
      return { Id: id, Warnings: networkWarnings(merged.hostConfig) };
    } catch (err) {
      // Nothing half-created: a prepared runtime, snapshot, anonymous volumes, dir and name go again.
      if (made) await this.lock.run(id, () => this.prepared.discard(made!)).catch(() => {});
      if (snapshotMade) await this.deps.snapshots.remove(id).catch(() => {});
      for (const f of mounts?.fresh ?? []) await this.deps.volumes.remove(f.name, { force: true }, () => false).catch(() => {});
      await rm(dir, { recursive: true, force: true });
      this.store.releaseName(name, id);
      throw err;
    }
  }

  /**
   * Start-up: undo creates that berthd did not live to finish (no record was written):
   * the rootfs mount, the snapshot and the volumes made for them (journaled in
   * creating.json before each was made) go, then the directory.
   */
  async cleanupAbandoned(): Promise<void> {
    for (const id of this.store.abandoned.splice(0)) {
      await unmountAll(this.rootfsDir(id)).catch(() => {});
      await this.deps.snapshots.remove(id).catch(() => {});
      const j = await readJsonIfExists<{ volumes?: unknown }>(join(this.store.dir(id), CREATING)).catch(() => undefined);
      for (const name of Array.isArray(j?.volumes) ? j.volumes : []) {
        if (typeof name !== 'string' || this.volumeInUse(name)) continue;
        await this.deps.volumes.remove(name, { force: true }, () => false).catch(() => {});
      }
      await rm(this.store.dir(id), { recursive: true, force: true }).catch(() => {});
    }
  }

  /**
   * Start-up: every active snapshot is a container's root, keyed by its id. One whose
   * container has no record is an orphan (a --rm exit removes the snapshot without an
   * fsync, so a power loss can bring its entry back): it goes, with any mount on it.
   */
  async removeOrphanSnapshots(): Promise<void> {
    for (const s of await this.deps.snapshots.list()) {
      if (s.kind !== 'active' || this.store.tryGet(s.key)) continue;
      if (/^[a-f0-9]{64}$/.test(s.key)) await unmountAll(this.rootfsDir(s.key)).catch(() => {});
      await this.deps.snapshots.remove(s.key).catch(() => {});
    }
  }

  /**
   * docker copies the image's content at a volume's mount path into a new volume. In the
   * copy helper, chrooted: a container that has the volume mounted meanwhile cannot
   * lead the copy out of it (volume-populate.ts).
   */
  async #populateVolumes(id: string, fresh: Array<{ target: string; mountpoint: string }>): Promise<void> {
    const root = this.rootfsDir(id);
    mkdirSync(root, { recursive: true });
    mark(id, 'volumes populating');
    const mounts = await this.deps.snapshots.mounts(id);
    for (const f of fresh) await helperJson({ op: 'populate', root, mounts, path: f.target, volume: f.mountpoint });
  }

  async inspect(ref: string): Promise<ContainerRecord> {
    return this.get(ref);
  }

  async list(opts: { all?: boolean; limit?: number; filters?: ListFilters } = {}): Promise<ContainerRecord[]> {
    const f = opts.filters ?? {};
    const imageIds = new Map<string, string | undefined>();
    for (const a of f.ancestor ?? []) {
      imageIds.set(a, await this.deps.images.get(a).then((i) => i.id, () => undefined));
    }
    const createdOf = (ref: string) => {
      try { return this.store.resolve(ref).Created; } catch { return undefined; }
    };
    let out = this.store.all().filter((c) => {
      if (!opts.all && !(opts.limit && opts.limit > 0) && !c.State.Running && !c.State.Restarting && !f.status?.length && !f.exited?.length) return false;
      return matchesFilters(c, f, (r) => imageIds.get(r), createdOf);
    });
    out.sort(newestFirst);
    if (opts.limit && opts.limit > 0) out = out.slice(0, opts.limit);
    return out;
  }

  async rename(ref: string, newName: string): Promise<void> {
    const c = this.get(ref);
    if (!newName) throw invalidArgument('Neither old nor new names may be empty');
    if (!CONTAINER_NAME_RE.test(newName)) throw invalidArgument(`Invalid container name (${newName}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
    newName = newName.replace(/^\//, '');
    await this.lock.run(c.Id, async () => {
      this.assertCurrent(c, ref);
      if (newName === c.Name) throw invalidArgument(`Renaming a container with the same name as its current name`);
      await this.prepared.discard(c);
      const old = c.Name;
      this.store.reserveName(newName, c.Id);
      try {
        c.Name = newName;
        await this.store.save(c);
      } catch (err) {
        c.Name = old;
        this.store.releaseName(newName, c.Id);
        throw err;
      }
      this.store.releaseName(old, c.Id);
      this.publish(c, 'rename', { oldName: '/' + old });
    });
  }

  async wait(ref: string, condition: WaitCondition, signal?: AbortSignal): Promise<WaitResult> {
    if (!['not-running', 'next-exit', 'removed'].includes(condition)) {
      throw invalidArgument(`invalid condition: "${condition}"`);
    }
    let c: ContainerRecord;
    try {
      c = this.get(ref);
    } catch (err) {
      // An --rm container removed moments ago answers with its exit (waiters.removed).
      const gone = isBerthError(err, 'NOT_FOUND') ? this.waiters.recentlyRemoved(ref) : undefined;
      if (gone) return gone;
      throw err;
    }
    if (condition === 'not-running' && !c.State.Running && !c.State.Restarting) {
      return { StatusCode: c.State.ExitCode, Error: c.State.Error ? { Message: c.State.Error } : null };
    }
    return this.waiters.add(c.Id, condition, signal);
  }

  /**
   * Remove a container. A running one (with force) is killed first, outside the lock,
   * so its exit is recorded by the exit path like any other exit.
   */
  async remove(ref: string, opts: { force?: boolean; volumes?: boolean } = {}, stop?: (c: ContainerRecord) => Promise<void>): Promise<void> {
    const c = this.get(ref);
    assertCanRemove(c, !!opts.force);
    let stopped = false;
    if ((c.State.Running || c.State.Paused || c.State.Restarting) && stop) {
      await stop(c);
      stopped = true;
    }
    await this.lock.run(c.Id, async () => {
      // An --rm container killed by this rm -f is removed by its own exit path: done.
      if (!this.store.tryGet(c.Id)) {
        if (stopped && c.HostConfig.AutoRemove) return;
        throw notFound(`No such container: ${ref}`);
      }
      assertCanRemove(c, false);
      c.State.Status = 'removing';
      if (opts.volumes) c.RemoveVolumes = true;
      await this.store.save(c);
      mark(c.Id, 'removing saved');
      await this.destroy(c, !!opts.volumes);
    });
  }

  /**
   * Release everything a container holds. Called under its lock. `released`: the exit
   * path has just released its runtime, mounts and network (an --rm container's exit);
   * `snapshotRemoved`: and its snapshot.
   */
  async destroy(c: ContainerRecord, removeVolumes: boolean, released = false, snapshotRemoved = false): Promise<void> {
    await this.prepared.discard(c);
    if (!released) {
      await this.deps.runtime.delete(c.Id).catch(() => {});
      await unmountAll(this.rootfsDir(c.Id)).catch(() => {});
      await unmountAll(shmDir(this, c)).catch(() => {});
      await networkDown(this, c); // networking hook
    }
    mark(c.Id, 'destroy: runtime, mounts, network released');
    if (!snapshotRemoved) {
      await this.deps.snapshots.remove(c.Id).catch((err) => {
        if (!isBerthError(err, 'NOT_FOUND')) throw err;
      });
      mark(c.Id, 'snapshot removed');
    }
    if (removeVolumes) {
      for (const m of c.Mounts) {
        if (m.Type !== 'volume' || !m.Name) continue;
        const vol = await this.deps.volumes.get(m.Name).catch(() => undefined);
        if (vol?.anonymous && !this.volumeInUse(m.Name, c.Id)) {
          await this.deps.volumes.remove(m.Name, { force: true }, () => false).catch(() => {});
        }
      }
    }
    await this.store.delete(c.Id);
    this.publish(c, 'destroy');
    this.waiters.removed(c.Id, { StatusCode: c.State.ExitCode, Error: null }, !!c.HostConfig.AutoRemove);
  }

  async prune(filters: { label?: string[]; labelNot?: string[]; until?: string[] } = {}, stop?: (c: ContainerRecord) => Promise<void>): Promise<{ ContainersDeleted: string[]; SpaceReclaimed: number }> {
    const deleted: string[] = [];
    let space = 0;
    const until = filters.until?.[0] ? parseUntil(filters.until[0]) : undefined;
    for (const c of this.store.all()) {
      if (c.State.Running || c.State.Paused || c.State.Restarting) continue;
      if (filters.label?.length && !matchesFilters(c, { label: filters.label }, () => undefined, () => undefined)) continue;
      // docker's label!=key[=value]: containers carrying it are kept.
      if (filters.labelNot?.some((l) => labelMatch(c.Config.Labels, l))) continue;
      if (until !== undefined && Date.parse(c.Created) >= until) continue;
      space += await this.deps.snapshots.usage(c.Id).catch(() => 0);
      try {
        await this.remove(c.Id, {}, stop);
        deleted.push(c.Id);
      } catch {
        // A container that changed state meanwhile is left alone.
      }
    }
    this.deps.events.publish('container', 'prune', '', { reclaimed: String(space) });
    return { ContainersDeleted: deleted, SpaceReclaimed: space };
  }

  imageInUse(imageId: string): boolean {
    return this.store.all().some((c) => c.Image === imageId);
  }

  volumeInUse(name: string, except?: string): boolean {
    return this.store.all().some((c) => c.Id !== except && c.Mounts.some((m) => m.Type === 'volume' && m.Name === name));
  }
}

/** `until` as docker takes it: unix seconds, RFC 3339, or a duration like 10m / 24h ago. */
export function parseUntil(s: string): number {
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s) * 1000;
  const d = /^(\d+)(s|m|h)$/.exec(s);
  if (d) return Date.now() - Number(d[1]) * { s: 1e3, m: 6e4, h: 36e5 }[d[2] as 's' | 'm' | 'h'];
  const t = Date.parse(s);
  if (Number.isNaN(t)) throw invalidArgument(`invalid until filter: ${s}`);
  return t;
}
