/**
 * Where a registry lives: Docker Hub's real host, and whether plain HTTP (or HTTPS
 * without certificate checks) is allowed: only for loopback and hosts listed in
 * insecure-registries; credentials must never cross a network in clear otherwise.
 */
import { isIP } from 'node:net';

const HUB_DOMAIN = 'docker.io';
const HUB_HOST = 'registry-1.docker.io';

/** docker's key for Docker Hub in config.json "auths". */
export const HUB_AUTH_KEY = 'https://index.docker.io/v1/';

function hostOnly(hostport: string): string {
  if (hostport.startsWith('[')) return hostport.slice(1, hostport.indexOf(']'));
  const i = hostport.lastIndexOf(':');
  return i === -1 ? hostport : hostport.slice(0, i);
}

function ipv4ToInt(ip: string): number {
  return ip.split('.').reduce((a, b) => (a << 8) + Number(b), 0) >>> 0;
}

function inCidr(ip: string, cidr: string): boolean {
  const [net, bitsStr] = cidr.split('/');
  const bits = Number(bitsStr);
  if (isIP(ip) !== 4 || isIP(net ?? '') !== 4 || !(bits >= 0 && bits <= 32)) return false;
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return (ipv4ToInt(ip) & mask) === (ipv4ToInt(net!) & mask);
}

export function isLoopback(domain: string): boolean {
  const h = hostOnly(domain);
  return h === 'localhost' || h === '::1' || (isIP(h) === 4 && h.startsWith('127.'));
}

/** Plain HTTP is allowed for loopback and for insecure-registries entries (host, host:port or CIDR). */
export function allowsHttp(domain: string, insecure: string[]): boolean {
  if (isLoopback(domain)) return true;
  const h = hostOnly(domain);
  return insecure.some((e) => e === domain || e === h || (e.includes('/') && inCidr(h, e)));
}

/**
 * Where to try the registry's v2 API, in order, as docker does: HTTPS with a verified
 * certificate for ordinary registries; for insecure ones (and loopback), HTTPS without
 * verification first, then plain HTTP.
 */
export function endpointCandidates(domain: string, insecure: string[]): Array<{ base: string; verifyTls: boolean }> {
  const host = domain === HUB_DOMAIN ? HUB_HOST : domain;
  if (!allowsHttp(domain, insecure)) return [{ base: `https://${host}`, verifyTls: true }];
  return [{ base: `https://${host}`, verifyTls: false }, { base: `http://${host}`, verifyTls: true }];
}

/** The base URL of the registry's v2 API. */
export function baseUrl(domain: string, insecure: string[]): string {
  const host = domain === HUB_DOMAIN ? HUB_HOST : domain;
  return `${allowsHttp(domain, insecure) ? 'http' : 'https'}://${host}`;
}

/** The config.json "auths" key docker uses for a registry. */
export function authKey(domain: string): string {
  return domain === HUB_DOMAIN ? HUB_AUTH_KEY : domain;
}
