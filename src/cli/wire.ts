/**
 * The few Docker Engine API response shapes the CLI reads. Declared locally (types only)
 * until src/api/types.ts exists; every field is optional because the CLI must survive a
 * daemon that omits one, and the report lists which ones it actually relies on.
 */
export type { CreateContainerRequest, ContainerConfig, HostConfig, MountSpec, Ulimit } from '../oci/docker-config.js';

export interface CreateResponse { Id: string; Warnings?: string[] | null }
export interface WaitResponse { StatusCode: number; Error?: { Message?: string } | null }

export interface PortSummary { IP?: string; PrivatePort: number; PublicPort?: number; Type: string }

/** GET /containers/json element. */
export interface ContainerSummary {
  Id: string;
  Names?: string[];
  Image?: string;
  ImageID?: string;
  Command?: string;
  Created?: number;
  Ports?: PortSummary[];
  SizeRw?: number;
  SizeRootFs?: number;
  Labels?: Record<string, string> | null;
  State?: string;
  Status?: string;
  Mounts?: Array<{ Name?: string; Source?: string; Destination?: string }>;
  NetworkSettings?: { Networks?: Record<string, unknown> };
}

/** GET /containers/{id}/json, the parts the CLI reads. */
export interface ContainerInspect {
  Id: string;
  Name?: string;
  Config?: { Tty?: boolean; OpenStdin?: boolean };
  State?: { Status?: string; Running?: boolean; Paused?: boolean; Restarting?: boolean; ExitCode?: number };
  [k: string]: unknown;
}

/** GET /images/json element. */
export interface ImageSummary {
  Id: string;
  ParentId?: string;
  RepoTags?: string[] | null;
  RepoDigests?: string[] | null;
  Created?: number;
  Size?: number;
  SharedSize?: number;
  VirtualSize?: number;
  Labels?: Record<string, string> | null;
  Containers?: number;
}

export interface HistoryItem { Id: string; Created: number; CreatedBy: string; Size: number; Tags?: string[] | null; Comment?: string }

export interface Volume {
  Name: string;
  Driver?: string;
  Mountpoint?: string;
  Labels?: Record<string, string> | null;
  Scope?: string;
  Options?: Record<string, string> | null;
  CreatedAt?: string;
  UsageData?: { Size?: number; RefCount?: number } | null;
}

export interface JSONMessage {
  status?: string;
  id?: string;
  progress?: string;
  progressDetail?: { current?: number; total?: number };
  stream?: string;
  error?: string;
  errorDetail?: { code?: number; message?: string };
  aux?: { ID?: string };
}

export interface VersionResponse {
  Version?: string;
  ApiVersion?: string;
  MinAPIVersion?: string;
  GitCommit?: string;
  GoVersion?: string;
  Os?: string;
  Arch?: string;
  KernelVersion?: string;
  Experimental?: boolean;
  BuildTime?: string;
  Platform?: { Name?: string };
  Components?: Array<{ Name: string; Version: string; Details?: Record<string, string> }>;
}
