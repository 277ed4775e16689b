/**
 * docker update: change a container's resources and restart policy. A running (or
 * paused) container gets the new limits written to its cgroup at once; the new
 * values are persisted in HostConfig so the next start uses them too. A failed
 * write puts the old limits back and leaves the record unchanged.
 */
import { conflict, errorMessage, invalidArgument, notFound } from '../common/errors.js';
import { CgroupDir, containerCgroupsPath, hostCgroupInfo, writeCgroupLimits, type CgroupLimits } from '../cgroups/index.js';
import type { HostConfig, RestartPolicy } from '../oci/docker-config.js';
import type { ContainerManager } from './manager.js';
import type { ContainerRecord } from './types.js';
import { discardUnsupported, validateResources } from './update-validate.js';

/** The body of POST /containers/{id}/update (docker's UpdateConfig). */
export type UpdateConfig = Pick<HostConfig,
  'Memory' | 'MemorySwap' | 'MemoryReservation' | 'KernelMemory' | 'NanoCpus' | 'CpuShares' | 'CpuPeriod' | 'CpuQuota' |
  'CpusetCpus' | 'CpusetMems' | 'PidsLimit' | 'BlkioWeight'> & { RestartPolicy?: RestartPolicy };

const CFS_PERIOD = 100_000;

/** What the container's cgroup holds for this HostConfig (the spec builder's rules). */
export function limitsOf(hc: HostConfig): CgroupLimits {
  const memory = hc.Memory && hc.Memory > 0 ? hc.Memory : -1;
  const swap = hc.MemorySwap === -1 ? -1 : hc.MemorySwap && hc.MemorySwap > 0 ? hc.MemorySwap : memory > 0 ? memory * 2 : -1;
  const out: CgroupLimits = { memory, memorySwap: swap, memoryReservation: hc.MemoryReservation && hc.MemoryReservation > 0 ? hc.MemoryReservation : -1 };
  if (hc.NanoCpus) {
    out.cpuPeriod = CFS_PERIOD;
    out.cpuQuota = Math.round((hc.NanoCpus * CFS_PERIOD) / 1e9);
  } else {
    out.cpuPeriod = hc.CpuPeriod || CFS_PERIOD;
    out.cpuQuota = hc.CpuQuota && hc.CpuQuota > 0 ? hc.CpuQuota : -1;
  }
  if (hc.CpuShares) out.cpuShares = hc.CpuShares;
  if (hc.CpusetCpus) out.cpusetCpus = hc.CpusetCpus;
  if (hc.CpusetMems) out.cpusetMems = hc.CpusetMems;
  out.pidsLimit = hc.PidsLimit && hc.PidsLimit > 0 ? hc.PidsLimit : 0;
  if (hc.BlkioWeight) out.blkioWeight = hc.BlkioWeight;
  return out;
}

function checkRestartPolicy(c: ContainerRecord, rp: RestartPolicy): RestartPolicy {
  const name = rp.Name ?? '';
  if (!['', 'no', 'always', 'unless-stopped', 'on-failure'].includes(name)) throw invalidArgument(`invalid restart policy: unknown policy '${name}'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'`);
  const max = rp.MaximumRetryCount ?? 0;
  if (!Number.isInteger(max) || max < 0) throw invalidArgument('invalid restart policy: maximum retry count cannot be negative');
  if (max && name !== 'on-failure') throw invalidArgument(`invalid restart policy: maximum retry count can only be used with 'on-failure'`);
  if (c.HostConfig.AutoRemove && name && name !== 'no') throw invalidArgument('Restart policy cannot be updated because AutoRemove is enabled for the container');
  return { Name: name || 'no', MaximumRetryCount: max };
}

/** The HostConfig after the update (docker: zero/unset fields leave the old value). */
export function mergeUpdate(c: ContainerRecord, u: UpdateConfig): HostConfig {
  if (!u || typeof u !== 'object') throw invalidArgument('update config must be a JSON object');
  if (u.KernelMemory) throw invalidArgument('Kernel memory limit is not supported: the kernel no longer accounts it separately; remove --kernel-memory');
  const old = c.HostConfig;
  const hc: HostConfig = { ...old };
  if (u.Memory) {
    hc.Memory = u.Memory;
    const explicitSwap = old.MemorySwap && old.MemorySwap > 0 ? old.MemorySwap : undefined;
    if (!u.MemorySwap && explicitSwap !== undefined && u.Memory > explicitSwap) {
      throw invalidArgument('Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time');
    }
  }
  if (u.MemorySwap) hc.MemorySwap = u.MemorySwap;
  if (u.MemoryReservation) hc.MemoryReservation = u.MemoryReservation;
  if (u.NanoCpus) {
    if ((old.CpuQuota && old.CpuQuota > 0 && !u.CpuQuota) || u.CpuQuota || u.CpuPeriod) throw invalidArgument('Conflicting options: Nano CPUs cannot be updated as CPU Period/Quota has already been set');
    hc.NanoCpus = u.NanoCpus;
  }
  if (u.CpuQuota || u.CpuPeriod) {
    if (old.NanoCpus && !u.NanoCpus) throw invalidArgument('Conflicting options: CPU Quota cannot be updated as NanoCPUs has already been set');
    if (u.CpuQuota) hc.CpuQuota = u.CpuQuota;
    if (u.CpuPeriod) hc.CpuPeriod = u.CpuPeriod;
  }
  if (u.CpuShares) hc.CpuShares = u.CpuShares;
  if (u.CpusetCpus) hc.CpusetCpus = u.CpusetCpus;
  if (u.CpusetMems) hc.CpusetMems = u.CpusetMems;
  if (u.PidsLimit !== undefined && u.PidsLimit !== null) hc.PidsLimit = u.PidsLimit > 0 ? u.PidsLimit : 0;
  if (u.BlkioWeight) hc.BlkioWeight = u.BlkioWeight;
  if (u.RestartPolicy && (u.RestartPolicy.Name || u.RestartPolicy.MaximumRetryCount)) hc.RestartPolicy = checkRestartPolicy(c, u.RestartPolicy);
  validateResources({ ...u, ...hc, Ulimits: undefined }, hostCgroupInfo(), true);
  return hc;
}

/** Which cgroup values differ between two HostConfigs (only those are written). */
function changed(a: CgroupLimits, b: CgroupLimits): CgroupLimits {
  const out: CgroupLimits = {};
  for (const k of Object.keys(b) as Array<keyof CgroupLimits>) {
    if (a[k] !== b[k]) (out as Record<string, unknown>)[k] = b[k];
  }
  // The memory pair is written together: their order depends on both values.
  if (out.memory !== undefined || out.memorySwap !== undefined) {
    out.memory = b.memory;
    out.memorySwap = b.memorySwap;
  }
  return out;
}

export async function updateContainer(m: ContainerManager, ref: string, u: UpdateConfig): Promise<{ Warnings: string[] }> {
  const c = m.get(ref);
  // As at create, what the host cannot enforce is dropped with a warning.
  let warnings: string[] = [];
  if (u && typeof u === 'object' && !Array.isArray(u)) {
    u = { ...u };
    warnings = discardUnsupported(u);
  }
  await m.lock.run(c.Id, async () => {
    if (m.store.tryGet(c.Id) !== c) throw notFound(`No such container: ${ref}`);
    await m.prepared.discard(c);
    if (c.State.Status === 'removing' || c.State.Dead) throw conflict(`Cannot update container ${c.Id}: container is marked for removal`);
    const next = mergeUpdate(c, u);
    // Nothing runs during a restart back-off: the next start applies the new limits.
    if (c.State.Running) {
      const dir = new CgroupDir(hostCgroupInfo().layout, containerCgroupsPath(c.Id, c.HostConfig.CgroupParent));
      const before = limitsOf(c.HostConfig);
      const diff = changed(before, limitsOf(next));
      try {
        await writeCgroupLimits(dir, diff);
      } catch (err) {
        await writeCgroupLimits(dir, changed(limitsOf(next), before)).catch(() => {});
        throw invalidArgument(`Cannot update container ${c.Id}: ${errorMessage(err)}`);
      }
    }
    c.HostConfig = next;
    await m.store.save(c);
    m.publish(c, 'update');
  });
  return { Warnings: warnings };
}
