/**
 * HostConfig fields dockerd on Linux (overlay2, no GPU driver, no volume plugins)
 * answers with an error or a warning rather than an effect: isolation, Windows-only
 * resources, storage options, GPU requests, foreign volume drivers, real-time CPU
 * without a budget, and hostile cgroup parents. Each is refused (400, dockerd's words
 * where it has them) or dropped with a warning, never silently ignored.
 */
import { invalidArgument } from '../../common/errors.js';
import { cgroupParentProblem, containerCgroupsPath, hostCgroupInfo, realtimeBudget, realtimeProblem, realtimeSupported, type CgroupLayout } from '../../cgroups/index.js';
import type { DeviceRequest, HostConfig } from '../../oci/docker-config.js';

const OS = 'linux';

/** Go's %v of a [][]string: [[gpu utility]]. */
function goCaps(caps: DeviceRequest['Capabilities']): string {
  return `[${(caps ?? []).map((c) => `[${(c ?? []).join(' ')}]`).join(' ')}]`;
}

function checkRealtime(hc: HostConfig, layout: CgroupLayout): void {
  const period = hc.CpuRealtimePeriod ?? 0;
  const runtime = hc.CpuRealtimeRuntime ?? 0;
  if (!period && !runtime) return;
  if (!realtimeSupported(layout)) throw invalidArgument('kernel does not support CPU real-time scheduler');
  if (period < 0) throw invalidArgument(`invalid CpuRealtimePeriod ${period}: must not be negative`);
  if (runtime < 0) throw invalidArgument(`invalid CpuRealtimeRuntime ${runtime}: must not be negative`);
  if (period && runtime && runtime > period) throw invalidArgument('cpu real-time runtime cannot be higher than cpu real-time period');
  // The id is a stand-in: only the parent's budget is read.
  const problem = realtimeProblem(realtimeBudget(layout, containerCgroupsPath('x', hc.CgroupParent)), runtime, period || undefined);
  if (problem) throw invalidArgument(problem);
}

/** Create-time refusals, in dockerd's order (decode checks first, then settings). */
export function checkPlatformFields(hc: HostConfig, layout: CgroupLayout = hostCgroupInfo().layout): void {
  const iso = hc.Isolation ?? '';
  if (iso !== '' && iso.toLowerCase() !== 'default') throw invalidArgument(`invalid isolation (${iso}): ${OS} only supports 'default'`);
  if (hc.IOMaximumBandwidth) throw invalidArgument(`invalid option: QoS maximum bandwidth configuration is not supported on ${OS}`);
  if (hc.IOMaximumIOps) throw invalidArgument(`invalid option: QoS maximum IOPs configuration is not supported on ${OS}`);
  if (hc.CgroupParent) {
    const problem = cgroupParentProblem(hc.CgroupParent);
    if (problem) throw invalidArgument(`invalid cgroup parent ${JSON.stringify(hc.CgroupParent.length > 80 ? `${hc.CgroupParent.slice(0, 80)}…` : hc.CgroupParent)}: ${problem}`);
  }
  checkRealtime(hc, layout);
  for (const k of Object.keys(hc.Annotations ?? {})) {
    if (k === '') throw invalidArgument('invalid Annotations: the empty string is not permitted as an annotation key');
  }
  for (const k of Object.keys(hc.StorageOpt ?? {})) {
    // overlay2 takes only "size", and only on xfs with project quotas; berth's snapshots have none.
    if (k.toLowerCase() === 'size') throw invalidArgument("--storage-opt is supported only for overlay over xfs with 'pquota' mount option");
    throw invalidArgument(`Unknown option ${k.toLowerCase()}`);
  }
  // No device driver (nvidia, CDI) is registered here: dockerd finds none for any request.
  for (const r of hc.DeviceRequests ?? []) {
    throw invalidArgument(`could not select device driver ${JSON.stringify(r?.Driver ?? '')} with capabilities: ${goCaps(r?.Capabilities)}`);
  }
}

/** The named volumes a create would make: bind sources that are not paths, and anonymous ones. */
function volumesToCreate(hc: HostConfig, volumes: Record<string, unknown>): string[] {
  const out: string[] = [];
  const taken = new Set<string>();
  for (const b of hc.Binds ?? []) {
    const [src, dst] = b.split(':');
    if (dst !== undefined) taken.add(dst);
    if (dst !== undefined && src && !src.startsWith('/')) out.push(src);
  }
  for (const m of hc.Mounts ?? []) taken.add(m.Target);
  for (const dst of Object.keys(volumes)) if (!taken.has(dst)) out.push('');
  return out;
}

/**
 * --volume-driver: "local" is berth's only driver; another name fails as dockerd fails
 * without that plugin, but only when the container has a volume to create with it.
 * (dockerd answers 404; berth 400, so that docker's CLI does not retry by pulling the image.)
 */
export function checkVolumeDriver(hc: HostConfig, volumes: Record<string, unknown> = {}): void {
  const d = hc.VolumeDriver ?? '';
  if (!d || d === 'local') return;
  const vols = volumesToCreate(hc, volumes);
  if (!vols.length) return;
  const name = vols.find((v) => v !== '');
  throw invalidArgument(`${name ? `create ${name}: ` : ''}error looking up volume plugin ${d}: plugin ${JSON.stringify(d)} not found`);
}

/** dockerd's warnings for fields Linux does not use; the fields are dropped (mutates hc). */
export function discardPlatformFields(hc: HostConfig): string[] {
  const out: string[] = [];
  if (typeof hc.CpuPercent === 'number' && hc.CpuPercent > 0) {
    out.push(`${OS} does not support CPU percent. Percent discarded.`);
    hc.CpuPercent = 0;
  }
  // dockerd drops CpuCount on Linux without a word; berth says so, in the same form.
  if (typeof hc.CpuCount === 'number' && hc.CpuCount > 0) {
    out.push(`${OS} does not support CPU count. Count discarded.`);
    hc.CpuCount = 0;
  }
  const d = hc.VolumeDriver ?? '';
  if (d && (hc.Mounts ?? []).some((m) => m?.Type === 'volume' && !m.VolumeOptions?.DriverConfig?.Name)) {
    out.push("the container-wide volume-driver configuration is ignored for volumes specified via 'mount'. Use '--mount type=volume,volume-driver=...' instead");
  }
  return out;
}

/** discardPlatformFields on a copy of a create request's HostConfig (the caller's object is left alone). */
export function dropPlatformFields<T extends { HostConfig?: HostConfig }>(req: T): { req: T; warnings: string[] } {
  const hc = req && typeof req === 'object' ? req.HostConfig : undefined;
  if (!hc || typeof hc !== 'object' || Array.isArray(hc)) return { req, warnings: [] };
  const copy = { ...hc };
  const warnings = discardPlatformFields(copy);
  return { req: { ...req, HostConfig: copy }, warnings };
}
