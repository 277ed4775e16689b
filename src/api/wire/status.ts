/** docker's human-readable container status ("Up 5 seconds", "Exited (0) 3 seconds ago"). */
import type { ContainerState } from '../../containers/types.js';
import { humanDuration } from '../../common/human.js';

export { humanDuration };

export const ZERO_TIME = '0001-01-01T00:00:00Z';


function isZero(t: string | undefined): boolean {
  return !t || t.startsWith('0001-01-01');
}

function since(t: string, now: number): number {
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? 0 : Math.max(0, now - ms);
}

export function statusText(s: ContainerState, now = Date.now()): string {
  if (s.Running) {
    if (s.Paused) return `Up ${humanDuration(since(s.StartedAt, now))} (Paused)`;
    if (s.Restarting) return `Restarting (${s.ExitCode}) ${humanDuration(since(s.FinishedAt, now))} ago`;
    let health = '';
    if (s.Health && s.Health.Status !== 'none') health = s.Health.Status === 'starting' ? ' (health: starting)' : ` (${s.Health.Status})`;
    return `Up ${humanDuration(since(s.StartedAt, now))}${health}`;
  }
  if (s.Status === 'restarting') return `Restarting (${s.ExitCode}) ${humanDuration(since(s.FinishedAt, now))} ago`;
  if (s.Status === 'removing') return 'Removal In Progress';
  if (s.Dead || s.Status === 'dead') return 'Dead';
  if (isZero(s.StartedAt)) return 'Created';
  if (isZero(s.FinishedAt)) return '';
  return `Exited (${s.ExitCode}) ${humanDuration(since(s.FinishedAt, now))} ago`;
}

/**
 * The State object inspect shows. docker counts a container waiting out its restart
 * back-off as running (Running and Restarting both true); berth's record keeps
 * Running for "a process is alive", so the difference is made here.
 */
export function stateWire(s: ContainerState): ContainerState {
  return s.Restarting && !s.Running ? { ...s, Running: true } : s;
}
