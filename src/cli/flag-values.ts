/**
 * Values of `run`/`create` flags, parsed the way docker's CLI parses them
 * (cli/command/container/opts.go and cli/opts): env files, sizes, ulimits, restart
 * policies, volumes, mounts, ports, devices. Errors are docker's flag errors.
 */
import { readFileSync } from 'node:fs';
import { resolve as resolvePath, isAbsolute } from 'node:path';
import type { HostConfig, MountSpec, Ulimit } from './wire.js';
import { FlagError, CliError } from './errors.js';
import { ramInBytes } from './format/human.js';

/** `-e K=V` as is; `-e K` takes K from our environment, or is dropped if unset (docker). */
export function parseEnv(list: string[], env: NodeJS.ProcessEnv): string[] {
  const out: string[] = [];
  for (const e of list) {
    if (e.includes('=')) {
      if (e.startsWith('=')) throw new FlagError(e, '-e, --env', `invalid environment variable: ${e}`);
      out.push(e);
    } else if (env[e] !== undefined) out.push(`${e}=${env[e]}`);
  }
  return out;
}

/** docker's env/label file: KEY=VAL or KEY per line, '#' comments, blank lines skipped. */
export function readKVFile(path: string, env: NodeJS.ProcessEnv): string[] {
  let text: string;
  try { text = readFileSync(path, 'utf8'); } catch { throw new CliError(`open ${path}: no such file or directory`, 125); }
  const lines = text.split(/\r?\n/).map((l) => l.replace(/^\s+/, '')).filter((l) => l && !l.startsWith('#'));
  return parseEnv(lines, env);
}

/** -m/--shm-size style sizes → bytes, with docker's flag error. */
export function parseBytes(v: string, flag: string): number {
  if (flag === '--memory-swap' && v === '-1') return -1;
  try { return ramInBytes(v); } catch (e) { throw new FlagError(v, flag, (e as Error).message); }
}

export function parseCpus(v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < 0) throw new FlagError(v, '--cpus', `failed to parse ${v} as a rational number`);
  return Math.round(n * 1e9);
}

export function parseIntFlag(v: string, flag: string): number {
  if (!/^-?\d+$/.test(v)) throw new FlagError(v, flag, `strconv.ParseInt: parsing "${v}": invalid syntax`);
  return Number(v);
}

/** --ulimit nofile=1024:2048 (or nofile=1024: soft = hard). */
export function parseUlimit(v: string): Ulimit {
  const m = /^([a-z]+)=(-?\d+)(?::(-?\d+))?$/.exec(v);
  if (!m) throw new FlagError(v, '--ulimit', `invalid ulimit argument: ${v}`);
  const soft = Number(m[2]);
  const hard = m[3] !== undefined ? Number(m[3]) : soft;
  if (soft > hard) throw new FlagError(v, '--ulimit', `ulimit soft limit must be less than or equal to hard limit: ${soft} > ${hard}`);
  return { Name: m[1]!, Soft: soft, Hard: hard };
}

/** --restart no|always|unless-stopped|on-failure[:N]. */
export function parseRestart(v: string): HostConfig['RestartPolicy'] {
  const [name, count] = v.split(':');
  if (!['no', 'always', 'unless-stopped', 'on-failure', ''].includes(name!)) throw new CliError(`invalid restart policy: unknown policy '${name}'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'`, 125);
  if (count !== undefined) {
    if (name !== 'on-failure') throw new CliError(`invalid restart policy: maximum retry count can only be used with 'on-failure'`, 125);
    if (!/^\d+$/.test(count)) throw new CliError(`invalid restart policy: invalid maximum retry count: ${count}`, 125);
    return { Name: 'on-failure', MaximumRetryCount: Number(count) };
  }
  return { Name: name as 'no' };
}

/**
 * -v [src:]dst[:opts]. Anonymous volumes (dst only) go to Config.Volumes; the rest to
 * HostConfig.Binds. A src that is a path is a bind (relative paths made absolute, as
 * docker ≥ 23 does); anything else names a volume.
 */
export function parseVolume(v: string): { bind?: string; anon?: string } {
  const parts = v.split(':');
  if (parts.length === 1) {
    if (!isAbsolute(parts[0]!)) throw new CliError(`invalid volume specification: '${v}'`, 125);
    return { anon: parts[0] };
  }
  if (parts.length > 3 || parts.some((p) => p === '')) throw new CliError(`invalid volume specification: '${v}'`, 125);
  let [src, dst, mode] = parts as [string, string, string | undefined];
  if (!isAbsolute(dst)) throw new CliError(`invalid volume specification: '${v}': invalid mount config for type "bind": invalid mount path: '${dst}' mount path must be absolute`, 125);
  if (src.startsWith('.') || src.startsWith('~')) src = resolvePath(src.replace(/^~/, process.env.HOME ?? '~'));
  return { bind: [src, dst, mode].filter((x) => x !== undefined).join(':') };
}

function splitCsv(v: string): string[] {
  const out: string[] = [];
  let cur = '', q = false;
  for (const c of v) {
    if (c === '"') q = !q;
    else if (c === ',' && !q) { out.push(cur); cur = ''; }
    else cur += c;
  }
  out.push(cur);
  return out;
}

const truthy = (v: string | undefined, field: string, spec: string) => {
  if (v === undefined || v === '' || v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw new FlagError(spec, '--mount', `invalid value for ${field}: ${v}`);
};

/** --mount type=bind|volume|tmpfs,source=..,target=..,readonly,... → a Mounts entry. */
export function parseMount(spec: string): MountSpec {
  const m: MountSpec = { Type: 'volume', Target: '' };
  const kvs = (k: string, val: string) => {
    const i = val.indexOf('=');
    if (i < 0) throw new FlagError(spec, '--mount', `invalid field '${k}' must be a key=value pair`);
    return [val.slice(0, i), val.slice(i + 1)] as const;
  };
  for (const field of splitCsv(spec)) {
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).toLowerCase().trim();
    const val = eq < 0 ? undefined : field.slice(eq + 1);
    if (val === undefined && key !== 'readonly' && key !== 'ro' && key !== 'volume-nocopy' && key !== 'bind-nonrecursive') {
      throw new FlagError(spec, '--mount', `invalid field '${field}' must be a key=value pair`);
    }
    switch (key) {
      case 'type':
        if (!['bind', 'volume', 'tmpfs', 'npipe', 'cluster'].includes(val!)) throw new FlagError(spec, '--mount', `invalid value for type: ${val}`);
        m.Type = val as MountSpec['Type'];
        break;
      case 'source': case 'src': m.Source = val; break;
      case 'target': case 'dst': case 'destination': m.Target = val!; break;
      case 'readonly': case 'ro': m.ReadOnly = truthy(val, key, spec); break;
      case 'consistency': m.Consistency = val; break;
      case 'bind-propagation': m.BindOptions = { ...m.BindOptions, Propagation: val }; break;
      case 'bind-nonrecursive': m.BindOptions = { ...m.BindOptions, NonRecursive: truthy(val, key, spec) }; break;
      case 'volume-nocopy': m.VolumeOptions = { ...m.VolumeOptions, NoCopy: truthy(val, key, spec) }; break;
      case 'volume-label': {
        const [k, v] = kvs(key, val!);
        m.VolumeOptions = { ...m.VolumeOptions, Labels: { ...m.VolumeOptions?.Labels, [k]: v } };
        break;
      }
      case 'volume-driver': m.VolumeOptions = { ...m.VolumeOptions, DriverConfig: { ...m.VolumeOptions?.DriverConfig, Name: val } }; break;
      case 'volume-opt': {
        const [k, v] = kvs(key, val!);
        const dc = m.VolumeOptions?.DriverConfig ?? {};
        m.VolumeOptions = { ...m.VolumeOptions, DriverConfig: { ...dc, Options: { ...dc.Options, [k]: v } } };
        break;
      }
      case 'tmpfs-size': m.TmpfsOptions = { ...m.TmpfsOptions, SizeBytes: parseBytes(val!, '--mount') }; break;
      case 'tmpfs-mode': {
        if (!/^[0-7]+$/.test(val!)) throw new FlagError(spec, '--mount', `invalid value for tmpfs-mode: ${val}`);
        m.TmpfsOptions = { ...m.TmpfsOptions, Mode: parseInt(val!, 8) };
        break;
      }
      default: throw new FlagError(spec, '--mount', `unexpected key '${key}' in '${field}'`);
    }
  }
  if (!m.Target) throw new FlagError(spec, '--mount', 'target is required');
  if (m.Type === 'bind' && m.Source && !isAbsolute(m.Source)) m.Source = resolvePath(m.Source);
  return m;
}

/** -p [ip:][hostPort:]containerPort[/proto] (networking arrives later; recorded as docker does). */
export function parsePublish(v: string): { key: string; binding: { HostIp: string; HostPort: string } } {
  const [spec, proto = 'tcp'] = v.split('/') as [string, string | undefined];
  const parts = spec.split(':');
  let ip = '', host = '', port: string;
  if (parts.length === 1) port = parts[0]!;
  else if (parts.length === 2) [host, port] = parts as [string, string];
  else { port = parts.pop()!; host = parts.pop()!; ip = parts.join(':'); }
  if (!/^\d+(-\d+)?$/.test(port)) throw new FlagError(v, '-p, --publish', `invalid containerPort: ${port}`);
  return { key: `${port}/${proto}`, binding: { HostIp: ip, HostPort: host } };
}

/** `--device /dev/x[:/dev/y][:rwm]`, as docker parses it. */
export function parseDevice(spec: string): { PathOnHost: string; PathInContainer: string; CgroupPermissions: string } {
  const parts = spec.split(':');
  let perms = 'rwm';
  if (parts.length > 1 && /^[rwm]{1,3}$/.test(parts[parts.length - 1]!)) perms = parts.pop()!;
  if (parts.length > 2 || !parts[0]) throw new CliError(`invalid argument "${spec}" for "--device" flag: bad format for path: ${spec}`, 125);
  const host = parts[0];
  return { PathOnHost: host, PathInContainer: parts[1] || host, CgroupPermissions: perms };
}
