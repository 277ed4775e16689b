/**
 * The embedded DNS server. berthd listens on UDP and TCP port 53 of each user-defined
 * network's gateway address, and containers on those networks get that gateway as
 * their nameserver: nothing to set up per container (no NAT rule or listener inside
 * each netns), so the start path pays nothing for DNS. Names of containers on the
 * networks the asker shares are answered here; the rest is forwarded upstream.
 * Only containers of the network may ask (identified by source address): anyone
 * else gets REFUSED, so berthd is never an open resolver.
 */
import { createSocket, type Socket } from 'node:dgram';
import { createServer, type Server, type Socket as TcpSocket } from 'node:net';
import dnsPacket from 'dns-packet';
import type { Answer, DecodedPacket, Question } from 'dns-packet';
import { findAsker, hasEmbeddedDns, lookup, reverseLookup, reverseName, type NameView } from './dns-names.js';
import { forward, HostResolvers } from './dns-upstream.js';
import { contains, ipToInt, parseCidr } from './ipam.js';
import type { NetworkRecord } from './types.js';

const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;
/** docker's TTL for container names: short enough that a restart is picked up soon. */
const TTL = 600;
const MAX_INFLIGHT = 512;
const MAX_TCP_CONNS = 64;
const TCP_IDLE_MS = 10_000;

export interface EmbeddedDnsOptions {
  view: NameView;
  hostResolvers?: HostResolvers;
  /** Per upstream server, per try. */
  upstreamTimeoutMs?: number;
  /** Where listener failures are reported (berthd's stderr). */
  warn?: (msg: string) => void;
}

interface Listener { ip: string; udp: Socket; tcp: Server; conns: Set<TcpSocket> }

export class EmbeddedDns {
  readonly #o: EmbeddedDnsOptions;
  readonly #host: HostResolvers;
  readonly #listeners = new Map<string, Listener>();
  #inflight = 0;

  constructor(o: EmbeddedDnsOptions) {
    this.#o = o;
    this.#host = o.hostResolvers ?? new HostResolvers();
  }

  /** Listen on every user-defined network's gateway, stop listening on the others. Idempotent. */
  async sync(nets: NetworkRecord[]): Promise<void> {
    const want = new Map(nets.filter(hasEmbeddedDns).map((n) => [n.Id, n.IPAM.Config[0]!.Gateway]));
    for (const [id, l] of this.#listeners) if (want.get(id) !== l.ip) this.#stop(id, l);
    for (const [id, ip] of want) {
      if (this.#listeners.has(id)) continue;
      try {
        this.#listeners.set(id, await this.#listen(id, ip));
      } catch (err) {
        // The network stays usable by address; only its names are missing.
        this.#o.warn?.(`berthd: embedded DNS cannot listen on ${ip}:53 (${(err as Error).message}): containers on this network will not resolve names; free port 53 on that address`);
      }
    }
  }

  async close(): Promise<void> {
    for (const [id, l] of this.#listeners) this.#stop(id, l);
  }

  #stop(id: string, l: Listener): void {
    this.#listeners.delete(id);
    l.udp.close();
    l.tcp.close();
    for (const c of l.conns) c.destroy();
  }

  async #listen(networkId: string, ip: string): Promise<Listener> {
    const udp = createSocket({ type: 'udp4', reuseAddr: true });
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind({ address: ip, port: 53 }, () => { udp.off('error', reject); resolve(); });
    });
    udp.on('error', () => { /* a send to a vanished client; nothing to do */ });
    udp.on('message', (msg, rinfo) => {
      void this.answer(msg, networkId, rinfo.address, false).then((r) => { if (r) udp.send(r, rinfo.port, rinfo.address); }, () => {});
    });
    const conns = new Set<TcpSocket>();
    const tcp = createServer((sock) => this.#serveTcp(sock, networkId, conns));
    try {
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen({ host: ip, port: 53, exclusive: true }, () => { tcp.off('error', reject); resolve(); });
      });
    } catch (err) {
      udp.close();
      throw err;
    }
    tcp.on('error', () => {});
    return { ip, udp, tcp, conns };
  }

  #serveTcp(sock: TcpSocket, networkId: string, conns: Set<TcpSocket>): void {
    if (conns.size >= MAX_TCP_CONNS) { sock.destroy(); return; }
    conns.add(sock);
    sock.setTimeout(TCP_IDLE_MS, () => sock.destroy());
    sock.on('close', () => conns.delete(sock));
    sock.on('error', () => {});
    let buf = Buffer.alloc(0);
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const msg = buf.subarray(2, 2 + buf.readUInt16BE(0));
        buf = buf.subarray(2 + msg.length);
        void this.answer(msg, networkId, sock.remoteAddress?.replace(/^::ffff:/, '') ?? '', true).then((r) => {
          if (!r || sock.destroyed) return;
          const len = Buffer.alloc(2);
          len.writeUInt16BE(r.length);
          sock.write(Buffer.concat([len, r]));
        }, () => {});
      }
    });
  }

  /** The reply to one query from `src` on network `networkId`; undefined = send nothing. */
  async answer(msg: Buffer, networkId: string, src: string, tcp: boolean): Promise<Buffer | undefined> {
    let q: DecodedPacket;
    try {
      q = dnsPacket.decode(msg);
    } catch {
      return msg.length >= 12 ? header(msg, RCODE.FORMERR) : undefined;
    }
    if (q.type !== 'query') return undefined;
    const rd = (q.flags ?? 0) & dnsPacket.RECURSION_DESIRED;
    const reply = (rcode: number, answers: Answer[] = [], aa = false) =>
      encodeFitting({ type: 'response', id: q.id, flags: rd | dnsPacket.RECURSION_AVAILABLE | (aa ? dnsPacket.AUTHORITATIVE_ANSWER : 0) | rcode, questions: q.questions, answers }, tcp ? 65535 : udpLimit(q));
    const asker = findAsker(this.#o.view, networkId, src);
    if (!asker) return reply(RCODE.REFUSED);
    const question: Question | undefined = q.questions?.[0];
    if (!question || (q.questions?.length ?? 0) > 1) return reply(RCODE.FORMERR);
    if (question.class && question.class !== 'IN') return reply(RCODE.NOTIMP);
    if (question.type === 'PTR') {
      const ip = reverseName(question.name);
      if (ip) {
        const name = reverseLookup(this.#o.view, asker, ip);
        if (name) return reply(RCODE.NOERROR, [{ type: 'PTR', name: question.name, ttl: TTL, data: name }], true);
        // An unknown address of our own subnets is nobody upstream's business either.
        if (asker.shared.some((n) => contains(parseCidr(n.IPAM.Config[0]!.Subnet), ipToInt(ip)))) return reply(RCODE.NXDOMAIN, [], true);
      }
    } else {
      const ips = lookup(this.#o.view, asker, question.name);
      if (ips) {
        // IPv4 only: other types of a container's name exist with no data (NODATA).
        if (question.type !== 'A' && (question.type as string) !== 'ANY') return reply(RCODE.NOERROR, [], true);
        return reply(RCODE.NOERROR, shuffle(ips).map((ip) => ({ type: 'A', name: question.name, ttl: TTL, data: ip })), true);
      }
    }
    // An internal network has no way out, names included.
    if (asker.shared.every((n) => n.Internal)) return reply(RCODE.SERVFAIL);
    const servers = asker.sandbox.dns?.length ? asker.sandbox.dns : await this.#host.list();
    if (servers.length === 0 || this.#inflight >= MAX_INFLIGHT) return reply(RCODE.SERVFAIL);
    this.#inflight++;
    try {
      const r = await forward(servers, msg, { tcp, timeoutMs: this.#o.upstreamTimeoutMs ?? 2000 });
      return r ?? reply(RCODE.SERVFAIL);
    } finally {
      this.#inflight--;
    }
  }
}

/** A bare reply header for a query we could not parse (id kept, question dropped). */
function header(msg: Buffer, rcode: number): Buffer {
  const h = Buffer.alloc(12);
  h.writeUInt16BE(msg.readUInt16BE(0), 0);
  h.writeUInt16BE(0x8000 | (msg.readUInt16BE(2) & 0x0100) | 0x0080 | rcode, 2);
  return h;
}

/** The client's UDP size: its EDNS payload size, else the classic 512 bytes. */
function udpLimit(q: DecodedPacket): number {
  const opt = (q.additionals ?? []).find((a) => a.type === 'OPT') as { udpPayloadSize?: number } | undefined;
  return Math.max(512, Math.min(opt?.udpPayloadSize ?? 512, 4096));
}

/** Encode, dropping answers and setting TC until it fits (the client retries over TCP). */
function encodeFitting(p: dnsPacket.Packet, limit: number): Buffer {
  let b = dnsPacket.encode(p);
  while (b.length > limit && p.answers?.length) {
    p = { ...p, answers: p.answers.slice(0, Math.floor(p.answers.length / 2)), flags: (p.flags ?? 0) | dnsPacket.TRUNCATED_RESPONSE };
    b = dnsPacket.encode(p);
  }
  return b;
}

function shuffle<T>(xs: T[]): T[] {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}
