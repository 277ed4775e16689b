/**
 * --pid container:<ref> and --ipc container:<ref> (compose's `pid:` / `ipc:`
 * "service:x"): the container joins the other one's PID or IPC namespace, as dockerd
 * does. The other container must be running; an IPC donor must be shareable (or use
 * the host's IPC), dockerd's rule since its default IPC mode became private.
 * Known gap: the donor's /dev/shm tmpfs lives in its own mount namespace, so the
 * joiner shares SysV IPC and message queues but keeps a /dev/shm of its own.
 */
import type { Spec } from '../oci/runtime-spec.js';
import { conflict, invalidArgument } from '../common/errors.js';
import type { ContainerManager } from './manager.js';
import type { ContainerRecord } from './types.js';

type Kind = 'pid' | 'ipc';

/** The running container a `container:<ref>` mode names (NOT_FOUND when there is none). */
function donor(m: ContainerManager, c: ContainerRecord, mode: string): ContainerRecord {
  const other = m.get(mode.slice('container:'.length));
  if (other.Id === c.Id) throw invalidArgument(`cannot join own namespace: ${mode}`);
  if (!other.State.Running || other.State.Restarting || !other.State.Pid) throw conflict(`container ${other.Id} is not running`);
  return other;
}

function join(spec: Spec, kind: Kind, path: string): void {
  const list = spec.linux?.namespaces ?? [];
  const i = list.findIndex((n) => n.type === kind);
  if (i >= 0) list[i] = { type: kind, path };
  else list.push({ type: kind, path });
}

/** Point the spec's PID/IPC namespaces at the donor containers' (a no-op for other modes). */
export function joinSharedNamespaces(m: ContainerManager, c: ContainerRecord, spec: Spec): void {
  const pid = c.HostConfig.PidMode ?? '';
  if (pid.startsWith('container:')) join(spec, 'pid', `/proc/${donor(m, c, pid).State.Pid}/ns/pid`);
  const ipc = c.HostConfig.IpcMode ?? '';
  if (ipc.startsWith('container:')) {
    const other = donor(m, c, ipc);
    const mode = other.HostConfig.IpcMode ?? '';
    if (mode !== 'shareable' && mode !== 'host') {
      throw invalidArgument(`can't join IPC of container ${other.Id}: non-shareable IPC (hint: use IpcMode:shareable for the donor container)`);
    }
    join(spec, 'ipc', `/proc/${other.State.Pid}/ns/ipc`);
  }
}
