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
  /** What else the host can enforce; a limit it cannot is dropped with docker's warning at create. */
  features: CgroupFeatures;
}

/** docker's sysinfo flags, read from the controllers' files at the cgroup root. */
export interface CgroupFeatures {
  memory: boolean;
  memoryReservation: boolean;
  memorySwappiness: boolean;
  oomKillDisable: boolean;
  pids: boolean;
  cpuShares: boolean;
  cfsPeriod: boolean;
  cfsQuota: boolean;
  cpuset: boolean;
  blkioWeightDevice: boolean;
  readBpsDevice: boolean;
  writeBpsDevice: boolean;
  readIOpsDevice: boolean;
  writeIOpsDevice: boolean;
}

function v1Features(root: string): CgroupFeatures {
  const has = (...parts: string[]) => existsSync(join(root, ...parts));
  return {
    memory: has('memory', 'memory.limit_in_bytes'),
    memoryReservation: has('memory', 'memory.soft_limit_in_bytes'),
    memorySwappiness: has('memory', 'memory.swappiness'),
    oomKillDisable: has('memory', 'memory.oom_control'),
    // The root of the pids hierarchy has no pids.max; the mounted hierarchy is the test.
    pids: has('pids', 'cgroup.procs'),
    cpuShares: has('cpu', 'cpu.shares'),
    cfsPeriod: has('cpu', 'cpu.cfs_period_us'),
    cfsQuota: has('cpu', 'cpu.cfs_quota_us'),
    cpuset: has('cpuset', 'cpuset.cpus'),
    blkioWeightDevice: has('blkio', 'blkio.weight_device') || has('blkio', 'blkio.bfq.weight_device'),
    readBpsDevice: has('blkio', 'blkio.throttle.read_bps_device'),
    writeBpsDevice: has('blkio', 'blkio.throttle.write_bps_device'),
    readIOpsDevice: has('blkio', 'blkio.throttle.read_iops_device'),
    writeIOpsDevice: has('blkio', 'blkio.throttle.write_iops_device'),
  };
}

/** v2: a controller listed in the root's cgroup.controllers is available to children. */
function v2Features(controllers: string): CgroupFeatures {
  const on = (name: string) => new RegExp(`(^|\\s)${name}(\\s|$)`).test(controllers);
  const io = on('io');
  return {
    memory: on('memory'),
    memoryReservation: on('memory'),
    // cgroup v2 has no per-cgroup swappiness and no OOM-killer switch (docker discards both).
    memorySwappiness: false,
    oomKillDisable: false,
    pids: on('pids'),
    cpuShares: on('cpu'),
    cfsPeriod: on('cpu'),
    cfsQuota: on('cpu'),
    cpuset: on('cpuset'),
    blkioWeightDevice: io,
    readBpsDevice: io,
    writeBpsDevice: io,
    readIOpsDevice: io,
    writeIOpsDevice: io,
  };
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
    const controllers = safeRead(join(root, 'cgroup.controllers'));
    return {
      layout,
      cpus: existsSync(join(root, 'cpuset.cpus.effective')) ? readList(join(root, 'cpuset.cpus.effective'), '') : onlineCpus,
      mems: existsSync(join(root, 'cpuset.mems.effective')) ? readList(join(root, 'cpuset.mems.effective'), '') : onlineMems,
      // Child cgroups get io.weight when the io controller is enabled; the root lists it in cgroup.controllers.
      blkioWeight: /\bio\b/.test(controllers),
      swap: existsSync('/proc/swaps'),
      memoryTotal: totalmem(),
      features: v2Features(controllers),
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
    features: v1Features(root),
  };
}

function safeRead(file: string): string {
  try { return readFileSync(file, 'utf8'); } catch { return ''; }
}

let cached: HostCgroupInfo | undefined;
export function hostCgroupInfo(): HostCgroupInfo {
  return (cached ??= readHostCgroupInfo());
}
