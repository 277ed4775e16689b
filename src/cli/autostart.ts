/**
 * Starting berthd on demand: when the CLI talks to the default socket and nothing is
 * there, it launches berthd (beside this CLI) detached and waits for it to answer.
 * Only the default host qualifies: a custom -H/BERTH_HOST names a daemon the user runs
 * with settings (data root, exec root) the CLI cannot guess. A live daemon is never
 * touched; two CLIs racing to start one are safe because berthd's pid file admits one.
 */
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { childProcess } from './child-process.js';

export interface AutostartOptions {
  socketPath: string;
  /** Program and arguments that run berthd; default: bin/berthd beside this CLI. */
  command?: string;
  args?: string[];
  /** Where berthd's output goes; default /var/log/berthd.log (discarded if not writable). */
  logFile?: string;
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

/** Should a failed connection to `host` start a daemon? errno is the connect error's code. */
export function shouldAutostart(host: string, defaultHost: string, errno: string | undefined, env: NodeJS.ProcessEnv = process.env): boolean {
  if (host !== defaultHost) return false;
  if (env.BERTH_NO_AUTOSTART === '1' || env.BERTH_NO_AUTOSTART === 'true') return false;
  // ENOENT: no socket file; ECONNREFUSED: a stale one left by a crashed daemon.
  return errno === 'ENOENT' || errno === 'ECONNREFUSED';
}

export function defaultBerthd(): string {
  // The bundle lives in dist/, the compiled module in dist/cli/: look in both parents.
  const here = dirname(fileURLToPath(import.meta.url));
  for (const up of ['..', join('..', '..')]) {
    const bin = join(here, up, 'bin', 'berthd');
    if (existsSync(bin)) return bin;
  }
  return 'berthd';
}

/** Does something answer HEAD /_ping on this socket? */
export function pingOk(socketPath: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.request({ socketPath, method: 'HEAD', path: '/_ping', agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

function lastLine(path: string | undefined): string {
  if (!path) return '';
  try {
    const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
    return lines[lines.length - 1]?.trim() ?? '';
  } catch {
    return '';
  }
}

/**
 * Launch berthd detached (own session, output to the log file) and wait until it answers.
 * Fails fast with berthd's last words if it exits first. Returns berthd's pid.
 */
export async function startDaemon(o: AutostartOptions): Promise<number> {
  // Another CLI may have started it since our connection failed.
  if (await pingOk(o.socketPath)) return 0;
  const command = o.command ?? defaultBerthd();
  const logFile = o.logFile ?? '/var/log/berthd.log';
  let out: number | 'ignore' = 'ignore';
  try { out = openSync(logFile, 'a'); } catch { /* not writable (not root): discard output */ }
  const child = childProcess().spawn(command, o.args ?? [], { detached: true, stdio: ['ignore', out, out], env: o.env ?? process.env });
  if (typeof out === 'number') closeSync(out);
  let exited: string | undefined;
  child.once('exit', (code, signal) => { exited = signal ? `signal ${signal}` : `code ${code}`; });
  child.once('error', (e) => { exited = e.message; });
  const cannot = (why: string) => new Error(`Cannot start the berth daemon for unix://${o.socketPath}: ${why}`);
  try {
    const deadline = Date.now() + (o.timeoutMs ?? 15_000);
    while (Date.now() < deadline) {
      if (existsSync(o.socketPath) && await pingOk(o.socketPath)) return child.pid ?? 0;
      if (exited !== undefined) {
        // Another CLI may have won the race: its daemon is the one we want.
        if (await pingOk(o.socketPath)) return 0;
        const words = typeof out === 'number' ? lastLine(logFile) : '';
        throw cannot(`berthd exited (${exited})${words ? `: ${words}` : ''}${typeof out === 'number' ? ` (log: ${logFile})` : ''}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw cannot(`no answer within ${Math.round((o.timeoutMs ?? 15_000) / 1000)}s${typeof out === 'number' ? ` (log: ${logFile})` : ''}`);
  } finally {
    // The daemon outlives this command.
    child.unref();
  }
}
