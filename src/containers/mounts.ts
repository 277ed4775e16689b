/**
 * Resolve a container's mounts (Binds, Mounts, Tmpfs, image VOLUMEs) into the
 * inspect "Mounts" entries and the OCI mounts the runtime needs. Named and
 * anonymous volumes are created here; bind sources must exist (docker's API rule
 * for Binds creates missing sources; --mount refuses them).
 */
import { stat, mkdir } from 'node:fs/promises';
import { posix } from 'node:path';
import { invalidArgument } from '../common/errors.js';
import { newId } from '../common/ids.js';
import type { HostConfig, ContainerConfig } from '../oci/docker-config.js';
import type { Mount as OciMount } from '../oci/runtime-spec.js';
import type { VolumeService } from '../volumes/types.js';
import { volumeOciMount } from '../volumes/index.js';
import type { ContainerRecord } from './types.js';

export type InspectMount = ContainerRecord['Mounts'][number];

const VOLUME_NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

interface ParsedBind {
  source: string;
  target: string;
  readonly: boolean;
  propagation: string;
  kind: 'bind' | 'volume';
  /** `:nocopy`: a volume is not filled from the image. */
  nocopy: boolean;
  /** The mode as written (`rw`, `ro,z`, …): dockerd's inspect shows it as is. */
  mode: string;
}

export function parseBind(spec: string): ParsedBind {
  const parts = spec.split(':');
  if (parts.length < 2 || parts.length > 3) throw invalidArgument(`invalid volume specification: '${spec}'`);
  const [source, target, mode = ''] = parts as [string, string, string?];
  if (!target.startsWith('/')) throw invalidArgument(`invalid volume specification: '${spec}': mount path must be absolute`);
  let readonly = false;
  let nocopy = false;
  let propagation = 'rprivate';
  for (const m of mode.split(',').filter(Boolean)) {
    if (m === 'ro') readonly = true;
    else if (m === 'rw') readonly = false;
    else if (m === 'nocopy') nocopy = true;
    else if (['z', 'Z', 'consistent', 'cached', 'delegated'].includes(m)) continue;
    else if (['private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave'].includes(m)) propagation = m;
    else throw invalidArgument(`invalid volume specification: '${spec}': invalid mode: ${m}`);
  }
  if (source.startsWith('/')) return { source, target, readonly, propagation, kind: 'bind', nocopy, mode };
  if (!VOLUME_NAME_RE.test(source)) {
    throw invalidArgument(`invalid volume specification: '${spec}': "${source}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`);
  }
  return { source, target, readonly, propagation, kind: 'volume', nocopy, mode };
}

export interface ResolvedMounts {
  inspect: InspectMount[];
  oci: OciMount[];
  /** Volumes created for this container (removed again if the create fails). */
  fresh: Array<{ name: string; target: string; mountpoint: string }>;
  /**
   * Every plain local volume mounted without nocopy, new or not: docker fills an empty
   * one with the image's content at its path (a pre-created compose volume included).
   */
  populate: Array<{ name: string; target: string; mountpoint: string }>;
}

function parseTmpfsOptions(opts: string): string[] {
  return opts ? opts.split(',').filter(Boolean) : [];
}

/**
 * Resolve every mount. `createVolumes` makes the named/anonymous volumes exist;
 * on failure the caller removes the anonymous ones listed in `fresh`.
 */
/** Another container's mounts, for --volumes-from (NOT_FOUND when there is no such container). */
export type MountsOf = (ref: string) => InspectMount[];

export async function resolveMounts(hc: HostConfig, cfg: ContainerConfig, volumes: VolumeService, journal?: (name: string) => Promise<void>, mountsOf?: MountsOf): Promise<ResolvedMounts> {
  const out: ResolvedMounts = { inspect: [], oci: [], fresh: [], populate: [] };
  try {
    await collect(out, hc, cfg, volumes, journal, mountsOf);
  } catch (err) {
    // Nothing half-created: volumes made for this container go again.
    for (const f of out.fresh) await volumes.remove(f.name, { force: true }, () => false).catch(() => {});
    throw err;
  }
  return out;
}

async function collect(out: ResolvedMounts, hc: HostConfig, cfg: ContainerConfig, volumes: VolumeService, journal?: (name: string) => Promise<void>, mountsOf?: MountsOf): Promise<void> {
  const targets = new Set<string>();
  const claim = (target: string) => {
    const t = posix.normalize(target);
    if (targets.has(t)) throw invalidArgument(`Duplicate mount point: ${t}`);
    targets.add(t);
    return t;
  };

  const addVolume = async (name: string | undefined, target: string, readonly: boolean, labels?: Record<string, string>, nocopy = false, mode?: string) => {
    let existed = false;
    if (name) {
      try { await volumes.get(name); existed = true; } catch { existed = false; }
    }
    // The name is chosen and journaled before the volume exists, so a create cut short
    // by a crash can be undone at start-up (manager.cleanupAbandoned).
    const volName = name || newId();
    if (!existed) await journal?.(volName);
    const v = await volumes.create({ name: volName, labels, anonymous: !name });
    if (!existed) out.fresh.push({ name: v.Name, target, mountpoint: v.Mountpoint });
    const plain = v.Options?.['type'] === undefined && v.Options?.['device'] === undefined;
    if (!nocopy && plain) out.populate.push({ name: v.Name, target, mountpoint: v.Mountpoint });
    out.inspect.push({ Type: 'volume', Name: v.Name, Source: v.Mountpoint, Destination: target, Driver: 'local', Mode: mode || (readonly ? 'ro' : 'z'), RW: !readonly, Propagation: '' });
    // A volume with driver options (type=none,o=bind / tmpfs / …) mounts what they name.
    out.oci.push(volumeOciMount(v, target, readonly));
  };

  for (const spec of hc.Binds ?? []) {
    const b = parseBind(spec);
    const target = claim(b.target);
    if (b.kind === 'volume') {
      await addVolume(b.source, target, b.readonly, undefined, b.nocopy, b.mode);
      continue;
    }
    // docker's -v creates a missing host directory; --mount (below) refuses it.
    await stat(b.source).catch(async () => mkdir(b.source, { recursive: true, mode: 0o755 }));
    out.inspect.push({ Type: 'bind', Source: b.source, Destination: target, Mode: b.mode, RW: !b.readonly, Propagation: b.propagation });
    out.oci.push({ destination: target, type: 'bind', source: b.source, options: ['rbind', b.propagation, b.readonly ? 'ro' : 'rw'] });
  }

  for (const m of hc.Mounts ?? []) {
    if (!m.Target || !m.Target.startsWith('/')) throw invalidArgument(`invalid mount config: mount path must be absolute: "${m.Target ?? ''}"`);
    const target = claim(m.Target);
    if (m.Type === 'bind') {
      if (!m.Source || !m.Source.startsWith('/')) throw invalidArgument('invalid mount config for type "bind": invalid mount path: source must be an absolute path');
      try { await stat(m.Source); } catch {
        throw invalidArgument(`invalid mount config for type "bind": bind source path does not exist: ${m.Source}`);
      }
      const prop = m.BindOptions?.Propagation || 'rprivate';
      out.inspect.push({ Type: 'bind', Source: m.Source, Destination: target, Mode: '', RW: !m.ReadOnly, Propagation: prop });
      out.oci.push({ destination: target, type: 'bind', source: m.Source, options: [m.BindOptions?.NonRecursive ? 'bind' : 'rbind', prop, m.ReadOnly ? 'ro' : 'rw'] });
    } else if (m.Type === 'volume') {
      await addVolume(m.Source || undefined, target, !!m.ReadOnly, m.VolumeOptions?.Labels, !!m.VolumeOptions?.NoCopy);
    } else if (m.Type === 'tmpfs') {
      const opts = ['nosuid', 'nodev', 'noexec'];
      if (m.TmpfsOptions?.SizeBytes) opts.push(`size=${m.TmpfsOptions.SizeBytes}`);
      opts.push(`mode=${(m.TmpfsOptions?.Mode ?? 0o1777).toString(8)}`);
      if (m.ReadOnly) opts.push('ro');
      out.inspect.push({ Type: 'tmpfs', Source: '', Destination: target, Mode: '', RW: !m.ReadOnly, Propagation: '' });
      out.oci.push({ destination: target, type: 'tmpfs', source: 'tmpfs', options: opts });
    } else {
      throw invalidArgument(`invalid mount config: mount type unknown: "${m.Type}"`);
    }
  }

  for (const [target0, opts] of Object.entries(hc.Tmpfs ?? {})) {
    if (!target0.startsWith('/')) throw invalidArgument(`invalid tmpfs mount path: ${target0}: must be absolute`);
    const target = claim(target0);
    const given = parseTmpfsOptions(opts);
    const base = ['nosuid', 'nodev', 'noexec'];
    const merged = [...base.filter((o) => !given.includes(o.replace(/^no/, ''))), ...given];
    if (!merged.some((o) => o.startsWith('mode='))) merged.push('mode=1777');
    out.oci.push({ destination: target, type: 'tmpfs', source: 'tmpfs', options: merged });
  }

  // --volumes-from c[:ro|rw]: c's volumes and binds at the same paths, with c's mode
  // unless one is given; this container's own mounts win at a shared path (docker's order).
  for (const spec of hc.VolumesFrom ?? []) {
    if (typeof spec !== 'string' || !spec) throw invalidArgument(`invalid volumes-from specification: ${JSON.stringify(spec)}`);
    const m = /^(.+?)(?::(ro|rw|z|Z|ro,z|rw,z|z,ro|z,rw))?$/.exec(spec)!;
    const mode = m[2] ?? '';
    if (!mountsOf) throw invalidArgument('--volumes-from is not available here');
    for (const src of mountsOf(m[1]!)) {
      if (src.Type !== 'volume' && src.Type !== 'bind') continue;
      const target = posix.normalize(src.Destination);
      if (targets.has(target)) continue;
      claim(target);
      const readonly = /ro/.test(mode) ? true : /rw/.test(mode) ? false : !src.RW;
      if (src.Type === 'volume' && src.Name) {
        await addVolume(src.Name, target, readonly, undefined, true);
        continue;
      }
      const propagation = src.Propagation || 'rprivate';
      out.inspect.push({ Type: 'bind', Source: src.Source, Destination: target, Mode: readonly ? 'ro' : '', RW: !readonly, Propagation: propagation });
      out.oci.push({ destination: target, type: 'bind', source: src.Source, options: ['rbind', propagation, readonly ? 'ro' : 'rw'] });
    }
  }

  // The image's VOLUMEs not covered by an explicit mount become anonymous volumes.
  for (const target0 of Object.keys(cfg.Volumes ?? {})) {
    const target = posix.normalize(target0);
    if (targets.has(target)) continue;
    claim(target);
    await addVolume(undefined, target, false, undefined);
  }
}
