/**
 * Turn a create request and its image into the container's immutable config, the
 * way dockerd merges them: request fields win, the image fills what is unset.
 * Pure: no I/O, so every rule here is unit-tested.
 */
import { invalidArgument } from '../common/errors.js';
import { parseLogOpts } from './logs/index.js';
// Host-dependent resource checks (cpuset, ulimits, devices) live with update's (issue 3).
import { validateResources } from './update-validate.js';
import { checkDns, checkMountDestinations, checkNames, checkNoNul, checkSysctls, checkVolumePaths, exposedPorts } from './support/create-checks.js';
import { checkPlatformFields, checkVolumeDriver } from './support/platform-checks.js';
import type { ContainerConfig, CreateContainerRequest, HostConfig } from '../oci/docker-config.js';
import type { ImageConfigFile } from '../oci/image-spec.js';

export interface MergedConfig {
  config: ContainerConfig;
  hostConfig: HostConfig;
  path: string;
  args: string[];
}

const MIN_MEMORY = 6 * 1024 * 1024;

function envKey(e: string): string {
  const i = e.indexOf('=');
  return i < 0 ? e : e.slice(0, i);
}

/** Image env first, then the request's: a key set in both takes the request's value. */
export function mergeEnv(imageEnv: string[] = [], reqEnv: string[] = []): string[] {
  const out = new Map<string, string>();
  for (const e of imageEnv) out.set(envKey(e), e);
  for (const e of reqEnv) out.set(envKey(e), e);
  return [...out.values()];
}

/**
 * A process's environment from a merged list. A bare name (`-e FOO` where FOO is unset on
 * the client, which the docker CLI then sends as is) means "not set": it has already
 * replaced any earlier FOO=… in the merge, and it goes here, as dockerd's
 * ReplaceOrAppendEnvValues drops it (runc refuses an entry without '=').
 */
export function processEnv(env: string[]): { env: string[]; unset: Set<string> } {
  const unset = new Set<string>();
  const out: string[] = [];
  for (const e of env) {
    if (e.includes('=')) out.push(e);
    else unset.add(e);
  }
  return { env: out, unset };
}

export function validateHostConfig(hc: HostConfig): void {
  if (hc.Memory !== undefined && hc.Memory !== 0 && hc.Memory < MIN_MEMORY) {
    throw invalidArgument('Minimum memory limit allowed is 6MB');
  }
  for (const [k, v] of Object.entries({ Memory: hc.Memory, MemoryReservation: hc.MemoryReservation, NanoCpus: hc.NanoCpus, CpuShares: hc.CpuShares, ShmSize: hc.ShmSize })) {
    if (v !== undefined && v !== null && (typeof v !== 'number' || v < 0 || !Number.isFinite(v))) {
      throw invalidArgument(`invalid ${k}: ${String(v)}: must be a non-negative number`);
    }
  }
  if (hc.MemorySwap !== undefined && hc.MemorySwap > 0 && hc.Memory && hc.MemorySwap < hc.Memory) {
    throw invalidArgument('Minimum memoryswap limit should be larger than memory limit, see usage');
  }
  if (hc.KernelMemory) {
    throw invalidArgument('Kernel memory limit is not supported: the kernel no longer accounts it separately; remove --kernel-memory');
  }
  if (hc.NanoCpus && (hc.CpuQuota || hc.CpuPeriod)) {
    throw invalidArgument('Conflicting options: Nano CPUs and CPU Period cannot both be set');
  }
  const nproc = hc.NanoCpus ? hc.NanoCpus / 1e9 : 0;
  if (nproc < 0) throw invalidArgument('Range of CPUs is from 0.01 to host CPUs');
  const rp = hc.RestartPolicy;
  if (rp && rp.Name && !['no', 'always', 'unless-stopped', 'on-failure'].includes(rp.Name)) {
    throw invalidArgument(`invalid restart policy '${rp.Name}'`);
  }
  if (rp && rp.Name && rp.Name !== 'on-failure' && rp.MaximumRetryCount) {
    throw invalidArgument(`invalid restart policy: maximum retry count can only be used with 'on-failure'`);
  }
  if (hc.AutoRemove && rp && rp.Name && rp.Name !== 'no') {
    throw invalidArgument('Conflicting options: --restart and --rm');
  }
  if (hc.PidsLimit !== undefined && hc.PidsLimit !== null && !Number.isInteger(hc.PidsLimit)) {
    throw invalidArgument(`invalid PidsLimit: ${hc.PidsLimit}`);
  }
  for (const u of hc.Ulimits ?? []) {
    if (!u.Name || !Number.isInteger(u.Soft) || !Number.isInteger(u.Hard) || u.Soft > u.Hard) {
      throw invalidArgument(`invalid ulimit ${u.Name}=${u.Soft}:${u.Hard}: soft limit must not exceed hard limit`);
    }
  }
  const lc = hc.LogConfig;
  if (lc && lc.Type && !['json-file', 'k8s-file', 'local', 'none'].includes(lc.Type)) {
    throw invalidArgument(`logger: no log driver named '${lc.Type}' is registered (berth has json-file and none)`);
  }
  if (lc?.Config && lc.Type !== 'none') parseLogOpts(lc.Config);
  // Isolation, Windows-only QoS, cgroup parent, real-time CPU, storage opts, GPUs: dockerd's answers.
  checkPlatformFields(hc);
  // Resource limits against this host, before anything is created (issue 3).
  validateResources(hc);
  // Values that runc would refuse only at start, or that berth writes into /etc files.
  checkDns(hc);
  checkSysctls(hc);
  checkMountDestinations(hc);
  checkNamespaceModes(hc);
  const nm = hc.NetworkMode ?? '';
  // Networking hook: user-defined network names are checked against the network service at create.
  if (nm && !['default', 'none', 'host', 'bridge'].includes(nm) && !nm.startsWith('container:') && !/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/.test(nm)) {
    throw invalidArgument(`network ${nm} not found`);
  }
}

export function mergeConfig(req: CreateContainerRequest, image: ImageConfigFile): MergedConfig {
  const { HostConfig: hostConfig = {}, NetworkingConfig: _nc, ...reqConfig } = req;
  const ic = image.config ?? {};
  checkNoNul(req, 'config');
  checkNames(reqConfig);
  validateHostConfig(hostConfig);
  checkVolumePaths(ic.Volumes, true);
  checkVolumePaths(reqConfig.Volumes ?? undefined, false);

  let entrypoint = reqConfig.Entrypoint !== undefined && reqConfig.Entrypoint !== null ? reqConfig.Entrypoint : ic.Entrypoint ?? null;
  let cmd = reqConfig.Cmd && reqConfig.Cmd.length ? reqConfig.Cmd : null;
  // docker: an entrypoint given at create time drops the image's Cmd.
  if (!cmd && !(reqConfig.Entrypoint && reqConfig.Entrypoint.length)) cmd = ic.Cmd ?? null;
  // [""] (the docker CLI's `--entrypoint ""`) clears the entrypoint, after the merge: so
  // the image's Cmd is not taken either (dockerd's mergeAndVerifyConfig).
  if (entrypoint && entrypoint.length === 1 && entrypoint[0] === '') entrypoint = null;
  const argv = [...(entrypoint ?? []), ...(cmd ?? [])];
  if (argv.length === 0) throw invalidArgument('No command specified');

  const config: ContainerConfig = {
    Hostname: reqConfig.Hostname ?? '',
    Domainname: reqConfig.Domainname ?? '',
    // "" (what the docker CLI sends without -u) is no user: the image's USER applies.
    User: reqConfig.User || ic.User || '',
    AttachStdin: !!reqConfig.AttachStdin,
    AttachStdout: reqConfig.AttachStdout ?? true,
    AttachStderr: reqConfig.AttachStderr ?? true,
    ExposedPorts: { ...exposedPorts(ic.ExposedPorts, "the image's config (rebuild the image without it)"), ...exposedPorts(reqConfig.ExposedPorts, 'ExposedPorts') },
    Tty: !!reqConfig.Tty,
    OpenStdin: !!reqConfig.OpenStdin,
    StdinOnce: !!reqConfig.StdinOnce,
    Env: mergeEnv(ic.Env, reqConfig.Env ?? []),
    Cmd: cmd,
    Image: reqConfig.Image ?? '',
    Volumes: { ...(ic.Volumes ?? {}), ...(reqConfig.Volumes ?? {}) },
    WorkingDir: reqConfig.WorkingDir || ic.WorkingDir || '',
    Entrypoint: entrypoint,
    OnBuild: ic.OnBuild ?? null,
    Labels: { ...(ic.Labels ?? {}), ...(reqConfig.Labels ?? {}) },
  };
  if (reqConfig.StopSignal || ic.StopSignal) config.StopSignal = reqConfig.StopSignal || ic.StopSignal;
  if (reqConfig.StopTimeout !== undefined) config.StopTimeout = reqConfig.StopTimeout;
  if (reqConfig.Healthcheck || ic.Healthcheck) config.Healthcheck = reqConfig.Healthcheck ?? ic.Healthcheck;
  if (reqConfig.NetworkDisabled) config.NetworkDisabled = true;
  // API < 1.44's container-wide MAC: network-hooks gives it to the primary endpoint.
  if (reqConfig.MacAddress) config.MacAddress = reqConfig.MacAddress;
  if (!config.Env!.some((e) => e.startsWith('PATH='))) {
    config.Env!.unshift('PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin');
  }
  if (config.WorkingDir && !config.WorkingDir.startsWith('/')) {
    throw invalidArgument(`the working directory '${config.WorkingDir}' is invalid, it needs to be an absolute path`);
  }
  // After the image's volumes are merged in: those are created with the driver too.
  checkVolumeDriver(hostConfig, config.Volumes ?? {});
  const hc: HostConfig = {
    NetworkMode: 'default',
    RestartPolicy: { Name: 'no', MaximumRetryCount: 0 },
    LogConfig: { Type: 'json-file', Config: {} },
    ...hostConfig,
  };
  if (!hc.NetworkMode) hc.NetworkMode = 'default';
  // The docker CLI sends {"Type": ""} without --log-driver: the daemon's driver, shown by inspect.
  if (!hc.LogConfig?.Type) hc.LogConfig = { Type: 'json-file', Config: hc.LogConfig?.Config ?? {} };
  return { config, hostConfig: hc, path: argv[0]!, args: argv.slice(1) };
}

/** dockerd's accepted namespace modes; anything else would be silently run private. */
function checkNamespaceModes(hc: HostConfig): void {
  const joins = (m: string) => m.startsWith('container:') && m.length > 'container:'.length;
  const ipc = hc.IpcMode ?? '';
  if (ipc && !['private', 'none', 'shareable', 'host'].includes(ipc) && !joins(ipc)) throw invalidArgument(`invalid IPC mode: ${ipc}`);
  const pid = hc.PidMode ?? '';
  if (pid && pid !== 'host' && !joins(pid)) throw invalidArgument(`invalid PID mode: ${pid}`);
  const uts = hc.UTSMode ?? '';
  if (uts && uts !== 'host') throw invalidArgument(`invalid UTS mode: ${uts}`);
}
