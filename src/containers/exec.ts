/**
 * Exec sessions: processes started in a running container's namespaces. Records are
 * kept in memory, as dockerd does, for as long as the container exists.
 */
import { newId } from '../common/ids.js';
import { BerthError, conflict, errorMessage, invalidArgument, notFound } from '../common/errors.js';
import { buildSpecWithWarnings } from '../runtime/spec/index.js';
import { ALL_CAPABILITIES } from '../runtime/spec/capabilities.js';
import type { ContainerManager } from './manager.js';
import type { ExecConfig, ExecRecord, StdioSession } from './types.js';
import { assertCanExec } from './rules.js';
import { specInput } from './spec.js';
import { mergeEnv, processEnv } from './create-config.js';
import { resolveUser } from './support/user.js';
import { DEFAULT_DETACH_KEYS, parseDetachKeys } from './support/detach-keys.js';
import { ClientSession } from './client-session.js';
import type { ExecHandle } from '../runtime/types.js';

interface ExecEntry {
  record: ExecRecord;
  config: ExecConfig;
  handle?: ExecHandle;
  started: boolean;
  /** Settles once the process runs (handle set) or could not start: what a resize waits for. */
  launched: Promise<void>;
  settleLaunch: () => void;
}

/** How long a resize waits for its exec's process, as dockerd's ContainerExecResize does. */
export const EXEC_RESIZE_WAIT_MS = 10_000;

export class ExecManager {
  readonly #m: ContainerManager;
  #execs = new Map<string, ExecEntry>();

  constructor(m: ContainerManager) {
    this.#m = m;
  }

  idsOf(containerId: string): string[] {
    return [...this.#execs.values()].filter((e) => e.record.ContainerID === containerId).map((e) => e.record.ID);
  }

  forgetContainer(containerId: string): void {
    for (const [id, e] of this.#execs) if (e.record.ContainerID === containerId) this.#execs.delete(id);
  }

  async create(ref: string, cfg: ExecConfig): Promise<string> {
    const c = this.#m.get(ref);
    assertCanExec(c);
    if (!cfg || !Array.isArray(cfg.Cmd) || cfg.Cmd.length === 0) throw invalidArgument('No exec command specified');
    if (cfg.DetachKeys) parseDetachKeys(cfg.DetachKeys);
    const id = newId();
    let settleLaunch!: () => void;
    const launched = new Promise<void>((r) => (settleLaunch = r));
    this.#execs.set(id, {
      started: false,
      launched,
      settleLaunch,
      config: cfg,
      record: {
        ID: id,
        ContainerID: c.Id,
        Running: false,
        ExitCode: null,
        Pid: 0,
        OpenStdin: !!cfg.AttachStdin,
        OpenStdout: !!cfg.AttachStdout,
        OpenStderr: !!cfg.AttachStderr,
        ProcessConfig: { tty: !!cfg.Tty, entrypoint: cfg.Cmd[0]!, arguments: cfg.Cmd.slice(1), privileged: !!cfg.Privileged, user: cfg.User ?? '' },
        CanRemove: false,
        DetachKeys: cfg.DetachKeys ?? '',
      },
    });
    this.#m.publish(c, `exec_create: ${cfg.Cmd.join(' ')}`, { execID: id });
    return id;
  }

  #entry(execId: string): ExecEntry {
    const e = this.#execs.get(execId);
    if (!e) throw notFound(`No such exec instance: ${execId}`);
    return e;
  }

  async inspect(execId: string): Promise<ExecRecord & { ContainerID: string }> {
    const e = this.#entry(execId);
    return { ...e.record, Pid: e.record.Pid };
  }

  async start(execId: string, opts: { detach?: boolean; tty?: boolean }): Promise<StdioSession | undefined> {
    const e = this.#entry(execId);
    if (e.started) throw conflict(`Exec command ${execId} has already run`);
    const c = this.#m.get(e.record.ContainerID);
    assertCanExec(c);
    e.started = true;
    const cfg = e.config;
    const tty = opts.tty ?? !!cfg.Tty;
    const rootfs = this.#m.rootfsDir(c.Id);
    const detach = !!opts.detach || !!cfg.Detach;
    const launch = async (gate?: Promise<void>): Promise<ExecHandle> => {
      const input = await specInput(this.#m, c, rootfs);
      input.args = cfg.Cmd;
      // docker runs an exec as the command itself: the container's init (tini) is PID 1
      // already, and a second one under it only warns that it is not a subreaper.
      input.init = undefined;
      input.env = processEnv(mergeEnv(input.env, cfg.Env ?? [])).env;
      if (cfg.WorkingDir) input.cwd = cfg.WorkingDir;
      if (cfg.User) {
        const u = await resolveUser(rootfs, cfg.User, c.HostConfig.GroupAdd ?? []);
        input.user = { uid: u.uid, gid: u.gid, additionalGids: u.additionalGids };
      }
      input.terminal = tty;
      // The client's terminal size from the start (docker's ConsoleSize): a resize sent
      // right after start can reach conmon before it holds the pty and be lost.
      const cs = cfg.ConsoleSize;
      if (tty && Array.isArray(cs) && [cs[0], cs[1]].every((n) => Number.isInteger(n) && n > 0 && n < 65536)) input.consoleSize = { height: cs[0], width: cs[1] };
      if (cfg.Privileged) input.privileged = true;
      const process = buildSpecWithWarnings(input).spec.process!;
      if (cfg.Privileged) {
        const caps = input.hostBoundingCaps ?? [...ALL_CAPABILITIES];
        process.capabilities = { bounding: caps, effective: caps, permitted: caps, inheritable: caps };
      }
      this.#m.publish(c, `exec_start: ${cfg.Cmd.join(' ')}`, { execID: execId });
      return this.#m.deps.runtime.exec(c.Id, { execId, process, terminal: tty, stdin: !!cfg.AttachStdin && !detach, detach, gate });
    };
    const failed = (err: unknown): number => {
      // docker: an exec that cannot start ends with 126 and its reason on the stream.
      e.record.ExitCode = 126;
      e.record.Running = false;
      e.settleLaunch();
      this.#m.publish(c, 'exec_die', { execID: execId, exitCode: '126' });
      return 126;
    };
    const track = (handle: ExecHandle): Promise<void> => {
      e.handle = handle;
      e.record.Running = true;
      e.record.Pid = handle.pid;
      e.settleLaunch();
      return handle.exited.then((code) => code, () => 126).then((code) => {
        e.record.ExitCode = code;
        e.record.Running = false;
        this.#m.publish(c, 'exec_die', { execID: execId, exitCode: String(code) });
      });
    };

    if (detach) {
      try {
        void track(await launch());
      } catch (err) {
        failed(err);
        throw err;
      }
      return undefined;
    }

    // Attached: hand the session out now; the process starts when the client has the
    // response head (session.start), and its exit code is recorded before the stream ends.
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    let recorded!: () => void;
    const done = new Promise<void>((r) => (recorded = r));
    const session = new ClientSession({
      tty,
      stdin: !!cfg.AttachStdin,
      stdout: cfg.AttachStdout ?? true,
      stderr: cfg.AttachStderr ?? true,
      stdinOnce: true,
      // dockerd's exec detaches on ctrl-p,ctrl-q too when the client names no keys.
      detachKeys: parseDetachKeys(cfg.DetachKeys || DEFAULT_DETACH_KEYS),
      beforeEnd: () => done,
      onStart: open,
    });
    launch(gate).then(
      (handle) => {
        void track(handle).then(recorded);
        if (handle.io) session.connect(handle.io);
        else session.end();
      },
      (err) => {
        failed(err);
        recorded();
        session.pushReplay({ stream: 'stdout', data: Buffer.from(`OCI runtime exec failed: ${errorMessage(err)}\r\n`) });
        session.end();
      },
    );
    return session;
  }

  /**
   * A resize that comes with the start (clients send it right after their hijacked start,
   * before the process is up) waits for the process, up to EXEC_RESIZE_WAIT_MS, as dockerd
   * does; an exec never started meets the same timeout (a 500, as dockerd's).
   */
  async resize(execId: string, height: number, width: number, waitMs = EXEC_RESIZE_WAIT_MS): Promise<void> {
    const e = this.#entry(execId);
    let timer: NodeJS.Timeout | undefined;
    const ready = await Promise.race([
      e.launched.then(() => true),
      new Promise<false>((r) => { timer = setTimeout(() => r(false), waitMs); }),
    ]).finally(() => clearTimeout(timer));
    if (!ready) throw new BerthError('INTERNAL', `timeout waiting for exec session ready: exec ${execId} was not started within ${waitMs / 1000} s`);
    if (!e.handle) throw invalidArgument(`exec ${execId}: its process could not start`);
    if (!e.record.Running) throw conflict(`exec ${execId} is not running`);
    await e.handle.resize(height, width);
  }
}
