/**
 * --cpu-rt-runtime/--cpu-rt-period (cgroup v1 with CONFIG_RT_GROUP_SCHED only). The
 * kernel lets a cgroup run real-time tasks only within its parent's real-time budget,
 * and a new cgroup starts with none: dockerd hands such a container to runc, which
 * fails at start with "write cpu.rt_runtime_us: invalid argument" unless the daemon was
 * given a budget for its parent (dockerd --cpu-rt-runtime). berth reads the parent's
 * budget at create and says so there, before anything exists.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import type { CgroupLayout } from './detect.js';

/** docker's sysinfo.CPURealtime: the v1 cpu controller has the rt files. */
export function realtimeSupported(layout: CgroupLayout): boolean {
  return layout.version === 1 && existsSync(join(layout.root, 'cpu', 'cpu.rt_runtime_us')) && existsSync(join(layout.root, 'cpu', 'cpu.rt_period_us'));
}

export interface RealtimeBudget { parent: string; runtime: number; period: number }

function readInt(file: string): number | undefined {
  try {
    const n = Number.parseInt(readFileSync(file, 'utf8').trim(), 10);
    return Number.isFinite(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

/** The real-time budget of the parent of `cgroupsPath` (0 when the parent does not exist yet: runc would make it empty). */
export function realtimeBudget(layout: CgroupLayout, cgroupsPath: string): RealtimeBudget {
  const parent = posix.dirname(cgroupsPath);
  const dir = join(layout.root, 'cpu', parent);
  const runtime = readInt(join(dir, 'cpu.rt_runtime_us')) ?? 0;
  const period = readInt(join(dir, 'cpu.rt_period_us')) ?? 1_000_000;
  return { parent, runtime, period };
}

/**
 * Why the container's request cannot fit its parent's budget, or undefined. Sibling
 * cgroups' shares are not counted (the kernel still checks them when runc writes).
 */
export function realtimeProblem(budget: RealtimeBudget, runtime: number, period: number | undefined): string | undefined {
  if (runtime <= 0) return undefined;
  // -1 is "unlimited" (only the root has it); a child's period defaults to the system's 1 s.
  if (budget.runtime === -1) return undefined;
  const childPeriod = period && period > 0 ? period : 1_000_000;
  if (budget.runtime > 0 && runtime / childPeriod <= budget.runtime / budget.period) return undefined;
  return `cpu real-time runtime ${runtime}us per ${childPeriod}us is more than the parent cgroup ${budget.parent} allows (cpu.rt_runtime_us ${budget.runtime} per cpu.rt_period_us ${budget.period}): give that cgroup a real-time budget or choose a --cgroup-parent that has one`;
}
