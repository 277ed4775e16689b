/**
 * Network records: the predefined networks, a bridge network's record, the name
 * rule and the list filters. Pure data, no I/O: the service persists and wires them.
 */
import { createHash } from 'node:crypto';
import { cidrText, intToIp, type Cidr } from './ipam.js';
import type { NetworkFilters, NetworkRecord } from './types.js';

export const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/;
export const PREDEFINED = new Set(['bridge', 'host', 'none']);

function now(): string {
  return new Date().toISOString();
}

export function predefinedRecord(name: 'host' | 'none'): NetworkRecord {
  return {
    Id: createHash('sha256').update(`berth-${name}`).digest('hex'), Name: name, Created: now(), Scope: 'local',
    Driver: name === 'host' ? 'host' : 'null', EnableIPv6: false, IPAM: { Driver: 'default', Options: {}, Config: [] },
    Internal: false, Attachable: false, Ingress: false, Options: {}, Labels: {}, bridge: '',
  };
}

export interface BridgeRecordOptions {
  id: string;
  name: string;
  bridge: string;
  subnet: Cidr;
  gateway?: string;
  ipRange?: string;
  internal: boolean;
  labels: Record<string, string>;
  options: Record<string, string>;
}

export function bridgeRecord(o: BridgeRecordOptions): NetworkRecord {
  const gateway = o.gateway ?? intToIp(o.subnet.base + 1);
  const cfg: NetworkRecord['IPAM']['Config'][number] = { Subnet: cidrText(o.subnet), Gateway: gateway };
  if (o.ipRange) cfg.IPRange = o.ipRange;
  return {
    Id: o.id, Name: o.name, Created: now(), Scope: 'local', Driver: 'bridge', EnableIPv6: false,
    IPAM: { Driver: 'default', Options: {}, Config: [cfg] }, Internal: o.internal, Attachable: false, Ingress: false,
    Options: o.options, Labels: o.labels, bridge: o.bridge,
  };
}

/** docker's `network ls` filters; `endpoints` counts a network's attached containers (for dangling). */
export function matchesFilters(n: NetworkRecord, f: NetworkFilters, endpoints: (networkId: string) => number): boolean {
  if (f.name?.length && !f.name.some((x) => n.Name.includes(x))) return false;
  if (f.id?.length && !f.id.some((x) => n.Id.startsWith(x))) return false;
  if (f.driver?.length && !f.driver.includes(n.Driver)) return false;
  if (f.type?.length && !f.type.includes(PREDEFINED.has(n.Name) ? 'builtin' : 'custom')) return false;
  if (f.scope?.length && !f.scope.includes('local')) return false;
  if (f.dangling?.length) {
    const d = f.dangling[0] === 'true' || f.dangling[0] === '1';
    if (d !== (!PREDEFINED.has(n.Name) && endpoints(n.Id) === 0)) return false;
  }
  for (const l of f.label ?? []) {
    const i = l.indexOf('=');
    if (i < 0 ? !(l in n.Labels) : n.Labels[l.slice(0, i)] !== l.slice(i + 1)) return false;
  }
  return true;
}
