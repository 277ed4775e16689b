/**
 * The bridge driver: a Linux bridge per network, a veth pair per endpoint made
 * with netlink (no process spawned on the container start path), and berth's
 * nftables table for NAT, isolation and published ports.
 */
import { openSync, closeSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Netlink, NetlinkError } from './netlink.js';
import { BerthError, conflict, invalidArgument } from '../common/errors.js';
import { cidrText, hostRoutes, macFor, overlaps, parseCidr } from './ipam.js';
import { inNetns } from './netns.js';
import { nftRunSync } from './nft-lib.js';
import { deleteUdpEntries } from './conntrack.js';
import { nft, tableScript, portsScript, deleteTable, type NftNetwork, type NftPort } from './nft.js';
import type { EndpointState, NetworkDriver, NetworkRecord } from './types.js';

const EEXIST = 17;

export interface BridgeDriverOptions {
  table: string;
  /** This berthd's exec root: the alias of the bridges it creates says so (`berth <exec root>`). */
  owner: string;
  /** Everything the table holds, read from the service's state when rewritten. */
  tableState(): { nets: NftNetwork[]; ports: NftPort[] };
}

/**
 * The network's MTU option (`com.docker.network.driver.mtu`, compose's driver_opts),
 * or undefined for the kernel's default; a value no link could take is refused.
 */
export function networkMtu(n: Pick<NetworkRecord, 'Options'>): number | undefined {
  const v = n.Options?.['com.docker.network.driver.mtu'];
  if (v === undefined || v === '') return undefined;
  const mtu = Number(v);
  if (!/^[0-9]+$/.test(v) || mtu < 68 || mtu > 65535) throw invalidArgument(`invalid MTU ${JSON.stringify(v)} in com.docker.network.driver.mtu: use a number from 68 to 65535`);
  return mtu;
}

/** A network's subnet is routed through an interface this berthd does not own. */
export class SubnetTaken extends BerthError {
  constructor(message: string) {
    super('CONFLICT', message);
  }
}

export class BridgeDriver implements NetworkDriver {
  readonly #o: BridgeDriverOptions;
  #nl: Netlink | undefined;
  /** Bridges ensure() brought up: only their networks go into the nft table. */
  readonly #up = new Set<string>();
  /** Bridges for which accept rules went into iptables' FORWARD chain. */
  #forwardRules = new Set<string>();

  constructor(o: BridgeDriverOptions) {
    this.#o = o;
  }

  get #host(): Netlink {
    this.#nl ??= new Netlink();
    return this.#nl;
  }

  async ensure(n: NetworkRecord): Promise<void> {
    if (n.Driver !== 'bridge') return;
    const cfg = n.IPAM.Config[0]!;
    const prefix = Number(cfg.Subnet.split('/')[1]);
    await this.#checkSubnetFree(n);
    // A fixed MAC: left to itself the bridge takes its ports' lowest MAC, which changes as
    // containers come and go; containers' ARP entries for the gateway then go stale and
    // their packets to it (embedded DNS queries first) are lost for seconds.
    const mac = macFor(cfg.Gateway);
    let idx = this.#host.linkIndex(n.bridge);
    // An admin's bridge keeps its own MAC (others may know it), as with dockerd.
    if (idx && !n.adoptedBridge) this.#host.setMac(idx, mac);
    else if (!idx) idx = this.#host.createBridge(n.bridge, mac, networkMtu(n));
    // Marked as this berthd's: other berthds refuse it as their bridge.name (claimBridge).
    if (!n.adoptedBridge) this.#host.setAlias(idx, this.#alias);
    this.#host.addAddress(idx, cfg.Gateway, prefix);
    this.#host.setUp(idx);
    this.#up.add(n.bridge);
    // The table first: its raw drop of 127.0.0.0/8 arriving on the bridge must be in place
    // before route_localnet lets the kernel accept such packets (nft.ts raw_prerouting).
    await this.syncTable();
    // Routing between the bridge and the host's networks, and DNAT of 127.0.0.1 (a host
    // process's connection to a port published on 127.0.0.1 leaves through the bridge
    // with source 127.0.0.1, which the kernel routes only with route_localnet).
    await writeFile('/proc/sys/net/ipv4/ip_forward', '1').catch(() => {});
    await writeFile(`/proc/sys/net/ipv4/conf/${n.bridge}/route_localnet`, '1').catch(() => {});
    await this.#forwardCompat(n.bridge, true);
  }

  /**
   * Adding the subnet's address to the bridge adds its route: refused when another
   * interface already routes an overlapping subnet (another engine took it while this
   * berthd was down and its bridge was gone, or an admin's route). Two bridges with one
   * subnet would give both engines' containers the same addresses and routes.
   * Nothing to check when the route is already on the bridge (kept across a restart).
   */
  async #checkSubnetFree(n: NetworkRecord): Promise<void> {
    const cfg = n.IPAM.Config[0]!;
    const subnet = parseCidr(cfg.Subnet);
    const routes = await hostRoutes();
    if (routes.some((r) => r.dev === n.bridge && r.base === subnet.base && r.prefix === subnet.prefix)) return;
    const clash = routes.find((r) => r.dev !== n.bridge && overlaps(r, subnet));
    if (clash) throw new SubnetTaken(`network ${n.Name} cannot be brought up: its subnet ${cfg.Subnet} overlaps ${cidrText(clash)} on ${clash.dev}, another engine's network or a host route`);
  }

  /**
   * berthd stops with no container left: the bridge stays (as docker0 and dockerd's user
   * bridges do), so its route keeps the subnet reserved from other engines' pool choice
   * until the next start. What only running containers need goes: the FORWARD accept
   * rules, and route_localnet, whose guard (the raw drop) goes with the nft table.
   */
  async park(n: NetworkRecord): Promise<void> {
    if (n.Driver !== 'bridge') return;
    this.#up.delete(n.bridge);
    await writeFile(`/proc/sys/net/ipv4/conf/${n.bridge}/route_localnet`, n.adoptedBridge?.routeLocalnet ?? '0').catch(() => {});
    await this.#forwardCompat(n.bridge, false);
  }

  async destroy(n: NetworkRecord): Promise<void> {
    if (n.Driver !== 'bridge') return;
    this.#up.delete(n.bridge);
    await this.#forwardCompat(n.bridge, false);
    if (!n.adoptedBridge) {
      this.#host.deleteLink(n.bridge);
      return;
    }
    // Not berth's to delete: only what berth added to it goes.
    const idx = this.#host.linkIndex(n.bridge);
    const cfg = n.IPAM.Config[0];
    if (idx && cfg) {
      try { this.#host.addAddress(idx, cfg.Gateway, Number(cfg.Subnet.split('/')[1]), true); } catch { /* removed by its owner */ }
    }
    await writeFile(`/proc/sys/net/ipv4/conf/${n.bridge}/route_localnet`, n.adoptedBridge.routeLocalnet).catch(() => {});
  }

  get #alias(): string {
    return `berth ${this.#o.owner}`;
  }

  /**
   * May a new network use an interface of this name (com.docker.network.bridge.name)?
   * Undefined: there is none, berth creates (and later deletes) it. An existing bridge
   * is an admin's, used as dockerd does and never deleted: its route_localnet is returned
   * to be put back at rm. Refused: any other kind of interface (dockerd's "is not a
   * bridge": eth0 would be re-addressed, then deleted at rm), and the bridges of other
   * berthds, known by their alias, or for berthds from before aliases by their nft table.
   */
  claimBridge(name: string): { routeLocalnet: string } | undefined {
    const link = this.#host.linkInfo(name);
    const other = (link?.alias.startsWith('berth ') && link.alias !== this.#alias ? link.alias.slice(6) : undefined) ?? this.#otherTables().get(name);
    if (other !== undefined) throw conflict(`bridge ${name} belongs to another berthd (${other}); choose another com.docker.network.bridge.name`);
    // None, or this berthd's own (left by a removal a crash cut short): berth's to manage.
    if (!link || link.alias === this.#alias) return undefined;
    // dockerd's words and status (500) for it.
    if (link.kind !== 'bridge') throw new BerthError('INTERNAL', `existing interface ${name} is not a bridge`);
    let routeLocalnet = '0';
    try { routeLocalnet = readFileSync(`/proc/sys/net/ipv4/conf/${name}/route_localnet`, 'utf8').trim(); } catch { /* default */ }
    return { routeLocalnet };
  }

  /** Bridges listed in other berthds' nft tables (`berth`, `berth_<tag>`), with the table's name. */
  #otherTables(): Map<string, string> {
    const out = new Map<string, string>();
    let tables: string;
    try { tables = nftRunSync('list tables ip'); } catch { return out; }
    for (const m of tables.matchAll(/^table ip (berth(?:_[0-9a-f]{6})?)$/gm)) {
      if (m[1] === this.#o.table) continue;
      let set = '';
      try { set = nftRunSync(`list set ip ${m[1]} bridges`); } catch { continue; }
      for (const b of /elements = \{([^}]*)\}/.exec(set)?.[1]?.split(',') ?? []) out.set(b.trim().replace(/^"|"$/g, ''), `nft table ip ${m[1]}`);
    }
    return out;
  }

  /** defaultRoute: this endpoint leads the container out (gateway.ts chooses which). */
  async attach(sandboxKey: string, n: NetworkRecord, ep: EndpointState, o: { defaultRoute?: boolean } = {}): Promise<void> {
    if (n.Driver !== 'bridge') return;
    const master = this.#host.linkIndex(n.bridge);
    if (!master) await this.ensure(n);
    const fd = openSync(sandboxKey, 'r');
    try {
      for (let attempt = 0; ; attempt++) {
        try {
          this.#host.createVeth({ hostName: ep.hostVeth, masterIndex: master || this.#host.linkIndex(n.bridge), peerName: ep.ifName, peerNsFd: fd, peerMac: ep.MacAddress, mtu: networkMtu(n) });
          break;
        } catch (err) {
          // The name is taken: by this container's last veth, which goes only when the kernel
          // gets round to destroying its old namespace (asynchronously: a stop and an
          // immediate start met it), or by another endpoint's hash. Another name; the caller
          // saves the endpoint again.
          if (!(err instanceof NetlinkError && err.errno === EEXIST) || attempt >= 4) throw err;
          ep.hostVeth = `veth${randomBytes(4).toString('hex').slice(0, 7)}`;
        }
      }
    } finally {
      closeSync(fd);
    }
    try {
      this.#host.setHairpin(ep.hostVeth);
      inNetns(sandboxKey, () => {
        const nl = new Netlink();
        try {
          const idx = nl.linkIndex(ep.ifName);
          nl.setUp(idx);
          nl.addAddress(idx, ep.IPAddress, ep.IPPrefixLen);
          // An internal network never gets it: there is nowhere to go.
          if (o.defaultRoute && !n.Internal) nl.addDefaultRoute(ep.Gateway);
        } finally {
          nl.close();
        }
      });
    } catch (err) {
      this.#host.deleteLink(ep.hostVeth);
      throw err;
    }
  }

  async detach(_sandboxKey: string | undefined, n: NetworkRecord, ep: EndpointState): Promise<void> {
    if (n.Driver !== 'bridge') return;
    // Deleting one end of a veth pair deletes both.
    this.#host.deleteLink(ep.hostVeth);
  }

  async publish(ports: NftPort[]): Promise<void> {
    if (!ports.length) return;
    await nft(portsScript(this.#o.table, 'add', ports));
    // UDP flows that reached the host before the mapping would keep bypassing it.
    this.#flushUdp(ports);
  }

  async unpublish(ports: NftPort[]): Promise<void> {
    if (!ports.length) return;
    await nft(portsScript(this.#o.table, 'delete', ports)).catch(() => this.syncTable());
    // After the map element is gone: the port's UDP flows would keep their old DNAT.
    this.#flushUdp(ports);
  }

  /** The UDP ports' conntrack entries go (conntrack.ts); a failure costs only stale flows. */
  #flushUdp(ports: NftPort[]): void {
    const udp = ports.filter((p) => p.proto === 'udp');
    if (!udp.length) return;
    try {
      deleteUdpEntries(udp);
    } catch (err) {
      process.stderr.write(`berthd: conntrack entries of udp ports ${udp.map((p) => p.hostPort).join(', ')} not deleted: ${(err as Error).message}\n`);
    }
  }

  /** Published ports re-pointed in one transaction (no moment without them or with both). */
  async movePorts(from: NftPort[], to: NftPort[]): Promise<void> {
    if (from.length || to.length) await nft(portsScript(this.#o.table, 'delete', from) + portsScript(this.#o.table, 'add', to)).catch(() => this.syncTable());
  }

  /** The container's default route, through gateway (over the one it has, if any). */
  setDefaultRoute(sandboxKey: string, gateway: string): void {
    inNetns(sandboxKey, () => {
      const nl = new Netlink();
      try { nl.addDefaultRoute(gateway, true); } finally { nl.close(); }
    });
  }

  /** Rewrite the whole table from the service's state, atomically. */
  async syncTable(): Promise<void> {
    const s = this.#o.tableState();
    await nft(tableScript(this.#o.table, s.nets.filter((n) => this.#up.has(n.bridge)), s.ports));
  }

  async dropTable(): Promise<void> {
    await deleteTable(this.#o.table);
  }

  close(): void {
    this.#nl?.close();
    this.#nl = undefined;
  }

  /**
   * A running dockerd sets iptables' FORWARD policy to DROP, and a drop in any base
   * chain wins in netfilter: then berth's bridges need accept rules there too.
   */
  async #forwardCompat(bridge: string, add: boolean): Promise<void> {
    if (!add) {
      // Tried even when this berthd did not add them (it may have been restarted).
      this.#forwardRules.delete(bridge);
      for (const dir of ['-i', '-o']) await iptables(['-D', 'FORWARD', dir, bridge, '-m', 'comment', '--comment', 'berth', '-j', 'ACCEPT']).catch(() => {});
      return;
    }
    const rules = await iptables(['-S', 'FORWARD']).catch(() => '');
    if (!/^-P FORWARD DROP/m.test(rules)) return;
    for (const dir of ['-i', '-o']) {
      const spec = ['FORWARD', dir, bridge, '-m', 'comment', '--comment', 'berth', '-j', 'ACCEPT'];
      const present = await iptables(['-C', ...spec]).then(() => true, () => false);
      if (!present) await iptables(['-I', ...spec]);
    }
    this.#forwardRules.add(bridge);
  }

  /**
   * Remove berth's FORWARD accept rules whose bridge no longer exists: left by berthds
   * killed with SIGKILL (any exec root, so any bridge name). A live berthd's bridges
   * exist (it creates a bridge before its rules and deletes the rules before the
   * bridge), so its rules stay; rules without berth's comment are never looked at.
   */
  async sweepForward(): Promise<void> {
    const rules = await iptables(['-S', 'FORWARD']).catch(() => '');
    for (const line of rules.split('\n')) {
      const m = /^-A FORWARD -([io]) (\S+) -m comment --comment "?berth"? -j ACCEPT$/.exec(line.trim());
      if (!m || this.#host.linkIndex(m[2]!)) continue;
      await iptables(['-D', 'FORWARD', `-${m[1]}`, m[2]!, '-m', 'comment', '--comment', 'berth', '-j', 'ACCEPT']).catch(() => {});
    }
  }

  /**
   * Has a FORWARD DROP policy appeared (docker started after berthd) without accept
   * rules for these bridges? Read in-process through libnftables (~0.3 ms, no process:
   * cheap enough for every container start and a timer); iptables is spawned only
   * when rules are missing. iptables-nft keeps FORWARD in `table ip filter`, which is
   * Debian's default; a legacy-iptables host falls back to the spawning check.
   */
  async refreshForwardCompat(bridges: string[]): Promise<void> {
    let listing: string;
    try {
      listing = nftRunSync('list chain ip filter FORWARD');
    } catch (err) {
      if (/No such file|does not exist/i.test((err as Error).message)) return; // no filter table: nothing drops
      for (const b of bridges) await this.#forwardCompat(b, true).catch(() => {});
      return;
    }
    if (!/policy drop;/.test(listing)) return;
    for (const b of bridges) {
      if (listing.includes(`iifname "${b}" `) && listing.includes(`oifname "${b}" `)) continue;
      await this.#forwardCompat(b, true);
    }
  }
}

function iptables(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('iptables', ['-w', ...args], (err, stdout) => (err ? reject(err) : resolve(stdout)));
  });
}
