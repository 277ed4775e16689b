/**
 * The networking parts of a create (or connect) request that go beyond a network's
 * name: legacy links, MAC addresses, the IPv6/link-local addresses berth cannot give,
 * and what --network container:<x> leaves to x. Checked at create so a bad request is
 * a 400 that creates nothing; legacy links are resolved again at every start (dockerd
 * re-reads them by name too).
 */
import { internal, invalidArgument, isBerthError } from '../common/errors.js';
import { isIP } from 'node:net';
import { readFile, writeFile } from 'node:fs/promises';
import type { ContainerManager } from './manager.js';
import type { ContainerRecord } from './types.js';
import type { ContainerConfig, EndpointSettings, HostConfig, NetworkingConfig } from '../oci/docker-config.js';
import { linkEnvVars, linkHostNames, parseLink, parseMac } from './support/link-env.js';

type Mode = 'bridge' | 'user' | 'host' | 'none' | 'container';

function modeOf(hc: HostConfig): Mode {
  const m = hc.NetworkMode || 'default';
  if (m === 'default' || m === 'bridge') return 'bridge';
  if (m === 'host' || m === 'none') return m;
  return m.startsWith('container:') ? 'container' : 'user';
}

/** One endpoint's settings as a client sent them (create's EndpointsConfig entry or connect's EndpointConfig). */
export function checkEndpointSettings(network: string, ep: EndpointSettings | null | undefined): void {
  if (!ep) return;
  const where = `invalid config for network ${network}`;
  if (ep.MacAddress) {
    const mac = parseMac(ep.MacAddress);
    if (!mac) throw invalidArgument(`${where}: invalid MAC address ${ep.MacAddress}`);
    // The kernel refuses a multicast address on an interface, only at start: say so now.
    // The kernel refuses the all-zero address too (EADDRNOTAVAIL at start): a 400 now.
    if (mac === '00:00:00:00:00:00') throw invalidArgument(`${where}: invalid MAC address ${ep.MacAddress}: the all-zero address cannot be an interface's`);
    if (parseInt(mac.slice(0, 2), 16) & 1) throw invalidArgument(`${where}: invalid MAC address ${ep.MacAddress}: a multicast address cannot be an interface's; clear the lowest bit of the first byte`);
  }
  const v6 = ep.IPAMConfig?.IPv6Address;
  if (v6) {
    if (isIP(v6) !== 6 || /^::$|^0*(:0*)*$/.test(v6)) throw invalidArgument(`${where}: invalid IPv6 address: ${v6}`);
    throw invalidArgument(`${where}: user specified IPv6 address ${v6} is not supported: berth networks are IPv4-only; remove --ip6`);
  }
  const ll = ep.IPAMConfig?.LinkLocalIPs ?? [];
  for (const a of ll) if (typeof a !== 'string' || isIP(a) === 0) throw invalidArgument(`${where}: invalid link-local IP address: ${a}`);
  if (ll.length) throw invalidArgument(`${where}: link-local IP addresses (${ll.join(', ')}) are not supported by berth; remove --link-local-ip`);
  for (const l of ep.Links ?? []) parseLink(l);
}

/** The container-wide MAC address of API < 1.44 (Config.MacAddress) goes to the primary endpoint, as dockerd migrates it. */
export function primaryMac(hc: HostConfig, nc: NetworkingConfig, cfg: ContainerConfig): string | undefined {
  const eps = nc.EndpointsConfig ?? {};
  const mode = hc.NetworkMode || 'default';
  const ep = eps[mode] ?? (mode === 'default' || mode === 'bridge' ? eps.default ?? eps.bridge : undefined);
  return ep?.MacAddress || cfg.MacAddress || undefined;
}

/** dockerd's IsUserDefined: a network's name, not one of the modes. */
function userDefined(name: string): boolean {
  return !['default', 'bridge', 'host', 'none'].includes(name) && !name.startsWith('container:');
}

/**
 * A container:<x> container has x's network, addresses, names and /etc files: whatever
 * would change them is refused, in dockerd's words and order. requested: the create's
 * own Config (an image's EXPOSE is no conflict). --dns-search and --dns-option are let
 * through, as dockerd does (x's resolv.conf applies).
 */
function checkContainerMode(hc: HostConfig, requested: Pick<ContainerConfig, 'Hostname' | 'ExposedPorts'>): void {
  const mode = hc.NetworkMode ?? '';
  if (mode !== 'container' && !mode.startsWith('container:')) return;
  if (!mode.slice('container:'.length)) throw invalidArgument('invalid network mode: invalid container format container:<name|id>');
  if (requested.Hostname) throw invalidArgument('conflicting options: hostname and the network mode');
  if (hc.Links?.length) throw invalidArgument("conflicting options: container type network can't be used with links. This would result in undefined behavior");
  if (hc.Dns?.length) throw invalidArgument('conflicting options: dns and the network mode');
  if (hc.ExtraHosts?.length) throw invalidArgument('conflicting options: custom host-to-IP mapping and the network mode');
  if (Object.keys(hc.PortBindings ?? {}).length || hc.PublishAllPorts) throw invalidArgument('conflicting options: port publishing and the container type network mode');
  if (Object.keys(requested.ExposedPorts ?? {}).length) throw invalidArgument('conflicting options: port exposing and the container type network mode');
}

/** Create's warnings about its network (dockerd's): -p with --network host publishes nothing. */
export function networkWarnings(hc: HostConfig): string[] {
  return hc.NetworkMode === 'host' && Object.keys(hc.PortBindings ?? {}).length ? ['Published ports are discarded when using host network mode'] : [];
}

/**
 * Create-time checks of everything above; throws dockerd's 400s. cfg: the container's
 * Config (the image's merged in); requested: the create's own.
 */
export function checkNetworkRequest(m: ContainerManager, hc: HostConfig, nc: NetworkingConfig, cfg: ContainerConfig, requested: Pick<ContainerConfig, 'Hostname' | 'ExposedPorts'> = cfg): void {
  checkContainerMode(hc, requested);
  const mode = modeOf(hc);
  for (const [name, ep] of Object.entries(nc.EndpointsConfig ?? {})) {
    checkEndpointSettings(name, ep);
    // Aliases and addresses are a user-defined network's (the CLI checks aliases itself).
    if (!ep || userDefined(name)) continue;
    if (ep.IPAMConfig?.IPv4Address) throw invalidArgument(`invalid config for network ${name}: user specified IP address is supported on user defined networks only`);
    if (ep.Aliases?.length) throw invalidArgument(`invalid config for network ${name}: network-scoped alias is supported only for containers in user defined networks`);
  }
  const epMac = primaryMac(hc, nc, {});
  if (epMac && mode !== 'bridge' && mode !== 'user') throw invalidArgument('conflicting options: mac-address and the network mode');
  if (cfg.MacAddress) {
    if (mode !== 'bridge' && mode !== 'user') throw invalidArgument('conflicting options: mac-address and the network mode');
    checkEndpointSettings(hc.NetworkMode || 'default', { MacAddress: cfg.MacAddress });
    const ep = primaryMac(hc, nc, {});
    if (ep && parseMac(ep) !== parseMac(cfg.MacAddress)) throw invalidArgument('the container-wide MAC address must match the endpoint-specific MAC address for the main network, or be left empty');
  }
  const links = hc.Links ?? [];
  if (!links.length) return;
  if (mode === 'host') throw invalidArgument("conflicting options: host type networking can't be used with links. This would result in undefined behavior");
  // On a user-defined network dockerd ignores HostConfig.Links (the CLI sends them per endpoint).
  if (mode === 'user') return;
  for (const l of links) linkTarget(m, parseLink(l).name);
}

/** The container a link names, through --network container: chains; 400 if missing or on the host's network. */
function linkTarget(m: ContainerManager, name: string): ContainerRecord {
  const get = (ref: string) => {
    try {
      return m.get(ref);
    } catch (err) {
      // 400, not 404: the docker CLI answers a 404 from create by pulling the image.
      if (isBerthError(err, 'NOT_FOUND')) throw invalidArgument(`could not get container for ${ref}: ${err.message}`);
      throw err;
    }
  };
  let t = get(name);
  for (let hops = 0; modeOf(t.HostConfig) === 'container' && hops < 16; hops++) t = get(t.HostConfig.NetworkMode!.slice('container:'.length));
  if (modeOf(t.HostConfig) === 'host') throw invalidArgument("conflicting options: host type networking can't be used with links. This would result in undefined behavior");
  return t;
}

export interface LegacyLink { alias: string; linkName: string; ip: string; target: ContainerRecord }

/**
 * The legacy links of a container starting (or exec'ing) on the default bridge, with
 * each target's bridge address. Fails like dockerd's start when a target is gone,
 * left the default bridge, or is not running (500s there: errors of the start).
 */
export function legacyLinks(m: ContainerManager, c: ContainerRecord): LegacyLink[] {
  if (!c.HostConfig.Links?.length || modeOf(c.HostConfig) !== 'bridge' || !c.Network?.Networks.bridge) return [];
  const out: LegacyLink[] = [];
  for (const spec of c.HostConfig.Links) {
    const { name, alias } = parseLink(spec);
    let t: ContainerRecord;
    try {
      t = linkTarget(m, name);
    } catch (err) {
      throw internal((err as Error).message);
    }
    const linkName = `/${c.Name}/${alias}`;
    const onBridge = modeOf(t.HostConfig) === 'bridge' || !!t.NetworkingConfig.EndpointsConfig?.bridge;
    if (!onBridge) throw internal(`Cannot link to /${t.Name}, as it does not belong to the default network`);
    const ip = t.Network?.Networks.bridge?.IPAddress;
    if (!t.State.Running || !ip) throw internal(`Cannot link to a non running container: /${t.Name} AS ${linkName}`);
    out.push({ alias, linkName, ip, target: t });
  }
  return out;
}

/** /etc/hosts lines for the links: "ip\talias hostname [name]". */
export function linkHostsLines(links: LegacyLink[]): string[] {
  return links.map((l) => `${l.ip}\t${linkHostNames(l.alias, l.target.Config.Hostname || l.target.Id.slice(0, 12), l.target.Name)}`);
}

/** The legacy link variables of every link, in link order. */
export function linkEnv(links: LegacyLink[]): string[] {
  return links.flatMap((l) => linkEnvVars({ linkName: l.linkName, ip: l.ip, env: l.target.Config.Env ?? [], exposed: Object.keys(l.target.Config.ExposedPorts ?? {}) }));
}

/** HostConfig.Links as dockerd's inspect shows them: "/target:/linker/alias" (links to containers gone are left out). */
export function inspectLinks(m: ContainerManager, c: ContainerRecord): string[] | null {
  // On a user-defined network dockerd registers no legacy link: inspect shows none.
  if (!c.HostConfig.Links?.length || modeOf(c.HostConfig) === 'user') return null;
  const out: string[] = [];
  for (const spec of c.HostConfig.Links) {
    try {
      const { name, alias } = parseLink(spec);
      out.push(`/${m.get(name).Name}:/${c.Name}/${alias}`);
    } catch {
      // A removed target: dockerd's link index forgets it too.
    }
  }
  return out.length ? out : null;
}

/**
 * A linked container started again (new address): rewrite its line in the /etc/hosts of
 * the running containers linking to it, as dockerd does. In place: the file is bind-mounted.
 */
export async function refreshLinkingHosts(m: ContainerManager, c: ContainerRecord): Promise<void> {
  const ip = c.Network?.Networks.bridge?.IPAddress;
  if (!ip) return;
  for (const p of m.store.all()) {
    if (p.Id === c.Id || !p.State.Running || !p.HostConfig.Links?.length || modeOf(p.HostConfig) !== 'bridge') continue;
    const names: string[] = [];
    for (const spec of p.HostConfig.Links) {
      try {
        const { name, alias } = parseLink(spec);
        if (m.get(name).Id === c.Id) names.push(linkHostNames(alias, c.Config.Hostname || c.Id.slice(0, 12), c.Name));
      } catch {
        // A link to a container since removed: nothing to refresh.
      }
    }
    if (!names.length) continue;
    const text = await readFile(p.HostsPath, 'utf8').catch(() => undefined);
    if (text === undefined) continue;
    const next = text.split('\n').map((line) => {
      const tab = line.indexOf('\t');
      return tab > 0 && names.includes(line.slice(tab + 1)) ? `${ip}\t${line.slice(tab + 1)}` : line;
    }).join('\n');
    if (next !== text) await writeFile(p.HostsPath, next).catch(() => {});
  }
}
