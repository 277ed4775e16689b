/**
 * A new endpoint of a container on a bridge network: its address (asked for or the
 * next free one), MAC, interface names and DNS-visible names. Pure: the caller holds
 * the allocation lock and passes the addresses already leased on the network.
 */
import { createHash, randomBytes } from 'node:crypto';
import { conflict, invalidArgument } from '../common/errors.js';
import { allocate, contains, ipToInt, macFor, parseCidr } from './ipam.js';
import type { AttachRequest, EndpointState, NetworkRecord } from './types.js';

export function newEndpoint(o: { containerId: string; network: NetworkRecord; attach: AttachRequest; ifIndex: number; leased: Set<string> }): EndpointState {
  const { network: n, attach: a } = o;
  if (n.Driver !== 'bridge') throw invalidArgument(`container cannot be connected to network ${n.Name}: only bridge networks can be combined`);
  const cfg = n.IPAM.Config[0]!;
  const subnet = parseCidr(cfg.Subnet);
  let ip: string | undefined;
  if (a.ip) {
    if (n.Name === 'bridge') throw invalidArgument('user specified IP address is supported on user defined networks only');
    if (!contains(subnet, ipToInt(a.ip))) throw invalidArgument(`no configured subnet contains IP address ${a.ip}: ${cfg.Subnet} is the network's`);
    if (o.leased.has(a.ip) || a.ip === cfg.Gateway) throw conflict(`Address already in use: ${a.ip} on network ${n.Name}`);
    ip = a.ip;
  } else {
    ip = allocate(subnet, cfg.Gateway, o.leased, cfg.IPRange ? parseCidr(cfg.IPRange) : undefined);
    if (!ip) throw conflict(`no available IPv4 addresses on network ${n.Name} (${cfg.Subnet})`);
  }
  const aliases = n.Name === 'bridge' ? null : [...(a.aliases ?? [])];
  return {
    NetworkID: n.Id, EndpointID: randomBytes(32).toString('hex'), Gateway: cfg.Gateway, IPAddress: ip, IPPrefixLen: subnet.prefix,
    MacAddress: a.mac || macFor(ip), Aliases: aliases, DNSNames: null, IPAMConfig: a.ip ? { IPv4Address: a.ip } : null,
    ...(a.links?.length && n.Name !== 'bridge' ? { Links: [...a.links] } : {}),
    ifName: `eth${o.ifIndex}`, hostVeth: `veth${createHash('sha256').update(o.containerId + n.Id).digest('hex').slice(0, 7)}`,
  };
}
