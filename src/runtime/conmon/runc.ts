/**
 * The runc CLI with a private --root, so several runtimes can share a machine.
 * conmon runs create and exec; berth runs everything else directly.
 */
import { BerthError } from '../../common/errors.js';
import type { RuntimeState } from '../types.js';
import { runCommand, runcMessage } from './run-command.js';

const SIGNAL_RE = /^(SIG)?[A-Z][A-Z0-9+-]*$|^[0-9]{1,2}$/;

export class Runc {
  constructor(readonly path: string, readonly root: string, readonly timeoutMs: number) {}

  async #run(args: string[]): Promise<{ code: number; stdout: string; message: string }> {
    const r = await runCommand(this.path, ['--root', this.root, ...args], { timeoutMs: this.timeoutMs });
    return { code: r.code, stdout: r.stdout, message: runcMessage(r.stderr) };
  }

  async #must(op: string, id: string, args: string[]): Promise<string> {
    const r = await this.#run(args);
    if (r.code === 0) return r.stdout;
    if (/does not exist|not found/i.test(r.message)) {
      throw new BerthError('NOT_FOUND', `runc ${op} ${id}: ${r.message}`);
    }
    if (/not running|not paused|cannot (start|pause|resume)|container is (stopped|paused|running)|already/i.test(r.message)) {
      throw new BerthError('FAILED_PRECONDITION', `runc ${op} ${id}: ${r.message}`);
    }
    throw new BerthError('INTERNAL', `runc ${op} ${id}: ${r.message || `exit status ${r.code}`}`);
  }

  async start(id: string): Promise<void> { await this.#must('start', id, ['start', id]); }
  async pause(id: string): Promise<void> { await this.#must('pause', id, ['pause', id]); }
  async resume(id: string): Promise<void> { await this.#must('resume', id, ['resume', id]); }

  async kill(id: string, signal: string | number, all = false): Promise<void> {
    const sig = typeof signal === 'number' ? String(signal) : signal.trim().toUpperCase();
    if (!SIGNAL_RE.test(sig)) throw new BerthError('INVALID_ARGUMENT', `invalid signal: ${JSON.stringify(signal)}`);
    await this.#must('kill', id, ['kill', ...(all ? ['--all'] : []), id, sig]);
  }

  async state(id: string): Promise<RuntimeState | undefined> {
    const r = await this.#run(['state', id]);
    if (r.code !== 0) {
      if (/does not exist|not found/i.test(r.message)) return undefined;
      throw new BerthError('INTERNAL', `runc state ${id}: ${r.message}`);
    }
    const s = JSON.parse(r.stdout) as { status: string; pid: number };
    const status = (['created', 'running', 'paused', 'stopped'].includes(s.status) ? s.status : 'stopped') as RuntimeState['status'];
    return { status, pid: s.pid };
  }

  /** Force-delete; a container runc doesn't know is already deleted. */
  async delete(id: string): Promise<void> {
    const r = await this.#run(['delete', '--force', id]);
    if (r.code !== 0 && !/does not exist|not found/i.test(r.message)) {
      throw new BerthError('INTERNAL', `runc delete ${id}: ${r.message}`);
    }
  }
}
