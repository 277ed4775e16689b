/**
 * Host-side helpers for the network tests' "other machine" namespaces.
 */
import { execFileSync } from 'node:child_process';
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
    if (new RegExp(`^${nsPrefix}-[0-9a-f]{6}$`).test(ns)) {
      try { sh('ip', ['netns', 'del', ns]); } catch { /* gone meanwhile */ }
    }
  }
  for (const line of sh('ip', ['-o', 'link']).split('\n')) {
    const name = (line.split(': ')[1] ?? '').split('@')[0] ?? '';
    if (new RegExp(`^${linkPrefix}[0-9a-f]{6}$`).test(name)) {
      try { sh('ip', ['link', 'del', name]); } catch { /* gone meanwhile */ }
    }
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
