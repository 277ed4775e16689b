/**
 * Docker HostConfig resource fields → OCI linux.resources, with dockerd's own
 * adjustments (swap defaults to twice the memory limit, NanoCpus → CFS quota).
 */
import type { LinuxResources } from '../../oci/runtime-spec.js';
import type { HostConfig } from '../../oci/docker-config.js';
import { BerthError } from '../../common/errors.js';

export type ResourceInput = Pick<HostConfig,
  'Memory' | 'MemoryReservation' | 'MemorySwap' | 'MemorySwappiness' | 'NanoCpus' | 'CpuShares' |
  'CpuQuota' | 'CpuPeriod' | 'CpuRealtimePeriod' | 'CpuRealtimeRuntime' | 'CpusetCpus' | 'CpusetMems' | 'PidsLimit' | 'BlkioWeight' | 'OomKillDisable'>;

const CFS_PERIOD = 100_000;

export function buildResources(r: ResourceInput | undefined, opts: { swapSupported?: boolean } = {}): Omit<LinuxResources, 'devices'> {
  const out: Omit<LinuxResources, 'devices'> = {};
  if (!r) return out;
  const mem: NonNullable<LinuxResources['memory']> = {};
  if (r.Memory && r.Memory > 0) {
    if (r.Memory < 6 * 1024 * 1024) throw new BerthError('INVALID_ARGUMENT', 'minimum memory limit allowed is 6MB');
    mem.limit = r.Memory;
  }
  if (r.MemoryReservation && r.MemoryReservation > 0) mem.reservation = r.MemoryReservation;
  if (opts.swapSupported !== false) {
    if (r.MemorySwap && r.MemorySwap > 0) {
      if (mem.limit !== undefined && r.MemorySwap < mem.limit) {
        throw new BerthError('INVALID_ARGUMENT', 'minimum memoryswap limit should be larger than memory limit');
      }
      mem.swap = r.MemorySwap;
    } else if (r.MemorySwap === -1) {
      mem.swap = -1;
    } else if (mem.limit !== undefined) {
      mem.swap = mem.limit * 2;
    }
  }
  if (r.MemorySwappiness != null && r.MemorySwappiness !== -1) {
    if (r.MemorySwappiness < 0 || r.MemorySwappiness > 100) {
      throw new BerthError('INVALID_ARGUMENT', `invalid value: ${r.MemorySwappiness}, valid memory swappiness range is 0-100`);
    }
    mem.swappiness = r.MemorySwappiness;
  }
  if (r.OomKillDisable) mem.disableOOMKiller = true;
  if (Object.keys(mem).length) out.memory = mem;

  const cpu: NonNullable<LinuxResources['cpu']> = {};
  if (r.NanoCpus && r.NanoCpus > 0) {
    if (r.CpuQuota || r.CpuPeriod) {
      throw new BerthError('INVALID_ARGUMENT', 'conflicting options: NanoCPUs and CPUPeriod/CPUQuota cannot both be set');
    }
    cpu.period = CFS_PERIOD;
    cpu.quota = Math.round((r.NanoCpus * CFS_PERIOD) / 1e9);
  }
  if (r.CpuShares && r.CpuShares > 0) cpu.shares = r.CpuShares;
  if (r.CpuQuota && r.CpuQuota > 0) cpu.quota = r.CpuQuota;
  if (r.CpuPeriod && r.CpuPeriod > 0) cpu.period = r.CpuPeriod;
  // Checked against the kernel and the parent's real-time budget at create (containers/support/platform-checks).
  if (r.CpuRealtimePeriod && r.CpuRealtimePeriod > 0) cpu.realtimePeriod = r.CpuRealtimePeriod;
  if (r.CpuRealtimeRuntime && r.CpuRealtimeRuntime > 0) cpu.realtimeRuntime = r.CpuRealtimeRuntime;
  if (r.CpusetCpus) cpu.cpus = r.CpusetCpus;
  if (r.CpusetMems) cpu.mems = r.CpusetMems;
  if (Object.keys(cpu).length) out.cpu = cpu;

  if (r.PidsLimit != null && r.PidsLimit > 0) out.pids = { limit: r.PidsLimit };
  if (r.BlkioWeight && r.BlkioWeight > 0) {
    if (r.BlkioWeight < 10 || r.BlkioWeight > 1000) throw new BerthError('INVALID_ARGUMENT', 'range of blkio weight is from 10 to 1000');
    out.blockIO = { weight: r.BlkioWeight };
  }
  return out;
}
