/**
 * NetworkSettings as docker shows it. Until berth has a network service this is
 * derived from HostConfig.NetworkMode alone: one endpoint named after the mode.
 */
import type { ContainerRecord } from '../../containers/types.js';
import type { WireEndpoint, WireNetworkSettings } from '../types.js';

export function emptyEndpoint(): WireEndpoint {
  return {
    IPAMConfig: null, Links: null, Aliases: null, NetworkID: '', EndpointID: '', Gateway: '', IPAddress: '', IPPrefixLen: 0,
    IPv6Gateway: '', GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0, MacAddress: '', DriverOpts: null, DNSNames: null,
  };
}

export function networkModeOf(c: ContainerRecord): string {
  const m = c.HostConfig.NetworkMode;
  return m === undefined || m === '' ? 'default' : m;
}

export function networksOf(c: ContainerRecord): Record<string, WireEndpoint> {
  const mode = networkModeOf(c);
  if (mode.startsWith('container:')) return {};
  const name = mode === 'default' ? 'bridge' : mode;
  const out: Record<string, WireEndpoint> = {};
  out[name] = { ...emptyEndpoint(), ...(c.NetworkingConfig.EndpointsConfig?.[name] ?? {}) } as WireEndpoint;
  return out;
}

export function networkSettings(c: ContainerRecord): WireNetworkSettings {
  // Exposed but unpublished ports show as null, like dockerd.
  const ports: Record<string, null> = {};
  for (const p of Object.keys(c.Config.ExposedPorts ?? {})) ports[p] = null;
  return {
    Bridge: '', SandboxID: '', HairpinMode: false, LinkLocalIPv6Address: '', LinkLocalIPv6PrefixLen: 0,
    Ports: ports, SandboxKey: '', SecondaryIPAddresses: null, SecondaryIPv6Addresses: null, EndpointID: '', Gateway: '',
    GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0, IPAddress: '', IPPrefixLen: 0, IPv6Gateway: '', MacAddress: '',
    Networks: networksOf(c),
  };
}
