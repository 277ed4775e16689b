/**
 * docker's local driver options (`docker volume create -o type=… -o device=… -o o=…`,
 * compose `driver_opts`): checked at create as dockerd checks them, and turned into
 * the mount a container gets. Pure: no I/O.
 *
 * dockerd mounts `device` on the volume's _data at first use and binds _data into
 * each container. berth gives each container the mount itself: a bind of the device
 * path for `type=none,o=bind` (the common "named bind" volume: the data lands in the
 * host directory, as with docker), and the filesystem mount (tmpfs, nfs, ext4, …)
 * for any other type, made by the runtime. One difference remains: a tmpfs volume
 * used by two containers at once is two tmpfs, not one.
 */
import { invalidArgument } from '../common/errors.js';
import type { Mount as OciMount } from '../oci/runtime-spec.js';
import type { VolumeRecord } from './types.js';

// The only keys dockerd's local driver takes (`size` is an xfs quota: accepted, unused).
const LOCAL_OPTS = new Set(['type', 'device', 'o', 'size']);
// dockerd: each of these needs the listed others.
const REQUIRES: Record<string, string> = { device: 'type', type: 'device', o: 'device' };

function flags(o: string | undefined): string[] {
  return (o ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}

function isBind(opts: Record<string, string>): boolean {
  return flags(opts.o).some((f) => f === 'bind' || f === 'rbind');
}

/** Throws INVALID_ARGUMENT with dockerd's wording for options it would refuse. */
export function validateLocalOpts(name: string, opts: Record<string, string>): void {
  for (const k of Object.keys(opts)) {
    if (!LOCAL_OPTS.has(k)) throw invalidArgument(`create ${name}: invalid option: "${k}"`);
  }
  for (const [k, need] of Object.entries(REQUIRES)) {
    if (opts[k] !== undefined && opts[need] === undefined) throw invalidArgument(`create ${name}: missing required option: "${need}"`);
  }
  if (opts.type === undefined) return;
  if (isBind(opts) && !(opts.device ?? '').startsWith('/')) {
    throw invalidArgument(`create ${name}: a bind volume needs an absolute host path as device, got "${opts.device ?? ''}"`);
  }
  if ((opts.type === 'none' || opts.type === '') && !isBind(opts)) {
    throw invalidArgument(`create ${name}: type=none mounts nothing without o=bind: add -o o=bind`);
  }
  if (opts.device?.includes('\0') || opts.o?.includes('\0')) throw invalidArgument(`create ${name}: option contains a NUL byte`);
}

/** The mount a container gets for this volume at target. */
export function volumeOciMount(v: Pick<VolumeRecord, 'Mountpoint' | 'Options'>, target: string, readonly: boolean): OciMount {
  const opts = v.Options ?? {};
  const mode = readonly ? 'ro' : 'rw';
  if (opts.type === undefined || opts.device === undefined) {
    return { destination: target, type: 'bind', source: v.Mountpoint, options: ['rbind', 'rprivate', mode, 'nosuid', 'nodev'] };
  }
  const given = flags(opts.o);
  if (isBind(opts)) {
    // o's own flags (ro, nosuid, …) stay; bind vs rbind is the user's choice, as in docker.
    const rest = given.filter((f) => f !== 'bind' && f !== 'rbind' && f !== 'rw' && f !== 'ro');
    const ro = readonly || given.includes('ro');
    return { destination: target, type: 'bind', source: opts.device, options: [given.includes('rbind') ? 'rbind' : 'bind', 'rprivate', ro ? 'ro' : 'rw', ...rest] };
  }
  const rest = given.filter((f) => f !== 'rw' && f !== 'ro');
  return { destination: target, type: opts.type, source: opts.device, options: [...rest, readonly || given.includes('ro') ? 'ro' : 'rw'] };
}
