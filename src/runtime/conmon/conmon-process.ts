/**
 * One conmon launch: spawn it detached with the sync, start and (for exec) attach
 * pipes on fds 3-5, and read its JSON lines. The spawned process double-forks and
 * exits at once; the pipes stay with the monitor, so we wait for lines, not exits.
 */
import { spawn } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { BerthError } from '../../common/errors.js';
import { spawnDetached } from './posix-spawn.js';

export interface SyncMessage { data: number; message?: string }

class LineReader {
  #buf = '';
  #lines: SyncMessage[] = [];
  #ended = false;
  #waiters: Array<() => void> = [];

  constructor(sock: Socket) {
    sock.on('data', (b: Buffer) => {
      this.#buf += b.toString();
      let i: number;
      while ((i = this.#buf.indexOf('\n')) >= 0) {
        const line = this.#buf.slice(0, i).trim();
        this.#buf = this.#buf.slice(i + 1);
        if (!line) continue;
        try {
          this.#lines.push(JSON.parse(line) as SyncMessage);
        } catch {
          this.#lines.push({ data: -1, message: `unparsable conmon message: ${line}` });
        }
      }
      this.#notify();
    });
    const end = () => { this.#ended = true; this.#notify(); };
    sock.on('end', end);
    sock.on('close', end);
    sock.on('error', end);
  }

  #notify(): void {
    const ws = this.#waiters;
    this.#waiters = [];
    for (const w of ws) w();
  }

  /** The next message, or undefined when the pipe closed first. */
  async next(deadline: number): Promise<SyncMessage | undefined | 'timeout'> {
    for (;;) {
      const m = this.#lines.shift();
      if (m) return m;
      if (this.#ended) return undefined;
      const left = deadline - Date.now();
      if (left <= 0) return 'timeout';
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((r) => {
        this.#waiters.push(r);
        // A far deadline (exec exit: no limit) needs no timer; the pipe closing wakes us.
        if (left < 2 ** 31 - 1) timer = setTimeout(r, left);
      });
      clearTimeout(timer);
    }
  }
}

export interface ConmonLaunchOptions {
  conmonPath: string;
  args: string[];
  cwd: string;
  /** conmon's own stdout/stderr go here (argument errors, warnings). */
  outputFile: string;
  attachPipe: boolean;
}

/**
 * Start conmon detached; our pipe ends in fd order. posix_spawn first (no fork of
 * berthd: see posix-spawn.ts); Node's spawn if that machinery fails, where a conmon
 * that cannot start shows as its sync pipe closing, as it always did.
 */
function launch(opts: ConmonLaunchOptions, env: Record<string, string>, out: number): Array<Socket | null> {
  const pipes = opts.attachPipe ? 3 : 2;
  try {
    return spawnDetached({ path: opts.conmonPath, args: opts.args, env, cwd: opts.cwd, outputFd: out, pipes, parentWrites: [1] }).pipes;
  } catch { /* below */ }
  const child = spawn(opts.conmonPath, opts.args, {
    cwd: opts.cwd,
    detached: true,
    stdio: ['ignore', out, out, 'pipe', 'pipe', opts.attachPipe ? 'pipe' : 'ignore'],
    env,
  });
  child.on('error', () => { /* reported through the sync pipe closing */ });
  child.unref();
  return (child.stdio as unknown as Array<Socket | null>).slice(3, 3 + pipes);
}

export class ConmonProcess {
  /** Our ends of conmon's fds 3 (sync, read), 4 (start, write) and 5 (attach, read). */
  readonly #pipes: Array<Socket | null>;
  readonly #sync: LineReader;
  readonly #attach: LineReader | undefined;
  readonly #outputFile: string;

  constructor(opts: ConmonLaunchOptions) {
    this.#outputFile = opts.outputFile;
    const env = {
      PATH: process.env['PATH'] ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      _OCI_SYNCPIPE: '3',
      _OCI_STARTPIPE: '4',
      ...(opts.attachPipe ? { _OCI_ATTACHPIPE: '5' } : {}),
    };
    const out = openSync(opts.outputFile, 'a', 0o600);
    try {
      this.#pipes = launch(opts, env, out);
    } finally {
      closeSync(out);
    }
    this.#sync = new LineReader(this.#pipes[0]!);
    this.#attach = opts.attachPipe ? new LineReader(this.#pipes[2]!) : undefined;
  }

  /** conmon blocks on the start pipe: once before forking, and (exec attach) once more after the attach handshake. */
  sendStart(): void {
    this.#pipes[1]!.write(Buffer.from([0]));
  }

  #failure(what: string): string {
    let out = '';
    try { out = readFileSync(this.#outputFile, 'utf8').trim().split('\n').slice(-3).join('; '); } catch { /* none */ }
    return `conmon closed its ${what} pipe without an answer${out ? `: ${out}` : ''}`;
  }

  async #read(reader: LineReader, what: string, deadline: number): Promise<SyncMessage> {
    const m = await reader.next(deadline);
    if (m === 'timeout') throw new BerthError('UNAVAILABLE', `conmon gave no ${what} message in time (runtime wedged?)`);
    if (m === undefined) throw new BerthError('INTERNAL', this.#failure(what));
    return m;
  }

  /** The next sync-pipe message: a pid, an exec exit code, or {data: -1, message}. */
  readSync(deadline: number): Promise<SyncMessage> {
    return this.#read(this.#sync, 'sync', deadline);
  }

  /** The attach pipe's {"data": 0} once conmon's attach socket exists. */
  readAttach(deadline: number): Promise<SyncMessage> {
    if (!this.#attach) throw new BerthError('INTERNAL', 'conmon was started without an attach pipe');
    return this.#read(this.#attach, 'attach', deadline);
  }

  /** Release our ends of the pipes (the monitor keeps running). */
  dispose(): void {
    for (const s of this.#pipes) s?.destroy();
  }
}
