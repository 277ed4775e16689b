/**
 * Resource and health-check flags shared by run/create (and, for the resource part,
 * update): docker's names, docker's units (bytes via RAMInBytes, health durations as
 * Go durations sent in nanoseconds) and docker's flag errors.
 */
import type { FlagDef } from '../flag-table.js';
import type { ContainerConfig, HostConfig } from '../../oci/docker-config.js';
import { CliError, FlagError } from '../errors.js';
import { ramInBytes } from '../format/human.js';

const collect = (v: string, prev: string[] = []) => [...prev, v];

export interface ResourceFlags {
  memorySwappiness?: string; kernelMemory?: string; oomKillDisable?: boolean; cpuPeriod?: string; cpuQuota?: string;
  cpusetMems?: string; blkioWeight?: string; deviceReadBps?: string[]; deviceWriteBps?: string[];
  deviceReadIops?: string[]; deviceWriteIops?: string[];
  healthCmd?: string; healthInterval?: string; healthTimeout?: string; healthRetries?: string; healthStartPeriod?: string;
  healthStartInterval?: string;
  /** commander's negation of --healthcheck: false when --no-healthcheck was given. */
  healthcheck?: boolean;
}

/** Flags run/create lacked before issue 3 (the rest are in run-flags.ts and platform-flags.ts). */
export const RESOURCE_FLAGS: readonly FlagDef[] = [
  ['--memory-swappiness <int>', 'Tune container memory swappiness (0 to 100) (default -1)'],
  ['--kernel-memory <bytes>', 'Kernel memory limit (not supported)'],
  ['--oom-kill-disable', 'Disable OOM Killer'],
  ['--cpu-period <int>', 'Limit CPU CFS (Completely Fair Scheduler) period'],
  ['--cpu-quota <int>', 'Limit CPU CFS (Completely Fair Scheduler) quota'],
  ['--cpuset-mems <string>', 'MEMs in which to allow execution (0-3, 0,1)'],
  ['--blkio-weight <uint16>', 'Block IO (relative weight), between 10 and 1000, or 0 to disable (default 0)'],
  ['--device-read-bps <list>', 'Limit read rate (bytes per second) from a device', collect],
  ['--device-write-bps <list>', 'Limit write rate (bytes per second) to a device', collect],
  ['--device-read-iops <list>', 'Limit read rate (IO per second) from a device', collect],
  ['--device-write-iops <list>', 'Limit write rate (IO per second) to a device', collect],
  ['--health-cmd <string>', 'Command to run to check health'],
  ['--health-interval <duration>', 'Time between running the check (ms|s|m|h) (default 0s)'],
  ['--health-timeout <duration>', 'Maximum time to allow one check to run (ms|s|m|h) (default 0s)'],
  ['--health-retries <int>', 'Consecutive failures needed to report unhealthy'],
  ['--health-start-period <duration>', 'Start period for the container to initialize before starting health-retries countdown (ms|s|m|h) (default 0s)'],
  ['--health-start-interval <duration>', 'Time between running the check during the start period (ms|s|m|h) (default 0s)'],
  ['--no-healthcheck', 'Disable any container-specified HEALTHCHECK'],
];

export function intFlag(v: string, flag: string): number {
  if (!/^-?\d+$/.test(v)) throw new FlagError(v, flag, `strconv.ParseInt: parsing "${v}": invalid syntax`);
  return Number(v);
}

const UNIT_NS: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** Go's time.ParseDuration ("1m30s", "500ms", "0") → nanoseconds. */
export function parseGoDuration(v: string, flag: string): number {
  if (v === '0') return 0;
  const re = /(\d+(?:\.\d+)?)(ns|us|\u00b5s|ms|s|m|h)/gy;
  let total = 0;
  let pos = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(v))) {
    total += Number(m[1]) * UNIT_NS[m[2]!]!;
    pos = re.lastIndex;
  }
  if (pos !== v.length || v.length === 0) throw new FlagError(v, flag, `time: invalid duration "${v}"`);
  return Math.round(total);
}

/** "/dev/sda:1mb" (bps) or "/dev/sda:1000" (iops). */
function throttle(v: string, flag: string, bytes: boolean): { Path: string; Rate: number } {
  const i = v.lastIndexOf(':');
  if (i <= 0) throw new FlagError(v, flag, `bad format: ${v}`);
  const path = v.slice(0, i);
  const rate = v.slice(i + 1);
  if (!path.startsWith('/dev/')) throw new FlagError(v, flag, `bad format for device path: ${v}`);
  let n: number;
  if (bytes) {
    try { n = ramInBytes(rate); } catch { throw new FlagError(v, flag, `invalid rate for device: ${v}. The correct format is <device-path>:<number>[<unit>]. Number must be a positive integer. Unit is optional and can be kb, mb, or gb`); }
  } else {
    if (!/^\d+$/.test(rate)) throw new FlagError(v, flag, `invalid rate for device: ${v}. The correct format is <device-path>:<number>. Number must be a positive integer`);
    n = Number(rate);
  }
  return { Path: path, Rate: n };
}

export function applyResourceFlags(f: ResourceFlags, hc: HostConfig): void {
  if (f.memorySwappiness !== undefined) hc.MemorySwappiness = intFlag(f.memorySwappiness, '--memory-swappiness');
  if (f.kernelMemory !== undefined) {
    try { hc.KernelMemory = ramInBytes(f.kernelMemory); } catch (e) { throw new FlagError(f.kernelMemory, '--kernel-memory', (e as Error).message); }
  }
  if (f.oomKillDisable) hc.OomKillDisable = true;
  if (f.cpuPeriod !== undefined) hc.CpuPeriod = intFlag(f.cpuPeriod, '--cpu-period');
  if (f.cpuQuota !== undefined) hc.CpuQuota = intFlag(f.cpuQuota, '--cpu-quota');
  if (f.cpusetMems !== undefined) hc.CpusetMems = f.cpusetMems;
  if (f.blkioWeight !== undefined) hc.BlkioWeight = intFlag(f.blkioWeight, '--blkio-weight');
  if (f.deviceReadBps?.length) hc.BlkioDeviceReadBps = f.deviceReadBps.map((v) => throttle(v, '--device-read-bps', true));
  if (f.deviceWriteBps?.length) hc.BlkioDeviceWriteBps = f.deviceWriteBps.map((v) => throttle(v, '--device-write-bps', true));
  if (f.deviceReadIops?.length) hc.BlkioDeviceReadIOps = f.deviceReadIops.map((v) => throttle(v, '--device-read-iops', false));
  if (f.deviceWriteIops?.length) hc.BlkioDeviceWriteIOps = f.deviceWriteIops.map((v) => throttle(v, '--device-write-iops', false));
}

/** Config.Healthcheck from --health-* and --no-healthcheck (docker's conflicts and forms). */
export function healthcheckFromFlags(f: ResourceFlags): ContainerConfig['Healthcheck'] | undefined {
  const any = f.healthCmd !== undefined || f.healthInterval !== undefined || f.healthTimeout !== undefined ||
    f.healthRetries !== undefined || f.healthStartPeriod !== undefined || f.healthStartInterval !== undefined;
  if (f.healthcheck === false) {
    if (any) throw new CliError('--no-healthcheck conflicts with --health-* options', 125);
    return { Test: ['NONE'] };
  }
  if (!any) return undefined;
  const hc: NonNullable<ContainerConfig['Healthcheck']> & { StartInterval?: number } = {};
  if (f.healthCmd !== undefined) hc.Test = f.healthCmd === '' ? [] : ['CMD-SHELL', f.healthCmd];
  const dur = (v: string | undefined, flag: string) => {
    if (v === undefined) return undefined;
    const ns = parseGoDuration(v, flag);
    if (ns < 0) throw new FlagError(v, flag, `${flag} cannot be negative`);
    return ns;
  };
  const interval = dur(f.healthInterval, '--health-interval');
  const timeout = dur(f.healthTimeout, '--health-timeout');
  const start = dur(f.healthStartPeriod, '--health-start-period');
  const startInterval = dur(f.healthStartInterval, '--health-start-interval');
  if (interval !== undefined) hc.Interval = interval;
  if (timeout !== undefined) hc.Timeout = timeout;
  if (start !== undefined) hc.StartPeriod = start;
  if (startInterval !== undefined) hc.StartInterval = startInterval;
  if (f.healthRetries !== undefined) {
    const r = intFlag(f.healthRetries, '--health-retries');
    if (r < 0) throw new FlagError(f.healthRetries, '--health-retries', '--health-retries cannot be negative');
    hc.Retries = r;
  }
  return hc;
}
