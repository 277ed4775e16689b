/**
 * Legacy links (`--link name[:alias]`), pure: the link syntax, the environment a
 * linking container gets (<ALIAS>_PORT…, <ALIAS>_NAME, <ALIAS>_ENV_…) and the
 * /etc/hosts line naming the linked container, all as dockerd ≤ 28 renders them.
 */
import { invalidArgument } from '../../common/errors.js';

export interface ParsedLink { name: string; alias: string }

/**
 * "name", "name:alias", or the normalised form inspect shows ("/name:/linker/alias"),
 * which clients send back when they re-create a container from its inspect output.
 */
export function parseLink(spec: string): ParsedLink {
  if (typeof spec !== 'string' || spec === '') throw invalidArgument('empty string specified for links');
  // The alias lands in /etc/hosts and in variable names: no whitespace or control characters.
  if (/[\s\x00-\x1f\x7f]/.test(spec)) throw invalidArgument(`bad format for links: ${JSON.stringify(spec)}: whitespace is not allowed`);
  const parts = spec.split(':');
  if (parts.length > 2) throw invalidArgument(`bad format for links: ${spec}`);
  if (parts.length === 1) return checkedLink(spec, spec, spec.replace(/^\//, ''));
  const [name, alias] = parts as [string, string];
  if (name.startsWith('/')) return checkedLink(spec, name.slice(1), alias.slice(alias.lastIndexOf('/') + 1));
  if (!name || !alias) throw invalidArgument(`bad format for links: ${spec}`);
  return checkedLink(spec, name, alias);
}

/**
 * The alias becomes an /etc/hosts name and a variable prefix: "#" would comment out the
 * rest of the hosts line, "=" would cut the variable's name, "../x" would climb out of
 * the link's path; dockerd takes any of them and breaks. Container-name characters only.
 */
const ALIAS_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,252}$/;

function checkedLink(spec: string, name: string, alias: string): ParsedLink {
  if (!ALIAS_RE.test(alias)) throw invalidArgument(`bad format for links: ${JSON.stringify(spec.length > 80 ? spec.slice(0, 80) + '…' : spec)}: the alias must be 1 to 253 of [a-zA-Z0-9_.-], starting with a letter or digit`);
  if (name.length > 256) throw invalidArgument(`bad format for links: the container name is longer than 256 characters`);
  return { name, alias };
}

interface Port { num: number; proto: string }

function parsePort(key: string): Port | undefined {
  const [n, proto = 'tcp'] = key.split('/');
  const num = Number(n);
  return Number.isInteger(num) && num > 0 && num < 65536 ? { num, proto: proto.toLowerCase() } : undefined;
}

/** TCP first, then by number, then by protocol: how dockerd orders them to find ranges. */
function comparePorts(a: Port, b: Port): number {
  if (a.proto === b.proto) return a.num - b.num;
  if (a.proto === 'tcp') return -1;
  if (b.proto === 'tcp') return 1;
  return a.proto < b.proto ? -1 : 1;
}

export interface LinkEnvInput {
  /** The link's full name, "/linker/alias": its last element is the variables' prefix. */
  linkName: string;
  /** The linked container's address on the default bridge. */
  ip: string;
  /** Its Config.Env and Config.ExposedPorts keys ("80/tcp"). */
  env: string[];
  exposed: string[];
}

/** The variables one legacy link adds, in dockerd's order (ports, ranges, name, env). */
export function linkEnvVars(l: LinkEnvInput): string[] {
  const alias = l.linkName.slice(l.linkName.lastIndexOf('/') + 1).toUpperCase().replace(/-/g, '_');
  const ports = l.exposed.map(parsePort).filter((p): p is Port => !!p).sort(comparePorts);
  const out: string[] = [];
  const url = (p: Port) => `${p.proto}://${l.ip}:${p.num}`;
  let start: Port | undefined;
  let end: Port | undefined;
  ports.forEach((p, i) => {
    if (i === 0) {
      start = end = p;
      out.push(`${alias}_PORT=${url(p)}`);
    }
    const prefix = `${alias}_PORT_${p.num}_${p.proto.toUpperCase()}`;
    out.push(`${prefix}=${url(p)}`, `${prefix}_ADDR=${l.ip}`, `${prefix}_PORT=${p.num}`, `${prefix}_PROTO=${p.proto}`);
    // A run of consecutive ports of one protocol also gets _START/_END variables,
    // written when the run ends (at the next port that breaks it, or the last port).
    if (p.num === end!.num + 1 && p.proto === end!.proto) {
      end = p;
      if (i < ports.length - 1) return;
    }
    if (end !== start) {
      const rp = `${alias}_PORT_${start!.num}_${start!.proto.toUpperCase()}`;
      out.push(`${rp}_START=${url(start!)}`, `${rp}_PORT_START=${start!.num}`, `${rp}_END=${url(end!)}`, `${rp}_PORT_END=${end!.num}`);
    }
    start = end = p;
  });
  out.push(`${alias}_NAME=${l.linkName}`);
  for (const e of l.env) {
    const i = e.indexOf('=');
    if (i < 0) continue;
    const k = e.slice(0, i);
    // Build-time variables say nothing about the linked service.
    if (k === 'HOME' || k === 'PATH') continue;
    out.push(`${alias}_ENV_${k}=${e.slice(i + 1)}`);
  }
  return out;
}

/** The names an /etc/hosts line gives a linked container: alias, its hostname, its name unless that is the alias. */
export function linkHostNames(alias: string, hostname: string, name: string): string {
  return alias === name ? `${alias} ${hostname}` : `${alias} ${hostname} ${name}`;
}

/**
 * A MAC address as Go's net.ParseMAC reads a 48-bit one (aa:bb:…, aa-bb-…, aabb.ccdd.eeff),
 * normalised to lower-case colons; undefined if it is not one.
 */
export function parseMac(s: string): string | undefined {
  let hex: string | undefined;
  if (/^[0-9a-f]{2}([:-])[0-9a-f]{2}(\1[0-9a-f]{2}){4}$/i.test(s)) hex = s.replace(/[:-]/g, '');
  else if (/^[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4}$/i.test(s)) hex = s.replace(/\./g, '');
  return hex ? hex.toLowerCase().match(/../g)!.join(':') : undefined;
}
