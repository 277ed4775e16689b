/**
 * The embedded DNS server's name table, pure: who is asking (by the network the query
 * came in on and its source address), and which addresses a name has on the networks
 * that asker shares. Read from the network service's live state at every query, so
 * connect, disconnect, rename and rm show at once without any cache to keep in step.
 */
import type { EndpointState, NetworkRecord, SandboxState } from './types.js';

export interface NameView {
  networks(): NetworkRecord[];
  sandboxes(): SandboxState[];
}

export interface Asker {
  sandbox: SandboxState;
  /** The network the query arrived on (its gateway is the nameserver asked). */
  network: NetworkRecord;
  /** The asker's user-defined networks, the one asked on first. */
  shared: NetworkRecord[];
}

/** Lowercase without the trailing dot: DNS names compare case-insensitively. */
export function normalizeName(name: string): string {
  return name.replace(/\.$/, '').toLowerCase();
}

/** Does this network get embedded DNS? Like docker: user-defined bridge networks only. */
export function hasEmbeddedDns(n: NetworkRecord): boolean {
  return n.Driver === 'bridge' && n.Name !== 'bridge';
}

/** The container whose endpoint on `networkId` has address `ip`, with its DNS-enabled networks. */
export function findAsker(view: NameView, networkId: string, ip: string): Asker | undefined {
  const nets = view.networks();
  const network = nets.find((n) => n.Id === networkId);
  if (!network) return undefined;
  for (const sb of view.sandboxes()) {
    const ep = Object.values(sb.Networks).find((e) => e.NetworkID === networkId && e.IPAddress === ip);
    if (!ep) continue;
    const mine = new Set(Object.values(sb.Networks).map((e) => e.NetworkID));
    const shared = [network, ...nets.filter((n) => n.Id !== network.Id && mine.has(n.Id) && hasEmbeddedDns(n))];
    return { sandbox: sb, network, shared };
  }
  return undefined;
}

function endpointsOn(view: NameView, networkId: string): Array<{ sb: SandboxState; ep: EndpointState }> {
  const out: Array<{ sb: SandboxState; ep: EndpointState }> = [];
  for (const sb of view.sandboxes()) for (const ep of Object.values(sb.Networks)) if (ep.NetworkID === networkId) out.push({ sb, ep });
  return out;
}

/**
 * IPv4 addresses of `name` as the asker sees them: container name, alias or short id
 * on a shared network (the first network with a match wins, all its matches returned,
 * as several containers may share an alias), or "name.network" for one network only.
 * undefined when the name is not one of ours (the caller forwards it).
 */
export function lookup(view: NameView, asker: Asker, rawName: string): string[] | undefined {
  const name = normalizeName(rawName);
  if (!name) return undefined;
  const search: Array<{ net: NetworkRecord; short: string }> = asker.shared.map((net) => ({ net, short: name }));
  // "web.mynet" names web on mynet only (docker answers these too).
  for (const net of asker.shared) {
    const suffix = '.' + net.Name.toLowerCase();
    if (name.endsWith(suffix) && name.length > suffix.length) search.unshift({ net, short: name.slice(0, -suffix.length) });
  }
  // The asker's own links come first (docker: a link alias shadows a container name).
  for (const { net, short } of search) {
    const target = linkAlias(asker.sandbox, net.Id, short);
    const ips = target === undefined ? [] : namedOn(view, net, target);
    if (ips.length) return ips;
  }
  for (const { net, short } of search) {
    const ips = namedOn(view, net, short);
    if (ips.length) return ips;
  }
  return undefined;
}

/** Addresses of the endpoints on `net` with this name, alias or short id. */
function namedOn(view: NameView, net: NetworkRecord, short: string): string[] {
  const ips: string[] = [];
  for (const { ep } of endpointsOn(view, net.Id)) {
    if ((ep.DNSNames ?? []).some((d) => d.toLowerCase() === short) || (ep.Aliases ?? []).some((a) => a.toLowerCase() === short)) ips.push(ep.IPAddress);
  }
  return ips;
}

/** The container name a link of the asker's endpoint on that network maps `alias` to ("name:alias", or "name" = both). */
function linkAlias(sb: SandboxState, networkId: string, alias: string): string | undefined {
  const ep = Object.values(sb.Networks).find((e) => e.NetworkID === networkId);
  // Later links win, as they overwrite earlier ones in docker's alias map.
  for (const l of [...(ep?.Links ?? [])].reverse()) {
    const i = l.indexOf(':');
    const name = (i < 0 ? l : l.slice(0, i)).replace(/^\//, '');
    const a = i < 0 ? name : l.slice(i + 1).replace(/^.*\//, '');
    if (a.toLowerCase() === alias) return name.toLowerCase();
  }
  return undefined;
}

/** "4.3.2.1.in-addr.arpa" → "1.2.3.4"; undefined for anything else. */
export function reverseName(rawName: string): string | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.in-addr\.arpa$/.exec(normalizeName(rawName));
  if (!m || m.slice(1).some((x) => Number(x) > 255)) return undefined;
  return [m[4], m[3], m[2], m[1]].map(Number).join('.');
}

/** PTR for a container address on a shared network: "name.network", like docker. */
export function reverseLookup(view: NameView, asker: Asker, ip: string): string | undefined {
  for (const net of asker.shared) {
    const hit = endpointsOn(view, net.Id).find((x) => x.ep.IPAddress === ip);
    if (hit) return `${hit.sb.containerName}.${net.Name}`;
  }
  return undefined;
}

/** An endpoint's DNSNames as docker lists them: name, aliases, short id, each once
 * (compose passes the short id as an alias too). */
export function dnsNames(name: string, aliases: string[] | undefined, id: string): string[] {
  return [...new Set([name, ...(aliases ?? []), id.slice(0, 12)])];
}
