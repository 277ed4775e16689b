/**
 * Run a short-lived runtime command (runc start/kill/state/delete) with a wall-clock
 * deadline: a wedged runtime becomes an UNAVAILABLE error instead of a hang.
 */
import { spawn } from 'node:child_process';
import { BerthError } from '../../common/errors.js';

export interface CommandResult { code: number; stdout: string; stderr: string }

export function runCommand(bin: string, args: string[], opts: { timeoutMs: number; cwd?: string }): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: opts.cwd });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new BerthError('UNAVAILABLE', `${bin} ${args.join(' ')}: no answer within ${opts.timeoutMs} ms (runtime wedged?)`));
    }, opts.timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new BerthError('INTERNAL', `cannot run ${bin}: ${e.message}`, { cause: e }));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? 128 + (signal ? 9 : 0), stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() });
    });
  });
}

/** runc prints errors as logrus lines or plain text; keep the message part only. */
export function runcMessage(stderr: string): string {
  const lines = stderr.trim().split('\n').filter(Boolean);
  const last = lines[lines.length - 1] ?? '';
  const m = /msg="((?:[^"\\]|\\.)*)"/.exec(last);
  if (m) return m[1]!.replace(/\\"/g, '"').replace(/\\\\/g, '\\');
  try {
    const j = JSON.parse(last);
    if (j && typeof j.msg === 'string') return j.msg;
  } catch { /* plain text */ }
  return last.replace(/^time="[^"]*" level=\w+ /, '');
}
