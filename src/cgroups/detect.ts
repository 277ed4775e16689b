/**
 * Where a container's cgroup lives. cgroup v2 (unified) when the root holds
 * cgroup.controllers; otherwise v1 with one hierarchy per controller under the root
 * (co-mounts such as cpu,cpuacct are reached through the names systemd links).
 * The root is a parameter so the readers and writers run against fixture trees.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export type CgroupVersion = 1 | 2;

/** The v1 controllers berth reads and writes. */
export const V1_CONTROLLERS = ['memory', 'cpu', 'cpuacct', 'cpuset', 'pids', 'blkio', 'freezer'] as const;
export type V1Controller = (typeof V1_CONTROLLERS)[number];

export interface CgroupLayout {
  version: CgroupVersion;
  /** Mount point of the cgroup filesystem(s), normally /sys/fs/cgroup. */
  root: string;
}

export function detectLayout(root = '/sys/fs/cgroup'): CgroupLayout {
  return { version: existsSync(join(root, 'cgroup.controllers')) ? 2 : 1, root };
}

/** Reject anything that could climb out of the hierarchy: the path comes from records on disk. */
function checkPath(cgroupsPath: string): string {
  if (!cgroupsPath.startsWith('/') || cgroupsPath.split('/').some((s) => s === '..' || s === '.')) {
    throw new Error(`invalid cgroups path ${JSON.stringify(cgroupsPath)}`);
  }
  return cgroupsPath;
}

/** A container's cgroup: the directory of a file, by controller on v1, unified on v2. */
export class CgroupDir {
  readonly layout: CgroupLayout;
  readonly path: string;

  constructor(layout: CgroupLayout, cgroupsPath: string) {
    this.layout = layout;
    this.path = checkPath(cgroupsPath);
  }

  get version(): CgroupVersion {
    return this.layout.version;
  }

  /** v1: <root>/<controller><path>/<file>; v2: <root><path>/<file>. */
  file(controller: V1Controller, name: string): string {
    return this.layout.version === 2 ? join(this.layout.root, this.path, name) : join(this.layout.root, controller, this.path, name);
  }
}
