/**
 * The exit path of a running container: its log rotation while it runs, then, once
 * conmon reports the exit, the exit record, the runtime's leftovers released, the
 * events and waiters, and an --rm removal; the restart policy is the caller's
 * (`afterExit`, under the container's lock).
 */
import { errorMessage } from '../common/errors.js';
import { unmountAll } from '../mount/mount.js';
import type { ExitStatus } from '../runtime/types.js';
import type { ContainerManager } from './manager.js';
import type { ContainerRecord } from './types.js';
import { LogRotator, parseLogOpts } from './logs/index.js';
import { announceDisconnects, networkDown, type NetworksLeft } from './network-hooks.js';
import { mark } from './phases.js';
import { shmDir } from './shared-namespaces.js';

export class ExitPath {
  readonly #m: ContainerManager;
  readonly #afterExit: (c: ContainerRecord) => Promise<void>;
  readonly #flushed: (id: string) => Promise<void>;
  /** Exit promises of running containers, for stop and for log followers. */
  #exits = new Map<string, Promise<void>>();
  #rotators = new Map<string, LogRotator>();

  /** @param flushed resolves once attached clients have the output up to the exit (bounded) */
  constructor(m: ContainerManager, afterExit: (c: ContainerRecord) => Promise<void>, flushed: (id: string) => Promise<void>) {
    this.#m = m;
    this.#afterExit = afterExit;
    this.#flushed = flushed;
  }

  /** Resolves when the running container has exited and its exit is recorded. */
  exited(id: string): Promise<void> {
    return this.#exits.get(id) ?? Promise.resolve();
  }

  /** The container's max-size/max-file (validated at create; the daemon's defaults otherwise). */
  logLimits(c: ContainerRecord): { maxSize: number; maxFiles: number } {
    const defaults = { maxSize: this.#m.deps.logMaxSize, maxFiles: this.#m.deps.logMaxFiles };
    try {
      return parseLogOpts(c.HostConfig.LogConfig?.Config, defaults);
    } catch {
      return defaults;
    }
  }

  /** Rotate the container's log (docker json-file max-size/max-file semantics). */
  #rotate(c: ContainerRecord): void {
    this.#rotators.get(c.Id)?.stop();
    const r = new LogRotator({ logPath: c.LogPath, ...this.logLimits(c), reopen: () => this.#m.deps.runtime.reopenLog(c.Id) });
    r.start();
    this.#rotators.set(c.Id, r);
  }

  /** Follow a container that now runs: rotate its log, record its exit when it comes. */
  watch(id: string): void {
    const c = this.#m.store.tryGet(id);
    if (c) this.#rotate(c);
    const p = this.#m.deps.runtime.waitExit(id).then(
      (st) => this.record(id, st),
      (err) => this.record(id, { exitCode: 255, oomKilled: false, finishedAt: new Date() }, errorMessage(err)),
    );
    this.#exits.set(id, p);
  }

  /** Record an exit (also one found by reconcile after a berthd restart). */
  async record(id: string, st: ExitStatus, error = ''): Promise<void> {
    const c = this.#m.store.tryGet(id);
    this.#exits.delete(id);
    this.#rotators.get(id)?.stop();
    this.#rotators.delete(id);
    if (!c) return;
    await this.#m.lock.run(id, async () => {
      // Removed while this waited for the lock: nothing is left to record.
      if (this.#m.store.tryGet(id) !== c) return;
      if (!c.State.Running && c.State.Status !== 'removing') return;
      mark(id, 'exit seen');
      // Attached clients get the last output before anyone can learn of the exit (a
      // wait, an inspect): dockerd, too, waits for its stream copiers before it marks
      // the container stopped. Usually at once: conmon closes the attach sockets first.
      await this.#flushed(id);
      const autoRemove = !!c.HostConfig.AutoRemove && c.State.Status !== 'removing' && !this.#m.restartingByUser.has(id);
      c.State = {
        ...c.State,
        Status: c.State.Status === 'removing' || autoRemove ? 'removing' : 'exited',
        Running: false, Paused: false, Restarting: false, Pid: 0,
        ExitCode: st.exitCode, OOMKilled: st.oomKilled, Error: error,
        FinishedAt: st.finishedAt.toISOString().replace('Z', '000000Z').replace(/(\.\d{9})\d*Z$/, '$1Z'),
      };
      c.Network = undefined; // released below (networkDown); not in the saved exit record
      // The exit record is written while the runtime's leftovers go. --rm writes none:
      // the record still says running, so after a crash reconcile finds the exit (or
      // the container gone) and, AutoRemove being set, removes it all the same.
      const saved = autoRemove ? Promise.resolve() : this.#m.store.save(c);
      // The runtime's state, the mounts and the network are independent of each other once
      // the container's processes are gone: released side by side.
      let runtimeReleased = false;
      let snapshotRemoved = false;
      let networksLeft: NetworksLeft = [];
      const released = [
        (async () => {
          const unmounted = await unmountAll(this.#m.rootfsDir(id)).then(() => true, () => false);
          await unmountAll(shmDir(this.#m, c)).catch(() => {}); // a shareable container's /dev/shm
          mark(id, 'unmounted');
          // --rm: the snapshot goes as soon as nothing is mounted on it, beside the runtime's
          // cleanup. A crash after this leaves a record whose snapshot is gone: its removal at
          // start-up tolerates that. No fsync: a power loss that brings the entry back leaves
          // an active snapshot without a container, which start-up removes.
          if (autoRemove && unmounted) {
            snapshotRemoved = await this.#m.deps.snapshots.remove(id, { durable: false }).then(() => true, () => false);
            mark(id, 'snapshot removed');
          }
        })(),
        this.#m.deps.runtime.delete(id).then(
          () => { runtimeReleased = true; mark(id, 'runtime deleted'); },
          (err) => { process.stderr.write(`berthd: cleanup of container ${id} after its exit: ${errorMessage(err)}\n`); },
        ),
        networkDown(this.#m, c, { later: true }).then((left) => { networksLeft = left; }), // networking hook: veths, netns, leases, ports released
      ];
      await Promise.all([saved, ...released]);
      mark(id, 'unmounted, network down');
      if (st.oomKilled) this.#m.publish(c, 'oom');
      // dockerd's die carries how long the process ran, in whole seconds.
      const ran = Math.max(0, Math.floor((st.finishedAt.getTime() - Date.parse(c.State.StartedAt)) / 1000));
      this.#m.publish(c, 'die', { exitCode: String(st.exitCode), execDuration: String(Number.isFinite(ran) ? ran : 0) });
      announceDisconnects(this.#m, c, networksLeft);
      this.#m.waiters.exited(id, { StatusCode: st.exitCode, Error: null });
      // What was released above is not asked again (unless the runtime's cleanup failed).
      if (autoRemove) await this.#m.destroy(c, true, runtimeReleased, snapshotRemoved).catch(() => {});
    });
    if (c.State.Status === 'removing' || c.HostConfig.AutoRemove) return;
    await this.#m.lock.run(id, () => this.#afterExit(c)).catch(() => {});
  }
}
