/**
 * Conntrack entries of published UDP ports, deleted through ctnetlink (the kernel's
 * conntrack netlink interface, what the `conntrack` tool and dockerd use), in-process:
 * no process spawned on the stop path of a container with -p .../udp.
 *
 * Why: NAT is decided by a flow's first packet, and a UDP flow's entry lives as long as
 * packets keep coming. Unmapped, a port's flows keep going to the old container's
 * address (or to a new container that took it); mapped, flows that reached the host
 * before the mapping existed keep bypassing the DNAT. dockerd deletes the port's UDP
 * entries at both moments; so does berth (BridgeDriver.publish/unpublish).
 *
 * The dump asks the kernel to filter (CTA_FILTER, Linux 5.8+) so only the port's
 * entries cross; the same test runs here too, for kernels that ignore the filter.
 * Each match is deleted by its original tuple and id: an entry re-created meanwhile
 * under the same tuple has another id and stays.
 */
import { Netlink, NetlinkError, attr, ipv4Bytes, parseAttrs } from './netlink.js';

const NETLINK_NETFILTER = 12;
const AF_INET = 2;
const IPPROTO_UDP = 17;
const NLA_F_NESTED = 0x8000;
const NLM_F_DUMP = 0x300;
const ENOENT = 2;
const CT_GET = (1 << 8) | 1; // NFNL_SUBSYS_CTNETLINK, IPCTNL_MSG_CT_GET
const CT_DELETE = (1 << 8) | 2; // IPCTNL_MSG_CT_DELETE
// enum ctattr_type, ctattr_tuple, ctattr_ip, ctattr_l4proto, ctattr_filter
const CTA_TUPLE_ORIG = 1;
const CTA_ID = 12;
const CTA_ZONE = 18;
const CTA_FILTER = 25;
const CTA_TUPLE_IP = 1;
const CTA_TUPLE_PROTO = 2;
const CTA_IP_V4_DST = 2;
const CTA_PROTO_NUM = 1;
const CTA_PROTO_DST_PORT = 3;
const CTA_FILTER_ORIG_FLAGS = 1;
const FILTER_IP_DST = 1 << 1;
const FILTER_PROTO_NUM = 1 << 3;
const FILTER_PROTO_DST_PORT = 1 << 5;

export interface UdpPort { hostIp: string; hostPort: number }

/** nfgenmsg: family, version 0, resource id 0. */
const nfgen = () => Buffer.from([AF_INET, 0, 0, 0]);
const nested = (type: number, parts: Buffer[]) => attr(type | NLA_F_NESTED, parts);
const be16 = (n: number) => { const b = Buffer.alloc(2); b.writeUInt16BE(n); return b; };
const u32 = (n: number) => { const b = Buffer.alloc(4); b.writeUInt32LE(n); return b; };

/** The original-direction tuple to match: UDP to port (at hostIp when one is given). */
function filterAttrs(p: UdpPort): Buffer[] {
  const ip = p.hostIp && p.hostIp !== '0.0.0.0' ? p.hostIp : undefined;
  const tuple = nested(CTA_TUPLE_ORIG, [
    ...(ip ? [nested(CTA_TUPLE_IP, [attr(CTA_IP_V4_DST, ipv4Bytes(ip))])] : []),
    nested(CTA_TUPLE_PROTO, [attr(CTA_PROTO_NUM, Buffer.from([IPPROTO_UDP])), attr(CTA_PROTO_DST_PORT, be16(p.hostPort))]),
  ]);
  const flags = FILTER_PROTO_NUM | FILTER_PROTO_DST_PORT | (ip ? FILTER_IP_DST : 0);
  return [tuple, nested(CTA_FILTER, [attr(CTA_FILTER_ORIG_FLAGS, u32(flags))])];
}

function matches(entry: Map<number, Buffer>, p: UdpPort): boolean {
  const orig = entry.get(CTA_TUPLE_ORIG);
  if (!orig) return false;
  const t = parseAttrs(orig, 0);
  const proto = t.get(CTA_TUPLE_PROTO) ? parseAttrs(t.get(CTA_TUPLE_PROTO)!, 0) : undefined;
  if (proto?.get(CTA_PROTO_NUM)?.[0] !== IPPROTO_UDP || proto.get(CTA_PROTO_DST_PORT)?.readUInt16BE(0) !== p.hostPort) return false;
  if (!p.hostIp || p.hostIp === '0.0.0.0') return true;
  const dst = t.get(CTA_TUPLE_IP) ? parseAttrs(t.get(CTA_TUPLE_IP)!, 0).get(CTA_IP_V4_DST) : undefined;
  return !!dst && dst.equals(ipv4Bytes(p.hostIp));
}

/** Delete the UDP conntrack entries of these host ports; how many went. */
export function deleteUdpEntries(ports: UdpPort[]): number {
  if (!ports.length) return 0;
  const nl = new Netlink(NETLINK_NETFILTER);
  let deleted = 0;
  try {
    for (const p of ports) {
      let dump;
      try {
        dump = nl.request(CT_GET, NLM_F_DUMP, [nfgen(), ...filterAttrs(p)], `conntrack dump of udp port ${p.hostPort}`);
      } catch (err) {
        // A kernel without dump filters (before 5.8) may refuse them: the whole table then.
        if (!(err instanceof NetlinkError)) throw err;
        dump = nl.request(CT_GET, NLM_F_DUMP, [nfgen()], `conntrack dump of udp port ${p.hostPort}`);
      }
      for (const m of dump) {
        const entry = parseAttrs(m.data, 4);
        if (!matches(entry, p)) continue;
        const id = entry.get(CTA_ID);
        const zone = entry.get(CTA_ZONE);
        const body = [nfgen(), attr(CTA_TUPLE_ORIG | NLA_F_NESTED, entry.get(CTA_TUPLE_ORIG)!), ...(id ? [attr(CTA_ID, id)] : []), ...(zone ? [attr(CTA_ZONE, zone)] : [])];
        try {
          nl.request(CT_DELETE, 0, body, `delete conntrack entry of udp port ${p.hostPort}`);
          deleted++;
        } catch (err) {
          // Gone meanwhile (expired, or deleted by someone else).
          if (!(err instanceof NetlinkError && err.errno === ENOENT)) throw err;
        }
      }
    }
  } finally {
    nl.close();
  }
  return deleted;
}
