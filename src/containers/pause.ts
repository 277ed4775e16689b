/**
 * docker pause and unpause: runc freezes or thaws the container's cgroup, and the
 * record follows under the container's lock.
 */
import { conflict } from '../common/errors.js';
import type { ContainerManager } from './manager.js';
import { assertRunning } from './rules.js';
import type { ContainerRecord } from './types.js';

export async function pauseContainer(m: ContainerManager, ref: string): Promise<void> {
  const c = m.get(ref);
  await m.lock.run(c.Id, async () => {
    m.assertCurrent(c, ref);
    assertRunning(c);
    if (c.State.Paused) throw conflict(`Container ${c.Id} is already paused`);
    await m.deps.runtime.pause(c.Id);
    c.State = { ...c.State, Paused: true, Status: 'paused' };
    await m.store.save(c);
    m.publish(c, 'pause');
  });
}

export async function unpauseContainer(m: ContainerManager, ref: string): Promise<void> {
  const c = m.get(ref);
  await m.lock.run(c.Id, async () => {
    m.assertCurrent(c, ref);
    if (!c.State.Paused) throw conflict(`Container ${c.Id} is not paused`);
    await m.deps.runtime.resume(c.Id);
    c.State = { ...c.State, Paused: false, Status: 'running' };
    await m.store.save(c);
    m.publish(c, 'unpause');
  });
}

/**
 * Start-up: a running container's paused state as runc has it. pause and unpause call
 * runc before they save, so a berthd that died in between (or a `runc pause` by hand
 * while it was down) left the record saying the opposite, and every later pause,
 * unpause and exec was refused on the record's word.
 */
export async function adoptPausedState(m: ContainerManager, c: ContainerRecord, paused: boolean): Promise<void> {
  if (c.State.Paused === paused) return;
  c.State = { ...c.State, Paused: paused, Status: paused ? 'paused' : 'running' };
  await m.store.save(c);
}
