/**
 * Runtime implemented by conmon (the per-container monitor) over runc.
 * conmon runs `runc create`/`runc exec`, holds the container's stdio, writes the
 * log and the exit file; berth runs the other runc verbs itself. All state is in
 * files under execRoot, so a new instance (berthd restarted) re-adopts everything.
 */
import { mkdirSync, existsSync, accessSync, readFileSync, readdirSync, renameSync, rmSync, statSync, constants as fsc } from 'node:fs';
import { mkdir, readFile, readdir, rm } from 'node:fs/promises';
import { basename, join, delimiter, isAbsolute } from 'node:path';
import { BerthError, isErrno, errorMessage } from '../common/errors.js';
import { writeFileAtomicSync } from '../common/fs.js';
import { trash } from '../common/trash.js';
import { mountAll, unmountAll } from '../mount/mount.js';
import { AttachPrimer } from '../cgroups/attach-primer.js';
import type { Spec } from '../oci/runtime-spec.js';
import type {
  CreateOptions, ExecHandle, ExecOptions, ExitStatus, IoSession, Runtime, RuntimeState,
} from './types.js';
import { Layout } from './conmon/layout.js';
import { Runc } from './conmon/runc.js';
import { conmonArgs } from './conmon/conmon-args.js';
import { ConmonProcess } from './conmon/conmon-process.js';
import { ExitWatcher } from './conmon/exit-watcher.js';
import { SeqpacketSession } from './conmon/seqpacket.js';
import { CtlWriter } from './conmon/ctl.js';
import { cgroupOomKilled } from './conmon/oom.js';
import { runcMessage } from './conmon/run-command.js';
import { startExec } from './conmon/exec.js';
import { startViaExecFifo } from './conmon/exec-fifo.js';
import { deleteStoppedContainer } from './conmon/runc-delete-stopped.js';

export interface ConmonRuntimeOptions {
  execRoot: string;
  /** runc binary, name or path (default 'runc'). */
  runtimePath?: string;
  /** conmon binary, name or path (default 'conmon'). */
  conmonPath?: string;
  logLevel?: 'info' | 'warn';
  /** Deadline for every runc/conmon call (default 30 s). */
  timeoutMs?: number;
  /**
   * Start the cgroup attach's grace period when conmon is launched (cgroups/attach-primer.ts);
   * default on. Off for a runtime whose runc puts nothing in a cgroup.
   */
  primeCgroupAttach?: boolean;
}

function resolveBinary(name: string): string {
  if (name.includes('/')) return name;
  for (const dir of (process.env['PATH'] ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin').split(delimiter)) {
    const p = join(dir, name);
    try {
      accessSync(p, fsc.X_OK);
      return p;
    } catch { /* next */ }
  }
  throw new BerthError('FAILED_PRECONDITION', `${name} not found in PATH`);
}

/** runc wants the exact uint64 RLIM_INFINITY; JS renders 2^64-1 as 2^64. */
export function specToJson(spec: Spec): string {
  return JSON.stringify(spec, null, 1).replace(/\b18446744073709552000\b/g, '18446744073709551615') + '\n';
}

export class ConmonRuntime implements Runtime {
  /** The OCI runtime's name as clients give it (`--runtime`): its binary's base name. */
  readonly name: string;
  readonly #layout: Layout;
  readonly #runc: Runc;
  readonly #conmonPath: string;
  readonly #logLevel: 'info' | 'warn';
  readonly #timeoutMs: number;
  readonly #exits: ExitWatcher;
  /** cgroupsPath of each container created by this instance (the OOM check reads it at exit). */
  readonly #cgroups = new Map<string, string | undefined>();
  readonly #primer: AttachPrimer | undefined;

  constructor(opts: ConmonRuntimeOptions) {
    this.#primer = opts.primeCgroupAttach === false ? undefined : new AttachPrimer();
    this.#layout = new Layout(opts.execRoot);
    this.#timeoutMs = opts.timeoutMs ?? 30_000;
    this.#runc = new Runc(resolveBinary(opts.runtimePath ?? 'runc'), this.#layout.runcRoot, this.#timeoutMs);
    this.name = basename(this.#runc.path);
    this.#conmonPath = resolveBinary(opts.conmonPath ?? 'conmon');
    this.#logLevel = opts.logLevel ?? 'info';
    for (const d of [this.#layout.runcRoot, this.#layout.bundles, this.#layout.exitDir, this.#layout.persistRoot]) {
      mkdirSync(d, { recursive: true, mode: 0o700 });
    }
    this.#exits = new ExitWatcher(this.#layout.exitDir, (id) => this.#monitorGone(id));
  }

  /** One control line at a time per container (conmon 2.1's FIFO handling: ctl.ts). */
  readonly #ctlWriters = new Map<string, CtlWriter>();

  #bundleOf(id: string): string {
    Layout.checkId(id);
    return this.#layout.bundle(id);
  }

  async create(opts: CreateOptions): Promise<{ pid: number }> {
    const { id } = opts;
    const bundle = this.#bundleOf(id);
    Layout.checkSocketDir(bundle);
    Layout.checkSocketDir(this.#layout.execDir(id, 'x'.repeat(12)));
    try {
      await mkdir(bundle, { mode: 0o700 });
    } catch (err) {
      if (isErrno(err, 'EEXIST')) throw new BerthError('ALREADY_EXISTS', `container ${id} already has a bundle in ${bundle}`);
      throw err;
    }
    let conmon: ConmonProcess | undefined;
    try {
      let rootPath: string;
      if (typeof opts.rootfs === 'string') {
        // Already mounted by the caller: runc takes an absolute root.path (one mount
        // and one umount fewer per container than a bind into the bundle).
        if (!isAbsolute(opts.rootfs)) throw new BerthError('INVALID_ARGUMENT', `create container ${id}: rootfs path ${opts.rootfs} is not absolute`);
        rootPath = opts.rootfs;
      } else {
        rootPath = 'rootfs';
        const rootfs = this.#layout.rootfs(id);
        await mkdir(rootfs);
        await mountAll(opts.rootfs, rootfs);
      }
      const spec: Spec = { ...opts.spec, root: { ...opts.spec.root, path: rootPath } };
      if (spec.process) spec.process = { ...spec.process, terminal: opts.terminal };
      // Not fsynced: the bundle is runtime state, rewritten at every start (see
      // AtomicWriteOptions). Synchronous, like the small steps below: thread-pool round
      // trips cost more than these writes on the start path.
      writeFileAtomicSync(join(bundle, 'config.json'), specToJson(spec), 0o600);
      this.#cgroups.set(id, spec.linux?.cgroupsPath);
      rmSync(this.#layout.exitFile(id), { force: true });
      rmSync(this.#layout.persist(id), { recursive: true, force: true });
      mkdirSync(this.#layout.persist(id), { recursive: true, mode: 0o700 });
      conmon = new ConmonProcess({
        conmonPath: this.#conmonPath,
        cwd: bundle,
        outputFile: join(bundle, 'conmon.log'),
        attachPipe: false,
        args: conmonArgs({
          cid: id, uuid: id, runcPath: this.#runc.path, runcRoot: this.#runc.root, dir: bundle,
          exitDir: this.#layout.exitDir, persistDir: this.#layout.persist(id),
          log: `k8s-file:${opts.logPath}`, logLevel: this.#logLevel, logSizeMax: opts.logSizeMax,
          terminal: opts.terminal, stdin: opts.stdin, leaveStdinOpen: opts.leaveStdinOpen,
        }),
      });
      conmon.sendStart();
      // runc's attach of the container's init follows in ~9 ms: its grace period starts now.
      this.#primer?.prime();
      const msg = await conmon.readSync(Date.now() + this.#timeoutMs);
      if (msg.data <= 0) {
        throw new BerthError('INTERNAL', `create container ${id}: ${runcMessage(msg.message ?? '') || 'runtime failed without a message'}`);
      }
      return { pid: msg.data };
    } catch (err) {
      await this.#cleanup(id).catch(() => {});
      throw err;
    } finally {
      conmon?.dispose();
    }
  }

  async attach(id: string): Promise<IoSession> {
    const sock = join(this.#bundleOf(id), 'attach');
    if (!existsSync(sock)) throw new BerthError('NOT_FOUND', `container ${id} has no attach socket (not created here, or exited)`);
    return await SeqpacketSession.connect(sock);
  }

  /** Release the created container through runc's exec FIFO; `runc start` when there is none. */
  async start(id: string, knownPid?: number): Promise<void> {
    this.#checked(id);
    const pid = knownPid && knownPid > 0 ? knownPid : Number.parseInt(await readFile(join(this.#layout.bundle(id), 'pidfile'), 'utf8').catch(() => ''), 10);
    if (pid > 0 && await startViaExecFifo(join(this.#layout.runcRoot, id, 'exec.fifo'), pid, this.#timeoutMs)) return;
    await this.#runc.start(id);
  }

  kill(id: string, signal: string | number, all = false): Promise<void> { return this.#runc.kill(this.#checked(id), signal, all); }
  pause(id: string): Promise<void> { return this.#runc.pause(this.#checked(id)); }
  resume(id: string): Promise<void> { return this.#runc.resume(this.#checked(id)); }
  state(id: string): Promise<RuntimeState | undefined> { return this.#runc.state(this.#checked(id)); }

  #checked(id: string): string {
    Layout.checkId(id);
    return id;
  }

  async exitStatus(id: string): Promise<ExitStatus | undefined> {
    Layout.checkId(id);
    const file = this.#layout.exitFile(id);
    let text: string;
    let mtime: Date;
    // Synchronous: a few bytes and a stat on every container exit, cheaper than two
    // thread-pool round trips.
    try {
      text = readFileSync(file, 'utf8');
      mtime = statSync(file).mtime;
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return undefined;
      throw err;
    }
    const code = Number.parseInt(text.trim(), 10);
    return { exitCode: Number.isFinite(code) ? code : 255, oomKilled: this.#oomKilled(id), finishedAt: mtime };
  }

  #oomKilled(id: string): boolean {
    if (existsSync(join(this.#layout.persist(id), 'oom')) || existsSync(join(this.#layout.bundle(id), 'oom'))) return true;
    // conmon may miss the event (cgroup v1 eventfd races, monitor restarts); the
    // kernel's counter stays until runc delete removes the cgroup.
    return cgroupOomKilled(this.#cgroupsPath(id));
  }

  /** The container's cgroupsPath: remembered from create, else read back from its config.json (berthd restarted). */
  #cgroupsPath(id: string): string | undefined {
    if (this.#cgroups.has(id)) return this.#cgroups.get(id);
    try {
      const spec = JSON.parse(readFileSync(join(this.#layout.bundle(id), 'config.json'), 'utf8')) as Spec;
      return spec.linux?.cgroupsPath;
    } catch {
      return undefined;
    }
  }

  async waitExit(id: string): Promise<ExitStatus> {
    Layout.checkId(id);
    for (;;) {
      await this.#exits.wait(id);
      const st = await this.exitStatus(id);
      if (st) return st;
      if (await this.#monitorGone(id)) {
        // The monitor died without recording an exit (killed?): nothing will come.
        return { exitCode: 255, oomKilled: this.#oomKilled(id), finishedAt: new Date() };
      }
    }
  }

  /** True when no exit file can appear any more: conmon is dead and runc has no live process. */
  async #monitorGone(id: string): Promise<boolean> {
    let pid: number;
    try {
      pid = Number.parseInt(await readFile(join(this.#layout.bundle(id), 'conmon.pid'), 'utf8'), 10);
    } catch {
      return !existsSync(this.#layout.bundle(id));
    }
    try {
      process.kill(pid, 0);
      return false;
    } catch { /* dead */ }
    if (existsSync(this.#layout.exitFile(id))) return false;
    const st = await this.#runc.state(id).catch(() => undefined);
    return !st || st.status === 'stopped';
  }

  async delete(id: string): Promise<void> {
    Layout.checkId(id);
    await this.#cleanup(id);
  }

  async #cleanup(id: string): Promise<void> {
    // Small files and directories only: synchronous calls here cost microseconds each,
    // where a libuv thread-pool round trip costs 0.1–0.3 ms, and this runs at every exit.
    const bundle = this.#layout.bundle(id);
    const errors: string[] = [];
    // With neither bundle nor runc state left, runc could only answer "does not exist":
    // skip the process (rm of an already-exited container deleted it at exit).
    if (!existsSync(bundle) && !existsSync(join(this.#layout.runcRoot, id))) {
      rmSync(join(this.#layout.persistRoot, id), { recursive: true, force: true });
      rmSync(join(this.#layout.exitDir, id), { force: true });
      return;
    }
    // An exited container's cgroups and runc state go in-process; anything else
    // (alive, hooks, shared pid namespace, busy cgroup, a runtime without runc's
    // state.json) through `<runtime> delete --force`.
    const done = await deleteStoppedContainer(this.#runc.root, id).catch(() => false);
    if (!done) await this.#runc.delete(id).catch((e) => errors.push(errorMessage(e)));
    // A monitor that outlived runc delete (failed create) must not linger.
    this.#killMonitor(join(bundle, 'conmon.pid'));
    for (const dir of readdirOrEmpty(join(bundle, 'x'))) this.#killMonitor(join(bundle, 'x', dir, 'conmon.pid'));
    await unmountAll(this.#layout.rootfs(id)).catch((e) => errors.push(errorMessage(e)));
    if (errors.length === 0) {
      // An exec monitor that is still exiting may write into <bundle>/x meanwhile (seen
      // as ENOTEMPTY): move the bundle out of the way first, so a new start of the same
      // container never finds it, then remove it (trash left by a crash: see list()).
      const trashDir = join(this.#layout.bundles, `.trash-${id.slice(0, 12)}-${process.hrtime.bigint()}`);
      let gone: string | undefined = trashDir;
      // conmon's persist dir (attach socket, FIFOs) goes along, same file system: one rename
      // instead of a synchronous recursive removal (~0.4 ms) on the exit path.
      try { renameSync(this.#layout.persist(id), join(bundle, '.persist')); } catch { /* none, or removed below */ }
      try {
        renameSync(bundle, trashDir);
      } catch (e) {
        gone = isErrno(e, 'ENOENT') ? undefined : bundle;
      }
      // The moved bundle is nobody's any more: it is deleted in the background (common/trash.ts;
      // a dozen thread-pool round trips, ~1 ms on every exit). A crash meanwhile: list() sweeps it.
      if (gone === trashDir) trash.add(gone);
      else if (gone) await rm(gone, { recursive: true, force: true, maxRetries: 5, retryDelay: 20 }).catch(() => {});
    } else if (existsSync(bundle)) {
      // Keep the bundle (its rootfs may still be mounted) so a retry can finish.
      throw new BerthError('INTERNAL', `delete container ${id}: ${errors.join('; ')}`);
    }
    rmSync(this.#layout.persist(id), { recursive: true, force: true });
    rmSync(this.#layout.exitFile(id), { force: true });
    this.#cgroups.delete(id);
    this.#ctlWriters.delete(id);
  }

  #killMonitor(pidFile: string): void {
    let pid: number;
    try {
      pid = Number.parseInt(readFileSync(pidFile, 'utf8'), 10);
    } catch {
      return;
    }
    if (!(pid > 1)) return;
    try {
      // Only if it still is a conmon: the pid may have been reused.
      const comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
      if (comm === 'conmon') process.kill(pid, 'SIGKILL');
    } catch { /* gone */ }
  }

  async resize(id: string, height: number, width: number): Promise<void> {
    await this.#ctl(id).resize(height, width);
  }

  async reopenLog(id: string): Promise<void> {
    await this.#ctl(id).reopenLog();
  }

  #ctl(id: string): CtlWriter {
    let w = this.#ctlWriters.get(id);
    if (!w) this.#ctlWriters.set(id, (w = new CtlWriter(this.#bundleOf(id))));
    return w;
  }

  async exec(id: string, opts: ExecOptions): Promise<ExecHandle> {
    const bundle = this.#bundleOf(id);
    Layout.checkId(opts.execId, 'exec id');
    if (!existsSync(join(bundle, 'config.json'))) throw new BerthError('NOT_FOUND', `no container ${id} in this runtime`);
    return startExec({
      cid: id, opts, dir: this.#layout.execDir(id, opts.execId), conmonPath: this.#conmonPath,
      runcPath: this.#runc.path, runcRoot: this.#runc.root, logLevel: this.#logLevel, timeoutMs: this.#timeoutMs,
      onRuncLaunch: this.#primer ? () => this.#primer!.prime() : undefined,
    });
  }

  async list(): Promise<string[]> {
    const names = await readdir(this.#layout.bundles).catch(() => [] as string[]);
    // Bundles moved aside by a cleanup that a crash interrupted.
    for (const n of names.filter((x) => x.startsWith('.trash-'))) {
      await rm(join(this.#layout.bundles, n), { recursive: true, force: true, maxRetries: 3 }).catch(() => {});
    }
    return names.filter((n) => !n.startsWith('.')).sort();
  }

  async close(): Promise<void> {
    this.#exits.close();
  }
}

function readdirOrEmpty(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

export function createConmonRuntime(opts: ConmonRuntimeOptions): ConmonRuntime {
  return new ConmonRuntime(opts);
}

