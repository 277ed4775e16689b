/**
 * run/create flags whose answer is mostly the daemon's: --cgroup-parent, --annotation,
 * --cpu-rt-*, --blkio-weight-device, --storage-opt, --gpus, --isolation,
 * --volume-driver, the Windows-only --cpu-count/--cpu-percent/--io-max*, and the
 * client-side --sig-proxy, --disable-content-trust and --use-api-socket. Values are
 * parsed as docker's cli/command/container/opts.go parses them.
 */
import type { FlagDef } from './flag-table.js';
import type { HostConfig } from './wire.js';
import { CliError, FlagError } from './errors.js';
import { parseBytes, parseIntFlag } from './flag-values.js';
import { parseGpus } from './gpu-opts.js';

export interface PlatformFlags {
  annotation?: string[]; blkioWeightDevice?: string[]; cgroupParent?: string; cpuRtPeriod?: string; cpuRtRuntime?: string;
  storageOpt?: string[]; gpus?: string[]; isolation?: string; cpuCount?: string; cpuPercent?: string;
  ioMaxbandwidth?: string; ioMaxiops?: string; volumeDriver?: string; disableContentTrust?: boolean; useApiSocket?: boolean;
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

/** run/create flags whose answer is mostly the daemon's (see above), in docker's help order. */
export const PLATFORM_FLAGS: readonly FlagDef[] = [
  ['--annotation <map>', 'Add an annotation to the container (passed through to the OCI runtime)', collect],
  ['--blkio-weight-device <list>', 'Block IO weight (relative device weight)', collect],
  ['--cgroup-parent <string>', 'Optional parent cgroup for the container'],
  ['--cpu-rt-period <int>', 'Limit CPU real-time period in microseconds'],
  ['--cpu-rt-runtime <int>', 'Limit CPU real-time runtime in microseconds'],
  ['--storage-opt <list>', 'Storage driver options for the container', collect],
  ['--gpus <gpu-request>', "GPU devices to add to the container ('all' to pass all GPUs)", collect],
  ['--isolation <string>', 'Container isolation technology'],
  ['--cpu-count <int>', 'CPU count (Windows only)'],
  ['--cpu-percent <int>', 'CPU percent (Windows only)'],
  ['--io-maxbandwidth <bytes>', 'Maximum IO bandwidth limit for the system drive (Windows only)'],
  ['--io-maxiops <uint>', 'Maximum IOps limit for the system drive (Windows only)'],
  ['--volume-driver <string>', 'Optional volume driver for the container'],
  // docker's bool: --sig-proxy[=true|false]; --no-sig-proxy stays for old scripts.
  ['--sig-proxy', 'Proxy received signals to the process (default true)'],
  ['--disable-content-trust', 'Skip image verification (default true)'],
  ['--use-api-socket', 'Bind mount the berth API socket and required auth'],
];

/** docker's opts.ValidateWeightDevice. */
export function parseWeightDevice(v: string): { Path: string; Weight: number } {
  const i = v.indexOf(':');
  const k = i < 0 ? '' : v.slice(0, i);
  const w = i < 0 ? '' : v.slice(i + 1);
  const bad = (why: string) => new FlagError(v, '--blkio-weight-device', why);
  if (i < 0 || k === '') throw bad(`bad format: ${v}`);
  if (!k.startsWith('/dev/')) throw bad(`bad format for device path: ${v}`);
  const n = /^\d+$/.test(w) ? Number(w) : NaN;
  if (!Number.isInteger(n) || n > 65535 || (n > 0 && (n < 10 || n > 1000))) throw bad(`invalid weight for device: ${v}`);
  return { Path: k, Weight: n };
}

/** docker's parseStorageOpts: key=value, else "invalid storage option" (a parse error, with the help hint). */
export function parseStorageOpts(list: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const o of list) {
    const i = o.indexOf('=');
    if (i < 0) throw new CliError('invalid storage option', 125);
    out[o.slice(0, i)] = o.slice(i + 1);
  }
  return out;
}

// Flags docker marks `ostype: windows`: its CLI refuses them before calling a Linux daemon.
const WINDOWS_ONLY: Array<[keyof PlatformFlags, string]> = [['cpuCount', 'cpu-count'], ['cpuPercent', 'cpu-percent'], ['ioMaxbandwidth', 'io-maxbandwidth'], ['ioMaxiops', 'io-maxiops']];

/** The first Windows-only flag given, in docker's words; berthd is always a Linux daemon. */
export function windowsOnlyFlagError(f: PlatformFlags): CliError | undefined {
  const hit = WINDOWS_ONLY.find(([k]) => f[k] !== undefined);
  return hit ? new CliError(`"--${hit[1]}" is only supported on a Docker daemon running on windows, but the Docker daemon is running on linux`, 1) : undefined;
}

/** Fill HostConfig from the flags above (the API body carries what the user asked for). */
export function applyPlatformFlags(f: PlatformFlags, hc: HostConfig): void {
  if (f.annotation?.length) {
    const a: Record<string, string> = {};
    for (const kv of f.annotation) {
      const i = kv.indexOf('=');
      a[i < 0 ? kv : kv.slice(0, i)] = i < 0 ? '' : kv.slice(i + 1);
    }
    hc.Annotations = a;
  }
  if (f.blkioWeightDevice?.length) hc.BlkioWeightDevice = f.blkioWeightDevice.map(parseWeightDevice);
  if (f.cgroupParent) hc.CgroupParent = f.cgroupParent;
  if (f.cpuRtPeriod !== undefined) hc.CpuRealtimePeriod = parseIntFlag(f.cpuRtPeriod, '--cpu-rt-period');
  if (f.cpuRtRuntime !== undefined) hc.CpuRealtimeRuntime = parseIntFlag(f.cpuRtRuntime, '--cpu-rt-runtime');
  if (f.storageOpt?.length) hc.StorageOpt = parseStorageOpts(f.storageOpt);
  if (f.gpus?.length) hc.DeviceRequests = f.gpus.map(parseGpus);
  if (f.isolation) hc.Isolation = f.isolation;
  if (f.cpuCount !== undefined) hc.CpuCount = parseIntFlag(f.cpuCount, '--cpu-count');
  if (f.cpuPercent !== undefined) hc.CpuPercent = parseIntFlag(f.cpuPercent, '--cpu-percent');
  if (f.ioMaxbandwidth !== undefined) hc.IOMaximumBandwidth = parseBytes(f.ioMaxbandwidth, '--io-maxbandwidth');
  if (f.ioMaxiops !== undefined) hc.IOMaximumIOps = parseIntFlag(f.ioMaxiops, '--io-maxiops');
  if (f.volumeDriver) hc.VolumeDriver = f.volumeDriver;
}
