/** Lifecycle rules in one place: what each state allows. */
import { conflict, notModified } from '../common/errors.js';
import type { ContainerRecord } from './types.js';

export const ZERO_TIME = '0001-01-01T00:00:00Z';

export function assertCanStart(c: ContainerRecord): void {
  if (c.State.Paused) throw conflict(`cannot start a paused container, try unpause instead`);
  if (c.State.Running) throw notModified('container already started');
  if (c.State.Status === 'removing') throw conflict(`container ${c.Id} is marked for removal and cannot be started`);
  if (c.State.Dead) throw conflict(`container ${c.Id} is dead and cannot be started`);
}

export function assertCanRemove(c: ContainerRecord, force: boolean): void {
  if (c.State.Status === 'removing') throw conflict(`removal of container ${c.Name} is already in progress`);
  if (force) return;
  if (c.State.Paused) throw conflict(`cannot remove container "/${c.Name}": container is paused and must be unpaused first`);
  if (c.State.Running || c.State.Restarting) {
    throw conflict(`cannot remove container "/${c.Name}": container is running: stop the container before removing or force remove`);
  }
}

export function assertCanExec(c: ContainerRecord): void {
  if (!c.State.Running) throw conflict(`container ${c.Id} is not running`);
  if (c.State.Paused) throw conflict(`Container ${c.Id} is paused, unpause the container before exec`); // dockerd's words, capital included
  if (c.State.Restarting) throw conflict(`container ${c.Id} is restarting, wait until the container is running`);
}

/** dockerd's order and words (daemon/pause.go): not running, then restarting (its back-off). */
export function assertRunning(c: ContainerRecord): void {
  if (c.State.Restarting) throw conflict(`Container ${c.Id} is restarting, wait until the container is running`);
  if (!c.State.Running) throw conflict(`Container ${c.Id} is not running`);
}

export function initialState(): ContainerRecord['State'] {
  return {
    Status: 'created', Running: false, Paused: false, Restarting: false, OOMKilled: false, Dead: false,
    Pid: 0, ExitCode: 0, Error: '', StartedAt: ZERO_TIME, FinishedAt: ZERO_TIME,
  };
}

/** RFC 3339 with nanoseconds, like Go's time.RFC3339Nano in UTC. */
export function nowRFC3339Nano(): string {
  const d = new Date();
  const ns = String(process.hrtime.bigint() % 1_000_000n).padStart(6, '0');
  return d.toISOString().replace(/\.(\d{3})Z$/, (_, ms) => `.${ms}${ns}Z`);
}

/** docker's exit statuses for a start that failed: 127 not found, 126 not executable. */
export function exitCodeForStartError(msg: string): number {
  if (/executable file not found|no such file or directory/i.test(msg)) return 127;
  if (/permission denied|not a directory/i.test(msg)) return 126;
  return 128;
}
