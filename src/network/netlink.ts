/**
 * rtnetlink through koffi: links, addresses and routes without spawning `ip`
 * (one `ip` process costs ~7 ms; a netlink round trip costs microseconds, and
 * network setup is on the start path of every container).
 *
 * Calls are synchronous on purpose: a netlink socket answers at once, and the
 * network-namespace switch (setns) done by netns.ts must not interleave with
 * other JavaScript on the main thread.
 */
import { BerthError } from '../common/errors.js';
import { libc, errno, strerror, type LibcFunction } from '../common/libc.js';

const AF_NETLINK = 16;
const AF_INET = 2;
const SOCK_RAW = 3;
const SOCK_CLOEXEC = 0o2000000;
const NETLINK_ROUTE = 0;

const NLMSG_ERROR = 2;
const NLMSG_DONE = 3;
export const RTM_NEWLINK = 16;
export const RTM_DELLINK = 17;
export const RTM_GETLINK = 18;
export const RTM_NEWADDR = 20;
export const RTM_DELADDR = 21;
export const RTM_NEWROUTE = 24;
const NLM_F_REQUEST = 1;
const NLM_F_ACK = 4;
const NLM_F_REPLACE = 0x100;
const NLM_F_EXCL = 0x200;
const NLM_F_CREATE = 0x400;

const IFLA_ADDRESS = 1;
const IFLA_IFNAME = 3;
const IFLA_MTU = 4;
const IFLA_MASTER = 10;
const IFLA_LINKINFO = 18;
const IFLA_NET_NS_FD = 28;
const IFLA_IFALIAS = 20;
const IFLA_INFO_KIND = 1;
const IFLA_INFO_DATA = 2;
const IFLA_INFO_SLAVE_DATA = 5;
const IFLA_BRPORT_MODE = 4;
const VETH_INFO_PEER = 1;
const IFF_UP = 1;
const IFA_ADDRESS = 1;
const IFA_LOCAL = 2;
const IFA_BROADCAST = 4;
const RTA_GATEWAY = 5;

interface Fns { socket: LibcFunction; send: LibcFunction; recv: LibcFunction; close: LibcFunction }
let fns: Fns | undefined;
function f(): Fns {
  if (!fns) {
    const l = libc();
    fns = {
      socket: l.func('int socket(int domain, int type, int protocol)'),
      send: l.func('intptr_t send(int fd, const void *buf, size_t len, int flags)'),
      recv: l.func('intptr_t recv(int fd, _Out_ uint8_t *buf, size_t len, int flags)'),
      close: l.func('int close(int fd)'),
    };
  }
  return fns;
}

/** One rtattr: header, payload, padding to 4 bytes. */
export function attr(type: number, payload: Buffer | Buffer[]): Buffer {
  const body = Array.isArray(payload) ? Buffer.concat(payload) : payload;
  const len = 4 + body.length;
  const out = Buffer.alloc((len + 3) & ~3);
  out.writeUInt16LE(len, 0);
  out.writeUInt16LE(type, 2);
  body.copy(out, 4);
  return out;
}
const strAttr = (type: number, s: string) => attr(type, Buffer.from(s + '\0'));
const u32Attr = (type: number, n: number) => { const b = Buffer.alloc(4); b.writeUInt32LE(n >>> 0); return attr(type, b); };

function ifinfomsg(index = 0, up = false): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt8(0, 0); // AF_UNSPEC
  b.writeInt32LE(index, 4);
  b.writeUInt32LE(up ? IFF_UP : 0, 8);
  b.writeUInt32LE(up ? IFF_UP : 0, 12);
  return b;
}

export function ipv4Bytes(ip: string): Buffer {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) throw new BerthError('INVALID_ARGUMENT', `invalid IPv4 address: ${ip}`);
  return Buffer.from(parts);
}

export function macBytes(mac: string): Buffer {
  return Buffer.from(mac.split(':').map((h) => parseInt(h, 16)));
}

let seq = 1;

/**
 * A netlink socket in the network namespace the calling thread was in when opened:
 * NETLINK_ROUTE unless another protocol is given (conntrack.ts: NETLINK_NETFILTER).
 */
export class Netlink {
  readonly fd: number;
  #buf = Buffer.alloc(65536);

  constructor(protocol = NETLINK_ROUTE) {
    const fd = f().socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol) as number;
    if (fd < 0) throw new BerthError('INTERNAL', `netlink socket: ${strerror(errno())}`);
    this.fd = fd;
  }

  close(): void {
    f().close(this.fd);
  }

  /** Send one request and return the reply messages (type, payload) up to the ack or DONE. */
  request(type: number, flags: number, body: Buffer[], what: string): Array<{ type: number; data: Buffer }> {
    const payload = Buffer.concat(body);
    const hdr = Buffer.alloc(16);
    const s = seq++;
    hdr.writeUInt32LE(16 + payload.length, 0);
    hdr.writeUInt16LE(type, 4);
    hdr.writeUInt16LE(flags | NLM_F_REQUEST | NLM_F_ACK, 6);
    hdr.writeUInt32LE(s, 8);
    const msg = Buffer.concat([hdr, payload]);
    const n = f().send(this.fd, msg, msg.length, 0) as number;
    if (n < 0) throw new BerthError('INTERNAL', `${what}: netlink send: ${strerror(errno())}`);
    const out: Array<{ type: number; data: Buffer }> = [];
    for (;;) {
      const r = f().recv(this.fd, this.#buf, this.#buf.length, 0) as number;
      if (r < 0) throw new BerthError('INTERNAL', `${what}: netlink recv: ${strerror(errno())}`);
      let off = 0;
      while (off + 16 <= r) {
        const len = this.#buf.readUInt32LE(off);
        const t = this.#buf.readUInt16LE(off + 4);
        const mseq = this.#buf.readUInt32LE(off + 8);
        if (len < 16) break;
        if (mseq === s) {
          if (t === NLMSG_ERROR) {
            const code = -this.#buf.readInt32LE(off + 16);
            if (code === 0) return out;
            throw new NetlinkError(code, `${what}: ${strerror(code)}`);
          }
          if (t === NLMSG_DONE) {
            // A dump cut short says why here.
            const code = len >= 20 ? -this.#buf.readInt32LE(off + 16) : 0;
            if (code > 0) throw new NetlinkError(code, `${what}: ${strerror(code)}`);
            return out;
          }
          out.push({ type: t, data: Buffer.from(this.#buf.subarray(off + 16, off + len)) });
        }
        off += (len + 3) & ~3;
      }
    }
  }

  /** Interface index by name, or 0 when there is none. */
  linkIndex(name: string): number {
    try {
      const r = this.request(RTM_GETLINK, 0, [ifinfomsg(), strAttr(IFLA_IFNAME, name)], `look up link ${name}`);
      const m = r.find((x) => x.type === RTM_NEWLINK);
      return m ? m.data.readInt32LE(4) : 0;
    } catch (err) {
      if (err instanceof NetlinkError && err.errno === 19 /* ENODEV */) return 0;
      throw err;
    }
  }

  /** A link's index, kind ('bridge', 'veth', '' for a plain device) and alias, or undefined when absent. */
  linkInfo(name: string): { index: number; kind: string; alias: string } | undefined {
    let r: Array<{ type: number; data: Buffer }>;
    try {
      r = this.request(RTM_GETLINK, 0, [ifinfomsg(), strAttr(IFLA_IFNAME, name)], `look up link ${name}`);
    } catch (err) {
      if (err instanceof NetlinkError && err.errno === 19 /* ENODEV */) return undefined;
      throw err;
    }
    const m = r.find((x) => x.type === RTM_NEWLINK);
    if (!m) return undefined;
    const attrs = parseAttrs(m.data, 16);
    const info = attrs.get(IFLA_LINKINFO);
    const kind = info ? parseAttrs(info, 0).get(IFLA_INFO_KIND) : undefined;
    const alias = attrs.get(IFLA_IFALIAS);
    return { index: m.data.readInt32LE(4), kind: kind ? cString(kind) : '', alias: alias ? cString(alias) : '' };
  }

  /** Set a link's alias (ifalias: free text that `ip link` shows; marks who made the link). */
  setAlias(index: number, alias: string): void {
    this.request(RTM_NEWLINK, 0, [ifinfomsg(index), strAttr(IFLA_IFALIAS, alias)], `set link ${index} alias`);
  }

  createBridge(name: string, mac?: string, mtu?: number): number {
    const attrs = [strAttr(IFLA_IFNAME, name), attr(IFLA_LINKINFO, strAttr(IFLA_INFO_KIND, 'bridge'))];
    if (mac) attrs.push(attr(IFLA_ADDRESS, macBytes(mac)));
    if (mtu) attrs.push(u32Attr(IFLA_MTU, mtu));
    this.request(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, [ifinfomsg(0, true), ...attrs], `create bridge ${name}`);
    return this.linkIndex(name);
  }

  /**
   * One message makes both ends: the host end enslaved to the bridge and up, the
   * peer created directly inside the target namespace with its name and MAC. The
   * peer is brought up afterwards from inside (IFF_UP on the peer here fails ENOTCONN).
   */
  createVeth(o: { hostName: string; masterIndex: number; peerName: string; peerNsFd: number; peerMac: string; mtu?: number }): void {
    // Both ends get the network's MTU (com.docker.network.driver.mtu), as with dockerd.
    const mtu = o.mtu ? [u32Attr(IFLA_MTU, o.mtu)] : [];
    const peer = Buffer.concat([ifinfomsg(), strAttr(IFLA_IFNAME, o.peerName), u32Attr(IFLA_NET_NS_FD, o.peerNsFd), attr(IFLA_ADDRESS, macBytes(o.peerMac)), ...mtu]);
    const linkinfo = attr(IFLA_LINKINFO, [strAttr(IFLA_INFO_KIND, 'veth'), attr(IFLA_INFO_DATA, attr(VETH_INFO_PEER, peer))]);
    this.request(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, [ifinfomsg(0, true), strAttr(IFLA_IFNAME, o.hostName), u32Attr(IFLA_MASTER, o.masterIndex), ...mtu, linkinfo], `create veth ${o.hostName}`);
  }

  /** Set a link's MAC address (a bridge with a set address keeps it as ports come and go). */
  setMac(index: number, mac: string): void {
    this.request(RTM_NEWLINK, 0, [ifinfomsg(index), attr(IFLA_ADDRESS, macBytes(mac))], `set link ${index} address ${mac}`);
  }

  setUp(index: number): void {
    this.request(RTM_NEWLINK, 0, [ifinfomsg(index, true)], `set link ${index} up`);
  }

  /**
   * Hairpin mode on a bridge port: the bridge may send a frame back out the port it
   * came in on. A container's packet to its own published port comes back to it that
   * way once DNAT rewrote it (br_netfilter bridges it instead of routing it).
   */
  setHairpin(name: string): void {
    const data = attr(IFLA_INFO_SLAVE_DATA, attr(IFLA_BRPORT_MODE, Buffer.from([1])));
    this.request(RTM_NEWLINK, 0, [ifinfomsg(), strAttr(IFLA_IFNAME, name), attr(IFLA_LINKINFO, data)], `set hairpin mode on ${name}`);
  }

  /** Delete a link by name; a missing link is not an error. */
  deleteLink(name: string): void {
    try {
      this.request(RTM_DELLINK, 0, [ifinfomsg(), strAttr(IFLA_IFNAME, name)], `delete link ${name}`);
    } catch (err) {
      if (err instanceof NetlinkError && err.errno === 19) return;
      throw err;
    }
  }

  /** Add ip/prefix on a link; an address already there is kept (idempotent). */
  addAddress(index: number, ip: string, prefix: number, del = false): void {
    const m = Buffer.alloc(8);
    m.writeUInt8(AF_INET, 0);
    m.writeUInt8(prefix, 1);
    m.writeUInt32LE(index, 4);
    const a = ipv4Bytes(ip);
    const attrs = [attr(IFA_LOCAL, a), attr(IFA_ADDRESS, a)];
    if (prefix < 31) attrs.push(attr(IFA_BROADCAST, broadcastOf(ip, prefix)));
    this.request(del ? RTM_DELADDR : RTM_NEWADDR, del ? 0 : NLM_F_CREATE | NLM_F_REPLACE, [m, ...attrs], `${del ? 'remove' : 'add'} address ${ip}/${prefix}`);
  }

  /** replace: over the default route there is (a container's way out moved), else refused when one exists. */
  addDefaultRoute(gateway: string, replace = false): void {
    const m = Buffer.alloc(12);
    m.writeUInt8(AF_INET, 0);
    m.writeUInt8(254, 4); // RT_TABLE_MAIN
    m.writeUInt8(3, 5); // RTPROT_BOOT
    m.writeUInt8(0, 6); // RT_SCOPE_UNIVERSE
    m.writeUInt8(1, 7); // RTN_UNICAST
    this.request(RTM_NEWROUTE, NLM_F_CREATE | (replace ? NLM_F_REPLACE : NLM_F_EXCL), [m, attr(RTA_GATEWAY, ipv4Bytes(gateway))], `add default route via ${gateway}`);
  }
}

export class NetlinkError extends BerthError {
  readonly errno: number;
  constructor(code: number, message: string) {
    super('INTERNAL', message);
    this.errno = code;
  }
}

/** The attributes from off on, by type (nested-flag bits cleared; the last of a type wins). */
export function parseAttrs(buf: Buffer, off: number): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  while (off + 4 <= buf.length) {
    const len = buf.readUInt16LE(off);
    if (len < 4 || off + len > buf.length) break;
    out.set(buf.readUInt16LE(off + 2) & 0x3fff, buf.subarray(off + 4, off + len));
    off += (len + 3) & ~3;
  }
  return out;
}

const cString = (b: Buffer) => {
  const z = b.indexOf(0);
  return b.subarray(0, z < 0 ? b.length : z).toString();
};

function broadcastOf(ip: string, prefix: number): Buffer {
  const n = ipv4Bytes(ip).readUInt32BE(0);
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  const b = Buffer.alloc(4);
  b.writeUInt32BE(((n & mask) | (~mask >>> 0)) >>> 0);
  return b;
}
