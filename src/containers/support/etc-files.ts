import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isIP } from 'node:net';
import { invalidArgument, isErrno } from '../../common/errors.js';
import { writeFileAtomic } from '../../common/fs.js';

/**
 * The three files docker bind-mounts into every container: /etc/hosts, /etc/hostname
 * and /etc/resolv.conf, rendered the way docker's libnetwork does.
 */

export interface HostsOptions {
  hostname: string;
  domainname?: string;
  /** docker's ExtraHosts: "name:ip" (or "name=ip"); ip may be "host-gateway". */
  extraHosts?: string[];
  /** The container's address on its primary network; none for --network none/host. */
  ip?: string;
  /** What "host-gateway" stands for (the bridge gateway, or the daemon's host-gateway-ip). */
  hostGatewayIp?: string;
  /** Include the ip6-* lines (docker ≥ 26 writes them only with IPv6 enabled). Default true. */
  ipv6?: boolean;
}

/** Split "name:ip" or "name=ip"; the first separator splits so IPv6 addresses survive. */
export function parseExtraHost(spec: string, hostGatewayIp?: string): { name: string; ip: string } {
  const eq = spec.indexOf('=');
  const sep = eq >= 0 ? eq : spec.indexOf(':');
  if (sep <= 0) throw invalidArgument(`invalid extra host: ${spec}`);
  const name = spec.slice(0, sep);
  let ip = spec.slice(sep + 1);
  if (ip.startsWith('[') && ip.endsWith(']')) ip = ip.slice(1, -1);
  if (ip === 'host-gateway') {
    if (!hostGatewayIp) throw invalidArgument(`unable to resolve host-gateway for extra host ${name}`);
    ip = hostGatewayIp;
  }
  if (isIP(ip) === 0) throw invalidArgument(`invalid IP address in add-host: "${ip}"`);
  return { name, ip };
}

export function renderHosts(o: HostsOptions): string {
  const lines = ['127.0.0.1\tlocalhost'];
  if (o.ipv6 !== false) {
    lines.push('::1\tlocalhost ip6-localhost ip6-loopback', 'fe00::0\tip6-localnet', 'ff00::0\tip6-mcastprefix', 'ff02::1\tip6-allnodes', 'ff02::2\tip6-allrouters');
  }
  for (const spec of o.extraHosts ?? []) {
    const { name, ip } = parseExtraHost(spec, o.hostGatewayIp);
    lines.push(`${ip}\t${name}`);
  }
  if (o.ip) {
    const names = o.domainname ? `${o.hostname}.${o.domainname} ${o.hostname}` : o.hostname;
    lines.push(`${o.ip}\t${names}`);
  }
  return lines.join('\n') + '\n';
}

export function renderHostname(hostname: string): string {
  return hostname + '\n';
}

export interface ResolvOptions {
  dns?: string[];
  dnsSearch?: string[];
  dnsOptions?: string[];
  /** Keep IPv6 nameservers (and add IPv6 defaults). Default false, as on docker's default bridge. */
  ipv6?: boolean;
  /** A user-defined network's embedded DNS (127.0.0.11): it becomes the only nameserver. */
  embeddedDns?: string;
}

export interface ParsedResolvConf {
  nameservers: string[];
  search: string[];
  options: string[];
}

export function parseResolvConf(text: string): ParsedResolvConf {
  const r: ParsedResolvConf = { nameservers: [], search: [], options: [] };
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    const [kw, ...rest] = line.split(/\s+/);
    if (kw === 'nameserver' && rest[0]) r.nameservers.push(rest[0]);
    // "domain" and "search" override each other; the last one wins (resolv.conf(5)).
    else if (kw === 'search' || kw === 'domain') r.search = rest;
    else if (kw === 'options') r.options.push(...rest);
  }
  return r;
}

function isLocalhost(ns: string): boolean {
  return /^127\./.test(ns) || ns === '::1' || /^0*:0*:0*:0*:0*:0*:0*:0*1$/.test(ns);
}

const DEFAULT_V4 = ['8.8.8.8', '8.8.4.4'];
const DEFAULT_V6 = ['2001:4860:4860::8888', '2001:4860:4860::8844'];

/** Host nameservers a container can reach: no loopback (it is the container's own), no IPv6 unless enabled. */
function usableNameservers(ns: string[], ipv6: boolean): string[] {
  const kept = ns.filter((n) => !isLocalhost(n) && (ipv6 || isIP(n.split('%')[0]!) !== 6));
  if (kept.length > 0) return kept;
  // docker falls back to Google's public resolvers when nothing usable is left.
  return ipv6 ? [...DEFAULT_V4, ...DEFAULT_V6] : [...DEFAULT_V4];
}

/**
 * Docker's resolv.conf: with no --dns* options, the host's file with loopback (and,
 * without IPv6, IPv6) nameserver lines removed, defaults appended if none remain.
 * With options, a fresh file where each given option replaces the host's value.
 * `--dns-search .` means no search domains.
 */
export function renderResolvConf(hostResolvConf: string, o: ResolvOptions = {}): string {
  const ipv6 = o.ipv6 ?? false;
  const host = parseResolvConf(hostResolvConf);
  const custom = (o.dns?.length ?? 0) > 0 || (o.dnsSearch?.length ?? 0) > 0 || (o.dnsOptions?.length ?? 0) > 0;
  if (!custom && !o.embeddedDns) {
    const out: string[] = [];
    for (const raw of hostResolvConf.split('\n')) {
      const m = /^\s*nameserver\s+(\S+)/.exec(raw);
      if (m && (isLocalhost(m[1]!) || (!ipv6 && isIP(m[1]!.split('%')[0]!) === 6))) continue;
      out.push(raw);
    }
    while (out.length > 0 && out[out.length - 1] === '') out.pop();
    const kept = host.nameservers.filter((n) => !isLocalhost(n) && (ipv6 || isIP(n.split('%')[0]!) !== 6));
    if (kept.length === 0) for (const ns of usableNameservers([], ipv6)) out.push(`nameserver ${ns}`);
    return out.length ? out.join('\n') + '\n' : '';
  }
  for (const ns of o.dns ?? []) {
    if (isIP(ns) === 0) throw invalidArgument(`${ns} is not an ip address`);
  }
  let nameservers = o.dns?.length ? o.dns : usableNameservers(host.nameservers, ipv6);
  const search = o.dnsSearch?.length ? o.dnsSearch : host.search;
  let options = o.dnsOptions?.length ? o.dnsOptions : host.options;
  const lines: string[] = [];
  if (o.embeddedDns) {
    // The embedded server forwards to these; docker records them in a comment.
    lines.push(`# ExtServers: [${nameservers.join(' ')}]`);
    nameservers = [o.embeddedDns];
    if (!options.some((x) => x.startsWith('ndots:'))) options = [...options, 'ndots:0'];
  }
  for (const ns of nameservers) lines.push(`nameserver ${ns}`);
  if (search.length > 0 && search.join(' ').trim() !== '.') lines.push(`search ${search.join(' ')}`);
  if (options.length > 0) lines.push(`options ${options.join(' ')}`);
  return lines.join('\n') + '\n';
}

const RESOLVED_STUB = '127.0.0.53';
const RESOLVED_UPSTREAM = '/run/systemd/resolve/resolv.conf';

/**
 * The host's resolv.conf as a container should start from: when the host's file only
 * points at systemd-resolved's stub (unreachable from a container), read the
 * upstream list systemd-resolved keeps in /run/systemd/resolve/resolv.conf.
 */
export async function readHostResolvConf(path = '/etc/resolv.conf', upstreamPath = RESOLVED_UPSTREAM): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return '';
    throw err;
  }
  const ns = parseResolvConf(text).nameservers;
  if (ns.length === 1 && ns[0] === RESOLVED_STUB) {
    try {
      return await readFile(upstreamPath, 'utf8');
    } catch (err) {
      if (!isErrno(err, 'ENOENT')) throw err;
    }
  }
  return text;
}

export interface EtcFilesOptions {
  hosts: HostsOptions;
  resolv: ResolvOptions;
  /** Pre-rendered resolv.conf source; read from the host when absent. */
  hostResolvConf?: string;
}

export interface EtcFilePaths { hostsPath: string; hostnamePath: string; resolvConfPath: string }

/**
 * Write hosts, hostname and resolv.conf into a container directory. Initially they are
 * written atomically; once bind-mounted, pass inPlace so the mounted inode is updated
 * (a rename would leave the container looking at the old file).
 */
export async function writeEtcFiles(dir: string, o: EtcFilesOptions, inPlace = false): Promise<EtcFilePaths> {
  const paths: EtcFilePaths = { hostsPath: join(dir, 'hosts'), hostnamePath: join(dir, 'hostname'), resolvConfPath: join(dir, 'resolv.conf') };
  const resolvSrc = o.hostResolvConf ?? (await readHostResolvConf());
  const write = inPlace ? (p: string, d: string) => writeFile(p, d, { mode: 0o644 }) : (p: string, d: string) => writeFileAtomic(p, d, 0o644);
  await write(paths.hostsPath, renderHosts(o.hosts));
  await write(paths.hostnamePath, renderHostname(o.hosts.hostname));
  await write(paths.resolvConfPath, renderResolvConf(resolvSrc, o.resolv));
  return paths;
}
