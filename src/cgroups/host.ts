/**
 * Host facts limits are checked against: the CPUs and memory nodes berthd may use
 * and which optional controller files exist. Read synchronously and cached, since
 * they are tiny files and validation at create is synchronous.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { totalmem } from 'node:os';
import { detectLayout, type CgroupLayout } from './detect.js';
import { parseCpuList } from './read.js';

export interface HostCgroupInfo {
  layout: CgroupLayout;
  cpus: Set<number>;
  mems: Set<number>;
  /** blkio weight file present (v1 blkio.weight or blkio.bfq.weight, v2 io.weight or io.bfq.weight). */
  blkioWeight: boolean;
  /** Swap accounting (v1 memory.memsw.*, v2 memory.swap.max). */
  swap: boolean;
  memoryTotal: number;
}

function readList(file: string, fallback: string): Set<number> {
  let text = fallback;
  try { text = readFileSync(file, 'utf8'); } catch { /* not there: the fallback */ }
  return parseCpuList(text) ?? new Set();
}

export function readHostCgroupInfo(root = '/sys/fs/cgroup'): HostCgroupInfo {
  const layout = detectLayout(root);
  const onlineCpus = readList('/sys/devices/system/cpu/online', '0');
  const onlineMems = readList('/sys/devices/system/node/online', '0');
  if (layout.version === 2) {
    return {
      layout,
      cpus: existsSync(join(root, 'cpuset.cpus.effective')) ? readList(join(root, 'cpuset.cpus.effective'), '') : onlineCpus,
      mems: existsSync(join(root, 'cpuset.mems.effective')) ? readList(join(root, 'cpuset.mems.effective'), '') : onlineMems,
      // Child cgroups get io.weight when the io controller is enabled; the root lists it in cgroup.controllers.
      blkioWeight: /\bio\b/.test(safeRead(join(root, 'cgroup.controllers'))),
      swap: existsSync('/proc/swaps'),
      memoryTotal: totalmem(),
    };
  }
  const cpuset = join(root, 'cpuset');
  return {
    layout,
    cpus: existsSync(join(cpuset, 'cpuset.effective_cpus')) ? readList(join(cpuset, 'cpuset.effective_cpus'), '') : readList(join(cpuset, 'cpuset.cpus'), '0'),
    mems: existsSync(join(cpuset, 'cpuset.effective_mems')) ? readList(join(cpuset, 'cpuset.effective_mems'), '') : readList(join(cpuset, 'cpuset.mems'), '0'),
    blkioWeight: existsSync(join(root, 'blkio', 'blkio.weight')) || existsSync(join(root, 'blkio', 'blkio.bfq.weight')),
    swap: existsSync(join(root, 'memory', 'memory.memsw.limit_in_bytes')),
    memoryTotal: totalmem(),
  };
}

function safeRead(file: string): string {
  try { return readFileSync(file, 'utf8'); } catch { return ''; }
}

let cached: HostCgroupInfo | undefined;
export function hostCgroupInfo(): HostCgroupInfo {
  return (cached ??= readHostCgroupInfo());
}
