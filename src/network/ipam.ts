/**
 * IPv4 address management, pure: subnet arithmetic, pool choice that avoids the
 * host's routes and the other networks, and address allocation from a lease set.
 * The leases themselves are persisted by the network store (crash-safe).
 */
import { readFile } from 'node:fs/promises';
import { invalidArgument } from '../common/errors.js';

export interface Cidr { base: number; prefix: number }

export function ipToInt(ip: string): number {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (!m) throw invalidArgument(`invalid IPv4 address: ${JSON.stringify(ip)}`);
  const p = m.slice(1).map(Number);
  if (p.some((x) => x > 255)) throw invalidArgument(`invalid IPv4 address: ${JSON.stringify(ip)}`);
  return ((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0;
}

export function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export function maskOf(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

export function parseCidr(s: string, what = 'subnet'): Cidr {
  const m = /^([0-9.]+)\/(\d{1,2})$/.exec(s);
  if (!m || Number(m[2]) > 32) throw invalidArgument(`invalid ${what} ${JSON.stringify(s)}: want an IPv4 CIDR like 172.20.0.0/16`);
  const prefix = Number(m[2]);
  const ip = ipToInt(m[1]!);
  const base = (ip & maskOf(prefix)) >>> 0;
  if (base !== ip) throw invalidArgument(`invalid ${what} ${s}: host bits are set (did you mean ${intToIp(base)}/${prefix}?)`);
  return { base, prefix };
}

export const cidrText = (c: Cidr) => `${intToIp(c.base)}/${c.prefix}`;

export function contains(c: Cidr, ip: number): boolean {
  return ((ip & maskOf(c.prefix)) >>> 0) === c.base;
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  const p = Math.min(a.prefix, b.prefix);
  return ((a.base & maskOf(p)) >>> 0) === ((b.base & maskOf(p)) >>> 0);
}

/** docker's default address pools: 172.17-31.0.0/16, then 192.168.0.0/16 in /20s. */
export function defaultPools(): Cidr[] {
  const out: Cidr[] = [];
  for (let i = 17; i <= 31; i++) out.push({ base: ipToInt(`172.${i}.0.0`), prefix: 16 });
  for (let i = 0; i < 256; i += 16) out.push({ base: ipToInt(`192.168.${i}.0`), prefix: 20 });
  return out;
}

/** IPv4 routes of the host (from /proc/net/route), except default routes. */
export async function hostRoutes(): Promise<Array<Cidr & { dev: string }>> {
  const text = await readFile('/proc/net/route', 'utf8').catch(() => '');
  const out: Array<Cidr & { dev: string }> = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    const le = (h: string) => Buffer.from(h, 'hex').readUInt32LE(0);
    const dest = le(f[1]!);
    const mask = le(f[7]!);
    if (mask === 0) continue;
    const prefix = popcount(mask);
    out.push({ base: dest >>> 0, prefix, dev: f[0]! });
  }
  return out;
}

function popcount(n: number): number {
  let c = 0;
  for (let x = n >>> 0; x; x >>>= 1) c += x & 1;
  return c;
}

/** The first default pool that collides with neither the host's routes nor `taken`. */
export function choosePool(taken: Cidr[]): Cidr | undefined {
  return defaultPools().find((p) => !taken.some((t) => overlaps(p, t)));
}

/**
 * Lowest free address of the subnet (within range when given), skipping the network
 * address, the gateway, the broadcast address and the leased ones.
 */
export function allocate(subnet: Cidr, gateway: string, leased: Set<string>, range?: Cidr): string | undefined {
  const r = range ?? subnet;
  const size = 2 ** (32 - r.prefix);
  const bcast = (subnet.base | (~maskOf(subnet.prefix) >>> 0)) >>> 0;
  for (let i = 0; i < size; i++) {
    const n = (r.base + i) >>> 0;
    if (n === subnet.base || n === bcast) continue;
    const ip = intToIp(n);
    if (ip === gateway || leased.has(ip)) continue;
    return ip;
  }
  return undefined;
}

/** docker's MAC for an address: 02:42 followed by the four address bytes. */
export function macFor(ip: string): string {
  const n = ipToInt(ip);
  return ['02', '42', ...[n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].map((b) => b.toString(16).padStart(2, '0'))].join(':');
}
