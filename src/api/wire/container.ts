/** ContainerRecord → docker's inspect and list JSON, with docker's defaults filled in. */
import type { ContainerRecord } from '../../containers/types.js';
import type { ContainerInspect, ContainerSummary, WireMountPoint } from '../types.js';
import { networkModeOf, networkSettings, networksOf, summaryPorts } from './network.js';
import { statusText, stateWire } from './status.js';

const DEFAULT_MASKED_PATHS = [
  '/proc/asound', '/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
  '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware', '/sys/devices/virtual/powercap',
];
const DEFAULT_READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

/**
 * Docker fills every HostConfig field in inspect; clients (docker-py's suite) read
 * them back, so stored values win and the rest get dockerd's defaults.
 */
export function hostConfigWire(c: ContainerRecord): ContainerInspect['HostConfig'] {
  const h = c.HostConfig;
  const privileged = h.Privileged ?? false;
  const defaults: ContainerInspect['HostConfig'] = {
    Binds: null, ContainerIDFile: '', LogConfig: { Type: 'json-file', Config: {} }, NetworkMode: networkModeOf(c),
    PortBindings: {}, RestartPolicy: { Name: 'no', MaximumRetryCount: 0 }, AutoRemove: false, VolumeDriver: '',
    VolumesFrom: null, ConsoleSize: [0, 0], CapAdd: null, CapDrop: null, CgroupnsMode: 'private', Dns: [], DnsOptions: [],
    DnsSearch: [], ExtraHosts: null, GroupAdd: null, IpcMode: 'private', Cgroup: '', Links: null, OomScoreAdj: 0,
    PidMode: '', Privileged: privileged, PublishAllPorts: false, ReadonlyRootfs: false, SecurityOpt: null, UTSMode: '',
    UsernsMode: '', ShmSize: 67108864, Runtime: 'runc', Isolation: '', CpuShares: 0, Memory: 0, NanoCpus: 0,
    CgroupParent: '', BlkioWeight: 0, BlkioWeightDevice: [], BlkioDeviceReadBps: [], BlkioDeviceWriteBps: [],
    BlkioDeviceReadIOps: [], BlkioDeviceWriteIOps: [], CpuPeriod: 0, CpuQuota: 0, CpuRealtimePeriod: 0,
    CpuRealtimeRuntime: 0, CpusetCpus: '', CpusetMems: '', Devices: [], DeviceCgroupRules: null, DeviceRequests: null,
    MemoryReservation: 0, MemorySwap: 0, MemorySwappiness: null, OomKillDisable: null, PidsLimit: null, Ulimits: null,
    CpuCount: 0, CpuPercent: 0, IOMaximumIOps: 0, IOMaximumBandwidth: 0,
    MaskedPaths: privileged ? null : DEFAULT_MASKED_PATHS, ReadonlyPaths: privileged ? null : DEFAULT_READONLY_PATHS,
  };
  const out: Record<string, unknown> = { ...defaults };
  for (const [k, val] of Object.entries(h)) if (val !== undefined) out[k] = val;
  if (!h.NetworkMode) out.NetworkMode = defaults.NetworkMode;
  if (h.RestartPolicy) out.RestartPolicy = { MaximumRetryCount: 0, ...h.RestartPolicy, Name: h.RestartPolicy.Name || 'no' };
  if (h.LogConfig) out.LogConfig = { Config: {}, ...h.LogConfig };
  return out as ContainerInspect['HostConfig'];
}

export function configWire(c: ContainerRecord): ContainerInspect['Config'] {
  const cfg = c.Config;
  const defaults = {
    Hostname: c.Id.slice(0, 12), Domainname: '', User: '', AttachStdin: false, AttachStdout: false, AttachStderr: false,
    Tty: false, OpenStdin: false, StdinOnce: false, Env: null, Cmd: null, Image: c.ImageRef, Volumes: null,
    WorkingDir: '', Entrypoint: null, OnBuild: null, Labels: {},
  };
  const out: Record<string, unknown> = { ...defaults };
  for (const [k, val] of Object.entries(cfg)) if (val !== undefined) out[k] = val;
  if (!cfg.Image) out.Image = c.ImageRef;
  if (!cfg.Hostname) out.Hostname = defaults.Hostname;
  return out as ContainerInspect['Config'];
}

export function mountsWire(c: ContainerRecord): WireMountPoint[] {
  return c.Mounts.map((m) => ({ ...m }));
}

export function containerInspectWire(c: ContainerRecord, execIds: string[] = []): ContainerInspect {
  return {
    Id: c.Id,
    Created: c.Created,
    Path: c.Path,
    Args: c.Args,
    State: stateWire(c.State),
    Image: c.Image,
    ResolvConfPath: c.ResolvConfPath,
    HostnamePath: c.HostnamePath,
    HostsPath: c.HostsPath,
    LogPath: c.LogPath,
    Name: '/' + c.Name,
    RestartCount: c.RestartCount,
    Driver: c.Driver,
    Platform: 'linux',
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    ExecIDs: execIds.length ? execIds : null,
    HostConfig: hostConfigWire(c),
    GraphDriver: { Name: c.Driver, Data: null },
    Mounts: mountsWire(c),
    Config: configWire(c),
    NetworkSettings: networkSettings(c),
  };
}

/** `docker ps`'s COMMAND column: path and args, args with spaces single-quoted (dockerd's rule). */
export function commandText(c: ContainerRecord): string {
  if (c.Args.length === 0) return c.Path;
  return `${c.Path} ${c.Args.map((a) => (a.includes(' ') ? `'${a}'` : a)).join(' ')}`;
}

export function containerSummaryWire(c: ContainerRecord, now = Date.now()): ContainerSummary {
  return {
    Id: c.Id,
    Names: ['/' + c.Name],
    Image: c.ImageRef || c.Image,
    ImageID: c.Image,
    Command: commandText(c),
    Created: Math.floor(Date.parse(c.Created) / 1000) || 0,
    Ports: summaryPorts(c),
    Labels: c.Config.Labels ?? {},
    State: c.State.Status,
    Status: statusText(c.State, now),
    HostConfig: { NetworkMode: networkModeOf(c) },
    NetworkSettings: { Networks: networksOf(c) },
    Mounts: mountsWire(c),
  };
}
