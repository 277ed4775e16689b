/**
 * The public surface of the api layer: what the daemon passes in (ApiDeps) and the
 * Docker wire shapes it sends out. The CLI imports the wire types from here
 * (type-only), so they must not pull in any runtime code.
 */
import type { ImageBuilder } from '../build/index.js';
import type { NetworkService } from '../network/types.js';
import type { ContainerService } from '../containers/types.js';
import type { ImageService } from '../images/types.js';
import type { VolumeService } from '../volumes/types.js';
import type { EventBus } from '../events/bus.js';
import type { ContainerConfig, HostConfig, EndpointSettings } from '../oci/docker-config.js';
import type { ContainerState } from '../containers/types.js';

/** Build facts the daemon knows about itself; the api adds the API versions. */
export interface VersionInfo {
  /** berth's own version, e.g. "0.1.0". */
  Version: string;
  GitCommit: string;
  /** RFC 3339. */
  BuildTime: string;
  KernelVersion: string;
  /** Defaults: process.arch mapped to Go's names, "linux". */
  Arch?: string;
  Os?: string;
}

/** `GET /info` is assembled by the daemon (counts, host facts); the api only serves it. */
export type SystemInfo = Record<string, unknown>;

export interface SystemService {
  version(): VersionInfo;
  info(): Promise<SystemInfo>;
}

/** One line of a pull progress stream, docker's shape. */
export interface PullProgress {
  status?: string;
  id?: string;
  progress?: string;
  progressDetail?: { current?: number; total?: number };
}

/**
 * Registry pulls are optional: when the ImageService also has this method the api
 * streams it, otherwise `POST /images/create?fromImage=` answers 501.
 */
export interface ImagePuller {
  /** allTags: fromImage came without a tag; a bare name then means every tag (docker's pull -a). */
  pull(ref: string, opts: { platform?: string; auth?: string; signal?: AbortSignal; allTags?: boolean }): AsyncIterable<PullProgress>;
}

/** Registry push and login (`POST /images/{name}/push`, `POST /auth`), optional like pull. */
export interface ImagePusher {
  push(name: string, opts: { tag?: string; auth?: string; signal?: AbortSignal }): AsyncIterable<PullProgress & { aux?: Record<string, unknown> }>;
  login(serverAddress: string, auth: string | undefined, signal?: AbortSignal): Promise<void>;
  /** GET /distribution/{name}/json: the registry's descriptor and platforms, no pull. */
  distributionInspect(name: string, auth: string | undefined, signal?: AbortSignal): Promise<{ Descriptor: { mediaType: string; digest: string; size: number }; Platforms: object[] }>;
}

export interface ApiDeps {
  containers: ContainerService;
  images: ImageService & Partial<ImagePuller> & Partial<ImagePusher>;
  volumes: VolumeService;
  events: EventBus;
  system: SystemService;
  /** Networking (issue 5); absent in API tests that fake the engine. */
  networks?: NetworkService;
  /** The classic Dockerfile builder (POST /build); absent, the route answers 501. */
  builder?: ImageBuilder;
}

// ---- wire types (docker's JSON) -------------------------------------------------

export interface WireMountPoint {
  Type: string;
  Name?: string;
  Source: string;
  Destination: string;
  Driver?: string;
  Mode: string;
  RW: boolean;
  Propagation: string;
}

export interface WirePortBinding { HostIp: string; HostPort: string }

export interface WireEndpoint extends Required<Pick<EndpointSettings, 'NetworkID' | 'EndpointID' | 'Gateway' | 'IPAddress' | 'IPPrefixLen' | 'MacAddress'>> {
  IPAMConfig: EndpointSettings['IPAMConfig'] | null;
  Links: string[] | null;
  Aliases: string[] | null;
  IPv6Gateway: string;
  GlobalIPv6Address: string;
  GlobalIPv6PrefixLen: number;
  DriverOpts: Record<string, string> | null;
  DNSNames: string[] | null;
}

export interface WireNetworkSettings {
  Bridge: string;
  SandboxID: string;
  HairpinMode: boolean;
  LinkLocalIPv6Address: string;
  LinkLocalIPv6PrefixLen: number;
  Ports: Record<string, WirePortBinding[] | null>;
  SandboxKey: string;
  SecondaryIPAddresses: null;
  SecondaryIPv6Addresses: null;
  EndpointID: string;
  Gateway: string;
  GlobalIPv6Address: string;
  GlobalIPv6PrefixLen: number;
  IPAddress: string;
  IPPrefixLen: number;
  IPv6Gateway: string;
  MacAddress: string;
  Networks: Record<string, WireEndpoint>;
}

/** `GET /containers/{id}/json`. */
export interface ContainerInspect {
  Id: string;
  Created: string;
  Path: string;
  Args: string[];
  State: ContainerState;
  Image: string;
  ResolvConfPath: string;
  HostnamePath: string;
  HostsPath: string;
  LogPath: string;
  Name: string;
  RestartCount: number;
  Driver: string;
  Platform: string;
  MountLabel: string;
  ProcessLabel: string;
  AppArmorProfile: string;
  ExecIDs: string[] | null;
  HostConfig: HostConfig & Record<string, unknown>;
  GraphDriver: { Name: string; Data: Record<string, string> | null };
  /** Only with `?size=1`. */
  SizeRw?: number;
  SizeRootFs?: number;
  Mounts: WireMountPoint[];
  Config: ContainerConfig & Record<string, unknown>;
  NetworkSettings: WireNetworkSettings;
}

/** One entry of `GET /containers/json`. */
export interface ContainerSummary {
  Id: string;
  Names: string[];
  Image: string;
  ImageID: string;
  Command: string;
  Created: number;
  Ports: Array<{ IP?: string; PrivatePort: number; PublicPort?: number; Type: string }>;
  SizeRw?: number;
  SizeRootFs?: number;
  Labels: Record<string, string>;
  State: string;
  Status: string;
  HostConfig: { NetworkMode: string };
  NetworkSettings: { Networks: Record<string, WireEndpoint> };
  Mounts: WireMountPoint[];
}

/** One entry of `GET /images/json`. */
export interface ImageSummary {
  Id: string;
  ParentId: string;
  RepoTags: string[];
  RepoDigests: string[];
  Created: number;
  Size: number;
  VirtualSize: number;
  SharedSize: number;
  Labels: Record<string, string> | null;
  Containers: number;
}

/** `GET /images/{name}/json`. */
export interface ImageInspect {
  Id: string;
  RepoTags: string[];
  RepoDigests: string[];
  Parent: string;
  Comment: string;
  Created: string;
  Container: string;
  DockerVersion: string;
  Author: string;
  /** The image's runtime config with docker's empty fields filled (null where docker prints null). */
  Config: Record<string, unknown>;
  /** dockerd dropped it in API 1.45; docker-compose 1.x reads it and fails without it. */
  ContainerConfig?: Record<string, unknown>;
  Architecture: string;
  Variant?: string;
  Os: string;
  Size: number;
  VirtualSize: number;
  GraphDriver: { Name: string; Data: Record<string, string> | null };
  RootFS: { Type: string; Layers: string[] };
  Metadata: { LastTagTime: string };
}

export interface ImageHistoryEntry { Id: string; Created: number; CreatedBy: string; Tags: string[] | null; Size: number; Comment: string }

/** A volume as `GET /volumes/{name}` shows it. */
export interface VolumeWire {
  CreatedAt: string;
  Driver: string;
  Labels: Record<string, string> | null;
  Mountpoint: string;
  Name: string;
  Options: Record<string, string> | null;
  Scope: string;
}

export interface VolumeList { Volumes: VolumeWire[]; Warnings: string[] }

export interface VersionResponse {
  Platform: { Name: string };
  Components: Array<{ Name: string; Version: string; Details: Record<string, string> }>;
  Version: string;
  ApiVersion: string;
  MinAPIVersion: string;
  GitCommit: string;
  GoVersion: string;
  Os: string;
  Arch: string;
  KernelVersion: string;
  BuildTime: string;
}

export interface ErrorResponse { message: string }
export interface IdResponse { Id: string }
export interface CreateResponse { Id: string; Warnings: string[] }
export interface WaitResponse { StatusCode: number; Error: { Message: string } | null }
