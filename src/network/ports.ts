/**
 * Published ports: docker's PortBindings (and -P's exposed ports) resolved into
 * concrete host ports, each checked free among berth's own bindings and then held
 * on the host with a socket (host-ports.ts): a port anyone else holds, another
 * berthd included, is a clear error, or skipped when berth chooses the port.
 */
import { readFileSync } from 'node:fs';
import { conflict, invalidArgument } from '../common/errors.js';
import { EADDRINUSE, HostPortError, allocatedError, type HostPortKey } from './host-ports.js';
import { ipToInt } from './ipam.js';
import type { NftPort } from './nft.js';
import type { PublishedPort } from './types.js';

export interface PortRequest {
  portBindings: Record<string, Array<{ HostIp?: string; HostPort?: string }> | null>;
  publishAll: boolean;
  exposed: string[];
}

/** "80/tcp" → [80, 80, 'tcp'], "8000-8010/udp" → [8000, 8010, 'udp']. */
export function parsePortKey(key: string): { from: number; to: number; proto: 'tcp' | 'udp' } {
  const m = /^(\d{1,5})(?:-(\d{1,5}))?(?:\/(tcp|udp|sctp))?$/.exec(key);
  if (!m) throw invalidArgument(`invalid port ${JSON.stringify(key)}: want PORT[-PORT][/tcp|udp]`);
  const from = Number(m[1]);
  const to = m[2] ? Number(m[2]) : from;
  if (from < 1 || to > 65535 || to < from) throw invalidArgument(`invalid port range ${key}: ports are 1-65535`);
  if (m[3] === 'sctp') throw invalidArgument(`invalid port ${key}: sctp is not supported, use tcp or udp`);
  return { from, to, proto: (m[3] as 'tcp' | 'udp' | undefined) ?? 'tcp' };
}

function parseHostPort(s: string | undefined, key: string): { from: number; to: number } | undefined {
  if (s === undefined || s === '' || s === '0') return undefined;
  const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(s);
  if (!m) throw invalidArgument(`invalid host port ${JSON.stringify(s)} for ${key}`);
  const from = Number(m[1]);
  const to = m[2] ? Number(m[2]) : from;
  if (from < 1 || to > 65535 || to < from) throw invalidArgument(`invalid host port range ${s} for ${key}: ports are 1-65535`);
  return { from, to };
}

function ephemeralRange(): [number, number] {
  try {
    const [a, b] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (a && b) return [a, b];
  } catch { /* default below */ }
  return [32768, 60999];
}

/**
 * Resolve the bindings into host ports. `taken` says whether berth already uses a
 * host ip/proto/port (any address collides with a specific one and back).
 */
type WantedPort = { key: string; port: number; proto: 'tcp' | 'udp'; hostIp: string; host?: { from: number; to: number } };

/**
 * The bindings checked and expanded to one entry per container port (no host port chosen
 * yet). Also what create checks, so a bad `-p` fails before a container exists.
 */
export function expandPortBindings(bindings: PortRequest['portBindings']): WantedPort[] {
  const want: WantedPort[] = [];
  for (const [key, list] of Object.entries(bindings ?? {})) {
    const cp = parsePortKey(key);
    for (const b of list ?? [{}]) {
      const hostIp = b.HostIp ?? '';
      if (hostIp && hostIp !== '0.0.0.0') {
        if (hostIp.includes(':')) throw invalidArgument(`invalid host ip ${hostIp} for ${key}: IPv6 publishing is not supported`);
        ipToInt(hostIp);
      }
      const host = parseHostPort(b.HostPort, key);
      const n = cp.to - cp.from + 1;
      if (host && host.to - host.from + 1 !== n && !(n === 1)) throw invalidArgument(`invalid port mapping ${b.HostPort}:${key}: host and container ranges differ in size`);
      for (let i = 0; i < n; i++) {
        const h = host ? (n === 1 ? host : { from: host.from + i, to: host.from + i }) : undefined;
        want.push({ key: `${cp.from + i}/${cp.proto}`, port: cp.from + i, proto: cp.proto, hostIp: hostIp === '0.0.0.0' ? '' : hostIp, host: h });
      }
    }
  }
  return want;
}

/** Where chosen host ports are held (HostPorts); release undoes hold. */
export interface PortHolder { hold(p: HostPortKey): void; release(p: HostPortKey): void }

/**
 * Choose every binding's host port and hold it. On failure whatever this call held is
 * released: nothing is left behind.
 */
export async function resolvePorts(req: PortRequest, ip: string, taken: (p: { hostIp: string; proto: string; hostPort: number }) => boolean, holder: PortHolder): Promise<{ nft: NftPort[]; wire: Record<string, PublishedPort[]> }> {
  const bindings = { ...(req.portBindings ?? {}) };
  if (req.publishAll) for (const e of req.exposed) if (!bindings[e]?.length) bindings[e] = [{ HostIp: '', HostPort: '' }];
  const want = expandPortBindings(bindings);
  const out: NftPort[] = [];
  const wire: Record<string, PublishedPort[]> = {};
  const mine = (hostIp: string, proto: string, hostPort: number) => out.some((p) => p.proto === proto && p.hostPort === hostPort && (!p.hostIp || !hostIp || p.hostIp === hostIp));
  const [lo, hi] = ephemeralRange();
  try {
    for (const w of want) {
      const key = (hostPort: number): HostPortKey => ({ hostIp: w.hostIp, proto: w.proto, hostPort });
      // Berth's own bindings (this request's too) first: dockerd's "already allocated".
      const allocated = (port: number) => taken(key(port)) || mine(w.hostIp, w.proto, port);
      let chosen: number | undefined;
      if (w.host && w.host.from === w.host.to) {
        const port = w.host.from;
        if (allocated(port)) throw allocatedError(key(port));
        holder.hold(key(port));
        chosen = port;
      } else {
        const [from, to] = w.host ? [w.host.from, w.host.to] : [lo, hi];
        const span = to - from + 1;
        const start = Math.floor(Math.random() * span);
        for (let i = 0; i < span && chosen === undefined; i++) {
          const port = from + ((start + i) % span);
          if (allocated(port)) continue;
          try {
            holder.hold(key(port));
            chosen = port;
          } catch (err) {
            // Held by anyone else: the next one. Any other failure (an address the host
            // lacks) would fail for every port.
            if (!(err instanceof HostPortError && err.errno === EADDRINUSE)) throw err;
          }
        }
        if (chosen === undefined) throw conflict(`no free host port in ${from}-${to} for ${w.key}`);
      }
      out.push({ hostIp: w.hostIp, proto: w.proto, hostPort: chosen, ip, port: w.port });
      (wire[w.key] ??= []).push({ HostIp: w.hostIp || '0.0.0.0', HostPort: String(chosen) });
    }
  } catch (err) {
    for (const p of out) holder.release(p);
    throw err;
  }
  return { nft: out, wire };
}
