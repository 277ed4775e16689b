/**
 * Change a live container's limits by writing its cgroup files (docker update).
 * v1 and v2 take different files and units; the conversions are the ones runc uses
 * (shares → cpu.weight, blkio weight → io.weight) so that a container updated here
 * reads the same as one created with the value.
 */
import { writeFile, access } from 'node:fs/promises';
import type { CgroupDir } from './detect.js';
import { readNumber, readText } from './read.js';

export interface CgroupLimits {
  /** Bytes; -1 unlimited. */
  memory?: number;
  /** memory + swap, docker's --memory-swap; -1 unlimited swap. */
  memorySwap?: number;
  /** Soft limit: v1 memory.soft_limit_in_bytes, v2 memory.low. */
  memoryReservation?: number;
  cpuShares?: number;
  /** CFS quota in µs (-1 none) and period in µs. */
  cpuQuota?: number;
  cpuPeriod?: number;
  cpusetCpus?: string;
  cpusetMems?: string;
  /** 0 or -1: unlimited. */
  pidsLimit?: number;
  /** 10..1000 */
  blkioWeight?: number;
}

/** runc's mapping of cpu.shares [2, 262144] onto cpu.weight [1, 10000]. */
export function sharesToWeight(shares: number): number {
  if (shares <= 0) return 0;
  return 1 + Math.floor(((Math.max(2, Math.min(shares, 262144)) - 2) * 9999) / 262142);
}

/** runc's mapping of blkio weight [10, 1000] onto io.weight [1, 10000]. */
export function blkioToIoWeight(w: number): number {
  return 1 + Math.floor(((w - 10) * 9999) / 990);
}

async function put(file: string, value: string | number): Promise<void> {
  try {
    await writeFile(file, String(value));
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'EBUSY' ? 'the container uses more than the new limit' : e.code === 'ENOENT' ? 'the cgroup or controller does not exist' : e.message;
    throw new Error(`cannot write ${value} to ${file}: ${why}`);
  }
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(() => true, () => false);
}

async function writeV1(dir: CgroupDir, l: CgroupLimits): Promise<void> {
  const mem = (n: string) => dir.file('memory', n);
  if (l.memory !== undefined || l.memorySwap !== undefined) {
    const memsw = mem('memory.memsw.limit_in_bytes');
    const hasSwap = await exists(memsw);
    const curLimit = (await readNumber(mem('memory.limit_in_bytes'))) ?? -1;
    const newLimit = l.memory ?? curLimit;
    // memsw must stay >= the memory limit at every step: raise memsw first when growing.
    const growing = newLimit === -1 || (curLimit !== -1 && newLimit > curLimit) || (l.memorySwap ?? 0) === -1;
    if (hasSwap && l.memorySwap !== undefined && growing) await put(memsw, l.memorySwap);
    if (l.memory !== undefined) await put(mem('memory.limit_in_bytes'), l.memory);
    if (hasSwap && l.memorySwap !== undefined && !growing) await put(memsw, l.memorySwap);
  }
  if (l.memoryReservation !== undefined) await put(mem('memory.soft_limit_in_bytes'), l.memoryReservation);
  if (l.cpuShares !== undefined) await put(dir.file('cpu', 'cpu.shares'), l.cpuShares);
  // A quota is checked against the period: set the period first.
  if (l.cpuPeriod !== undefined) await put(dir.file('cpu', 'cpu.cfs_period_us'), l.cpuPeriod);
  if (l.cpuQuota !== undefined) await put(dir.file('cpu', 'cpu.cfs_quota_us'), l.cpuQuota);
  if (l.cpusetCpus !== undefined) await put(dir.file('cpuset', 'cpuset.cpus'), l.cpusetCpus);
  if (l.cpusetMems !== undefined) await put(dir.file('cpuset', 'cpuset.mems'), l.cpusetMems);
  if (l.pidsLimit !== undefined) await put(dir.file('pids', 'pids.max'), l.pidsLimit > 0 ? l.pidsLimit : 'max');
  if (l.blkioWeight !== undefined) {
    const plain = dir.file('blkio', 'blkio.weight');
    await put((await exists(plain)) ? plain : dir.file('blkio', 'blkio.bfq.weight'), l.blkioWeight);
  }
}

async function writeV2(dir: CgroupDir, l: CgroupLimits): Promise<void> {
  const f = (n: string) => dir.file('memory', n);
  const max = (n: number) => (n < 0 ? 'max' : String(n));
  if (l.memory !== undefined) await put(f('memory.max'), max(l.memory));
  if (l.memorySwap !== undefined) {
    // v2's memory.swap.max is swap alone, docker's value is memory + swap.
    const limit = l.memory ?? (await readNumber(f('memory.max')));
    const swap = l.memorySwap < 0 || limit === undefined ? 'max' : String(Math.max(0, l.memorySwap - limit));
    if (await exists(f('memory.swap.max'))) await put(f('memory.swap.max'), swap);
  }
  if (l.memoryReservation !== undefined) await put(f('memory.low'), Math.max(0, l.memoryReservation));
  if (l.cpuShares !== undefined && l.cpuShares > 0) await put(f('cpu.weight'), sharesToWeight(l.cpuShares));
  if (l.cpuQuota !== undefined || l.cpuPeriod !== undefined) {
    const cur = ((await readText(f('cpu.max'))) ?? 'max 100000').trim().split(/\s+/);
    const quota = l.cpuQuota === undefined ? cur[0] : l.cpuQuota > 0 ? String(l.cpuQuota) : 'max';
    const period = l.cpuPeriod ?? cur[1] ?? '100000';
    await put(f('cpu.max'), `${quota} ${period}`);
  }
  if (l.cpusetCpus !== undefined) await put(f('cpuset.cpus'), l.cpusetCpus);
  if (l.cpusetMems !== undefined) await put(f('cpuset.mems'), l.cpusetMems);
  if (l.pidsLimit !== undefined) await put(f('pids.max'), l.pidsLimit > 0 ? l.pidsLimit : 'max');
  if (l.blkioWeight !== undefined) {
    if (await exists(f('io.bfq.weight'))) await put(f('io.bfq.weight'), l.blkioWeight);
    else await put(f('io.weight'), `default ${blkioToIoWeight(l.blkioWeight)}`);
  }
}

/** Apply the given limits; fields left undefined are not touched. */
export function writeCgroupLimits(dir: CgroupDir, l: CgroupLimits): Promise<void> {
  return dir.version === 2 ? writeV2(dir, l) : writeV1(dir, l);
}
