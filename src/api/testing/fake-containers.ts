/** An in-memory ContainerService with just enough behaviour to exercise the api. */
import { randomBytes } from 'node:crypto';
import type {
  AttachOptions, ContainerRecord, ContainerService, ExecConfig, ExecRecord, ListFilters, LogEntry, LogOptions, StdioSession, WaitCondition,
} from '../../containers/types.js';
import type { CreateContainerRequest } from '../../oci/docker-config.js';
import { BerthError, conflict, failedPrecondition, notFound, notModified } from '../../common/errors.js';
import { AsyncQueue } from './queue.js';
import { FakeSession } from './fake-session.js';

const ZERO = '0001-01-01T00:00:00Z';

interface Waiter { id: string; condition: WaitCondition; resolve: (r: { StatusCode: number; Error: null }) => void }

export class FakeContainers implements ContainerService {
  readonly records = new Map<string, ContainerRecord>();
  readonly logsById = new Map<string, LogEntry[]>();
  readonly followers = new Set<AsyncQueue<LogEntry>>();
  readonly waiters = new Set<Waiter>();
  readonly sessions: FakeSession[] = [];
  readonly execs = new Map<string, ExecRecord & { cfg: ExecConfig }>();
  /** Make attach/exec sessions echo stdin back (like `cat`). */
  echo = true;
  lastCreate?: { req: CreateContainerRequest; name?: string };
  lastStop?: { ref: string; opts?: { timeout?: number; signal?: string } };
  lastListOpts?: { all?: boolean; limit?: number; filters?: ListFilters };
  /** Error the next start throws. */
  startError?: BerthError;

  async create(req: CreateContainerRequest, name?: string): Promise<{ Id: string; Warnings: string[] }> {
    this.lastCreate = { req, name };
    if (req.Image === 'missing') throw notFound(`No such image: ${req.Image}:latest`);
    if (name && [...this.records.values()].some((r) => r.Name === name)) {
      throw conflict(`Conflict. The container name "/${name}" is already in use by container "x". You have to remove (or rename) that container to be able to reuse that name.`);
    }
    const Id = randomBytes(32).toString('hex');
    const cmd = [...(req.Entrypoint ?? []), ...(req.Cmd ?? [])];
    this.records.set(Id, {
      Id, Name: name ?? `fake_${Id.slice(0, 6)}`, Created: new Date().toISOString(), Path: cmd[0] ?? '', Args: cmd.slice(1),
      ImageRef: req.Image ?? '', Image: 'sha256:' + 'a'.repeat(64), Config: { ...req, HostConfig: undefined, NetworkingConfig: undefined } as ContainerRecord['Config'],
      HostConfig: req.HostConfig ?? {}, NetworkingConfig: req.NetworkingConfig ?? {},
      State: { Status: 'created', Running: false, Paused: false, Restarting: false, OOMKilled: false, Dead: false, Pid: 0, ExitCode: 0, Error: '', StartedAt: ZERO, FinishedAt: ZERO },
      RestartCount: 0, LogPath: '', ResolvConfPath: '', HostnamePath: '', HostsPath: '', Driver: 'overlay2', Mounts: [], OciMounts: [],
    });
    return { Id, Warnings: [] };
  }

  #get(ref: string): ContainerRecord {
    const byId = this.records.get(ref);
    if (byId) return byId;
    for (const r of this.records.values()) if (r.Name === ref || (ref.length >= 3 && r.Id.startsWith(ref))) return r;
    throw notFound(`No such container: ${ref}`);
  }

  async start(ref: string): Promise<void> {
    const c = this.#get(ref);
    if (this.startError) {
      const e = this.startError;
      this.startError = undefined;
      throw e;
    }
    if (c.State.Running) throw notModified('container already started');
    c.State = { ...c.State, Status: 'running', Running: true, Pid: 4242, StartedAt: new Date().toISOString(), FinishedAt: ZERO };
  }

  /** Test helper: the container's process exits. */
  exit(ref: string, code: number): void {
    const c = this.#get(ref);
    c.State = { ...c.State, Status: 'exited', Running: false, Paused: false, Pid: 0, ExitCode: code, FinishedAt: new Date().toISOString() };
    for (const f of this.followers) f.end();
    for (const w of [...this.waiters]) {
      if (w.id === c.Id && w.condition !== 'removed') {
        this.waiters.delete(w);
        w.resolve({ StatusCode: code, Error: null });
      }
    }
  }

  async stop(ref: string, opts?: { timeout?: number; signal?: string }): Promise<void> {
    this.lastStop = { ref, opts };
    const c = this.#get(ref);
    if (!c.State.Running) throw notModified('container already stopped');
    this.exit(ref, 137);
  }

  async kill(ref: string): Promise<void> {
    const c = this.#get(ref);
    if (!c.State.Running) throw conflict(`Container ${c.Id} is not running`);
    this.exit(ref, 137);
  }

  async restart(ref: string): Promise<void> {
    const c = this.#get(ref);
    if (c.State.Running) this.exit(ref, 0);
    await this.start(ref);
  }

  wait(ref: string, condition: WaitCondition, signal?: AbortSignal): Promise<{ StatusCode: number; Error: { Message: string } | null }> {
    let c: ContainerRecord;
    try {
      c = this.#get(ref);
    } catch (err) {
      return Promise.reject(err);
    }
    if (condition === 'not-running' && !c.State.Running) return Promise.resolve({ StatusCode: c.State.ExitCode, Error: null });
    return new Promise((resolve, reject) => {
      const w: Waiter = { id: c.Id, condition, resolve };
      this.waiters.add(w);
      signal?.addEventListener('abort', () => {
        this.waiters.delete(w);
        reject(new BerthError('CANCELED', 'wait canceled'));
      }, { once: true });
    });
  }

  async remove(ref: string, opts?: { force?: boolean }): Promise<void> {
    const c = this.#get(ref);
    if (c.State.Running && !opts?.force) throw conflict(`cannot remove container "/${c.Name}": container is running: stop the container before removing or force remove`);
    this.records.delete(c.Id);
    for (const w of [...this.waiters]) {
      if (w.id === c.Id) {
        this.waiters.delete(w);
        w.resolve({ StatusCode: c.State.ExitCode, Error: null });
      }
    }
  }

  async list(opts?: { all?: boolean; limit?: number; filters?: ListFilters }): Promise<ContainerRecord[]> {
    this.lastListOpts = opts;
    return [...this.records.values()].filter((r) => opts?.all || r.State.Running);
  }

  async inspect(ref: string): Promise<ContainerRecord> {
    return this.#get(ref);
  }

  /** Test helper: the container writes a log line (seen by followers too). */
  emitLog(ref: string, stream: 'stdout' | 'stderr', text: string): void {
    const c = this.#get(ref);
    const e: LogEntry = { stream, time: new Date().toISOString().replace('Z', '123456Z'), data: Buffer.from(text) };
    const arr = this.logsById.get(c.Id) ?? [];
    arr.push(e);
    this.logsById.set(c.Id, arr);
    for (const f of this.followers) f.push(e);
  }

  async logs(ref: string, opts: LogOptions, signal?: AbortSignal): Promise<AsyncIterable<LogEntry>> {
    const c = this.#get(ref);
    const q = new AsyncQueue<LogEntry>();
    let past = (this.logsById.get(c.Id) ?? []).filter((e) => (e.stream === 'stdout' ? opts.stdout : opts.stderr));
    if (opts.tail !== undefined) past = past.slice(Math.max(0, past.length - opts.tail));
    for (const e of past) q.push(e);
    if (!opts.follow || !c.State.Running) {
      q.end();
      return q;
    }
    this.followers.add(q);
    const done = () => {
      this.followers.delete(q);
      q.end();
    };
    signal?.addEventListener('abort', done, { once: true });
    return q;
  }

  async attach(ref: string, opts: AttachOptions): Promise<StdioSession> {
    const c = this.#get(ref);
    const s = new FakeSession(c.Config.Tty === true, { echo: this.echo });
    if (opts.logs) for (const e of this.logsById.get(c.Id) ?? []) s.out.push({ stream: e.stream, data: e.data });
    if (!opts.stream) s.out.end();
    this.sessions.push(s);
    return s;
  }

  async resize(ref: string): Promise<void> {
    this.#get(ref);
  }

  async top(ref: string, psArgs?: string): Promise<{ Titles: string[]; Processes: string[][] }> {
    this.#get(ref);
    return { Titles: ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD'], Processes: [['root', '4242', '1', '0', '10:00', '?', '00:00:00', psArgs ?? 'sleep']] };
  }

  async rename(ref: string, newName: string): Promise<void> {
    this.#get(ref).Name = newName;
  }

  async removeLink(name: string): Promise<void> {
    throw notFound(`No such container: ${name}`);
  }

  async prune(): Promise<{ ContainersDeleted: string[]; SpaceReclaimed: number }> {
    const gone = [...this.records.values()].filter((r) => !r.State.Running).map((r) => r.Id);
    for (const id of gone) this.records.delete(id);
    return { ContainersDeleted: gone, SpaceReclaimed: 0 };
  }

  async pause(ref: string): Promise<void> {
    const c = this.#get(ref);
    c.State = { ...c.State, Status: 'paused', Paused: true };
  }

  async unpause(ref: string): Promise<void> {
    const c = this.#get(ref);
    c.State = { ...c.State, Status: 'running', Paused: false };
  }

  async execCreate(ref: string, cfg: ExecConfig): Promise<string> {
    const c = this.#get(ref);
    if (!c.State.Running) throw conflict(`container ${c.Id} is not running`);
    if (c.State.Paused) throw conflict(`Container ${c.Id} is paused, unpause the container before exec`);
    const ID = randomBytes(32).toString('hex');
    this.execs.set(ID, {
      ID, ContainerID: c.Id, Running: false, ExitCode: null, Pid: 0, OpenStdin: !!cfg.AttachStdin, OpenStdout: !!cfg.AttachStdout, OpenStderr: !!cfg.AttachStderr,
      ProcessConfig: { tty: !!cfg.Tty, entrypoint: cfg.Cmd[0] ?? '', arguments: cfg.Cmd.slice(1), privileged: !!cfg.Privileged, user: cfg.User ?? '' },
      CanRemove: false, DetachKeys: '', cfg,
    });
    return ID;
  }

  async execStart(execId: string, opts: { detach?: boolean; tty?: boolean }): Promise<StdioSession | undefined> {
    const e = this.execs.get(execId);
    if (!e) throw notFound(`No such exec instance: ${execId}`);
    if (e.cfg.Cmd[0] === '/nope') {
      e.ExitCode = 126;
      throw failedPrecondition('OCI runtime exec failed: exec failed: unable to start container process: exec: "/nope": stat /nope: no such file or directory: unknown');
    }
    e.Running = true;
    if (opts.detach) return undefined;
    const s = new FakeSession(e.ProcessConfig.tty, { echo: this.echo });
    this.sessions.push(s);
    return s;
  }

  async execInspect(execId: string): Promise<ExecRecord> {
    const e = this.execs.get(execId);
    if (!e) throw notFound(`No such exec instance: ${execId}`);
    const { cfg: _cfg, ...rec } = e;
    return rec;
  }

  async execResize(execId: string): Promise<void> {
    if (!this.execs.has(execId)) throw notFound(`No such exec instance: ${execId}`);
  }

  imageInUse(): boolean {
    return false;
  }

  volumeInUse(): boolean {
    return false;
  }
}
