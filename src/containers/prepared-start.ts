/**
 * A created container's runtime, made ahead of its start. `docker run` is a create, then
 * (after the client's attach and wait requests, ~5 ms on the docker CLI) a start; the
 * start's longest step is the runtime's create (conmon, `runc create`: namespaces,
 * mounts, cgroups, the seccomp filter), ~35 ms here. So right after a create berthd
 * mounts the rootfs, builds the spec and has the runtime create the container, whose
 * process then waits on its exec FIFO; the start that follows only releases it.
 *
 * Nothing of it shows: the container stays `created` (no Pid, no event) and a prepared
 * runtime that no start claims within TTL_MS is released again. It is made under the
 * container's lock, so a start (or any other change) queues behind it. A start takes it
 * only if the container's configuration is still the one it was made from and its
 * process still lives; anything that changes what a start would build (update, rename,
 * network connect, docker cp) or that mounts the snapshot elsewhere discards it first.
 * A container on networks gets an empty network namespace (loopback only); its endpoints
 * (address, published ports, DNS name) are made at the start, so none shows before it,
 * as with docker. Not prepared: containers that join another container's namespaces
 * (`container:<x>`, which must be running at the start) or use legacy links, and creates
 * whose caller says no start follows soon (a build's COPY containers).
 * BERTH_PREPARE_START=0 turns it off (to measure it).
 */
import { availableParallelism } from 'node:os';
import type { KeyedMutex } from '../common/lock.js';
import type { ContainerRecord } from './types.js';

/**
 * At most this many preparations under way or unclaimed at once: one per core. Each costs
 * ~35 ms of CPU; a `docker create` loop that never starts would otherwise have every
 * create compete with the preparations of the ones before it (measured: 30 sequential
 * creates 554 ms without preparing, 1012 ms preparing each). A `docker run` claims its
 * preparation at once, so it rarely meets the limit.
 */
const MAX_OUTSTANDING = Math.max(1, availableParallelism());

/** How long a prepared runtime waits for its start before it is released (tests shorten it). */
const TTL_MS = Number(process.env.BERTH_PREPARE_START_TTL_MS) > 0 ? Number(process.env.BERTH_PREPARE_START_TTL_MS) : 2000;

/** A prepared runtime: its process, and whether the start still has to wire the network. */
export interface Prepared {
  pid: number;
  networkDeferred: boolean;
}

export interface PreparedStartHooks {
  /** Rootfs, spec and the runtime's create, for c (under its lock). */
  build(c: ContainerRecord): Promise<Prepared>;
  /** Undo build, also a half-done one: runtime, mounts, network. */
  release(c: ContainerRecord): Promise<void>;
}

interface Entry extends Prepared {
  fingerprint: string;
  timer: NodeJS.Timeout;
}

export class PreparedStarts {
  readonly #lock: KeyedMutex;
  readonly #entries = new Map<string, Entry>();
  /** Preparations under way (close waits for them). */
  readonly #building = new Set<string>();
  readonly #enabled: boolean;
  hooks?: PreparedStartHooks;
  #closed = false;

  constructor(lock: KeyedMutex, enabled = process.env.BERTH_PREPARE_START !== '0') {
    this.#lock = lock;
    this.#enabled = enabled;
  }

  /** After a create: queue the preparation under c's lock, ahead of the start to come. */
  schedule(c: ContainerRecord): void {
    const hooks = this.hooks;
    if (!this.#enabled || !hooks || !eligible(c)) return;
    if (this.#entries.size + this.#building.size >= MAX_OUTSTANDING) return;
    this.#building.add(c.Id);
    void this.#lock.run(c.Id, async () => {
      if (this.#closed || c.State.Status !== 'created' || c.State.Running || this.#entries.has(c.Id)) return;
      const fingerprint = fingerprintOf(c);
      let made: Prepared;
      try {
        made = await hooks.build(c);
      } catch {
        // The start reports the failure itself (with its own state and message).
        await hooks.release(c).catch(() => {});
        return;
      }
      const timer = setTimeout(() => {
        void this.#lock.run(c.Id, () => this.discard(c)).catch(() => {});
      }, TTL_MS);
      timer.unref();
      this.#entries.set(c.Id, { ...made, fingerprint, timer });
    }).catch(() => {}).finally(() => this.#building.delete(c.Id));
  }

  /**
   * Under c's lock, by its start: the prepared process's pid, or undefined when there is
   * none to use (never made, or stale: then it is released here).
   */
  async take(c: ContainerRecord): Promise<Prepared | undefined> {
    const e = this.#entries.get(c.Id);
    if (!e) return undefined;
    this.#entries.delete(c.Id);
    clearTimeout(e.timer);
    if (e.fingerprint === fingerprintOf(c) && alive(e.pid)) return { pid: e.pid, networkDeferred: e.networkDeferred };
    await this.hooks?.release(c).catch(() => {});
    return undefined;
  }

  /** Under c's lock: release c's prepared runtime, if it has one. */
  async discard(c: ContainerRecord): Promise<void> {
    const e = this.#entries.get(c.Id);
    if (!e) return;
    this.#entries.delete(c.Id);
    clearTimeout(e.timer);
    await this.hooks?.release(c).catch(() => {});
  }

  /** berthd's shutdown: every prepared runtime goes (a created container runs nothing). */
  async close(get: (id: string) => ContainerRecord | undefined): Promise<void> {
    this.#closed = true;
    const ids = new Set([...this.#entries.keys(), ...this.#building]);
    // Under each lock: a preparation under way has finished (or not begun) by then.
    await Promise.all([...ids].map((id) => this.#lock.run(id, async () => {
      const c = get(id);
      if (c) await this.discard(c);
      else {
        clearTimeout(this.#entries.get(id)?.timer);
        this.#entries.delete(id);
      }
    }).catch(() => {})));
  }
}

/** No network, PID or IPC namespace of another container (it must be running at the start). */
function eligible(c: ContainerRecord): boolean {
  const hc = c.HostConfig;
  if ([hc.NetworkMode, hc.PidMode, hc.IpcMode].some((m) => (m ?? '').startsWith('container:'))) return false;
  // Legacy links read the targets' addresses at start.
  return !hc.Links?.length;
}

/** Everything of the record a start builds from. */
function fingerprintOf(c: ContainerRecord): string {
  return JSON.stringify([c.Name, c.Config, c.HostConfig, c.NetworkingConfig, c.OciMounts, c.Mounts]);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
