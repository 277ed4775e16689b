/**
 * Where the embedded DNS server sends names that are not containers': the asker's
 * own --dns servers, else the host's resolvers. berthd forwards from the host's
 * network namespace, so a loopback resolver of the host is reachable; a
 * systemd-resolved stub is skipped for the real upstreams it lists, unless it is
 * all there is.
 */
import { readFile } from 'node:fs/promises';
import { createSocket } from 'node:dgram';
import { connect as tcpConnect } from 'node:net';
import { isIP } from 'node:net';

const STUB = /^127\.0\.0\.53$|^127\.0\.0\.54$/;

export function nameserversOf(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.split('\n')) {
    const m = /^\s*nameserver\s+(\S+)/.exec(raw);
    if (m && isIP(m[1]!.split('%')[0]!)) out.push(m[1]!);
  }
  return out;
}

export interface HostResolverOptions {
  paths?: { resolvConf: string; resolvedUpstream: string };
  /** How long a read is trusted before the files are read again. */
  ttlMs?: number;
}

/** The host's resolvers, re-read at most every few seconds (DHCP, VPNs change them). */
export class HostResolvers {
  readonly #paths: { resolvConf: string; resolvedUpstream: string };
  readonly #ttl: number;
  #cached: { at: number; list: string[] } | undefined;

  constructor(o: HostResolverOptions = {}) {
    this.#paths = o.paths ?? { resolvConf: '/etc/resolv.conf', resolvedUpstream: '/run/systemd/resolve/resolv.conf' };
    this.#ttl = o.ttlMs ?? 5000;
  }

  async list(): Promise<string[]> {
    if (this.#cached && Date.now() - this.#cached.at < this.#ttl) return this.#cached.list;
    const main = nameserversOf(await readFile(this.#paths.resolvConf, 'utf8').catch(() => ''));
    let list = main.filter((s) => !STUB.test(s));
    if (list.length === 0 && main.length > 0) {
      const upstream = nameserversOf(await readFile(this.#paths.resolvedUpstream, 'utf8').catch(() => '')).filter((s) => !STUB.test(s));
      list = upstream.length ? upstream : main;
    }
    this.#cached = { at: Date.now(), list };
    return list;
  }
}

/** Ask one server over UDP; resolves the raw answer, or undefined on timeout/error/mismatch. */
export function askUdp(server: string, query: Buffer, timeoutMs: number): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const s = createSocket(isIP(server) === 6 ? 'udp6' : 'udp4');
    let done = false;
    const finish = (b: Buffer | undefined) => {
      if (done) return;
      done = true;
      clearTimeout(t);
      s.close();
      resolve(b);
    };
    const t = setTimeout(() => finish(undefined), timeoutMs);
    // A connected socket hears ICMP "port unreachable" (ECONNREFUSED): a dead server fails at once.
    s.on('error', () => finish(undefined));
    s.on('message', (msg, rinfo) => {
      // Only the server asked may answer, with our query's id (no spoofed replies).
      if (rinfo.address !== server || msg.length < 12 || msg.readUInt16BE(0) !== query.readUInt16BE(0)) return;
      finish(msg);
    });
    s.connect(53, server, () => s.send(query, (err) => { if (err) finish(undefined); }));
  });
}

/** Ask one server over TCP (2-byte length framing); undefined on failure. */
export function askTcp(server: string, query: Buffer, timeoutMs: number): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const sock = tcpConnect({ host: server, port: 53 });
    let buf = Buffer.alloc(0);
    let done = false;
    const finish = (b: Buffer | undefined) => {
      if (done) return;
      done = true;
      clearTimeout(t);
      sock.destroy();
      resolve(b);
    };
    const t = setTimeout(() => finish(undefined), timeoutMs);
    sock.on('error', () => finish(undefined));
    sock.on('connect', () => {
      const len = Buffer.alloc(2);
      len.writeUInt16BE(query.length);
      sock.write(Buffer.concat([len, query]));
    });
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) finish(buf.subarray(2, 2 + buf.readUInt16BE(0)));
    });
    sock.on('end', () => finish(undefined));
  });
}

/** Try each server in turn; the first answer wins. undefined when none answered. */
export async function forward(servers: string[], query: Buffer, o: { tcp: boolean; timeoutMs: number }): Promise<Buffer | undefined> {
  for (const s of servers) {
    const r = o.tcp ? await askTcp(s, query, o.timeoutMs) : await askUdp(s, query, o.timeoutMs);
    if (r) return r;
  }
  return undefined;
}
