/**
 * --device-read-bps and friends name a block device by path; the cgroup wants its
 * major:minor. Resolved on the host at create (to fail early) and again at start.
 */
import { statSync } from 'node:fs';
import type { Spec } from '../oci/runtime-spec.js';

export interface ThrottleInput { Path: string; Rate: number }
export interface ThrottleDevice { major: number; minor: number; rate: number }

/** glibc's dev_t split (Node gives st_rdev as a number). */
function split(rdev: number): { major: number; minor: number } {
  return { major: ((rdev >> 8) & 0xfff) | (Math.floor(rdev / 2 ** 32) & ~0xfff), minor: (rdev & 0xff) | ((rdev >> 12) & 0xfff00) };
}

export function resolveThrottle(list: ThrottleInput[] | null | undefined, flag: string): ThrottleDevice[] {
  const out: ThrottleDevice[] = [];
  for (const d of list ?? []) {
    if (!d || typeof d.Path !== 'string' || !d.Path.startsWith('/')) throw new Error(`invalid ${flag} device path ${JSON.stringify(d?.Path)}: an absolute path is required`);
    if (!Number.isSafeInteger(d.Rate) || d.Rate < 0) throw new Error(`invalid ${flag} rate ${String(d.Rate)} for ${d.Path}: a non-negative integer is required`);
    let st;
    try { st = statSync(d.Path); } catch { throw new Error(`${flag}: no such device ${d.Path} on the host`); }
    if (!st.isBlockDevice()) throw new Error(`${flag}: ${d.Path} is not a block device`);
    out.push({ ...split(st.rdev), rate: d.Rate });
  }
  return out;
}

export interface ThrottleHostConfig {
  /** --blkio-weight-device: kept only on hosts that have weight_device (else dropped with docker's warning at create). */
  BlkioWeightDevice?: Array<{ Path: string; Weight: number }> | null;
  BlkioDeviceReadBps?: ThrottleInput[] | null;
  BlkioDeviceWriteBps?: ThrottleInput[] | null;
  BlkioDeviceReadIOps?: ThrottleInput[] | null;
  BlkioDeviceWriteIOps?: ThrottleInput[] | null;
}

/** Add the container's device throttles to an OCI spec's linux.resources.blockIO. */
export function addThrottleDevices(spec: Spec, hc: ThrottleHostConfig): void {
  const fields = {
    throttleReadBpsDevice: resolveThrottle(hc.BlkioDeviceReadBps, '--device-read-bps'),
    throttleWriteBpsDevice: resolveThrottle(hc.BlkioDeviceWriteBps, '--device-write-bps'),
    throttleReadIOPSDevice: resolveThrottle(hc.BlkioDeviceReadIOps, '--device-read-iops'),
    throttleWriteIOPSDevice: resolveThrottle(hc.BlkioDeviceWriteIOps, '--device-write-iops'),
  };
  const set: Array<[string, object[]]> = Object.entries(fields).filter(([, v]) => v.length);
  const weights = resolveThrottle((hc.BlkioWeightDevice ?? []).map((d) => ({ Path: d?.Path as string, Rate: d?.Weight as number })), '--blkio-weight-device');
  if (weights.length) set.push(['weightDevice', weights.map(({ major, minor, rate }) => ({ major, minor, weight: rate }))]);
  if (!set.length) return;
  const linux = (spec.linux ??= {});
  const res = (linux.resources ??= {});
  res.blockIO = { ...(res.blockIO ?? {}), ...Object.fromEntries(set) };
}
