/**
 * The containers service: the lifecycle of containers and their exec sessions.
 * Config is immutable once created; state is the only thing that changes.
 */
import type { ContainerConfig, HostConfig, NetworkingConfig, CreateContainerRequest } from '../oci/docker-config.js';
import type { StdioChunk } from '../runtime/types.js';
import type { Mount as OciMount } from '../oci/runtime-spec.js';
import type { Readable } from 'node:stream';
import type { PathStat } from './archive-helper.js';
import type { CommitRequest } from './commit.js';
import type { SandboxState } from '../network/types.js';

/** PUT /containers/{id}/archive's options; `devices` is the builder's alone (no API flag). */
export interface ArchivePutOptions {
  noOverwriteDirNonDir?: boolean;
  copyUIDGID?: boolean;
  /** Create device nodes and FIFOs from the tar, as docker's builder does for ADD and COPY; docker cp refuses them. */
  devices?: boolean;
}

export type ContainerStatus = 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';

export interface ContainerState {
  Status: ContainerStatus;
  Running: boolean;
  Paused: boolean;
  Restarting: boolean;
  OOMKilled: boolean;
  Dead: boolean;
  Pid: number;
  ExitCode: number;
  Error: string;
  /** RFC 3339 nano; docker's zero time "0001-01-01T00:00:00Z" when never. */
  StartedAt: string;
  FinishedAt: string;
  Health?: { Status: 'starting' | 'healthy' | 'unhealthy' | 'none'; FailingStreak: number; Log: Array<{ Start: string; End: string; ExitCode: number; Output: string }> };
}

/** What is persisted and what inspect shows (the api maps it to docker's JSON). */
export interface ContainerRecord {
  Id: string;
  /** Without the leading slash. */
  Name: string;
  Created: string;
  /** The command actually run: entrypoint + cmd resolved. */
  Path: string;
  Args: string[];
  /** The image reference as the client gave it. */
  ImageRef: string;
  /** sha256:... image id. */
  Image: string;
  Config: ContainerConfig;
  HostConfig: HostConfig;
  NetworkingConfig: NetworkingConfig;
  State: ContainerState;
  RestartCount: number;
  LogPath: string;
  ResolvConfPath: string;
  HostnamePath: string;
  HostsPath: string;
  Driver: 'overlay2';
  /** Resolved mounts, docker's inspect "Mounts" shape. */
  Mounts: Array<{ Type: string; Name?: string; Source: string; Destination: string; Driver?: string; Mode: string; RW: boolean; Propagation: string }>;
  /** The binds, volumes and tmpfs mounts as the runtime takes them. */
  OciMounts: OciMount[];
  /** Set by the user's stop/kill (unless-stopped semantics). */
  StoppedByUser?: boolean;
  /** rm -v in progress: saved with the 'removing' state so a crash mid-remove still removes the anonymous volumes. */
  RemoveVolumes?: boolean;
  /** Networking (issue 5): the running container's netns, endpoints and published ports; cleared at exit. */
  Network?: SandboxState;
}

export interface ListFilters {
  id?: string[];
  name?: string[];
  label?: string[];
  status?: string[];
  ancestor?: string[];
  exited?: string[];
  before?: string[];
  since?: string[];
  health?: string[];
}

export interface LogOptions {
  follow?: boolean;
  /** Number of last lines, or undefined for all. */
  tail?: number;
  /** Unix nanoseconds: lines stamped strictly before `since` are skipped, lines after `until` end the read. */
  since?: bigint;
  until?: bigint;
  timestamps?: boolean;
  stdout?: boolean;
  stderr?: boolean;
}

export interface LogEntry {
  stream: 'stdout' | 'stderr';
  /** RFC 3339 nano timestamp as conmon wrote it. */
  time: string;
  /** One whole line (partial segments joined), with its trailing newline if it had one. */
  data: Buffer;
}

export interface AttachOptions {
  stdin?: boolean;
  stdout?: boolean;
  stderr?: boolean;
  /** Replay the log first. */
  logs?: boolean;
  /** Stay attached to the live stream. */
  stream?: boolean;
  /** docker's "ctrl-p,ctrl-q" syntax. Default ctrl-p,ctrl-q. */
  detachKeys?: string;
}

/** A client's view of a container's or exec's stdio. */
export interface StdioSession {
  readonly tty: boolean;
  /** Ends when the process's output ends, or on detach. */
  readonly output: AsyncIterable<StdioChunk>;
  /** stdin bytes from the client; detach keys are watched here. */
  write(data: Buffer): void;
  /** The client half-closed its side: EOF on the process's stdin. */
  closeStdin(): void;
  /** The client went away. */
  close(): void;
  /**
   * The client has the response head: a process waiting for it may start now.
   * Sessions that need no such gate leave it undefined.
   */
  start?(): void;
  /** True when the process starts only at start(): its output cannot race the head. */
  readonly gated?: boolean;
}

export interface ExecConfig {
  Cmd: string[];
  User?: string;
  Privileged?: boolean;
  Tty?: boolean;
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  Detach?: boolean;
  DetachKeys?: string;
  Env?: string[];
  WorkingDir?: string;
  ConsoleSize?: [number, number] | null;
}

export interface ExecRecord {
  ID: string;
  ContainerID: string;
  Running: boolean;
  ExitCode: number | null;
  Pid: number;
  OpenStdin: boolean;
  OpenStdout: boolean;
  OpenStderr: boolean;
  ProcessConfig: { tty: boolean; entrypoint: string; arguments: string[]; privileged: boolean; user: string };
  CanRemove: boolean;
  DetachKeys: string;
}

export type WaitCondition = 'not-running' | 'next-exit' | 'removed';

export interface ContainerService {
  /** opts.prepareStart false: no start will follow soon (a build's COPY container), so none is prepared. */
  create(req: CreateContainerRequest, name?: string, opts?: { prepareStart?: boolean }): Promise<{ Id: string; Warnings: string[] }>;
  /** NOT_MODIFIED when already running. */
  start(ref: string, opts?: { detachKeys?: string }): Promise<void>;
  /** NOT_MODIFIED when not running. timeout seconds (default: StopTimeout or 10); -1 waits forever. */
  stop(ref: string, opts?: { timeout?: number; signal?: string }): Promise<void>;
  kill(ref: string, signal?: string): Promise<void>;
  restart(ref: string, opts?: { timeout?: number; signal?: string }): Promise<void>;
  /**
   * Resolves once the condition holds and the exit code is recorded. A wait made
   * before start (next-exit) sees the coming exit; `removed` resolves only after
   * the container is gone. The signal aborts the wait (client went away).
   */
  wait(ref: string, condition: WaitCondition, signal?: AbortSignal): Promise<{ StatusCode: number; Error: { Message: string } | null }>;
  /** CONFLICT for a running container without force. */
  remove(ref: string, opts?: { force?: boolean; volumes?: boolean }): Promise<void>;
  list(opts?: { all?: boolean; limit?: number; filters?: ListFilters }): Promise<ContainerRecord[]>;
  /** By full id, unique id prefix, or name; NOT_FOUND "No such container: <ref>". */
  inspect(ref: string): Promise<ContainerRecord>;
  logs(ref: string, opts: LogOptions, signal?: AbortSignal): Promise<AsyncIterable<LogEntry>>;
  attach(ref: string, opts: AttachOptions): Promise<StdioSession>;
  resize(ref: string, height: number, width: number): Promise<void>;
  top(ref: string, psArgs?: string): Promise<{ Titles: string[]; Processes: string[][] }>;
  rename(ref: string, newName: string): Promise<void>;
  /** docker rm --link PARENT/ALIAS: drop that legacy link from the parent (both containers stay). */
  removeLink(name: string): Promise<void>;
  prune(filters?: { label?: string[]; labelNot?: string[]; until?: string[] }): Promise<{ ContainersDeleted: string[]; SpaceReclaimed: number }>;
  pause(ref: string): Promise<void>;
  unpause(ref: string): Promise<void>;

  execCreate(ref: string, cfg: ExecConfig): Promise<string>;
  /** Detached: resolves once started, session undefined. */
  execStart(execId: string, opts: { detach?: boolean; tty?: boolean }): Promise<StdioSession | undefined>;
  execInspect(execId: string): Promise<ExecRecord>;
  execResize(execId: string, height: number, width: number): Promise<void>;

  /** Optional so test fakes need not implement them. docker stats (issue 3): one sample, two a second apart, or a sample a second until aborted. */
  stats?(ref: string, opts: { stream: boolean; oneShot?: boolean }, signal?: AbortSignal): Promise<AsyncIterable<object>>;
  /** docker network connect/disconnect (issue 5): live when running, recorded for the next start either way. */
  connectNetwork?(ref: string, r: { network: string; aliases?: string[]; ip?: string; links?: string[]; mac?: string; ip6?: string; linkLocalIPs?: string[] }): Promise<void>;
  disconnectNetwork?(ref: string, network: string): Promise<void>;
  /** docker update (issue 3): resources and restart policy; live when running. */
  update?(ref: string, cfg: Record<string, unknown>): Promise<{ Warnings: string[] }>;

  /** docker cp (archive API) and export; every path resolved inside the container (archive.ts). Optional for test fakes. */
  archiveStat?(ref: string, path: string): Promise<PathStat>;
  archiveGet?(ref: string, path: string): Promise<{ stat: PathStat; tar: Readable; done: Promise<void> }>;
  archivePut?(ref: string, path: string, tar: Readable, opts: ArchivePutOptions): Promise<void>;
  export?(ref: string): Promise<{ tar: Readable; done: Promise<void> }>;
  /** docker diff: [{Path, Kind: 0 changed | 1 added | 2 deleted}]. */
  changes?(ref: string): Promise<Array<{ Path: string; Kind: 0 | 1 | 2 }>>;
  /** docker commit: the new image's id. */
  commit?(ref: string, req: CommitRequest): Promise<string>;

  /** Is any container (of any state) using this image id? */
  imageInUse(imageId: string): boolean;
  /** The containers using this image id and whether each runs (docker rmi: a running one blocks even -f). Optional for fakes. */
  imageUsers?(imageId: string): Array<{ id: string; running: boolean }>;
  volumeInUse(name: string): boolean;
}
