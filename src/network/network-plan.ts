/**
 * `network create`'s checks and choices, before anything is made: the name, the
 * driver, the subnet (given, or the first free pool), the gateway, the ip-range and
 * the bridge's name. Pure but for the host's routes, which the caller reads.
 */
import { randomBytes } from 'node:crypto';
import { conflict, failedPrecondition, invalidArgument } from '../common/errors.js';
import { choosePool, cidrText, contains, ipToInt, overlaps, parseCidr, type Cidr } from './ipam.js';
import { NAME_RE, PREDEFINED } from './records.js';
import type { CreateNetworkOptions, NetworkRecord } from './types.js';

export interface NetworkPlan {
  id: string;
  bridge: string;
  subnet: Cidr;
  gateway?: string;
  ipRange?: string;
  options: Record<string, string>;
}

/** What a create can be refused for without looking at the host (outside the lock). */
export function checkCreateOptions(o: CreateNetworkOptions): void {
  if (!o || typeof o.Name !== 'string' || !NAME_RE.test(o.Name)) throw invalidArgument(`invalid network name ${JSON.stringify(o?.Name)}: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  const driver = o.Driver || 'bridge';
  if (driver !== 'bridge') throw invalidArgument(`network driver ${JSON.stringify(driver)} is not supported: berth has "bridge"`);
  if (o.EnableIPv6) throw invalidArgument('IPv6 networks are not supported yet: remove --ipv6');
}

/** Subnets in use: host routes (except on berth's own bridges) and the networks'. */
export function usedSubnets(networks: NetworkRecord[], routes: Array<Cidr & { dev: string }>): Cidr[] {
  const ours = new Set(networks.map((n) => n.bridge).filter(Boolean));
  return [...routes.filter((r) => !ours.has(r.dev)), ...networks.flatMap((n) => n.IPAM.Config.map((c) => parseCidr(c.Subnet)))];
}

export function freeSubnet(used: Cidr[], want: Cidr | undefined): Cidr {
  if (want) {
    const clash = used.find((u) => overlaps(u, want));
    if (clash) throw conflict(`invalid pool request: subnet ${cidrText(want)} overlaps ${cidrText(clash)}, in use by another network or a host route; choose another --subnet`);
    return want;
  }
  const p = choosePool(used);
  if (!p) throw failedPrecondition('could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network; give one with --subnet');
  return p;
}

/** Under the networks lock: the plan of a network, or the user's error. */
export function planNetwork(o: CreateNetworkOptions, networks: NetworkRecord[], used: Cidr[]): NetworkPlan {
  if (networks.some((n) => n.Name === o.Name) || PREDEFINED.has(o.Name)) throw conflict(`network with name ${o.Name} already exists`);
  const cfgs = o.IPAM?.Config ?? [];
  if (cfgs.length > 1) throw invalidArgument('only one IPAM config (one --subnet) per network is supported');
  const c = cfgs[0] ?? {};
  const subnet = freeSubnet(used, c.Subnet ? parseCidr(c.Subnet) : undefined);
  if (!c.Subnet && (c.Gateway || c.IPRange)) throw invalidArgument('--gateway and --ip-range need --subnet');
  if (c.Gateway && !contains(subnet, ipToInt(c.Gateway))) throw invalidArgument(`gateway ${c.Gateway} is not in subnet ${cidrText(subnet)}`);
  if (c.IPRange) {
    const r = parseCidr(c.IPRange, 'ip-range');
    if (!contains(subnet, r.base) || r.prefix < subnet.prefix) throw invalidArgument(`ip-range ${c.IPRange} is not inside subnet ${cidrText(subnet)}`);
  }
  const options = { ...(o.Options ?? {}) };
  const id = randomBytes(32).toString('hex');
  const bridge = options['com.docker.network.bridge.name'] || `br-${id.slice(0, 12)}`;
  if (!/^[a-zA-Z0-9_.-]{1,15}$/.test(bridge)) throw invalidArgument(`invalid bridge name ${JSON.stringify(bridge)}: at most 15 characters of [a-zA-Z0-9_.-]`);
  if (networks.some((n) => n.bridge === bridge)) throw conflict(`bridge ${bridge} is already used by another network`);
  return { id, bridge, subnet, gateway: c.Gateway, ipRange: c.IPRange, options };
}
