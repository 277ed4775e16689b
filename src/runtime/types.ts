/**
 * The runtime interface: runs OCI bundles under a monitor (conmon + runc).
 * It takes a spec, the rootfs as Mount[] and stdio choices; it never imports images
 * or containers. The containers service is its only caller.
 */
import type { Spec, Process } from '../oci/runtime-spec.js';
import type { Mount } from '../mount/mount.js';

export interface StdioChunk {
  /** 'stdout' or 'stderr'; with a terminal everything arrives as 'stdout'. */
  stream: 'stdout' | 'stderr';
  data: Buffer;
}

/**
 * A live connection to a process's stdio (conmon's attach socket).
 * output ends when the process closes its output (it exited) or close() is called.
 */
export interface IoSession {
  readonly output: AsyncIterable<StdioChunk>;
  /** Send bytes to the process's stdin (no-op when stdin is not open). */
  write(data: Buffer): void;
  /** Half-close: the process sees EOF on stdin. */
  closeStdin(): void;
  /** Detach: stop reading and release the connection; the process keeps running. */
  close(): void;
}

export interface CreateOptions {
  id: string;
  spec: Spec;
  /**
   * The root filesystem: Mount[] are mounted by the runtime at <bundle>/rootfs before
   * runc create and unmounted on delete; a string is an absolute path the caller has
   * already mounted (and unmounts), used as the spec's root.path as it is.
   */
  rootfs: Mount[] | string;
  /** conmon's k8s-file log. */
  logPath: string;
  /** conmon --log-size-max backstop, bytes (0 = none). */
  logSizeMax?: number;
  terminal: boolean;
  /** Keep stdin open (docker's OpenStdin / -i). */
  stdin: boolean;
  /**
   * Keep the process's stdin open when an attached client disconnects (conmon
   * --leave-stdin-open). docker closes it only for StdinOnce without a tty; otherwise a
   * detach (Ctrl-P Ctrl-Q) would leave a reattached shell deaf.
   */
  leaveStdinOpen?: boolean;
  /**
   * Called after runc create succeeded and before runc start: attach sessions that
   * were waiting for the container connect here so no output is lost.
   */
}

export interface ExitStatus {
  exitCode: number;
  /** The OOM killer killed a process of the container (conmon's oom file). */
  oomKilled: boolean;
  /** When the exit was recorded (exit file mtime). */
  finishedAt: Date;
}

export interface ExecOptions {
  /** Unique id of the exec session. */
  execId: string;
  process: Process;
  terminal: boolean;
  stdin: boolean;
  /** Run without attaching: output discarded, exit code still recorded. */
  detach: boolean;
  /** Attached execs: the process starts once this resolves (the client is ready to read). */
  gate?: Promise<void>;
}

export interface ExecHandle {
  pid: number;
  /** Present unless detached. Connected before the process starts, so nothing is lost. */
  io?: IoSession;
  /** Resolves with the exit code once the process ended and the code is recorded. */
  exited: Promise<number>;
  resize(height: number, width: number): Promise<void>;
}

export interface RuntimeState {
  status: 'created' | 'running' | 'paused' | 'stopped';
  pid: number;
}

export interface Runtime {
  readonly name: string;
  /**
   * Write the bundle, mount the rootfs, start conmon (which runs `runc create`) and
   * wait for the container's pid. The process is created but not started.
   * Throws BerthError with runc's own message on failure, leaving nothing behind.
   */
  create(opts: CreateOptions): Promise<{ pid: number }>;
  /** Connect to the container's stdio. Valid after create, until exit. */
  attach(id: string): Promise<IoSession>;
  /** `runc start`: the process runs. pid: its init, as create answered (else read again). */
  start(id: string, pid?: number): Promise<void>;
  kill(id: string, signal: string | number, all?: boolean): Promise<void>;
  pause(id: string): Promise<void>;
  resume(id: string): Promise<void>;
  /** runc's view of the container, or undefined if runc does not know it. */
  state(id: string): Promise<RuntimeState | undefined>;
  /** The recorded exit, or undefined while it runs (or if it never ran). */
  exitStatus(id: string): Promise<ExitStatus | undefined>;
  /** Wait for exit: resolves once conmon recorded the exit code. */
  waitExit(id: string): Promise<ExitStatus>;
  /** `runc delete` (force), unmount the rootfs, remove the bundle. Idempotent. */
  delete(id: string): Promise<void>;
  resize(id: string, height: number, width: number): Promise<void>;
  /** Ask conmon to reopen its log file (after rotation). */
  reopenLog(id: string): Promise<void>;
  exec(id: string, opts: ExecOptions): Promise<ExecHandle>;
  /** Ids of containers that have bundles here (for start-up reconcile). */
  list(): Promise<string[]>;
  /** Stop watching; running containers keep running. */
  close(): Promise<void>;
}
