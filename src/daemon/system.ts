/**
 * `GET /version` and `GET /info`: what this engine is and what it holds.
 */
import { readFileSync } from 'node:fs';
import { cpus, totalmem, hostname, release, type as osType } from 'node:os';
import type { SystemService, VersionInfo, SystemInfo } from '../api/types.js';
import type { ContainerService } from '../containers/types.js';
import type { ImageService } from '../images/types.js';
import type { DaemonConfig } from './config.js';

export const BERTH_VERSION: string = (() => {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    return String(pkg.version);
  } catch {
    return '0.0.0';
  }
})();

const STARTED = new Date().toISOString();

function osName(): string {
  try {
    const m = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(readFileSync('/etc/os-release', 'utf8'));
    return m?.[1] ?? 'Linux';
  } catch {
    return 'Linux';
  }
}

function cgroupVersion(): '1' | '2' {
  try {
    readFileSync('/sys/fs/cgroup/cgroup.controllers');
    return '2';
  } catch {
    return '1';
  }
}

export function createSystemService(cfg: DaemonConfig, deps: { containers: ContainerService; images: ImageService }): SystemService {
  const version: VersionInfo = { Version: BERTH_VERSION, GitCommit: 'berth', BuildTime: STARTED, KernelVersion: release(), Os: 'linux', Arch: process.arch === 'x64' ? 'amd64' : process.arch };
  return {
    version: () => version,
    async info(): Promise<SystemInfo> {
      const all = await deps.containers.list({ all: true });
      const images = await deps.images.list();
      // A container waiting out its restart back-off counts as running, as in docker's info.
      const running = all.filter((c) => (c.State.Running || c.State.Restarting) && !c.State.Paused).length;
      const paused = all.filter((c) => c.State.Paused).length;
      return {
        ID: hostname(),
        Containers: all.length,
        ContainersRunning: running,
        ContainersPaused: paused,
        ContainersStopped: all.length - running - paused,
        Images: images.length,
        Driver: 'overlay2',
        DriverStatus: [['Backing Filesystem', 'extfs'], ['Supports d_type', 'true']],
        Plugins: { Volume: ['local'], Network: ['bridge', 'host', 'none'], Authorization: null, Log: ['json-file', 'k8s-file', 'none'] },
        MemoryLimit: true,
        SwapLimit: true,
        CpuCfsPeriod: true,
        CpuCfsQuota: true,
        CPUShares: true,
        CPUSet: true,
        PidsLimit: true,
        IPv4Forwarding: true,
        BridgeNfIptables: true,
        BridgeNfIp6tables: true,
        Debug: cfg.debug,
        NFd: 0,
        OomKillDisable: true,
        NGoroutines: 0,
        SystemTime: new Date().toISOString(),
        LoggingDriver: 'json-file',
        CgroupDriver: 'cgroupfs',
        CgroupVersion: cgroupVersion(),
        NEventsListener: 0,
        KernelVersion: release(),
        OperatingSystem: osName(),
        OSVersion: '',
        OSType: osType() === 'Linux' ? 'linux' : osType(),
        Architecture: process.arch === 'x64' ? 'x86_64' : process.arch,
        IndexServerAddress: 'https://index.docker.io/v1/',
        RegistryConfig: { InsecureRegistryCIDRs: ['127.0.0.0/8', '::1/128'], IndexConfigs: {}, Mirrors: [] },
        NCPU: cpus().length,
        MemTotal: totalmem(),
        DockerRootDir: cfg.dataRoot,
        HttpProxy: '',
        HttpsProxy: '',
        NoProxy: '',
        Name: hostname(),
        Labels: [],
        ExperimentalBuild: false,
        ServerVersion: BERTH_VERSION,
        Runtimes: { [cfg.runtime]: { path: cfg.runtime } },
        DefaultRuntime: cfg.runtime,
        Swarm: { NodeID: '', NodeAddr: '', LocalNodeState: 'inactive', ControlAvailable: false, Error: '', RemoteManagers: null },
        LiveRestoreEnabled: true,
        Isolation: '',
        InitBinary: 'docker-init',
        ContainerdCommit: { ID: '' },
        RuncCommit: { ID: '' },
        InitCommit: { ID: '' },
        SecurityOptions: ['name=seccomp,profile=builtin', 'name=cgroupns'],
        Warnings: [],
      };
    },
  };
}
