/**
 * Restart policies with docker's growing back-off: 100 ms, doubling on each quick
 * failure, reset once the container ran for 10 s.
 */
import type { ContainerRecord } from './types.js';

const FIRST_DELAY = 100;
const MAX_DELAY = 60_000;
const RESET_AFTER = 10_000;

export function shouldRestart(c: ContainerRecord): boolean {
  const p = c.HostConfig.RestartPolicy;
  if (!p || !p.Name || p.Name === 'no' || c.StoppedByUser) return false;
  if (p.Name === 'always' || p.Name === 'unless-stopped') return true;
  if (p.Name === 'on-failure') {
    if (c.State.ExitCode === 0) return false;
    return !p.MaximumRetryCount || c.RestartCount < p.MaximumRetryCount;
  }
  return false;
}

export class RestartSupervisor {
  #timers = new Map<string, NodeJS.Timeout>();
  #delay = new Map<string, number>();
  readonly #restart: (id: string) => Promise<void>;

  constructor(restart: (id: string) => Promise<void>) {
    this.#restart = restart;
  }

  /** Arm the back-off timer when the policy asks for a restart; true when armed. */
  consider(c: ContainerRecord): boolean {
    if (!shouldRestart(c)) return false;
    const ranFor = Date.parse(c.State.FinishedAt) - Date.parse(c.State.StartedAt);
    let delay = this.#delay.get(c.Id) ?? FIRST_DELAY;
    if (ranFor >= RESET_AFTER) delay = FIRST_DELAY;
    this.#delay.set(c.Id, Math.min(delay * 2, MAX_DELAY));
    this.cancel(c.Id, false);
    const t = setTimeout(() => {
      this.#timers.delete(c.Id);
      void this.#restart(c.Id);
    }, delay);
    t.unref();
    this.#timers.set(c.Id, t);
    return true;
  }

  /** A restart is armed and waiting out its back-off. */
  pending(id: string): boolean {
    return this.#timers.has(id);
  }

  /** Timers armed, for leak checks. */
  get size(): number {
    return this.#timers.size;
  }

  cancel(id: string, resetDelay = true): void {
    const t = this.#timers.get(id);
    if (t) clearTimeout(t);
    this.#timers.delete(id);
    if (resetDelay) this.#delay.delete(id);
  }
}
