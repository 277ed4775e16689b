/**
 * An exec session under its own conmon (`-e --exec-attach`). The handshake: conmon
 * writes {"data":0} on the attach pipe once its socket exists; we connect and send
 * a second start byte; only then does conmon run `runc exec --detach`, so no output
 * is lost. The sync pipe then carries the pid and, at the end, the exit code.
 */
import { mkdirSync } from 'node:fs';
import { mkdir, rm, readFile } from 'node:fs/promises';
import { join, dirname } from 'node:path';
import { BerthError, isErrno } from '../../common/errors.js';
import { writeFileAtomicSync } from '../../common/fs.js';
import type { ExecHandle, ExecOptions, IoSession, StdioChunk } from '../types.js';
import { conmonArgs } from './conmon-args.js';
import { ConmonProcess } from './conmon-process.js';
import { Layout } from './layout.js';
import { SeqpacketSession } from './seqpacket.js';
import { CtlWriter } from './ctl.js';
import { runcMessage } from './run-command.js';

export interface StartExecInput {
  cid: string;
  opts: ExecOptions;
  /** The session's own dir (conmon bundle): attach, ctl, pidfile, exits. */
  dir: string;
  conmonPath: string;
  runcPath: string;
  runcRoot: string;
  logLevel: 'info' | 'warn';
  timeoutMs: number;
  /** Called when conmon is let go to run `runc exec` (which attaches the process to the container's cgroups). */
  onRuncLaunch?: () => void;
}

/** How long the end of output may wait for the exit code (conmon sends it right after). */
const EXIT_AFTER_EOF_MS = 10_000;

/** An IoSession whose output ends only once the exit code is known. */
function withExitBarrier(io: IoSession, exited: Promise<number>): IoSession {
  const output: AsyncIterable<StdioChunk> = {
    async *[Symbol.asyncIterator]() {
      yield* io.output;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        exited.catch(() => undefined),
        new Promise((r) => { timer = setTimeout(r, EXIT_AFTER_EOF_MS); }),
      ]);
      clearTimeout(timer);
    },
  };
  return {
    output,
    write: (d) => io.write(d),
    closeStdin: () => io.closeStdin(),
    close: () => io.close(),
  };
}

export async function startExec(i: StartExecInput): Promise<ExecHandle> {
  const { opts, dir } = i;
  Layout.checkSocketDir(dir);
  try {
    await mkdir(dir, { recursive: false, mode: 0o700 });
  } catch (err) {
    if (isErrno(err, 'EEXIST')) throw new BerthError('ALREADY_EXISTS', `exec session ${opts.execId} already exists`);
    if (!isErrno(err, 'ENOENT')) throw err;
    // Only <bundle>/x may be missing. Never recreate the bundle itself: an exec racing
    // the container's exit would leave a stray bundle that blocks the next start.
    try {
      await mkdir(dirname(dir), { mode: 0o700 }).catch((e) => { if (!isErrno(e, 'EEXIST')) throw e; });
      await mkdir(dir, { mode: 0o700 });
    } catch (e) {
      if (isErrno(e, 'ENOENT')) throw new BerthError('FAILED_PRECONDITION', `exec in ${i.cid}: the container is not running`);
      throw e;
    }
  }
  const exitDir = join(dir, 'exits');
  // Synchronous and not fsynced: session state that dies with the session; thread-pool
  // round trips and an fsync cost more than these writes on every exec.
  mkdirSync(exitDir);
  const processSpec = join(dir, 'process.json');
  writeFileAtomicSync(processSpec, JSON.stringify({ ...opts.process, terminal: opts.terminal }), 0o600);
  const attach = !opts.detach;
  const conmon = new ConmonProcess({
    conmonPath: i.conmonPath,
    cwd: dir,
    outputFile: join(dir, 'conmon.log'),
    attachPipe: attach,
    args: conmonArgs({
      cid: i.cid, uuid: opts.execId, runcPath: i.runcPath, runcRoot: i.runcRoot, dir, exitDir,
      persistDir: dir, log: 'none', logLevel: i.logLevel, terminal: opts.terminal, stdin: opts.stdin && attach,
      exec: { processSpec, attach },
    }),
  });
  let io: SeqpacketSession | undefined;
  const fail = async (err: unknown): Promise<never> => {
    io?.close();
    conmon.dispose();
    await rm(dir, { recursive: true, force: true }).catch(() => {});
    throw err;
  };
  let pid: number;
  try {
    conmon.sendStart();
    const deadline = Date.now() + i.timeoutMs;
    if (attach) {
      const ready = await conmon.readAttach(deadline);
      if (ready.data !== 0) throw new BerthError('INTERNAL', `exec in ${i.cid}: ${ready.message ?? 'conmon attach setup failed'}`);
      io = await SeqpacketSession.connect(join(dir, 'attach'));
      if (opts.gate) await opts.gate;
      conmon.sendStart();
    }
    // conmon now runs `runc exec` (the last start above let it go).
    i.onRuncLaunch?.();
    const msg = await conmon.readSync(deadline);
    if (msg.data <= 0) {
      throw new BerthError('INTERNAL', `exec in ${i.cid}: ${runcMessage(msg.message ?? '') || 'runtime failed without a message'}`);
    }
    pid = msg.data;
  } catch (err) {
    return fail(err);
  }

  const exited = (async () => {
    try {
      // No deadline: the process may run for days. conmon closes the pipe if it dies.
      const m = await conmon.readSync(Number.MAX_SAFE_INTEGER).catch(() => undefined);
      if (m && m.data >= 0) return m.data;
      // Fall back to the exit file conmon also writes.
      const text = await readFile(join(exitDir, i.cid), 'utf8').catch(() => undefined);
      if (text !== undefined && /^-?\d+$/.test(text.trim())) return Number(text.trim());
      throw new BerthError('INTERNAL', `exec ${opts.execId} in ${i.cid}: the monitor ended without an exit code${m?.message ? `: ${m.message}` : ''}`);
    } finally {
      conmon.dispose();
      await rm(dir, { recursive: true, force: true }).catch(() => {});
    }
  })();
  // A caller that never awaits must not see an unhandled rejection.
  exited.catch(() => {});
  const ctl = new CtlWriter(dir);
  const handle: ExecHandle = {
    pid,
    exited,
    resize: (h, w) => ctl.resize(h, w),
  };
  if (io) handle.io = withExitBarrier(io, exited);
  return handle;
}
