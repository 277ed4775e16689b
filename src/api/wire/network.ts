/**
 * NetworkSettings as docker shows it: from the container's sandbox while it runs
 * (addresses, endpoints, published ports), from its configuration otherwise.
 */
import type { ContainerRecord } from '../../containers/types.js';
import type { EndpointState, NetworkRecord, SandboxState } from '../../network/types.js';
import { expandExposedPort } from '../../oci/ports.js';
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

function endpointWire(ep: EndpointState): WireEndpoint {
  return {
    ...emptyEndpoint(), IPAMConfig: ep.IPAMConfig, Aliases: ep.Aliases, NetworkID: ep.NetworkID, EndpointID: ep.EndpointID,
    Gateway: ep.Gateway, IPAddress: ep.IPAddress, IPPrefixLen: ep.IPPrefixLen, MacAddress: ep.MacAddress, DNSNames: ep.DNSNames, Links: ep.Links ?? null,
  };
}

/**
 * dockerd (API < 1.45) lists the short container id among the aliases on user-defined
 * networks; docker-compose 1.x looks for it to decide that a container is already
 * wired and must not be disconnected and reconnected. Kept at every version, as
 * ContainerConfig in image inspect: compose 1.29 negotiates the newest version.
 */
function withShortIdAlias(ep: WireEndpoint, network: string, id: string): WireEndpoint {
  if (network === 'bridge' || network === 'host' || network === 'none') return ep;
  const short = id.slice(0, 12);
  const aliases = ep.Aliases ?? [];
  return aliases.includes(short) ? ep : { ...ep, Aliases: [...aliases, short] };
}

export function networksOf(c: ContainerRecord): Record<string, WireEndpoint> {
  const mode = networkModeOf(c);
  if (mode.startsWith('container:')) return {};
  const out: Record<string, WireEndpoint> = {};
  if (c.Network && c.State.Running) {
    for (const [name, ep] of Object.entries(c.Network.Networks)) out[name] = withShortIdAlias(endpointWire(ep), name, c.Id);
    return out;
  }
  const name = mode === 'default' ? 'bridge' : mode;
  out[name] = { ...emptyEndpoint(), ...(c.NetworkingConfig.EndpointsConfig?.[name] ?? (mode === 'default' ? c.NetworkingConfig.EndpointsConfig?.default : undefined) ?? {}) } as WireEndpoint;
  for (const [n, e] of Object.entries(c.NetworkingConfig.EndpointsConfig ?? {})) if (!(n in out) && n !== 'default') out[n] = { ...emptyEndpoint(), ...e } as WireEndpoint;
  return out;
}

function sandboxOf(c: ContainerRecord): SandboxState | undefined {
  return c.State.Running ? c.Network : undefined;
}

export function networkSettings(c: ContainerRecord): WireNetworkSettings {
  // Exposed but unpublished ports show as null, like dockerd.
  const sb = sandboxOf(c);
  const ports: WireNetworkSettings['Ports'] = {};
  for (const p of Object.keys(c.Config.ExposedPorts ?? {})) ports[p] = null;
  for (const p of Object.keys(c.HostConfig.PortBindings ?? {})) ports[p.includes('/') ? p : `${p}/tcp`] ??= null;
  for (const [k, v] of Object.entries(sb?.Ports ?? {})) ports[k] = v.map((b) => ({ ...b }));
  // docker fills the top-level address fields from the default bridge only.
  const br = sb?.Networks.bridge;
  return {
    Bridge: '', SandboxID: sb ? c.Id : '', HairpinMode: false, LinkLocalIPv6Address: '', LinkLocalIPv6PrefixLen: 0,
    Ports: ports, SandboxKey: sb?.SandboxKey ?? '', SecondaryIPAddresses: null, SecondaryIPv6Addresses: null, EndpointID: br?.EndpointID ?? '', Gateway: br?.Gateway ?? '',
    GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0, IPAddress: br?.IPAddress ?? '', IPPrefixLen: br?.IPPrefixLen ?? 0, IPv6Gateway: '', MacAddress: br?.MacAddress ?? '',
    Networks: networksOf(c),
  };
}

/** docker ps's Ports: one entry per published binding, exposed-only ports without PublicPort. */
export function summaryPorts(c: ContainerRecord): Array<{ IP?: string; PrivatePort: number; PublicPort?: number; Type: string }> {
  const out: Array<{ IP?: string; PrivatePort: number; PublicPort?: number; Type: string }> = [];
  const published = sandboxOf(c)?.Ports ?? {};
  // Records written before create checked ExposedPorts may hold ranges or keys that are no
  // port at all: a range counts as its ports, anything outside 1-65535 is left out (clients
  // decode PrivatePort as a uint16, and one bad value failed the whole list).
  const keys = new Set([...Object.keys(c.Config.ExposedPorts ?? {}), ...Object.keys(published)].flatMap(expandExposedPort));
  for (const key of keys) {
    const [port, type = 'tcp'] = key.split('/');
    const bs = published[key];
    if (bs?.length) for (const b of bs) out.push({ IP: b.HostIp, PrivatePort: Number(port), PublicPort: Number(b.HostPort), Type: type });
    else out.push({ PrivatePort: Number(port), Type: type });
  }
  return out;
}

/** GET /networks/{id}'s JSON. */
export function networkWire(n: NetworkRecord, containers: Array<{ sandbox: SandboxState; ep: EndpointState }> | undefined): Record<string, unknown> {
  const { bridge: _bridge, ...rest } = n;
  // EnableIPv4 (API 1.48, shown by docker 28's `network ls --format {{.IPv4}}`): bridge networks have it.
  const out: Record<string, unknown> = { ...rest, EnableIPv4: n.Driver === 'bridge', ConfigFrom: { Network: '' }, ConfigOnly: false };
  if (containers) {
    const m: Record<string, unknown> = {};
    for (const { sandbox, ep } of containers) {
      m[sandbox.containerId] = { Name: sandbox.containerName, EndpointID: ep.EndpointID, MacAddress: ep.MacAddress, IPv4Address: `${ep.IPAddress}/${ep.IPPrefixLen}`, IPv6Address: '' };
    }
    out.Containers = m;
  }
  return out;
}
