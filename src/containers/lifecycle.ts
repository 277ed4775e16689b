/**
 * Start, stop, kill, restart, pause and the exit path. Every transition runs under
 * the container's lock and is persisted before it is announced.
 */
import { mkdirSync } from 'node:fs';
import { BerthError, conflict, errorMessage, isBerthError, notModified } from '../common/errors.js';
import { sleep } from '../common/sleep.js';
import { mountAll, unmountAll, hasOwnFileSystem } from '../mount/mount.js';
import type { ContainerManager } from './manager.js';
import type { ContainerRecord } from './types.js';
import { assertCanStart, exitCodeForStartError, nowRFC3339Nano, ZERO_TIME } from './rules.js';
import { prepareContainerSpec, rewriteEtcInPlace } from './spec.js';
import { parseSignal } from './support/signals.js';
import { AttachHub } from './attach-hub.js';
import { RestartSupervisor } from './restart.js';
import { networkUp, networkDown, requestedNetworks } from './network-hooks.js';
import { addThrottleDevices } from '../cgroups/index.js';
import { ExitPath } from './exit-path.js';
import { conmonLogCap } from './logs/index.js';
import { mark } from './phases.js';
import { adoptPausedState, pauseContainer, unpauseContainer } from './pause.js';
import { shmDir } from './shared-namespaces.js';

export class Lifecycle {
  readonly m: ContainerManager;
  readonly attach: AttachHub;
  readonly restarts: RestartSupervisor;
  readonly exits: ExitPath;

  constructor(m: ContainerManager) {
    this.m = m;
    this.attach = new AttachHub(m);
    this.restarts = new RestartSupervisor((id) => this.#restartAfterExit(id));
    this.exits = new ExitPath(m, (c) => this.#armRestart(c), (id) => this.attach.flushed(id));
    m.prepared.hooks = {
      build: (c) => this.#createRuntime(c, true),
      release: async (c) => {
        await m.deps.runtime.delete(c.Id).catch(() => {});
        await this.#releaseRuntime(c);
      },
    };
  }

  /** Resolves when the running container has exited and its exit is recorded. */
  exited(id: string): Promise<void> {
    return this.exits.exited(id);
  }

  async start(ref: string): Promise<void> {
    const c = this.m.get(ref);
    try {
      await this.m.lock.run(c.Id, async () => {
        this.m.assertCurrent(c, ref);
        assertCanStart(c);
        c.StoppedByUser = false;
        this.restarts.cancel(c.Id);
        await this.#startLocked(c);
      });
    } catch (err) {
      // dockerd removes an auto-remove container whose start failed (docker run --rm
      // waits for `removed` after reporting the error).
      if (c.HostConfig.AutoRemove && !c.State.Running && !isBerthError(err, 'NOT_MODIFIED')) {
        setImmediate(() => void this.m.remove(c.Id, { volumes: true }).catch(() => {}));
      }
      throw err;
    }
  }

  async #startLocked(c: ContainerRecord): Promise<void> {
    const { runtime } = this.m.deps;
    // A runtime made right after the create (prepared-start.ts) is used if still current.
    const prepared = await this.m.prepared.take(c);
    let created = prepared !== undefined;
    try {
      let pid: number;
      if (prepared) {
        pid = prepared.pid;
        if (prepared.networkDeferred) {
          // Its namespace exists (empty): wired now, and /etc follows the new address.
          await networkUp(this.m, c);
          mark(c.Id, 'network up');
          await rewriteEtcInPlace(this.m, c);
        }
      } else pid = (await this.#createRuntime(c)).pid;
      created = true;
      // Sessions that attached before start join now, before the process runs.
      await this.attach.connectPending(c);
      await runtime.start(c.Id, pid);
      mark(c.Id, 'started');
      // Watched before the running record is saved: a stop arriving meanwhile must find
      // the exit promise (the exit path waits for this lock, so it sees the saved state).
      this.exits.watch(c.Id);
      c.State = {
        ...c.State,
        Status: 'running', Running: true, Paused: false, Restarting: false, OOMKilled: false, Dead: false,
        Pid: pid, ExitCode: 0, Error: '', StartedAt: nowRFC3339Nano(), FinishedAt: ZERO_TIME,
      };
      // Not fsynced: after a berthd crash the page cache still has it, and a power loss
      // kills the container anyway (reconcile then finds it not running).
      await this.m.store.save(c, { durable: false });
      mark(c.Id, 'running saved');
      this.m.publish(c, 'start');
    } catch (err) {
      if (created) await runtime.delete(c.Id).catch(() => {});
      await this.#releaseRuntime(c);
      const msg = errorMessage(err);
      c.State = { ...c.State, Status: c.State.StartedAt === ZERO_TIME ? 'created' : 'exited', Running: false, Pid: 0, Error: msg, ExitCode: exitCodeForStartError(msg) };
      await this.m.store.save(c).catch(() => {});
      this.attach.endPending(c.Id);
      if (isBerthError(err) && err.code !== 'INTERNAL') throw err;
      // dockerd answers a failed start with 400 and the runtime's text (the CLI reads it).
      throw new BerthError(/no such file|not found|permission denied|not a directory/i.test(msg) ? 'INVALID_ARGUMENT' : 'INTERNAL', msg, { cause: err });
    }
  }

  /**
   * Rootfs mounted, network up, spec built and the runtime's create: the container's
   * process exists and waits for its start. Returns its pid; undone by #releaseRuntime.
   * deferNetwork (a start prepared ahead): a container on networks gets an empty
   * namespace now and its endpoints at the start (no address, port or DNS name before).
   */
  async #createRuntime(c: ContainerRecord, deferNetwork = false): Promise<{ pid: number; networkDeferred: boolean }> {
    const { runtime, snapshots, network } = this.m.deps;
    const root = this.m.rootfsDir(c.Id);
    mkdirSync(root, { recursive: true }); // on every start's critical path: no thread-pool round trip
    // --rm: the container's writes go with it, so the overlay need not sync them (volatile).
    if (!hasOwnFileSystem(root)) await mountAll(await snapshots.mounts(c.Id, { volatile: !!c.HostConfig.AutoRemove }), root);
    mark(c.Id, 'rootfs mounted');
    let netns: string | undefined;
    if (deferNetwork && network && requestedNetworks(c).length > 0) {
      c.Network = undefined;
      netns = network.reserveNamespace(c.Id);
      mark(c.Id, 'network namespace reserved');
    } else {
      // Networking hook: the netns exists and is configured before the process starts.
      await networkUp(this.m, c);
      mark(c.Id, 'network up');
    }
    const spec = await prepareContainerSpec(this.m, c, root, netns);
    // Device I/O throttles (--device-read-bps …) need the host's major:minor (issue 3).
    addThrottleDevices(spec, c.HostConfig);
    mark(c.Id, 'spec built');
    const { pid } = await runtime.create({
      id: c.Id,
      spec,
      rootfs: root,
      logPath: c.LogPath,
      // conmon's own cap, above max-size so the rotator acts first: only a flood
      // (a `yes` writes ~400 MB/s) outruns its once-a-second check and meets it.
      logSizeMax: conmonLogCap(this.exits.logLimits(c).maxSize),
      terminal: !!c.Config.Tty,
      stdin: !!c.Config.OpenStdin,
      // docker closes stdin on a client's EOF/detach only for StdinOnce without a tty.
      leaveStdinOpen: !(c.Config.StdinOnce && !c.Config.Tty),
    });
    mark(c.Id, 'created');
    return { pid, networkDeferred: netns !== undefined };
  }

  /** Everything #createRuntime made (also half of it): mounts and the network. */
  async #releaseRuntime(c: ContainerRecord): Promise<void> {
    await unmountAll(this.m.rootfsDir(c.Id)).catch(() => {});
    await unmountAll(shmDir(this.m, c)).catch(() => {});
    await networkDown(this.m, c); // networking hook: nothing half-wired stays
  }

  /**
   * Under the lock: arm the policy's back-off and, like docker, show the container as
   * restarting (inspect Status "restarting", ps "Restarting (N) …") until it runs again.
   */
  async #armRestart(c: ContainerRecord): Promise<void> {
    if (c.State.Running || c.State.Status === 'removing') return;
    const armed = this.restarts.consider(c);
    if (!armed && !c.State.Restarting) return;
    c.State = { ...c.State, Status: armed ? 'restarting' : 'exited', Restarting: armed };
    await this.m.store.save(c);
  }

  /**
   * A stop, kill or rm -f of a container waiting out its back-off: the pending restart
   * is dropped and the container stays exited. False when the restart won the race
   * and the container runs again (the caller then stops it like any running one).
   */
  async #cancelRestart(c: ContainerRecord): Promise<boolean> {
    return this.m.lock.run(c.Id, async () => {
      this.restarts.cancel(c.Id);
      if (c.State.Running) return false;
      if (c.State.Restarting) {
        c.State = { ...c.State, Status: 'exited', Restarting: false };
        await this.m.store.save(c);
      }
      return true;
    });
  }

  async #restartAfterExit(id: string): Promise<void> {
    const c = this.m.store.tryGet(id);
    if (!c || c.State.Running || c.StoppedByUser) return;
    await this.m.lock.run(id, async () => {
      if (this.m.store.tryGet(id) !== c || c.State.Running || c.StoppedByUser) return;
      c.RestartCount++;
      c.State.Restarting = true;
      try {
        // dockerd's policy restart is die, then start: `restart` is `docker restart`'s alone.
        await this.#startLocked(c);
      } catch {
        c.State.Restarting = false;
        await this.m.store.save(c).catch(() => {});
        await this.#armRestart(c).catch(() => {});
      }
    });
  }

  /** TERM (or the image's StopSignal), then KILL after the timeout; resolves once exited. */
  async stop(ref: string, opts: { timeout?: number; signal?: string } = {}): Promise<void> {
    const c = this.m.get(ref);
    // Under the lock: an rm that got there first has removed the container (No such
    // container), and no save here can bring its record back.
    const running = await this.m.lock.run(c.Id, async () => {
      this.m.assertCurrent(c, ref);
      this.restarts.cancel(c.Id);
      await this.#persistStoppedByUser(c);
      return c.State.Running || c.State.Restarting;
    });
    if (!running) throw notModified('container already stopped');
    if (!c.State.Running && (await this.#cancelRestart(c))) {
      this.m.publish(c, 'stop');
      return;
    }
    await this.stopRunning(c, opts);
  }

  /**
   * Under the lock, before any signal (dockerd's HasBeenManuallyStopped): a berthd that
   * dies before the exit is recorded must not find an unless-stopped or on-failure
   * container free to start again at its restart.
   */
  async #persistStoppedByUser(c: ContainerRecord): Promise<void> {
    if (c.StoppedByUser) return;
    c.StoppedByUser = true;
    await this.m.store.save(c);
  }

  async stopRunning(c: ContainerRecord, opts: { timeout?: number; signal?: string } = {}): Promise<void> {
    const signal = parseSignal(opts.signal || c.Config.StopSignal || 'SIGTERM');
    const timeout = opts.timeout ?? c.Config.StopTimeout ?? 10;
    const exited = this.exited(c.Id);
    if (c.State.Paused) await this.m.deps.runtime.resume(c.Id).catch(() => {});
    // The stop signal goes to PID 1 only, as dockerd sends it: a shell or supervisor
    // there decides how its children end. SIGKILL after the timeout reaches them all.
    await this.m.deps.runtime.kill(c.Id, signal, false).catch(() => {});
    mark(c.Id, 'stop signalled');
    this.m.publish(c, 'kill', { signal: String(signal) });
    if (timeout >= 0) {
      const timedOut = await Promise.race([exited.then(() => false), sleep(timeout * 1000).then(() => true)]);
      if (timedOut) {
        await this.m.deps.runtime.kill(c.Id, 9, true).catch(() => {});
        this.m.publish(c, 'kill', { signal: '9' });
      }
    }
    await exited;
    this.m.publish(c, 'stop');
  }

  /**
   * rm -f: no restart policy brings it back, SIGKILL, wait for the recorded exit.
   * Events as dockerd's: kill, die (then destroy); no stop.
   */
  async killForRemoval(c: ContainerRecord): Promise<void> {
    c.StoppedByUser = true;
    this.restarts.cancel(c.Id);
    if (!c.State.Running && (await this.#cancelRestart(c))) return;
    const exited = this.exited(c.Id);
    if (c.State.Paused) await this.m.deps.runtime.resume(c.Id).catch(() => {});
    await this.m.deps.runtime.kill(c.Id, 9, true).catch(() => {});
    this.m.publish(c, 'kill', { signal: '9' });
    await exited;
  }

  async kill(ref: string, signal?: string): Promise<void> {
    const c = this.m.get(ref);
    const sig = parseSignal(signal || 'SIGKILL');
    if (!c.State.Running && c.State.Restarting) {
      // Nothing runs during the back-off: KILL/TERM cancel the pending restart (issue 3).
      if (sig !== 9 && sig !== 15) throw conflict(`Container ${c.Id} is restarting, wait until the container is running`);
      c.StoppedByUser = true;
      if (await this.#cancelRestart(c)) {
        this.m.publish(c, 'kill', { signal: String(sig) });
        return;
      }
    }
    if (!c.State.Running) throw conflict(`Cannot kill container: ${ref}: container ${c.Id} is not running`);
    if (sig === 9 || sig === 15) {
      await this.m.lock.run(c.Id, async () => {
        this.m.assertCurrent(c, ref);
        this.restarts.cancel(c.Id);
        await this.#persistStoppedByUser(c);
      });
    }
    await this.m.deps.runtime.kill(c.Id, sig, false);
    mark(c.Id, 'kill signalled');
    this.m.publish(c, 'kill', { signal: String(sig) });
  }

  async restart(ref: string, opts: { timeout?: number; signal?: string } = {}): Promise<void> {
    const c = this.m.get(ref);
    // An --rm container is stopped and started again, not removed (as dockerd does).
    const restarts = this.m.restartingByUser;
    restarts.set(c.Id, (restarts.get(c.Id) ?? 0) + 1);
    try {
      if (c.State.Running) await this.stopRunning(c, opts);
      await this.m.lock.run(c.Id, async () => {
        // An rm -f that came during the stop has removed it: nothing is started (or saved).
        this.m.assertCurrent(c, ref);
        // A back-off armed by the stop above (or pending before) is superseded by this start.
        this.restarts.cancel(c.Id);
        if (c.State.Running) return;
        c.StoppedByUser = false;
        await this.#startLocked(c);
      });
    } finally {
      const left = (restarts.get(c.Id) ?? 1) - 1;
      if (left > 0) restarts.set(c.Id, left);
      else restarts.delete(c.Id);
    }
    this.m.publish(c, 'restart');
  }

  pause(ref: string): Promise<void> {
    return pauseContainer(this.m, ref);
  }

  unpause(ref: string): Promise<void> {
    return unpauseContainer(this.m, ref);
  }

  /**
   * After berthd restarts: containers conmon kept running are adopted, exits that
   * happened meanwhile are recorded, and leftovers of crashed operations removed.
   */
  async reconcile(): Promise<void> {
    const { runtime } = this.m.deps;
    const records = await this.m.store.load();
    await this.m.cleanupAbandoned();
    await this.m.removeOrphanSnapshots();
    const known = new Set(records.map((c) => c.Id));
    const bundles = new Set(await runtime.list().catch(() => [] as string[]));
    for (const id of bundles) {
      if (!known.has(id)) await runtime.delete(id).catch(() => {});
    }
    for (const c of records) {
      if (c.State.Status === 'removing') {
        await this.m.lock.run(c.Id, () => this.m.destroy(c, !!c.RemoveVolumes || !!c.HostConfig.AutoRemove)).catch(() => {});
        continue;
      }
      if (!c.State.Running) {
        // A start berthd did not live to record (killed between runc create and the
        // running save): its monitor, process, bundle and rootfs mount go, or the next
        // start would fail on the leftover bundle.
        if (bundles.has(c.Id)) await runtime.delete(c.Id).catch(() => {});
        await unmountAll(this.m.rootfsDir(c.Id)).catch(() => {});
        continue;
      }
      const st = await runtime.state(c.Id).catch(() => undefined);
      if (st && (st.status === 'running' || st.status === 'paused')) {
        await adoptPausedState(this.m, c, st.status === 'paused').catch(() => {});
        this.exits.watch(c.Id);
        continue;
      }
      const exit = await runtime.exitStatus(c.Id).catch(() => undefined);
      await this.exits.record(c.Id, exit ?? { exitCode: 255, oomKilled: false, finishedAt: new Date() }, exit ? '' : 'container vanished while berthd was down');
    }
    // Networking hook: sandboxes of containers that are gone are reclaimed.
    await this.m.deps.network?.reconcile(new Set(this.m.store.all().filter((x) => x.State.Running).map((x) => x.Id))).catch(() => {});
    // Share the live sandbox object so network connect/disconnect show in inspect.
    for (const x of this.m.store.all()) if (x.State.Running && x.Network) x.Network = this.m.deps.network?.sandbox(x.Id) ?? x.Network;
    // docker starts `always` containers, and `unless-stopped` ones the user did not stop, at daemon start.
    for (const c of this.m.store.all()) {
      const p = c.HostConfig.RestartPolicy?.Name;
      if (c.State.Running) continue;
      if (p === 'always' || (p === 'unless-stopped' && !c.StoppedByUser)) {
        // Re-checked under the lock: the restart timer armed by the exit path above may have won (issue 3).
        await this.m.lock.run(c.Id, async () => {
          if (c.State.Running) return;
          c.StoppedByUser = false;
          // A failed start falls back on the policy's back-off, as after any exit.
          await this.#startLocked(c).catch(() => this.#armRestart(c));
        }).catch(() => {});
      } else if (c.State.Restarting && !this.restarts.pending(c.Id)) {
        // berthd went down during an on-failure back-off: the timer is re-armed (or the state cleared).
        await this.m.lock.run(c.Id, () => this.#armRestart(c)).catch(() => {});
      }
    }
  }
}
