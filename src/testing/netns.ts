/**
 * Host-side helpers for the network tests' "other machine" namespaces.
 */
import { execFileSync, spawn } from 'node:child_process';
import { connect } from 'node:net';

const sh = (cmd: string, args: string[]) => execFileSync(cmd, args, { encoding: 'utf8', timeout: 10000, stdio: ['ignore', 'pipe', 'pipe'] });

/**
 * A second octet X in [lo, hi) such that 10.X.third.0/24 is routed nowhere on the host
 * yet: a leftover of an interrupted run must not capture the new run's traffic.
 */
export function freeOctet(third: number, lo: number, hi: number): number {
  const routes = sh('ip', ['-4', 'route', 'show']);
  const start = lo + Math.floor(Math.random() * (hi - lo));
  for (let i = 0; i < hi - lo; i++) {
    const x = lo + ((start - lo + i) % (hi - lo));
    if (!routes.includes(`10.${x}.${third}.`)) return x;
  }
  throw new Error(`no free 10.X.${third}.0/24 for the test`);
}

/**
 * Remove what interrupted runs of the network tests left: their namespaces (named
 * `<prefix>-<6 hex>`) and host links (`<linkPrefix><6 hex>`). Only test-owned names.
 */
export function sweepStale(nsPrefix: string, linkPrefix: string): void {
  for (const ns of sh('ip', ['netns', 'list']).split('\n').map((l) => l.split(' ')[0] ?? '')) {
    const m = new RegExp(`^${nsPrefix}-([0-9a-f]{6})$`).exec(ns);
    if (m && !ownerAlive(m[1]!)) {
      try { sh('ip', ['netns', 'del', ns]); } catch { /* gone meanwhile */ }
    }
  }
  for (const line of sh('ip', ['-o', 'link']).split('\n')) {
    const name = (line.split(': ')[1] ?? '').split('@')[0] ?? '';
    const m = new RegExp(`^${linkPrefix}([0-9a-f]{6})$`).exec(name);
    if (m && !ownerAlive(m[1]!)) {
      try { sh('ip', ['link', 'del', name]); } catch { /* gone meanwhile */ }
    }
  }
}

/**
 * A tag naming this test process (its pid in 6 hex digits): sweepStale removes only what
 * processes that are gone left behind, never what a suite running beside this one holds.
 */
export function ownerTag(): string {
  return process.pid.toString(16).padStart(6, '0').slice(-6);
}

function ownerAlive(tag: string): boolean {
  const pid = Number.parseInt(tag, 16);
  if (pid === process.pid) return false; // our own leftovers from an earlier run of this pid
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Does host:port accept a TCP connection? */
export function answers(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = connect({ host, port, timeout: 500 }, () => { c.destroy(); resolve(true); });
    c.on('error', () => resolve(false));
    c.on('timeout', () => { c.destroy(); resolve(false); });
  });
}

export interface Machine {
  /** Run a command inside the machine's namespace. */
  exec(args: string[]): string;
  stop(): void;
}

/**
 * Another "machine": a namespace `ns` joined to the host by the veth `hostVeth`
 * (hostIp/24 on the host side, extIp/24 as its eth0), answering HTTP on extIp:9000
 * with `reply` (a JS expression over the request `q`). Resolves once it answers.
 */
export async function startMachine(o: { ns: string; hostVeth: string; hostIp: string; extIp: string; reply: string }): Promise<Machine> {
  const exec = (args: string[]) => sh('ip', ['netns', 'exec', o.ns, ...args]);
  sh('ip', ['netns', 'add', o.ns]);
  sh('ip', ['link', 'add', o.hostVeth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', o.ns]);
  sh('ip', ['addr', 'add', `${o.hostIp}/24`, 'dev', o.hostVeth]);
  sh('ip', ['link', 'set', o.hostVeth, 'up']);
  exec(['ip', 'addr', 'add', `${o.extIp}/24`, 'dev', 'eth0']);
  exec(['ip', 'link', 'set', 'eth0', 'up']);
  exec(['ip', 'link', 'set', 'lo', 'up']);
  const server = spawn('ip', ['netns', 'exec', o.ns, process.execPath, '-e', `require('http').createServer((q,s)=>s.end(${o.reply})).listen(9000,'${o.extIp}')`], { stdio: 'ignore' });
  // The host reaches the machine over the veth: wait until it answers.
  for (let i = 0; i < 200 && !(await answers(o.extIp, 9000)); i++) await new Promise((r) => setTimeout(r, 50));
  return {
    exec,
    stop() {
      server.kill();
      try { sh('ip', ['link', 'del', o.hostVeth]); } catch { /* gone with the netns */ }
      try { sh('ip', ['netns', 'del', o.ns]); } catch { /* already gone */ }
    },
  };
}
