/**
 * Resource checks shared by create and update, against the host's facts: dockerd's
 * messages for bad values, and a clear error (before anything exists) for a limit this
 * host cannot enforce (cpuset CPUs it lacks, a ulimit above its hard limit, ...).
 */
import { readFileSync } from 'node:fs';
import { invalidArgument } from '../common/errors.js';
import { hostCgroupInfo, parseCpuList, resolveThrottle, type HostCgroupInfo } from '../cgroups/index.js';
import { parseProcLimits, RLIM_INFINITY } from '../runtime/spec/ulimits.js';
import type { HostConfig } from '../oci/docker-config.js';

const MIN_MEMORY = 6 * 1024 * 1024;

function num(name: string, v: unknown, opts: { allowMinusOne?: boolean } = {}): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || !Number.isInteger(v)) throw invalidArgument(`invalid ${name}: ${JSON.stringify(v)}: an integer is required`);
  if (v < 0 && !(opts.allowMinusOne && v === -1)) throw invalidArgument(`invalid ${name}: ${v}: must not be negative`);
  return v;
}

function checkSet(what: 'cpus' | 'mems', value: string, available: Set<number>): void {
  const want = parseCpuList(value);
  if (!want) throw invalidArgument(`Invalid value ${value} for cpuset ${what}`);
  const missing = [...want].filter((n) => !available.has(n));
  if (missing.length) {
    const have = [...available].sort((a, b) => a - b).join(',');
    throw invalidArgument(`Requested ${what === 'cpus' ? 'CPUs' : 'memory nodes'} are not available - requested ${value}, available: ${have}`);
  }
}

let hostLimits: ReturnType<typeof parseProcLimits> | undefined;
function hostHardLimits(): ReturnType<typeof parseProcLimits> {
  if (!hostLimits) {
    try { hostLimits = parseProcLimits(readFileSync('/proc/self/limits', 'utf8')); } catch { hostLimits = {}; }
  }
  return hostLimits;
}

/**
 * Validate the resource fields that are set. `update` relaxes what only create
 * checks (ulimits, devices, shm) since update cannot change them.
 */
export function validateResources(hc: HostConfig, host: HostCgroupInfo = hostCgroupInfo(), update = false): void {
  const memory = num('Memory', hc.Memory, { allowMinusOne: update });
  if (memory !== undefined && memory > 0 && memory < MIN_MEMORY) throw invalidArgument('Minimum memory limit allowed is 6MB');
  const swap = num('MemorySwap', hc.MemorySwap, { allowMinusOne: true });
  if (swap !== undefined && swap > 0 && memory && swap < memory) throw invalidArgument('Minimum memoryswap limit should be larger than memory limit, see usage');
  if (swap !== undefined && swap > 0 && !memory && !update) throw invalidArgument('You should always set the Memory limit when using Memoryswap limit, see usage');
  const reservation = num('MemoryReservation', hc.MemoryReservation);
  if (reservation !== undefined && reservation > 0 && reservation < MIN_MEMORY) throw invalidArgument('Minimum memory reservation allowed is 6MB');
  if (memory && reservation && memory < reservation) throw invalidArgument('Minimum memory limit can not be less than memory reservation limit, see usage');
  const swappiness = num('MemorySwappiness', hc.MemorySwappiness, { allowMinusOne: true });
  if (swappiness !== undefined && swappiness !== -1 && swappiness > 100) throw invalidArgument(`Invalid value: ${swappiness}, valid memory swappiness range is 0-100`);
  if (hc.KernelMemory) throw invalidArgument('Kernel memory limit is not supported: the kernel no longer accounts it separately; remove --kernel-memory');
  const nano = num('NanoCpus', hc.NanoCpus);
  if (nano) {
    const ncpu = host.cpus.size;
    if (nano < 1e7 || nano > ncpu * 1e9) throw invalidArgument(`Range of CPUs is from 0.01 to ${ncpu}.00, as there are only ${ncpu} CPUs available`);
  }
  const period = num('CpuPeriod', hc.CpuPeriod);
  if (period && (period < 1000 || period > 1_000_000)) throw invalidArgument('CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1 second (i.e. 1000000)');
  const quota = num('CpuQuota', hc.CpuQuota, { allowMinusOne: true });
  if (quota !== undefined && quota > 0 && quota < 1000) throw invalidArgument('CPU cfs quota can not be less than 1ms (i.e. 1000)');
  if (nano && (period || (quota && quota > 0))) throw invalidArgument('Conflicting options: Nano CPUs and CPU Period cannot both be set');
  const shares = num('CpuShares', hc.CpuShares);
  if (shares && (shares < 2 || shares > 262144)) throw invalidArgument(`Invalid CpuShares ${shares}: the range is 2 to 262144`);
  if (hc.CpusetCpus) checkSet('cpus', hc.CpusetCpus, host.cpus);
  if (hc.CpusetMems) checkSet('mems', hc.CpusetMems, host.mems);
  num('PidsLimit', hc.PidsLimit, { allowMinusOne: true });
  const weight = num('BlkioWeight', hc.BlkioWeight);
  if (weight) {
    // An unsupported weight was already dropped with a warning (discardUnsupported).
    if (weight < 10 || weight > 1000) throw invalidArgument('Range of blkio weight is from 10 to 1000');
  }
  if (update) return;
  num('ShmSize', hc.ShmSize);
  for (const [flag, list] of [['--device-read-bps', hc.BlkioDeviceReadBps], ['--device-write-bps', hc.BlkioDeviceWriteBps], ['--device-read-iops', hc.BlkioDeviceReadIOps], ['--device-write-iops', hc.BlkioDeviceWriteIOps]] as const) {
    try { resolveThrottle(list, flag); } catch (err) { throw invalidArgument((err as Error).message); }
  }
  const limits = hostHardLimits();
  for (const u of hc.Ulimits ?? []) {
    const hard = u.Hard < 0 ? RLIM_INFINITY : u.Hard;
    const hostHard = limits[u.Name?.toLowerCase?.() ?? ''];
    if (hostHard !== undefined && hard > hostHard) {
      throw invalidArgument(`ulimit ${u.Name}: hard limit ${hard >= RLIM_INFINITY ? 'unlimited' : hard} is above the host's hard limit ${hostHard >= RLIM_INFINITY ? 'unlimited' : hostHard}; lower it`);
    }
  }
}

const KERNEL = 'Your kernel does not support';
const positive = (v: unknown): boolean => typeof v === 'number' && v > 0;
const nonEmpty = (v: unknown): boolean => Array.isArray(v) && v.length > 0;

/**
 * dockerd's answer to a limit the host cannot enforce: the option is dropped and the
 * create (or update) answer carries a warning the CLI prints as "WARNING: …". Mutates
 * `hc`; runs before validateResources, as in dockerd, so a dropped value is not range-checked.
 */
export function discardUnsupported(hc: HostConfig, host: HostCgroupInfo = hostCgroupInfo()): string[] {
  const f = host.features;
  const out: string[] = [];
  if (positive(hc.Memory) && !f.memory) {
    out.push(`${KERNEL} memory limit capabilities or the cgroup is not mounted. Limitation discarded.`);
    hc.Memory = 0;
    hc.MemorySwap = -1;
  }
  if (positive(hc.Memory) && hc.MemorySwap !== -1 && !host.swap) {
    out.push(`${KERNEL} swap limit capabilities or the cgroup is not mounted. Memory limited without swap.`);
    hc.MemorySwap = -1;
  }
  if (hc.MemorySwappiness !== undefined && hc.MemorySwappiness !== null && hc.MemorySwappiness !== -1 && !f.memorySwappiness) {
    out.push(`${KERNEL} memory swappiness capabilities or the cgroup is not mounted. Memory swappiness discarded.`);
    delete hc.MemorySwappiness;
  }
  if (positive(hc.MemoryReservation) && !f.memoryReservation) {
    out.push(`${KERNEL} memory soft limit capabilities or the cgroup is not mounted. Limitation discarded.`);
    hc.MemoryReservation = 0;
  }
  if (hc.OomKillDisable !== undefined && hc.OomKillDisable !== null && !f.oomKillDisable) {
    // Only worth a warning when the caller wanted the killer off.
    if (hc.OomKillDisable === true) out.push(`${KERNEL} OomKillDisable. OomKillDisable discarded.`);
    delete hc.OomKillDisable;
  }
  if (hc.OomKillDisable === true && !positive(hc.Memory)) {
    out.push('OOM killer is disabled for the container, but no memory limit is set, this can result in the system running out of resources.');
  }
  if (typeof hc.PidsLimit === 'number' && hc.PidsLimit !== 0 && !f.pids) {
    out.push(`${KERNEL} pids limit capabilities or the cgroup is not mounted. PIDs limit discarded.`);
    hc.PidsLimit = 0;
  }
  if (positive(hc.CpuShares) && !f.cpuShares) {
    out.push(`${KERNEL} CPU shares or the cgroup is not mounted. Shares discarded.`);
    hc.CpuShares = 0;
  }
  if (positive(hc.CpuPeriod) && !f.cfsPeriod) {
    out.push(`${KERNEL} CPU cfs period or the cgroup is not mounted. Period discarded.`);
    hc.CpuPeriod = 0;
  }
  if (positive(hc.CpuQuota) && !f.cfsQuota) {
    out.push(`${KERNEL} CPU cfs quota or the cgroup is not mounted. Quota discarded.`);
    hc.CpuQuota = 0;
  }
  if ((hc.CpusetCpus || hc.CpusetMems) && !f.cpuset) {
    out.push(`${KERNEL} cpuset or the cgroup is not mounted. Cpuset discarded.`);
    hc.CpusetCpus = '';
    hc.CpusetMems = '';
  }
  if (positive(hc.BlkioWeight) && !host.blkioWeight) {
    out.push(`${KERNEL} Block I/O weight or the cgroup is not mounted. Weight discarded.`);
    hc.BlkioWeight = 0;
  }
  if (nonEmpty(hc.BlkioWeightDevice) && !f.blkioWeightDevice) {
    out.push(`${KERNEL} Block I/O weight_device or the cgroup is not mounted. Weight-device discarded.`);
    hc.BlkioWeightDevice = [];
  }
  const throttles = [
    ['BlkioDeviceReadBps', f.readBpsDevice, 'BPS Block I/O read limit', 'Block I/O BPS read limit'],
    ['BlkioDeviceWriteBps', f.writeBpsDevice, 'BPS Block I/O write limit', 'Block I/O BPS write limit'],
    ['BlkioDeviceReadIOps', f.readIOpsDevice, 'IOPS Block read limit', 'Block I/O IOPS read limit'],
    ['BlkioDeviceWriteIOps', f.writeIOpsDevice, 'IOPS Block write limit', 'Block I/O IOPS write limit'],
  ] as const;
  for (const [key, ok, what, dropped] of throttles) {
    if (nonEmpty(hc[key]) && !ok) {
      out.push(`${KERNEL} ${what} or the cgroup is not mounted. ${dropped} discarded.`);
      hc[key] = [];
    }
  }
  return out;
}

/** discardUnsupported on a copy of a create request (the caller's object is left alone). */
export function dropUnsupported<T extends { HostConfig?: HostConfig }>(req: T): { req: T; warnings: string[] } {
  const hc = req && typeof req === 'object' ? req.HostConfig : undefined;
  if (!hc || typeof hc !== 'object' || Array.isArray(hc)) return { req, warnings: [] };
  const copy = { ...hc };
  const warnings = discardUnsupported(copy);
  return { req: { ...req, HostConfig: copy }, warnings };
}
