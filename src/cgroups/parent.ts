/**
 * --cgroup-parent: where a container's cgroup goes. dockerd (cgroupfs driver) hands
 * runc `filepath.Join(parent, id)`, default parent "/docker"; berth's default is
 * "/berth". A relative parent is anchored at the hierarchy's root, docker's documented
 * rule ("relative to the cgroup of the init process", which is the root on a host):
 * runc itself would resolve it against its own cgroup, which differs per v1 controller
 * (and would leave berth's stats, update and top reading one path while runc wrote
 * another). The parent comes from an API body: nothing in it may climb out of the root.
 */
import { posix } from 'node:path';

export const DEFAULT_CGROUP_PARENT = '/berth';

/** Longest parent accepted: PATH_MAX less room for the mount point, controller and id. */
const MAX_PARENT = 3900;

/** Why a --cgroup-parent value is refused, or undefined when it is usable. */
export function cgroupParentProblem(parent: string): string | undefined {
  if (parent.length > MAX_PARENT) return `it is longer than ${MAX_PARENT} bytes`;
  // Control characters (NUL, newlines) would end or split the path in the kernel's files.
  if (/[\x00-\x1f\x7f]/.test(parent)) return 'it contains a control character';
  // "slice:prefix:name" is the systemd driver's syntax; berth drives cgroupfs.
  if (parent.includes(':')) return "it contains ':' (the systemd driver's slice syntax; berth uses cgroupfs paths)";
  const parts = parent.split('/').filter((s) => s !== '');
  if (parts.some((s) => s === '..')) return "it contains '..': the cgroup must stay under the cgroup root";
  // Every container's cgroup ends in its 64-hex id (berth's and dockerd's alike): a parent
  // inside one would nest this container in that one's cgroup, where stop, kill, rm and
  // update of the other container reach it too (a force rm killed it, measured).
  const inside = parts.find((s) => /^[0-9a-f]{64}$/i.test(s));
  if (inside) return `it is inside container ${inside.slice(0, 12)}'s cgroup: choose a parent no container's cgroup contains`;
  return undefined;
}

/** The cgroupsPath runc gets for a container: <parent>/<id>, always absolute and clean. */
export function containerCgroupsPath(id: string, parent?: string | null): string {
  const p = parent ? parent : DEFAULT_CGROUP_PARENT;
  const problem = cgroupParentProblem(p);
  if (problem) throw new Error(`invalid cgroup parent ${JSON.stringify(p)}: ${problem}`);
  return posix.join('/', p, id);
}
