/**
 * The ContainerService facade: one object the api (and later cri) call, composed of
 * the manager (records), lifecycle (start/stop/exit), attach hub and exec manager.
 */
import { conflict, invalidArgument } from '../common/errors.js';
import type { CreateContainerRequest } from '../oci/docker-config.js';
import { ContainerManager } from './manager.js';
import { Lifecycle } from './lifecycle.js';
import { ExecManager } from './exec.js';
import { readLogs } from './logs/index.js';
import { top, cgroupPids } from './support/top.js';
import type { ContainerDeps } from './deps.js';
import { ContainerArchive } from './archive.js';
import { containerChanges } from './changes.js';
import { commitContainer, type CommitRequest } from './commit.js';
import type { Readable } from 'node:stream';
// Resource control and supervision (issue 3): stats, update, health checks.
import { statsSamples, type StatsJSON, type StatsOptions } from './stats.js';
import { updateContainer, type UpdateConfig } from './update.js';
import { HealthMonitor } from './health.js';
import { dropUnsupported } from './update-validate.js';
import { dropPlatformFields } from './support/platform-checks.js';
import { containerCgroupsPath } from '../cgroups/index.js';
import { connectNetwork, disconnectNetwork, type NetworkConnectRequest } from './network-hooks.js';
import { inspectLinks } from './network-request.js';
import { removeLink } from './link-remove.js';
import type {
  ArchivePutOptions, AttachOptions, ContainerRecord, ContainerService, ExecConfig, ExecRecord, ListFilters, LogEntry, LogOptions, StdioSession, WaitCondition,
} from './types.js';

export class Containers implements ContainerService {
  readonly #m: ContainerManager;
  readonly #life: Lifecycle;
  readonly #exec: ExecManager;
  readonly #archive: ContainerArchive;
  readonly #health: HealthMonitor;

  constructor(deps: ContainerDeps) {
    this.#m = new ContainerManager(deps);
    this.#life = new Lifecycle(this.#m);
    this.#exec = new ExecManager(this.#m);
    this.#archive = new ContainerArchive(this.#m);
    this.#health = new HealthMonitor(this.#m);
    // Health probes follow the container: a (re)start begins them afresh, an exit ends them.
    deps.events.subscribe((ev) => {
      if (ev.Type !== 'container') return;
      if (ev.Action === 'start') {
        const c = this.#m.store.tryGet(ev.Actor.ID);
        if (c?.State.Running) this.#health.start(c);
      } else if (ev.Action === 'die' || ev.Action === 'destroy') {
        this.#health.stop(ev.Actor.ID);
      }
    });
    deps.events.subscribe((ev) => {
      if (ev.Type === 'container' && ev.Action === 'destroy') {
        this.#exec.forgetContainer(ev.Actor.ID);
        this.#life.attach.endPending(ev.Actor.ID);
      }
    });
  }

  /** Load records and re-adopt what conmon kept running while berthd was away. */
  async reconcile(): Promise<void> {
    await this.#life.reconcile();
    // Containers adopted from conmon keep their health state; probing resumes.
    for (const c of this.#m.store.all()) if (c.State.Running && !this.#health.running(c.Id)) this.#health.start(c, false);
  }

  /** berthd's shutdown: runtimes prepared for starts that did not come go (created containers run nothing). */
  close(): Promise<void> {
    return this.#m.prepared.close((id) => this.#m.store.tryGet(id));
  }

  /** docker stats: samples of the container's cgroup and network counters. */
  async stats(ref: string, opts: StatsOptions, signal?: AbortSignal): Promise<AsyncIterable<StatsJSON>> {
    const c = this.#m.get(ref);
    return statsSamples(() => this.#m.store.tryGet(c.Id), opts, signal);
  }

  /** docker update: resources and restart policy, live on a running container. */
  update(ref: string, cfg: UpdateConfig): Promise<{ Warnings: string[] }> {
    return updateContainer(this.#m, ref, cfg);
  }

  async create(req: CreateContainerRequest, name?: string, opts: { prepareStart?: boolean } = {}) {
    // Limits this host cannot enforce are dropped with dockerd's warnings (issue 3).
    const { req: accepted, warnings } = dropUnsupported(req);
    // Windows-only fields (CpuPercent, CpuCount): dropped with dockerd's warning.
    const { req: kept, warnings: platform } = dropPlatformFields(accepted);
    const r = await this.#m.create(kept, name, opts);
    return { Id: r.Id, Warnings: [...r.Warnings, ...warnings, ...platform] };
  }

  start(ref: string): Promise<void> {
    return this.#life.start(ref);
  }

  stop(ref: string, opts?: { timeout?: number; signal?: string }): Promise<void> {
    return this.#life.stop(ref, opts);
  }

  kill(ref: string, signal?: string): Promise<void> {
    return this.#life.kill(ref, signal);
  }

  restart(ref: string, opts?: { timeout?: number; signal?: string }): Promise<void> {
    return this.#life.restart(ref, opts);
  }

  pause(ref: string): Promise<void> {
    return this.#life.pause(ref);
  }

  unpause(ref: string): Promise<void> {
    return this.#life.unpause(ref);
  }

  wait(ref: string, condition: WaitCondition, signal?: AbortSignal) {
    return this.#m.wait(ref, condition, signal);
  }

  remove(ref: string, opts?: { force?: boolean; volumes?: boolean }): Promise<void> {
    return this.#m.remove(ref, opts, (c) => this.#life.killForRemoval(c));
  }

  list(opts?: { all?: boolean; limit?: number; filters?: ListFilters }): Promise<ContainerRecord[]> {
    return this.#m.list(opts);
  }

  async inspect(ref: string): Promise<ContainerRecord & { ExecIDs: string[] | null }> {
    const c = await this.#m.inspect(ref);
    const ids = this.#exec.idsOf(c.Id);
    // Legacy links shown as dockerd's link index has them: "/target:/linker/alias".
    const links = c.HostConfig.Links?.length ? { HostConfig: { ...c.HostConfig, Links: inspectLinks(this.#m, c) } } : {};
    return { ...c, ...links, ExecIDs: ids.length ? ids : null };
  }

  async logs(ref: string, opts: LogOptions, signal?: AbortSignal): Promise<AsyncIterable<LogEntry>> {
    const c = this.#m.get(ref);
    if (c.HostConfig.LogConfig?.Type === 'none') {
      throw invalidArgument('configured logging driver does not support reading');
    }
    const follow = !!opts.follow && (c.State.Running || c.State.Restarting);
    return readLogs(c.LogPath, { ...opts, follow }, signal, follow ? this.#life.exited(c.Id) : undefined);
  }

  attach(ref: string, opts: AttachOptions): Promise<StdioSession> {
    return this.#life.attach.attach(ref, opts);
  }

  connectNetwork(ref: string, r: NetworkConnectRequest): Promise<void> {
    return connectNetwork(this.#m, ref, r);
  }

  disconnectNetwork(ref: string, network: string): Promise<void> {
    return disconnectNetwork(this.#m, ref, network);
  }

  async resize(ref: string, height: number, width: number): Promise<void> {
    const c = this.#m.get(ref);
    if (!c.State.Running) throw invalidArgument(`Container ${c.Id} is not running`);
    await this.#m.deps.runtime.resize(c.Id, height, width);
  }

  async top(ref: string, psArgs?: string) {
    const c = this.#m.get(ref);
    if (c.State.Restarting && !c.State.Running) throw conflict(`Container ${c.Id} is restarting, wait until the container is running`);
    if (!c.State.Running) throw invalidArgument(`Container ${c.Id} is not running`);
    return top(await cgroupPids(containerCgroupsPath(c.Id, c.HostConfig.CgroupParent)), psArgs);
  }

  rename(ref: string, newName: string): Promise<void> {
    return this.#m.rename(ref, newName);
  }

  /** docker rm --link PARENT/ALIAS: drop that legacy link from the parent. */
  removeLink(name: string): Promise<void> {
    return removeLink(this.#m, name);
  }

  prune(filters?: { label?: string[]; labelNot?: string[]; until?: string[] }) {
    return this.#m.prune(filters, (c) => this.#life.killForRemoval(c));
  }

  execCreate(ref: string, cfg: ExecConfig): Promise<string> {
    return this.#exec.create(ref, cfg);
  }

  execStart(execId: string, opts: { detach?: boolean; tty?: boolean }): Promise<StdioSession | undefined> {
    return this.#exec.start(execId, opts);
  }

  execInspect(execId: string): Promise<ExecRecord> {
    return this.#exec.inspect(execId);
  }

  execResize(execId: string, height: number, width: number): Promise<void> {
    return this.#exec.resize(execId, height, width);
  }

  archiveStat(ref: string, path: string) {
    return this.#archive.statPath(ref, path);
  }

  archiveGet(ref: string, path: string) {
    return this.#archive.copyOut(ref, path);
  }

  archivePut(ref: string, path: string, tar: Readable, opts: ArchivePutOptions): Promise<void> {
    return this.#archive.copyIn(ref, path, tar, opts);
  }

  export(ref: string) {
    return this.#archive.export(ref);
  }

  changes(ref: string) {
    return containerChanges(this.#m, ref);
  }

  commit(ref: string, req: CommitRequest): Promise<string> {
    return commitContainer(this.#m, ref, req, { pause: (id) => this.#life.pause(id), unpause: (id) => this.#life.unpause(id) });
  }

  imageInUse(imageId: string): boolean {
    return this.#m.imageInUse(imageId);
  }

  imageUsers(imageId: string): Array<{ id: string; running: boolean }> {
    // docker counts paused and restarting containers as running here.
    return this.#m.store.all().filter((c) => c.Image === imageId).map((c) => ({ id: c.Id, running: c.State.Running || c.State.Restarting }));
  }

  volumeInUse(name: string): boolean {
    return this.#m.volumeInUse(name);
  }
}

export function createContainerService(deps: ContainerDeps): Containers {
  return new Containers(deps);
}
