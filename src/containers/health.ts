/**
 * Health checks: the image's HEALTHCHECK or --health-* run as exec probes in the
 * container, docker's state machine (starting → healthy/unhealthy, failing streak,
 * the last 5 results) and a `health_status: <status>` event on every change.
 * Probes run through runtime.exec directly so no exec record piles up per probe,
 * but publish exec_create/exec_start/exec_die like dockerd's probes do.
 */
import { errorMessage } from '../common/errors.js';
import { newId } from '../common/ids.js';
import { buildSpecWithWarnings } from '../runtime/spec/index.js';
import type { ContainerManager } from './manager.js';
import type { ContainerRecord, ContainerState } from './types.js';
import { specInput } from './spec.js';
import { nowRFC3339Nano } from './rules.js';

type Health = NonNullable<ContainerState['Health']>;

const NS = 1e6; // ns per ms
const DEFAULT_INTERVAL = 30_000;
const DEFAULT_TIMEOUT = 30_000;
const DEFAULT_RETRIES = 3;
/** docker's default StartInterval (API 1.44): how often to probe during the start period. */
const DEFAULT_START_INTERVAL = 5_000;
const MAX_LOG = 5;
const MAX_OUTPUT = 4096;

export interface ProbePlan {
  cmd: string[];
  intervalMs: number;
  timeoutMs: number;
  startPeriodMs: number;
  /** Probe spacing while in the start period and still `starting` (API >= 1.44). */
  startIntervalMs: number;
  retries: number;
}

interface Slot { timer?: NodeJS.Timeout; stopped: boolean }

/** The probe a container's Healthcheck asks for, or undefined (none, or NONE). */
export function probePlan(c: Pick<ContainerRecord, 'Config'>): ProbePlan | undefined {
  const hc = c.Config.Healthcheck;
  const test = hc?.Test;
  if (!hc || !test || test.length === 0 || test[0] === 'NONE') return undefined;
  let cmd: string[];
  if (test[0] === 'CMD') cmd = test.slice(1);
  else if (test[0] === 'CMD-SHELL') cmd = ['/bin/sh', '-c', test.slice(1).join(' ')];
  else return undefined;
  if (cmd.length === 0) return undefined;
  const ms = (ns: number | undefined, d: number) => (ns && ns > 0 ? Math.max(1, Math.round(ns / NS)) : d);
  return {
    cmd,
    intervalMs: ms(hc.Interval, DEFAULT_INTERVAL),
    timeoutMs: ms(hc.Timeout, DEFAULT_TIMEOUT),
    startPeriodMs: ms(hc.StartPeriod, 0),
    // StartInterval is newer than the image-spec type; clients older than 1.44 never send it.
    startIntervalMs: ms((hc as { StartInterval?: number }).StartInterval, DEFAULT_START_INTERVAL),
    retries: hc.Retries && hc.Retries > 0 ? hc.Retries : DEFAULT_RETRIES,
  };
}

/**
 * The wait before the next probe, as dockerd picks it: the start interval while the
 * start period runs and the container is still `starting`, the interval otherwise.
 */
export function nextInterval(plan: ProbePlan, sinceStartMs: number, status: Health['Status'] | undefined): number {
  if (sinceStartMs < plan.startPeriodMs && (status ?? 'starting') === 'starting') return plan.startIntervalMs;
  return plan.intervalMs;
}

/** docker's handleProbeResult: pure, so the state machine is unit-tested. */
export function applyProbeResult(h: Health, r: { start: string; end: string; exitCode: number; output: string }, plan: ProbePlan, inStartPeriod: boolean): Health {
  const log = [...h.Log, { Start: r.start, End: r.end, ExitCode: r.exitCode, Output: r.output }].slice(-MAX_LOG);
  if (r.exitCode === 0) return { Status: 'healthy', FailingStreak: 0, Log: log };
  // Failures during the start period do not count, unless the container was healthy already.
  if (inStartPeriod && h.Status !== 'healthy') return { ...h, Log: log };
  const streak = h.FailingStreak + 1;
  return { Status: streak >= plan.retries ? 'unhealthy' : h.Status, FailingStreak: streak, Log: log };
}

export class HealthMonitor {
  readonly #m: ContainerManager;
  #timers = new Map<string, Slot>();
  #inFlight = 0;

  constructor(m: ContainerManager) {
    this.#m = m;
  }

  /** Begin probing a running container; `fresh` resets its health to starting (a new start). */
  start(c: ContainerRecord, fresh = true): void {
    this.stop(c.Id);
    const plan = probePlan(c);
    if (!plan) {
      if (fresh && c.State.Health) delete c.State.Health;
      return;
    }
    if (fresh || !c.State.Health) c.State.Health = { Status: 'starting', FailingStreak: 0, Log: [] };
    const slot: Slot = { stopped: false };
    this.#timers.set(c.Id, slot);
    // The start period counts from the container's start (an adopted container's too).
    const startedAt = Number.isNaN(Date.parse(c.State.StartedAt)) ? Date.now() : Math.min(Date.now(), Date.parse(c.State.StartedAt));
    const schedule = (status: Health['Status'] | undefined) => {
      if (slot.stopped) return;
      slot.timer = setTimeout(() => void tick(), nextInterval(plan, Date.now() - startedAt, status));
      slot.timer.unref();
    };
    const tick = async () => {
      slot.timer = undefined;
      if (slot.stopped) return;
      const cur = this.#m.store.tryGet(c.Id);
      if (!cur || !cur.State.Running) return this.#drop(c.Id, slot);
      if (!cur.State.Paused) await this.#probeOnce(cur, plan, slot, Date.now() - startedAt < plan.startPeriodMs).catch(() => {});
      schedule(cur.State.Health?.Status);
    };
    schedule(c.State.Health?.Status);
  }

  stop(id: string): void {
    const slot = this.#timers.get(id);
    if (slot) this.#drop(id, slot);
  }

  /** Stop one monitor; a newer monitor of the same container (a restart) is left alone. */
  #drop(id: string, slot: Slot): void {
    slot.stopped = true;
    if (slot.timer) clearTimeout(slot.timer);
    slot.timer = undefined;
    if (this.#timers.get(id) === slot) this.#timers.delete(id);
  }

  /** Monitors and probes alive, for leak checks: both 0 once every container stopped. */
  counts(): { monitors: number; probes: number } {
    return { monitors: this.#timers.size, probes: this.#inFlight };
  }

  running(id: string): boolean {
    return this.#timers.has(id);
  }

  stopAll(): void {
    for (const id of [...this.#timers.keys()]) this.stop(id);
  }

  async #probeOnce(c: ContainerRecord, plan: ProbePlan, slot: Slot, inStartPeriod: boolean): Promise<void> {
    const start = nowRFC3339Nano();
    this.#inFlight++;
    let r;
    try {
      r = await this.#run(c, plan);
    } finally {
      this.#inFlight--;
    }
    const { exitCode, output } = r;
    const end = nowRFC3339Nano();
    const before = c.State.Health ?? { Status: 'starting' as const, FailingStreak: 0, Log: [] };
    // A probe that outlived its container's run (stop, or a restart meanwhile) is not recorded.
    if (!c.State.Running || slot.stopped) return;
    const after = applyProbeResult(before, { start, end, exitCode, output }, plan, inStartPeriod);
    c.State.Health = after;
    await this.#m.store.save(c).catch(() => {});
    if (after.Status !== before.Status) this.#m.publish(c, `health_status: ${after.Status}`);
  }

  /** One probe: exit code and the first 4 KiB of output; -1 on timeout or failure to start. */
  async #run(c: ContainerRecord, plan: ProbePlan): Promise<{ exitCode: number; output: string }> {
    const execId = newId();
    const cmdText = plan.cmd.join(' ');
    this.#m.publish(c, `exec_create: ${cmdText}`, { execID: execId });
    let handle;
    try {
      const input = await specInput(this.#m, c, this.#m.rootfsDir(c.Id));
      input.args = plan.cmd;
      input.init = undefined; // probes run bare, like execs (the container's init is PID 1)
      input.terminal = false;
      const process = buildSpecWithWarnings(input).spec.process!;
      this.#m.publish(c, `exec_start: ${cmdText}`, { execID: execId });
      handle = await this.#m.deps.runtime.exec(c.Id, { execId, process, terminal: false, stdin: false, detach: false });
    } catch (err) {
      this.#m.publish(c, 'exec_die', { execID: execId, exitCode: '126' });
      return { exitCode: -1, output: `failed to run health check: ${errorMessage(err)}` };
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const collect = (async () => {
      for await (const ch of handle.io?.output ?? []) {
        if (size < MAX_OUTPUT) {
          chunks.push(ch.data);
          size += ch.data.length;
        }
      }
    })().catch(() => {});
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((r) => { timer = setTimeout(() => r('timeout'), plan.timeoutMs); });
    const res = await Promise.race([handle.exited.catch(() => -1), timedOut]);
    clearTimeout(timer);
    if (res === 'timeout') {
      // dockerd kills the probe and reports -1 with this text.
      try { process.kill(handle.pid, 'SIGKILL'); } catch { /* already gone */ }
      handle.io?.close();
      this.#m.publish(c, 'exec_die', { execID: execId, exitCode: '137' });
      return { exitCode: -1, output: `Health check exceeded timeout (${formatDuration(plan.timeoutMs)})` };
    }
    let grace: NodeJS.Timeout | undefined;
    await Promise.race([collect, new Promise((r) => { grace = setTimeout(r, 1000); })]);
    clearTimeout(grace);
    handle.io?.close();
    this.#m.publish(c, 'exec_die', { execID: execId, exitCode: String(res) });
    return { exitCode: res, output: Buffer.concat(chunks).subarray(0, MAX_OUTPUT).toString() };
  }
}

/** Go's time.Duration text for whole seconds/ms ("30s", "1.5s", "500ms"). */
function formatDuration(ms: number): string {
  return ms < 1000 ? `${ms}ms` : `${ms / 1000}s`;
}
