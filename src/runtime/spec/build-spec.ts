/**
 * Pure OCI spec generation: Docker's defaults + the caller's resolved options.
 * No I/O: host facts (bounding caps, hard limits, devices) come in through SpecInput.
 */
import type { Spec, Mount, LinuxDevice, LinuxNamespace, LinuxDeviceCgroup, Process } from '../../oci/runtime-spec.js';
import type { Ulimit } from '../../oci/docker-config.js';
import { BerthError } from '../../common/errors.js';
import { ALL_CAPABILITIES, computeCapabilities } from './capabilities.js';
import { DEFAULT_SECCOMP_PROFILE } from './seccomp-default.js';
import { goArch, parseSeccompProfile, resolveSeccomp } from './seccomp.js';
import { buildRlimits, type HostLimits } from './ulimits.js';
import { buildResources, type ResourceInput } from './resources.js';
import {
  DEFAULT_DEVICE_RULES, DEFAULT_MASKED_PATHS, DEFAULT_READONLY_PATHS, DEFAULT_SHM_SIZE,
  defaultMounts, parseDeviceCgroupRule,
} from './defaults.js';

export type NamespaceMode = 'private' | 'host';

export interface SpecInput {
  args: string[];
  env?: string[];
  /** Default '/'. */
  cwd?: string;
  /** Default root (0:0). */
  user?: { uid: number; gid: number; additionalGids?: number[] };
  hostname?: string;
  domainname?: string;
  terminal?: boolean;
  consoleSize?: { height: number; width: number };
  readonlyRootfs?: boolean;
  privileged?: boolean;
  /** Docker names, with or without CAP_, or "ALL". */
  capAdd?: string[];
  capDrop?: string[];
  /** no-new-privileges[:true|false], seccomp=unconfined|<profile JSON>, apparmor=..., label=... */
  securityOpt?: string[];
  /** Resolved binds, volumes, tmpfs, /etc/hosts, /etc/hostname, /etc/resolv.conf. */
  mounts?: Mount[];
  /** /dev/shm size in bytes (default 64 MiB). */
  shmSize?: number;
  namespaces?: {
    /** 'none' or 'private': a new netns (only lo until network/ adds more); 'host'; or a netns path. */
    network?: 'none' | 'private' | 'host' | string;
    pid?: NamespaceMode;
    ipc?: NamespaceMode;
    uts?: NamespaceMode;
    cgroup?: NamespaceMode;
  };
  ulimits?: Ulimit[];
  /** The host's hard limits (readHostInfo): requests above them are refused, defaults clamped. */
  hostHardLimits?: HostLimits;
  /** Host path of tini-static: bind-mounted at /sbin/docker-init and run as PID 1. */
  init?: string;
  resources?: ResourceInput;
  /** memory.memsw exists on the host (swap accounting); default true. */
  swapSupported?: boolean;
  /** cgroupfs path, e.g. /berth/<id>. */
  cgroupsPath?: string;
  sysctls?: Record<string, string>;
  oomScoreAdj?: number;
  /** berthd's own bounding set (readHostInfo); default: every known capability. */
  hostBoundingCaps?: string[];
  /** --device: path is the path in the container; access defaults to rwm. */
  devices?: Array<LinuxDevice & { access?: string }>;
  deviceCgroupRules?: string[];
  /** Every host device node (readHostDevices), given to privileged containers. */
  hostDevices?: LinuxDevice[];
  /** Override Docker's masked/readonly path lists (HostConfig.MaskedPaths/ReadonlyPaths). */
  maskedPaths?: string[];
  readonlyPaths?: string[];
  annotations?: Record<string, string>;
  /** Go-style architecture for seccomp rules; default: this process's. */
  arch?: string;
  /** Seccomp sub-architectures the kernel cannot run (readHostInfo): left out of the filter. */
  unavailableSeccompArches?: string[];
}

export interface BuiltSpec {
  spec: Spec;
  /** Options accepted but without effect here (e.g. apparmor on a host without it). */
  warnings: string[];
}

const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

interface SecurityChoices { noNewPrivileges: boolean; seccomp: 'default' | 'unconfined' | string; warnings: string[] }

function parseSecurityOpt(opts: string[] | undefined): SecurityChoices {
  const out: SecurityChoices = { noNewPrivileges: false, seccomp: 'default', warnings: [] };
  for (const raw of opts ?? []) {
    // Docker accepts both key=value and the legacy key:value.
    const m = /^([a-z-]+)(?:[=:](.*))?$/s.exec(raw);
    const key = m?.[1];
    const value = m?.[2];
    if (key === 'no-new-privileges') {
      if (value === undefined || value === 'true') out.noNewPrivileges = true;
      else if (value === 'false') out.noNewPrivileges = false;
      else throw new BerthError('INVALID_ARGUMENT', `invalid --security-opt no-new-privileges value: ${value}`);
    } else if (key === 'seccomp' && value !== undefined && value !== '') {
      // "builtin" names the default profile (docker's seccompProfileDefault).
      out.seccomp = value === 'unconfined' ? 'unconfined' : value === 'builtin' ? 'default' : value;
    } else if (key === 'apparmor') {
      out.warnings.push(`security-opt apparmor=${value ?? ''} ignored: AppArmor is not used by berth`);
    } else if (key === 'label') {
      if (value !== 'disable') out.warnings.push(`security-opt label=${value ?? ''} ignored: SELinux is not used by berth`);
    } else if (key === 'systempaths' && value === 'unconfined') {
      // handled by the caller through maskedPaths/readonlyPaths = []
    } else {
      throw new BerthError('INVALID_ARGUMENT', `invalid --security-opt: ${JSON.stringify(raw)}`);
    }
  }
  return out;
}

function buildNamespaces(ns: SpecInput['namespaces'] = {}): LinuxNamespace[] {
  const out: LinuxNamespace[] = [{ type: 'mount' }];
  if (ns.pid !== 'host') out.push({ type: 'pid' });
  if (ns.uts !== 'host') out.push({ type: 'uts' });
  if (ns.ipc !== 'host') out.push({ type: 'ipc' });
  const net = ns.network ?? 'none';
  if (net === 'none' || net === 'private') out.push({ type: 'network' });
  else if (net.startsWith('/')) out.push({ type: 'network', path: net });
  else if (net !== 'host') throw new BerthError('INVALID_ARGUMENT', `invalid network namespace mode: ${net}`);
  if (ns.cgroup !== 'host') out.push({ type: 'cgroup' });
  return out;
}

function buildDeviceRules(input: SpecInput): LinuxDeviceCgroup[] {
  if (input.privileged) return [{ allow: true, access: 'rwm' }];
  const rules = DEFAULT_DEVICE_RULES.map((r) => ({ ...r }));
  for (const d of input.devices ?? []) {
    rules.push({ allow: true, type: d.type, major: d.major, minor: d.minor, access: d.access ?? 'rwm' });
  }
  for (const r of input.deviceCgroupRules ?? []) {
    const parsed = parseDeviceCgroupRule(r);
    if (!parsed) throw new BerthError('INVALID_ARGUMENT', `invalid device cgroup rule: ${JSON.stringify(r)}`);
    rules.push(parsed);
  }
  return rules;
}

function withDefaultEnv(env: string[] | undefined, terminal: boolean): string[] {
  const out = [...(env ?? [])];
  if (!out.some((e) => e.startsWith('PATH='))) out.unshift(DEFAULT_PATH);
  if (terminal && !out.some((e) => e.startsWith('TERM='))) out.push('TERM=xterm');
  return out;
}

export function buildSpecWithWarnings(input: SpecInput): BuiltSpec {
  if (!input.args.length) throw new BerthError('INVALID_ARGUMENT', 'no command specified');
  const privileged = input.privileged === true;
  const hostCaps = input.hostBoundingCaps ?? ALL_CAPABILITIES;
  const sec = parseSecurityOpt(input.securityOpt);
  const caps = privileged ? [...hostCaps] : computeCapabilities({ capAdd: input.capAdd, capDrop: input.capDrop, hostCaps });
  const terminal = input.terminal === true;
  const ns = input.namespaces ?? {};
  if (ns.uts === 'host' && input.hostname) {
    throw new BerthError('INVALID_ARGUMENT', 'conflicting options: hostname and the host UTS namespace');
  }

  const args = input.init ? ['/sbin/docker-init', '--', ...input.args] : [...input.args];
  const process: Process = {
    terminal,
    user: { uid: input.user?.uid ?? 0, gid: input.user?.gid ?? 0 },
    args,
    env: withDefaultEnv(input.env, terminal),
    cwd: input.cwd || '/',
    capabilities: { bounding: caps, effective: caps, permitted: caps, inheritable: [] },
    rlimits: buildRlimits(input.ulimits, input.hostHardLimits ?? {}),
    noNewPrivileges: sec.noNewPrivileges,
  };
  if (input.user?.additionalGids?.length) process.user.additionalGids = [...input.user.additionalGids];
  if (terminal && input.consoleSize) process.consoleSize = { ...input.consoleSize };
  if (input.oomScoreAdj !== undefined && input.oomScoreAdj !== 0) {
    if (input.oomScoreAdj < -1000 || input.oomScoreAdj > 1000) {
      throw new BerthError('INVALID_ARGUMENT', `invalid OomScoreAdj ${input.oomScoreAdj}: must be between -1000 and 1000`);
    }
    process.oomScoreAdj = input.oomScoreAdj;
  }

  const mounts = defaultMounts({ shmSize: input.shmSize || DEFAULT_SHM_SIZE, privileged, ipcHost: ns.ipc === 'host' });
  if (input.init) {
    mounts.push({ destination: '/sbin/docker-init', type: 'bind', source: input.init, options: ['bind', 'ro', 'nosuid', 'nodev'] });
  }
  // A user mount on a default destination (e.g. --tmpfs /dev/shm) replaces the default.
  const userMounts = input.mounts ?? [];
  const userDest = new Set(userMounts.map((m) => m.destination));
  const allMounts = [...mounts.filter((m) => !userDest.has(m.destination)), ...userMounts.map((m) => ({ ...m }))];

  const spec: Spec = {
    ociVersion: '1.0.2',
    process,
    root: { path: 'rootfs', readonly: input.readonlyRootfs === true },
    mounts: allMounts,
    linux: {
      namespaces: buildNamespaces(ns),
      resources: { devices: buildDeviceRules(input), ...buildResources(input.resources, { swapSupported: input.swapSupported }) },
    },
  };
  if (input.hostname && ns.uts !== 'host') spec.hostname = input.hostname;
  if (input.domainname && ns.uts !== 'host') spec.domainname = input.domainname;
  if (input.annotations) spec.annotations = { ...input.annotations };
  const linux = spec.linux!;
  if (input.cgroupsPath) linux.cgroupsPath = input.cgroupsPath;
  if (input.sysctls && Object.keys(input.sysctls).length) linux.sysctl = { ...input.sysctls };
  // runc 1.1 ignores the spec's domainname; the kernel.domainname sysctl sets the same
  // thing in the container's own UTS namespace (dockerd sets it this way too).
  if (spec.domainname && linux.sysctl?.['kernel.domainname'] === undefined) linux.sysctl = { ...linux.sysctl, 'kernel.domainname': spec.domainname };

  const devices: LinuxDevice[] = [];
  if (privileged) devices.push(...(input.hostDevices ?? []).map((d) => ({ ...d })));
  for (const d of input.devices ?? []) {
    const { access: _a, ...dev } = d;
    devices.push(dev);
  }
  if (devices.length) linux.devices = devices;

  if (!privileged) {
    linux.maskedPaths = [...(input.maskedPaths ?? DEFAULT_MASKED_PATHS)];
    linux.readonlyPaths = [...(input.readonlyPaths ?? DEFAULT_READONLY_PATHS)];
    if (sec.seccomp !== 'unconfined') {
      const profile = sec.seccomp === 'default' ? DEFAULT_SECCOMP_PROFILE : parseSeccompProfile(sec.seccomp);
      linux.seccomp = resolveSeccomp(profile, { caps, arch: input.arch ?? goArch(globalThis.process.arch), unavailableArches: input.unavailableSeccompArches });
    }
  } else if (sec.seccomp !== 'default' && sec.seccomp !== 'unconfined') {
    sec.warnings.push('seccomp profile ignored: privileged containers run without seccomp');
  }
  return { spec, warnings: sec.warnings };
}

/** The OCI spec for a container (warnings dropped; use buildSpecWithWarnings to keep them). */
export function buildSpec(input: SpecInput): Spec {
  return buildSpecWithWarnings(input).spec;
}
