/**
 * Docker ulimits → OCI rlimits, checked against the host's hard limits: without
 * CAP_SYS_RESOURCE nobody (runc included) can raise a hard limit, so a request
 * above it must fail here with a clear message instead of deep inside runc.
 */
import { BerthError } from '../../common/errors.js';
import type { Ulimit } from '../../oci/docker-config.js';

/** RLIM_INFINITY as a JS number (2^64 rounds to it); the bundle writer emits the exact uint64. */
export const RLIM_INFINITY = 2 ** 64;

/** Docker's ulimit names → /proc/<pid>/limits row titles. */
export const ULIMIT_ROWS: Record<string, string> = {
  cpu: 'Max cpu time', fsize: 'Max file size', data: 'Max data size', stack: 'Max stack size',
  core: 'Max core file size', rss: 'Max resident set', nproc: 'Max processes', nofile: 'Max open files',
  memlock: 'Max locked memory', as: 'Max address space', locks: 'Max file locks',
  sigpending: 'Max pending signals', msgqueue: 'Max msgqueue size', nice: 'Max nice priority',
  rtprio: 'Max realtime priority', rttime: 'Max realtime timeout',
};

/** Host hard limit per Docker ulimit name; RLIM_INFINITY for unlimited. */
export type HostLimits = Record<string, number>;

/** Parse /proc/self/limits text into hard limits keyed by Docker ulimit name. */
export function parseProcLimits(text: string): HostLimits {
  const out: HostLimits = {};
  for (const [name, title] of Object.entries(ULIMIT_ROWS)) {
    const line = text.split('\n').find((l) => l.startsWith(title + ' '));
    if (!line) continue;
    const fields = line.slice(title.length).trim().split(/\s+/);
    const hard = fields[1];
    if (hard === undefined) continue;
    out[name] = hard === 'unlimited' ? RLIM_INFINITY : Number(hard);
  }
  return out;
}

const fmt = (n: number) => (n >= RLIM_INFINITY || n < 0 ? 'unlimited' : String(n));

/** Docker's default: the container gets nofile 1048576, never above what the host allows. */
const DEFAULT_NOFILE = 1048576;

export function buildRlimits(ulimits: Ulimit[] | undefined, host: HostLimits): Array<{ type: string; hard: number; soft: number }> {
  const byName = new Map<string, { soft: number; hard: number }>();
  const hostNofile = host['nofile'] ?? DEFAULT_NOFILE;
  const nofile = Math.min(DEFAULT_NOFILE, hostNofile);
  byName.set('nofile', { soft: nofile, hard: nofile });
  for (const u of ulimits ?? []) {
    const name = u.Name.toLowerCase();
    if (!(name in ULIMIT_ROWS)) throw new BerthError('INVALID_ARGUMENT', `invalid ulimit type: ${u.Name}`);
    const soft = u.Soft < 0 ? RLIM_INFINITY : u.Soft;
    const hard = u.Hard < 0 ? RLIM_INFINITY : u.Hard;
    if (soft > hard) {
      throw new BerthError('INVALID_ARGUMENT', `ulimit ${name}: soft limit ${fmt(soft)} is above hard limit ${fmt(hard)}`);
    }
    const hostHard = host[name];
    if (hostHard !== undefined && hard > hostHard) {
      throw new BerthError('INVALID_ARGUMENT', `ulimit ${name}: hard limit ${fmt(hard)} is above the host's hard limit ${fmt(hostHard)} (berthd lacks CAP_SYS_RESOURCE to raise it)`);
    }
    byName.set(name, { soft, hard });
  }
  return [...byName].map(([name, v]) => ({ type: 'RLIMIT_' + name.toUpperCase(), hard: v.hard, soft: v.soft }));
}
