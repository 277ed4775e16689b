/**
 * docker pause and unpause: runc freezes or thaws the container's cgroup, and the
 * record follows under the container's lock.
 */
import { conflict } from '../common/errors.js';
import type { ContainerManager } from './manager.js';
import { assertRunning } from './rules.js';

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
