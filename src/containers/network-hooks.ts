/**
 * Networking hooks of the lifecycle (issue 5): which networks a container joins,
 * and the setup/teardown calls around the runtime. Kept apart so lifecycle.ts only
 * calls two functions.
 */
import type { ContainerManager } from './manager.js';
import type { ContainerRecord } from './types.js';
import type { AttachRequest } from '../network/types.js';
import type { ContainerConfig } from '../oci/docker-config.js';
import { expandPortBindings } from '../network/index.js';
import { failedPrecondition, invalidArgument, isBerthError, notFound, unavailable } from '../common/errors.js';
import { checkEndpointSettings, checkNetworkRequest, primaryMac, refreshLinkingHosts } from './network-request.js';
import { parseMac } from './support/link-env.js';
import { readHostResolvConf, renderResolvConf } from './support/etc-files.js';
import { writeFile } from 'node:fs/promises';
import { statSync } from 'node:fs';
import { join } from 'node:path';


/** The networks a container joins at start, primary first; none for host/none/container: modes. */
export function requestedNetworks(c: ContainerRecord): AttachRequest[] {
  const mode = c.HostConfig.NetworkMode || 'default';
  if (c.Config.NetworkDisabled || mode === 'none' || mode === 'host' || mode.startsWith('container:')) return [];
  const primary = mode === 'default' ? 'bridge' : mode;
  const eps = c.NetworkingConfig?.EndpointsConfig ?? {};
  const req = (name: string): AttachRequest => {
    const e = eps[name] ?? (name === 'bridge' ? eps.default : undefined);
    const mac = e?.MacAddress ? parseMac(e.MacAddress) : undefined;
    return { network: name, aliases: e?.Aliases ?? undefined, ip: e?.IPAMConfig?.IPv4Address || undefined, links: e?.Links ?? undefined, ...(mac ? { mac } : {}) };
  };
  const out = [req(primary)];
  // API < 1.44 sends the MAC container-wide (Config.MacAddress): it is the primary's.
  const wide = primaryMac(c.HostConfig, c.NetworkingConfig ?? {}, c.Config);
  if (wide && !out[0]!.mac) out[0]!.mac = parseMac(wide);
  for (const name of Object.keys(eps)) if (name !== primary && !(primary === 'bridge' && name === 'default')) out.push(req(name));
  return out;
}

/** Create the container's netns and wire it before the runtime creates the container. */
export async function networkUp(m: ContainerManager, c: ContainerRecord): Promise<void> {
  const net = m.deps.network;
  const networks = requestedNetworks(c);
  if (!net || networks.length === 0) {
    c.Network = undefined;
    return;
  }
  c.Network = await net.setUp({
    containerId: c.Id,
    containerName: c.Name,
    hostname: c.Config.Hostname || c.Id.slice(0, 12),
    networks,
    portBindings: c.HostConfig.PortBindings ?? {},
    publishAll: !!c.HostConfig.PublishAllPorts,
    exposed: Object.keys(c.Config.ExposedPorts ?? {}),
    // The embedded DNS forwards this container's other names to its --dns servers.
    dns: c.HostConfig.Dns ?? undefined,
  });
  // dockerd's events: the container joins each network as it starts (before its start event).
  for (const [name, ep] of Object.entries(c.Network.Networks)) {
    m.deps.events.publish('network', 'connect', ep.NetworkID, { container: c.Id, name, type: driverOf(m, name) });
  }
  // Containers linked to this one (legacy links) see its new address.
  await refreshLinkingHosts(m, c);
}

/**
 * Does a running container:<c> container (directly or through another) still live in
 * c's namespace at key? It keeps the namespace, and so c's veths, alive after c stops.
 */
function joinedByOthers(m: ContainerManager, c: ContainerRecord, key: string): boolean {
  const joiners = m.store.all().filter((o) => o.Id !== c.Id && o.State.Running && o.State.Pid > 0 && (o.HostConfig.NetworkMode ?? '').startsWith('container:'));
  if (!joiners.length) return false;
  const ns = (path: string) => { try { const st = statSync(path); return `${st.dev}:${st.ino}`; } catch { return undefined; } };
  const mine = ns(key);
  return mine !== undefined && joiners.some((o) => ns(`/proc/${o.State.Pid}/ns/net`) === mine);
}

function driverOf(m: ContainerManager, network: string): string {
  try { return m.deps.network?.get(network).Driver ?? 'bridge'; } catch { return 'bridge'; }
}

export type NetworksLeft = Array<{ name: string; networkId: string; driver: string }>;

/**
 * Release everything networkUp made; safe to call twice and after a crash. Each network
 * left gets its disconnect event, or, with `later`, is returned for the caller to
 * announce (announceDisconnects): the exit path does after its die event, as dockerd.
 */
export async function networkDown(m: ContainerManager, c: ContainerRecord, opts: { later?: boolean } = {}): Promise<NetworksLeft> {
  c.Network = undefined;
  const key = m.deps.network?.sandbox(c.Id)?.SandboxKey;
  const unplug = key !== undefined && joinedByOthers(m, c, key);
  const left = await m.deps.network?.tearDown(c.Id, { unplug }).catch(() => []) ?? [];
  if (!opts.later) announceDisconnects(m, c, left);
  return left;
}

export function announceDisconnects(m: ContainerManager, c: ContainerRecord, left: NetworksLeft): void {
  for (const n of left) m.deps.events.publish('network', 'disconnect', n.networkId, { container: c.Id, name: n.name, type: n.driver });
}

/** Does the network named by the create request exist? (NOT_FOUND like dockerd otherwise.) */
export function assertNetworksExist(m: ContainerManager, c: Pick<ContainerRecord, 'HostConfig' | 'NetworkingConfig' | 'Config'>, requested?: Pick<ContainerConfig, 'Hostname' | 'ExposedPorts'>): void {
  // Links, MAC addresses, IPv6/link-local requests, what --network container: excludes:
  // dockerd's 400s before anything is made.
  checkNetworkRequest(m, c.HostConfig, c.NetworkingConfig ?? {}, c.Config, requested);
  const net = m.deps.network;
  if (!net) return;
  // A bad -p (host port 99999, a malformed key) fails here, not at the start: nothing is created.
  expandPortBindings(c.HostConfig.PortBindings ?? {});
  for (const a of requestedNetworks(c as ContainerRecord)) {
    try {
      net.get(a.network);
    } catch (e) {
      // 400, not 404: the docker CLI answers any 404 from create by pulling the image.
      throw isBerthError(e, 'NOT_FOUND') ? invalidArgument(e.message) : e;
    }
  }
}

export interface NetworkConnectRequest {
  network: string;
  aliases?: string[];
  ip?: string;
  links?: string[];
  mac?: string;
  /** Refused (berth is IPv4-only) but carried so the refusal is dockerd-shaped, not silence. */
  ip6?: string;
  linkLocalIPs?: string[];
}

function sharedNamespaceMode(c: ContainerRecord): boolean {
  const mode = c.HostConfig.NetworkMode || 'default';
  return mode === 'host' || mode === 'none' || mode.startsWith('container:');
}

/**
 * docker network connect: live on a running container, and recorded in its
 * EndpointsConfig either way so the next start joins the network too (docker does
 * this; for a stopped container the record is all there is).
 */
export async function connectNetwork(m: ContainerManager, ref: string, r: NetworkConnectRequest): Promise<void> {
  const net = m.deps.network;
  if (!net) throw unavailable('networking is not available in this berthd');
  const c = m.get(ref);
  const n = net.get(r.network);
  checkEndpointSettings(n.Name, { MacAddress: r.mac, Links: r.links, IPAMConfig: { IPv6Address: r.ip6, LinkLocalIPs: r.linkLocalIPs } });
  if (r.links?.length && n.Name === 'bridge') throw invalidArgument('links are only supported for user-defined networks');
  const mac = r.mac ? parseMac(r.mac) : undefined;
  await m.lock.run(c.Id, async () => {
    m.assertCurrent(c, ref);
    await m.prepared.discard(c);
    if (sharedNamespaceMode(c)) throw invalidArgument(`container ${c.Name} uses --network ${c.HostConfig.NetworkMode}: it shares a network namespace and cannot be connected to other networks`);
    if (n.Driver !== 'bridge') throw invalidArgument(`container cannot be connected to network ${n.Name} (driver ${n.Driver}): only bridge networks can be connected`);
    const eps = (c.NetworkingConfig.EndpointsConfig ??= {});
    if (c.State.Running && c.Network) {
      const hadDns = !!c.Network.resolver;
      await net.connect(c.Id, { network: n.Name, aliases: r.aliases, ip: r.ip, links: r.links, mac });
      // First user network of a default-bridge container: its resolv.conf now names the embedded DNS.
      const sb = net.sandbox(c.Id) ?? c.Network;
      if (!hadDns && sb?.resolver) await rewriteResolvConf(m, c, sb.resolver);
    }
    // Stopped: dockerd keeps the first config and answers success for a duplicate.
    // docker-compose 1.x disconnects then reconnects the --network of every container
    // it creates (to set aliases), so the primary network must be re-connectable.
    else if (eps[n.Name]) return;
    eps[n.Name] = {
      ...(r.aliases?.length ? { Aliases: [...r.aliases] } : {}), ...(r.ip ? { IPAMConfig: { IPv4Address: r.ip } } : {}),
      ...(r.links?.length ? { Links: [...r.links] } : {}), ...(mac ? { MacAddress: mac } : {}), NetworkID: n.Id,
    };
    await m.store.save(c);
  });
}

/** docker network disconnect: live when running, and dropped from the record for later starts. */
export async function disconnectNetwork(m: ContainerManager, ref: string, network: string): Promise<void> {
  const net = m.deps.network;
  if (!net) throw unavailable('networking is not available in this berthd');
  const c = m.get(ref);
  const n = net.get(network);
  await m.lock.run(c.Id, async () => {
    m.assertCurrent(c, ref);
    await m.prepared.discard(c);
    const eps = c.NetworkingConfig.EndpointsConfig ?? {};
    if (c.State.Running && c.Network) await net.disconnect(c.Id, n.Name);
    else if (!eps[n.Name]) {
      const primary = c.HostConfig.NetworkMode === 'default' || !c.HostConfig.NetworkMode ? 'bridge' : c.HostConfig.NetworkMode;
      if (primary === n.Name) throw failedPrecondition(`container ${c.Name} is stopped and ${n.Name} is its --network: start it and disconnect, or re-create it with another --network`);
      throw notFound(`container ${c.Id.slice(0, 12)} is not connected to network ${n.Name}`);
    }
    delete eps[n.Name];
    await m.store.save(c);
  });
}

/** resolv.conf of a running container, rendered again in place (the file is bind-mounted). */
async function rewriteResolvConf(m: ContainerManager, c: ContainerRecord, embeddedDns: string): Promise<void> {
  const hc = c.HostConfig;
  const text = renderResolvConf(m.deps.hostResolvConf ?? (await readHostResolvConf()), { dns: hc.Dns ?? [], dnsSearch: hc.DnsSearch ?? [], dnsOptions: hc.DnsOptions ?? [], embeddedDns });
  await writeFile(join(m.store.dir(c.Id), 'resolv.conf'), text);
}
