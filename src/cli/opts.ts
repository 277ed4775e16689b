/**
 * `run`/`create` flags → the POST /containers/create body, following docker's
 * cli/command/container/opts.go: Config, HostConfig and the ?name=/&platform= query.
 */
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { resolve as resolvePath, isAbsolute } from 'node:path';
import type { CreateContainerRequest, HostConfig, MountSpec, Ulimit } from './wire.js';
import { FlagError, CliError } from './errors.js';
import { ramInBytes } from './format/human.js';
import { addResourceFlags, applyResourceFlags, healthcheckFromFlags, type ResourceFlags } from './commands/update-flags.js';

export interface RunFlags {
  detach?: boolean; interactive?: boolean; tty?: boolean; rm?: boolean; name?: string;
  env?: string[]; envFile?: string[]; workdir?: string; user?: string; hostname?: string; domainname?: string;
  entrypoint?: string; label?: string[]; labelFile?: string[]; volume?: string[]; mount?: string[]; tmpfs?: string[]; device?: string[];
  readOnly?: boolean; init?: boolean; capAdd?: string[]; capDrop?: string[]; securityOpt?: string[];
  privileged?: boolean; network?: string; restart?: string; memory?: string; memorySwap?: string;
  memoryReservation?: string; cpus?: string; cpuShares?: string; cpusetCpus?: string; pidsLimit?: string;
  ulimit?: string[]; stopSignal?: string; stopTimeout?: string; shmSize?: string; pull?: string;
  detachKeys?: string; attach?: string[]; sigProxy?: boolean; platform?: string; publish?: string[];
  publishAll?: boolean; expose?: string[]; addHost?: string[]; dns?: string[]; groupAdd?: string[];
  ipc?: string; pid?: string; uts?: string; userns?: string; cgroupns?: string; sysctl?: string[];
  oomScoreAdj?: string; logDriver?: string; logOpt?: string[]; workDir?: string; cidfile?: string;
  // Networking (issue 5).
  networkAlias?: string[]; ip?: string; dnsSearch?: string[]; dnsOption?: string[];
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

/** Registers docker's container-config flags on `run` and `create`. */
export function addContainerFlags(cmd: Command): Command {
  // Resource and health-check flags of issue 3 live in commands/update-flags.ts.
  return addResourceFlags(cmd)
    .option('-a, --attach <stream>', 'Attach to STDIN, STDOUT or STDERR', collect)
    .option('--add-host <host:ip>', 'Add a custom host-to-IP mapping (host:ip)', collect)
    .option('--cap-add <cap>', 'Add Linux capabilities', collect)
    .option('--cap-drop <cap>', 'Drop Linux capabilities', collect)
    .option('--cgroupns <mode>', 'Cgroup namespace to use (host|private)')
    .option('--cidfile <file>', 'Write the container ID to the file')
    .option('-c, --cpu-shares <int>', 'CPU shares (relative weight)')
    .option('--cpus <decimal>', 'Number of CPUs')
    .option('--cpuset-cpus <list>', 'CPUs in which to allow execution (0-3, 0,1)')
    .option('--detach-keys <string>', 'Override the key sequence for detaching a container')
    .option('--dns <ip>', 'Set custom DNS servers', collect)
    .option('--dns-option <list>', 'Set DNS options', collect)
    .option('--dns-search <list>', 'Set custom DNS search domains', collect)
    .option('--domainname <string>', 'Container NIS domain name')
    .option('--entrypoint <string>', 'Overwrite the default ENTRYPOINT of the image')
    .option('-e, --env <list>', 'Set environment variables', collect)
    .option('--env-file <file>', 'Read in a file of environment variables', collect)
    .option('--expose <port>', 'Expose a port or a range of ports', collect)
    .option('--group-add <group>', 'Add additional groups to join', collect)
    .option('-h, --hostname <string>', 'Container host name')
    .option('--init', 'Run an init inside the container that forwards signals and reaps processes')
    .option('-i, --interactive', 'Keep STDIN open even if not attached')
    .option('--ipc <string>', 'IPC mode to use')
    .option('-l, --label <list>', 'Set meta data on a container', collect)
    .option('--label-file <file>', 'Read in a line delimited file of labels', collect)
    .option('--log-driver <string>', 'Logging driver for the container')
    .option('--log-opt <list>', 'Log driver options', collect)
    .option('-m, --memory <bytes>', 'Memory limit')
    .option('--memory-reservation <bytes>', 'Memory soft limit')
    .option('--memory-swap <bytes>', "Swap limit equal to memory plus swap: '-1' to enable unlimited swap")
    .option('--mount <mount>', 'Attach a filesystem mount to the container', collect)
    .option('--name <string>', 'Assign a name to the container')
    .option('--network <network>', 'Connect a container to a network')
    .option('--network-alias <list>', 'Add network-scoped alias for the container', collect)
    .option('--ip <string>', 'IPv4 address (e.g., 172.30.100.104)')
    .option('--oom-score-adj <int>', "Tune host's OOM preferences (-1000 to 1000)")
    .option('--pid <string>', 'PID namespace to use')
    .option('--pids-limit <int>', 'Tune container pids limit (set -1 for unlimited)')
    .option('--platform <string>', 'Set platform if server is multi-platform capable')
    .option('--privileged', 'Give extended privileges to this container')
    .option('-p, --publish <list>', "Publish a container's port(s) to the host", collect)
    .option('-P, --publish-all', 'Publish all exposed ports to random ports')
    .option('--pull <string>', 'Pull image before running ("always", "missing", "never")', 'missing')
    .option('--read-only', "Mount the container's root filesystem as read only")
    .option('--restart <string>', 'Restart policy to apply when a container exits', 'no')
    .option('--rm', 'Automatically remove the container and its associated anonymous volumes when it exits')
    .option('--security-opt <list>', 'Security Options', collect)
    .option('--shm-size <bytes>', 'Size of /dev/shm')
    .option('--no-sig-proxy', 'Do not proxy received signals to the process')
    .option('--stop-signal <string>', 'Signal to stop the container')
    .option('--stop-timeout <int>', 'Timeout (in seconds) to stop a container')
    .option('--sysctl <map>', 'Sysctl options', collect)
    .option('--tmpfs <list>', 'Mount a tmpfs directory', collect)
    .option('--device <list>', 'Add a host device to the container', collect)
    .option('-t, --tty', 'Allocate a pseudo-TTY')
    .option('--ulimit <ulimit>', 'Ulimit options', collect)
    .option('-u, --user <string>', 'Username or UID (format: <name|uid>[:<group|gid>])')
    .option('--userns <string>', 'User namespace to use')
    .option('--uts <string>', 'UTS namespace to use')
    .option('-v, --volume <list>', 'Bind mount a volume', collect)
    .option('-w, --workdir <string>', 'Working directory inside the container');
}

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

function parseIntFlag(v: string, flag: string): number {
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

function kvMap(list: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of list) {
    const i = l.indexOf('=');
    if (i < 0) out[l] = '';
    else out[l.slice(0, i)] = l.slice(i + 1);
  }
  return out;
}

/** --network-alias/--ip go on the endpoint of the --network named (docker keys it by that name). */
function endpointsConfig(f: RunFlags): NonNullable<CreateContainerRequest['NetworkingConfig']>['EndpointsConfig'] {
  if (!f.networkAlias?.length && !f.ip) return {};
  const mode = f.network ?? 'default';
  if (mode === 'host' || mode === 'none' || mode.startsWith('container:')) throw new CliError(`conflicting options: --network-alias and --ip need a bridge network, not --network ${mode}`, 125);
  if (f.ip && !/^\d{1,3}(\.\d{1,3}){3}$/.test(f.ip)) throw new FlagError(f.ip, '--ip', `invalid IPv4 address: ${f.ip}`);
  return { [mode]: { ...(f.networkAlias?.length ? { Aliases: f.networkAlias } : {}), ...(f.ip ? { IPAMConfig: { IPv4Address: f.ip } } : {}) } };
}

export interface CreateCall { body: CreateContainerRequest; name?: string; platform?: string }

/** The create request for `run`/`create IMAGE [COMMAND] [ARG...]`. */
export function buildCreateRequest(image: string, args: string[], f: RunFlags, env: NodeJS.ProcessEnv = process.env, detach = false): CreateCall {
  const hc: HostConfig = {};
  const attach = new Set(f.attach ?? []);
  for (const a of attach) if (!['stdin', 'stdout', 'stderr'].includes(a.toLowerCase())) throw new CliError(`invalid argument "${a}" for "-a, --attach" flag: valid streams are STDIN, STDOUT and STDERR`, 125);
  const attachStdin = !detach && (f.interactive === true || attach.has('stdin'));
  const noAttachList = attach.size === 0;
  const attachStdout = !detach && (noAttachList || attach.has('stdout'));
  const attachStderr = !detach && (noAttachList || attach.has('stderr'));

  const envList = [...(f.envFile ?? []).flatMap((p) => readKVFile(p, env)), ...parseEnv(f.env ?? [], env)];
  const labels = kvMap([...(f.labelFile ?? []).flatMap((p) => readKVFile(p, env)), ...(f.label ?? [])]);

  const binds: string[] = [];
  const volumes: Record<string, object> = {};
  for (const v of f.volume ?? []) {
    const r = parseVolume(v);
    if (r.bind) binds.push(r.bind);
    if (r.anon) volumes[r.anon] = {};
  }
  const mounts = (f.mount ?? []).map(parseMount);
  const tmpfs: Record<string, string> = {};
  for (const t of f.tmpfs ?? []) {
    const i = t.indexOf(':');
    const path = i < 0 ? t : t.slice(0, i);
    if (!isAbsolute(path)) throw new CliError(`invalid argument "${t}" for "--tmpfs" flag: invalid mount path: '${path}' mount path must be absolute`, 125);
    tmpfs[path] = i < 0 ? '' : t.slice(i + 1);
  }
  const exposed: Record<string, object> = {};
  const portBindings: NonNullable<HostConfig['PortBindings']> = {};
  for (const p of f.publish ?? []) {
    const { key, binding } = parsePublish(p);
    exposed[key] = {};
    (portBindings[key] ??= []).push(binding);
  }
  for (const e of f.expose ?? []) exposed[e.includes('/') ? e : `${e}/tcp`] = {};

  if (binds.length) hc.Binds = binds;
  if (mounts.length) hc.Mounts = mounts;
  if (Object.keys(tmpfs).length) hc.Tmpfs = tmpfs;
  if (f.device?.length) hc.Devices = f.device.map(parseDevice);
  if (Object.keys(portBindings).length) hc.PortBindings = portBindings;
  if (f.publishAll) hc.PublishAllPorts = true;
  hc.NetworkMode = f.network ?? 'default';
  hc.RestartPolicy = parseRestart(f.restart ?? 'no');
  if (f.rm) {
    if (hc.RestartPolicy?.Name && hc.RestartPolicy.Name !== 'no') throw new CliError('Conflicting options: --restart and --rm', 125);
    hc.AutoRemove = true;
  }
  if (f.memory !== undefined) hc.Memory = parseBytes(f.memory, '-m, --memory');
  if (f.memorySwap !== undefined) hc.MemorySwap = parseBytes(f.memorySwap, '--memory-swap');
  if (f.memoryReservation !== undefined) hc.MemoryReservation = parseBytes(f.memoryReservation, '--memory-reservation');
  if (f.shmSize !== undefined) hc.ShmSize = parseBytes(f.shmSize, '--shm-size');
  if (f.cpus !== undefined) hc.NanoCpus = parseCpus(f.cpus);
  if (f.cpuShares !== undefined) hc.CpuShares = parseIntFlag(f.cpuShares, '-c, --cpu-shares');
  if (f.cpusetCpus !== undefined) hc.CpusetCpus = f.cpusetCpus;
  if (f.pidsLimit !== undefined) hc.PidsLimit = parseIntFlag(f.pidsLimit, '--pids-limit');
  if (f.oomScoreAdj !== undefined) hc.OomScoreAdj = parseIntFlag(f.oomScoreAdj, '--oom-score-adj');
  if (f.ulimit?.length) hc.Ulimits = f.ulimit.map(parseUlimit);
  if (f.capAdd?.length) hc.CapAdd = f.capAdd;
  if (f.capDrop?.length) hc.CapDrop = f.capDrop;
  if (f.securityOpt?.length) hc.SecurityOpt = f.securityOpt;
  if (f.privileged) hc.Privileged = true;
  if (f.readOnly) hc.ReadonlyRootfs = true;
  if (f.init) hc.Init = true;
  if (f.addHost?.length) hc.ExtraHosts = f.addHost;
  if (f.dns?.length) hc.Dns = f.dns;
  if (f.dnsSearch?.length) hc.DnsSearch = f.dnsSearch;
  if (f.dnsOption?.length) hc.DnsOptions = f.dnsOption;
  if (f.groupAdd?.length) hc.GroupAdd = f.groupAdd;
  if (f.ipc) hc.IpcMode = f.ipc;
  if (f.pid) hc.PidMode = f.pid;
  if (f.uts) hc.UTSMode = f.uts;
  if (f.userns) hc.UsernsMode = f.userns;
  if (f.cgroupns) hc.CgroupnsMode = f.cgroupns;
  if (f.sysctl?.length) hc.Sysctls = kvMap(f.sysctl);
  if (f.logDriver || f.logOpt?.length) hc.LogConfig = { Type: f.logDriver ?? '', Config: kvMap(f.logOpt ?? []) };

  const body: CreateContainerRequest = {
    Hostname: f.hostname ?? '',
    Domainname: f.domainname ?? '',
    User: f.user ?? '',
    AttachStdin: attachStdin,
    AttachStdout: attachStdout,
    AttachStderr: attachStderr,
    Tty: f.tty === true,
    OpenStdin: f.interactive === true,
    // docker closes the container's stdin when the attached client detaches its stdin.
    StdinOnce: attachStdin,
    Env: envList,
    Cmd: args.length ? args : null,
    Image: image,
    Volumes: Object.keys(volumes).length ? volumes : undefined,
    WorkingDir: f.workdir ?? '',
    // "--entrypoint ''" clears the image's entrypoint.
    Entrypoint: f.entrypoint === undefined ? null : f.entrypoint === '' ? [''] : [f.entrypoint],
    Labels: labels,
    HostConfig: hc,
    NetworkingConfig: { EndpointsConfig: endpointsConfig(f) },
  };
  if (Object.keys(exposed).length) body.ExposedPorts = exposed;
  if (f.stopSignal) body.StopSignal = f.stopSignal;
  if (f.stopTimeout !== undefined) body.StopTimeout = parseIntFlag(f.stopTimeout, '--stop-timeout');
  // Issue 3: remaining resource flags and --health-*.
  applyResourceFlags(f as ResourceFlags, hc);
  const health = healthcheckFromFlags(f as ResourceFlags);
  if (health) body.Healthcheck = health;
  return { body, name: f.name, platform: f.platform };
}

/**
 * docker's bool flags accept `--rm=false`; commander's do not. Rewrite the common ones:
 * `=true` drops the value, `=false` drops the flag (or picks its --no- form).
 */
const NEGATABLE = new Set(['sig-proxy', 'human', 'trunc', 'stdin']);
const BOOLS = new Set(['oom-kill-disable', 'rm', 'detach', 'interactive', 'tty', 'init', 'privileged', 'read-only', 'all', 'quiet', 'no-trunc', 'force', 'digests', 'size', 'latest', 'follow', 'timestamps', 'publish-all', 'sig-proxy', 'human', 'no-stdin', 'attach', 'volumes']);
export function rewriteBoolFlags(args: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') { out.push(...args.slice(i)); break; }
    const m = /^--([\w-]+)=(true|false)$/.exec(a);
    if (!m || !BOOLS.has(m[1]!)) { out.push(a); continue; }
    if (m[2] === 'true') out.push(`--${m[1]}`);
    else if (NEGATABLE.has(m[1]!)) out.push(`--no-${m[1]}`);
  }
  return out;
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
