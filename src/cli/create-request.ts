/**
 * `run`/`create` flags → the POST /containers/create body, following docker's
 * cli/command/container/opts.go: Config, HostConfig and the ?name=/&platform= query.
 */
import { isAbsolute } from 'node:path';
import type { CreateContainerRequest, HostConfig } from './wire.js';
import { FlagError, CliError } from './errors.js';
import { applyResourceFlags, healthcheckFromFlags, type ResourceFlags } from './commands/update-flags.js';
import type { RunFlags } from './run-flags.js';
import { parseSecurityOpts } from './security-opts.js';
import { applyPlatformFlags, windowsOnlyFlagError } from './platform-flags.js';
import { parseBytes, parseCpus, parseDevice, parseEnv, parseIntFlag, parseMount, parsePublish, parseRestart, parseUlimit, parseVolume, readKVFile } from './flag-values.js';

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
  const mode = f.network ?? 'default';
  // docker: on a user-defined network --link is an endpoint option (a name alias); on the bridge a legacy link (HostConfig.Links).
  const userNet = !['default', 'bridge', 'host', 'none'].includes(mode) && !mode.startsWith('container:');
  const links = userNet && f.link?.length ? f.link : undefined;
  if (f.macAddress !== undefined && !isMac(f.macAddress.trim())) throw new CliError(`${f.macAddress} is not a valid mac address`, 125);
  if (!f.networkAlias?.length && !f.ip && !f.ip6 && !f.linkLocalIp?.length && !f.macAddress && !links) return {};
  // docker's CLI refuses aliases off user-defined networks itself; an --ip there goes to
  // the daemon, which refuses it.
  if (f.networkAlias?.length && !userNet) throw new CliError('network-scoped aliases are only supported for user-defined networks', 125);
  if (f.ip && !/^\d{1,3}(\.\d{1,3}){3}$/.test(f.ip)) throw new FlagError(f.ip, '--ip', `invalid IPv4 address: ${f.ip}`);
  // --ip6 and --link-local-ip go to berthd as docker sends them; berthd (IPv4-only) refuses them in dockerd's words.
  const ipam = { ...(f.ip ? { IPv4Address: f.ip } : {}), ...(f.ip6 ? { IPv6Address: f.ip6 } : {}), ...(f.linkLocalIp?.length ? { LinkLocalIPs: f.linkLocalIp } : {}) };
  return {
    [mode]: {
      ...(f.networkAlias?.length ? { Aliases: f.networkAlias } : {}), ...(links ? { Links: links } : {}),
      ...(Object.keys(ipam).length ? { IPAMConfig: ipam } : {}), ...(f.macAddress ? { MacAddress: f.macAddress.trim() } : {}),
    },
  };
}

/** A 48-bit MAC as Go's net.ParseMAC takes it (aa:bb:cc:dd:ee:ff, aa-bb-…, aabb.ccdd.eeff). */
function isMac(s: string): boolean {
  return /^[0-9a-f]{2}([:-])[0-9a-f]{2}(\1[0-9a-f]{2}){4}$/i.test(s) || /^[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4}$/i.test(s);
}

export interface CreateCall { body: CreateContainerRequest; name?: string; platform?: string; /** --use-api-socket (run.ts adds the mount). */ useApiSocket?: boolean }

/** The create request for `run`/`create IMAGE [COMMAND] [ARG...]`. */
export function buildCreateRequest(image: string, args: string[], f: RunFlags, env: NodeJS.ProcessEnv = process.env, detach = false): CreateCall {
  const hc: HostConfig = {};
  // docker's CLI refuses its Windows-only flags before anything else.
  const windowsOnly = windowsOnlyFlagError(f);
  if (windowsOnly) throw windowsOnly;
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
  for (const e of f.expose ?? []) {
    // docker: PORT[/PROTO] or a range START-END[/PROTO], checked before any request.
    const m = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/.exec(e);
    if (!m || Number(m[1]) > 65535 || (m[2] !== undefined && (Number(m[2]) > 65535 || Number(m[2]) < Number(m[1])))) {
      throw new CliError(`invalid range format for --expose: ${e}, error: invalid port range`, 125);
    }
    const [from, to] = [Number(m[1]), m[2] !== undefined ? Number(m[2]) : Number(m[1])];
    for (let p = from; p <= to; p++) exposed[`${p}/${m[3] ?? 'tcp'}`] = {};
  }

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
  if (f.securityOpt?.length) {
    const sec = parseSecurityOpts(f.securityOpt);
    if (sec.securityOpt.length) hc.SecurityOpt = sec.securityOpt;
    if (sec.maskedPaths) hc.MaskedPaths = sec.maskedPaths;
    if (sec.readonlyPaths) hc.ReadonlyPaths = sec.readonlyPaths;
  }
  if (f.privileged) hc.Privileged = true;
  if (f.readOnly) hc.ReadonlyRootfs = true;
  if (f.init) hc.Init = true;
  if (f.addHost?.length) hc.ExtraHosts = f.addHost;
  if (f.link?.length) hc.Links = f.link;
  if (f.dns?.length) hc.Dns = f.dns;
  if (f.dnsSearch?.length) hc.DnsSearch = f.dnsSearch;
  if (f.dnsOption?.length) hc.DnsOptions = f.dnsOption;
  if (f.groupAdd?.length) hc.GroupAdd = f.groupAdd;
  if (f.volumesFrom?.length) hc.VolumesFrom = f.volumesFrom;
  if (f.runtime) hc.Runtime = f.runtime;
  if (f.deviceCgroupRule?.length) hc.DeviceCgroupRules = f.deviceCgroupRule;
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
  applyPlatformFlags(f, hc);
  return { body, name: f.name, platform: f.platform, ...(f.useApiSocket ? { useApiSocket: true } : {}) };
}
