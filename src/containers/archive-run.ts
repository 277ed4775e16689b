/**
 * berthd's side of the copy helper (archive-helper.ts): spawn it in a private mount
 * namespace, feed it a job, and turn its output and its one-line errors into streams
 * and BerthErrors.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Readable } from 'node:stream';
import { BerthError, type ErrorCode } from '../common/errors.js';
import type { HelperJob, PathStat } from './archive-helper.js';

const HELPER = fileURLToPath(new URL('./archive-helper.js', import.meta.url));
const CODES = new Set<ErrorCode>(['NOT_FOUND', 'INVALID_ARGUMENT', 'CONFLICT', 'FAILED_PRECONDITION', 'INTERNAL']);

export interface HelperRun {
  child: ChildProcess;
  stdout: Readable;
  /** Resolves when the helper exited 0; rejects with its error otherwise. */
  done: Promise<void>;
}

export function startHelper(job: HelperJob, opts: { stdin?: boolean; fd3?: boolean } = {}): HelperRun {
  const child = spawn('unshare', ['--mount', '--propagation', 'private', '--', process.execPath, HELPER, JSON.stringify(job)], {
    stdio: [opts.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe', ...(opts.fd3 ? ['pipe' as const] : [])],
  });
  let err = '';
  child.stderr!.on('data', (b: Buffer) => {
    if (err.length < 65536) err += b.toString();
  });
  const done = new Promise<void>((resolve, reject) => {
    child.on('error', (e) => reject(new BerthError('INTERNAL', `starting the copy helper: ${e.message}`, { cause: e })));
    child.on('close', (code, signal) => {
      if (code === 0) return resolve();
      reject(helperError(err, code, signal));
    });
  });
  done.catch(() => {}); // observed by the callers; no unhandled rejection meanwhile
  return { child, stdout: child.stdout!, done };
}

function helperError(stderr: string, code: number | null, signal: NodeJS.Signals | null): BerthError {
  for (const line of stderr.trim().split('\n').reverse()) {
    try {
      const j = JSON.parse(line) as { code?: string; message?: string };
      if (j.message) return new BerthError(CODES.has(j.code as ErrorCode) ? (j.code as ErrorCode) : 'INTERNAL', j.message);
    } catch { /* not ours: node's own crash output */ }
  }
  const why = signal ? `killed by ${signal}` : `exit status ${code}`;
  return new BerthError('INTERNAL', `copy helper failed (${why}): ${stderr.trim().split('\n')[0] ?? ''}`);
}

/** Run a job whose whole answer is one JSON document on stdout. */
export async function helperJson<T>(job: HelperJob): Promise<T> {
  const run = startHelper(job);
  const chunks: Buffer[] = [];
  for await (const c of run.stdout) chunks.push(c as Buffer);
  await run.done;
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as T;
}

/** A `get`: the stat first (from fd 3), then the tar on stdout. */
export async function helperGet(job: HelperJob): Promise<{ stat: PathStat; tar: Readable; done: Promise<void> }> {
  const run = startHelper(job, { fd3: true });
  const fd3 = run.child.stdio[3] as Readable;
  let text = '';
  for await (const c of fd3) text += (c as Buffer).toString();
  if (!text.trim()) {
    run.stdout.resume();
    await run.done;
    throw new BerthError('INTERNAL', 'copy helper ended without an answer');
  }
  return { stat: JSON.parse(text) as PathStat, tar: run.stdout, done: run.done };
}

export type { HelperJob, PathStat };
