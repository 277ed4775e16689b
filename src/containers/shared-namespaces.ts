/**
 * --pid container:<ref> and --ipc container:<ref> (compose's `pid:` / `ipc:`
 * "service:x"): the container joins the other one's PID or IPC namespace, as dockerd
 * does. The other container must be running; an IPC donor must be shareable (or use
 * the host's IPC), dockerd's rule since its default IPC mode became private.
 * A shareable container's /dev/shm is a tmpfs mounted on the host (<container dir>/shm,
 * as dockerd's mounts/shm) and bound in, so a joiner binds the same one: SysV IPC,
 * message queues and POSIX shared memory are all shared. The exit path unmounts it.
 */
import { mkdir } from 'node:fs/promises';
import { join as joinPath } from 'node:path';
import type { Spec } from '../oci/runtime-spec.js';
import { isMountPoint, mountOne } from '../mount/mount.js';
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

const DEFAULT_SHM = 64 << 20;

/** Where a shareable container's /dev/shm lives on the host. */
export function shmDir(m: ContainerManager, c: ContainerRecord): string {
  return joinPath(m.store.dir(c.Id), 'shm');
}

/** The spec's own /dev/shm tmpfs (not one the user asked for with --tmpfs or -v). */
function defaultShm(spec: Spec): number {
  return (spec.mounts ?? []).findIndex((x) => x.destination === '/dev/shm' && x.type === 'tmpfs' && x.source === 'shm');
}

/**
 * IpcMode shareable: mount the host tmpfs (once) and bind it at /dev/shm. container:<x>:
 * bind x's. The caller unmounts shmDir when the container stops.
 */
export async function shareShm(m: ContainerManager, c: ContainerRecord, spec: Spec): Promise<void> {
  const ipc = c.HostConfig.IpcMode ?? '';
  const i = defaultShm(spec);
  if (i < 0) return;
  let source: string | undefined;
  if (ipc === 'shareable') {
    source = shmDir(m, c);
    await mkdir(source, { recursive: true, mode: 0o700 });
    if (!(await isMountPoint(source))) {
      await mountOne({ type: 'tmpfs', source: 'shm', options: ['nosuid', 'nodev', 'noexec', 'mode=1777', `size=${c.HostConfig.ShmSize || DEFAULT_SHM}`] }, source);
    }
  } else if (ipc.startsWith('container:')) {
    const other = m.get(ipc.slice('container:'.length));
    const dir = shmDir(m, other);
    if (other.HostConfig.IpcMode === 'shareable' && (await isMountPoint(dir))) source = dir;
  }
  if (source) spec.mounts![i] = { destination: '/dev/shm', type: 'bind', source, options: ['rbind', 'rprivate'] };
}
