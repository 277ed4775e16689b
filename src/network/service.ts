/**
 * The network service: named networks and container sandboxes, persisted in one
 * crash-safe state file (leases are the endpoints recorded there), wired by a driver.
 */
import { join } from 'node:path';
import { mkdir, readdir } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { BerthError, conflict, invalidArgument, notFound, failedPrecondition } from '../common/errors.js';

const forbidden = (msg: string) => new BerthError('FORBIDDEN', msg);
import { writeFileAtomic, readJsonIfExists, sweepAtomicTemps } from '../common/fs.js';
import { KeyedMutex } from '../common/lock.js';
import { Netlink } from './netlink.js';
import { createNetns, inNetns, removeNetns } from './netns.js';
import { hostRoutes, type Cidr } from './ipam.js';
import { checkCreateOptions, freeSubnet, planNetwork, usedSubnets } from './network-plan.js';
import { resolvePorts, type PortRequest } from './ports.js';
import { HostPorts } from './host-ports.js';
import { BridgeDriver } from './bridge-driver.js';
import { bringUp } from './bring-up.js';
import type { NftPort } from './nft.js';
import type { EmbeddedDns } from './dns-server.js';
import { dnsNames, hasEmbeddedDns } from './dns-names.js';
import { SandboxDns, type DnsSandbox } from './sandbox-dns.js';
import { PREDEFINED, bridgeRecord, matchesFilters, predefinedRecord as predefined } from './records.js';
import { newEndpoint } from './endpoint.js';
import { gatewayOf, moveWayOut } from './gateway.js';
import type { AttachRequest, CreateNetworkOptions, EndpointState, NetworkFilters, NetworkRecord, NetworkService, SandboxRequest, SandboxState } from './types.js';

export interface NetworkServiceOptions {
  dataRoot: string;
  execRoot: string;
  /** Name of the default bridge's interface (docker0's counterpart). */
  bridgeName: string;
  /** The nftables table (family ip) berth owns. */
  table: string;
}

/** portReq: the container's -p/-P, published when it gets a way out it lacked at start. */
type StoredSandbox = DnsSandbox & { nft: NftPort[]; portReq?: PortRequest };
/** reclaim: bridges of removed networks not yet deleted (a crash in between leaves them). */
interface State { networks: NetworkRecord[]; sandboxes: Record<string, StoredSandbox>; reclaim?: string[] }

/** How often the FORWARD policy is re-read (in-process, ~0.3 ms a time). */
const FORWARD_CHECK_MS = 2000;

export class LocalNetworkService implements NetworkService {
  readonly #o: NetworkServiceOptions;
  readonly #driver: BridgeDriver;
  #state: State = { networks: [], sandboxes: {} };
  #saving: Promise<void> = Promise.resolve();
  readonly #lock = new KeyedMutex();
  /** Namespaces made by reserveNamespace that no setUp has wired yet. */
  readonly #reserved = new Set<string>();
  #dns: EmbeddedDns | undefined;
  readonly #sandboxDns = new SandboxDns((m) => process.stderr.write(m + '\n'));
  #forwardTimer: NodeJS.Timeout | undefined;
  /** A socket per published host port, held while the mapping exists (host-ports.ts). */
  readonly #hostPorts = new HostPorts();

  constructor(o: NetworkServiceOptions) {
    this.#o = o;
    this.#driver = new BridgeDriver({
      table: o.table,
      owner: o.execRoot,
      tableState: () => ({
        nets: this.#state.networks.filter((n) => n.Driver === 'bridge').map((n) => ({ bridge: n.bridge, subnet: n.IPAM.Config[0]!.Subnet, internal: n.Internal })),
        ports: Object.values(this.#state.sandboxes).flatMap((s) => s.nft),
      }),
    });
  }

  get #file(): string {
    return join(this.#o.dataRoot, 'network', 'state.json');
  }

  get #netnsDir(): string {
    return join(this.#o.execRoot, 'netns');
  }

  #save(): Promise<void> {
    // Writes are serialized; each writes the state as it is when its turn comes.
    // Atomic but not fsynced (2 fsyncs fewer per container start): a berthd crash keeps
    // the page cache, and after a machine crash no netns or veth survives anyway, so
    // reconcile() reclaims whatever a stale file still lists.
    this.#saving = this.#saving.catch(() => {}).then(() => writeFileAtomic(this.#file, JSON.stringify(this.#state), 0o600, { durable: false }));
    return this.#saving;
  }

  /** Load the state, create the predefined networks, and make every bridge exist. */
  async init(): Promise<void> {
    await mkdir(join(this.#o.dataRoot, 'network'), { recursive: true, mode: 0o700 });
    await mkdir(this.#netnsDir, { recursive: true, mode: 0o711 });
    await sweepAtomicTemps(this.#file);
    const st = await readJsonIfExists<State>(this.#file);
    if (st && Array.isArray(st.networks)) this.#state = { networks: st.networks, sandboxes: st.sandboxes ?? {}, reclaim: st.reclaim ?? [] };
    // Bridges whose network's removal was cut short by a crash.
    for (const bridge of this.#state.reclaim ?? []) {
      if (!this.#state.networks.some((n) => n.bridge === bridge)) await this.#driver.destroy({ ...predefined('none'), Driver: 'bridge', bridge }).catch(() => {});
    }
    this.#state.reclaim = [];
    for (const name of ['host', 'none'] as const) if (!this.#byName(name)) this.#state.networks.push(predefined(name));
    if (!this.#byName('bridge')) {
      const subnet = await this.#freeSubnet(undefined);
      this.#state.networks.unshift(bridgeRecord({ id: createHash('sha256').update(`berth-bridge-${this.#o.bridgeName}`).digest('hex'), name: 'bridge', bridge: this.#o.bridgeName, subnet, internal: false, labels: {}, options: { 'com.docker.network.bridge.default_bridge': 'true', 'com.docker.network.bridge.name': this.#o.bridgeName } }));
    }
    await this.#save();
    for (const n of this.#state.networks) {
      await bringUp(n, { driver: this.#driver, inUse: (x) => this.endpointsOf(x.Id).length > 0, freeSubnet: () => this.#freeSubnet(undefined), save: () => this.#save() });
    }
    await this.#driver.sweepForward();
    // Docker started after berthd sets FORWARD to DROP: re-checked cheaply on a timer
    // (running containers) and at every setUp (a new container works at once).
    this.#forwardTimer = setInterval(() => void this.#checkForward().catch(() => {}), FORWARD_CHECK_MS);
    this.#forwardTimer.unref();
  }

  #checkForward(): Promise<void> {
    return this.#driver.refreshForwardCompat(this.#state.networks.filter((n) => n.Driver === 'bridge').map((n) => n.bridge));
  }

  /** Serve names on the user-defined networks (now and as they come and go). */
  async useDns(dns: EmbeddedDns): Promise<void> {
    this.#dns = dns;
    await dns.sync(this.#state.networks);
  }

  /** Every sandbox, for the embedded DNS's name table (read live, never copied). */
  sandboxes(): SandboxState[] {
    return Object.values(this.#state.sandboxes);
  }

  async renameContainer(containerId: string, newName: string): Promise<void> {
    const sb = this.#state.sandboxes[containerId];
    if (!sb || sb.containerName === newName) return;
    const old = sb.containerName;
    sb.containerName = newName;
    for (const ep of Object.values(sb.Networks)) if (ep.DNSNames) ep.DNSNames = ep.DNSNames.map((d) => (d === old ? newName : d));
    await this.#save();
  }

  #byName(name: string): NetworkRecord | undefined {
    return this.#state.networks.find((n) => n.Name === name);
  }

  async #freeSubnet(want: Cidr | undefined): Promise<Cidr> {
    return freeSubnet(usedSubnets(this.#state.networks, await hostRoutes()), want);
  }

  async create(o: CreateNetworkOptions): Promise<{ Id: string; Warning: string }> {
    checkCreateOptions(o);
    return this.#lock.run('networks', async () => {
      const { id, bridge, subnet, gateway, ipRange, options } = planNetwork(o, this.#state.networks, usedSubnets(this.#state.networks, await hostRoutes()));
      const adopted = this.#driver.claimBridge(bridge);
      const rec = bridgeRecord({ id, name: o.Name, bridge, subnet, gateway, ipRange, internal: !!o.Internal, labels: { ...(o.Labels ?? {}) }, options });
      rec.Attachable = !!o.Attachable;
      if (adopted) rec.adoptedBridge = adopted;
      this.#state.networks.push(rec);
      try {
        await this.#driver.ensure(rec);
        await this.#save();
        await this.#dns?.sync(this.#state.networks);
      } catch (err) {
        this.#state.networks = this.#state.networks.filter((n) => n !== rec);
        await this.#driver.destroy(rec).catch(() => {});
        await this.#driver.syncTable().catch(() => {});
        throw err;
      }
      return { Id: id, Warning: '' };
    });
  }

  list(f: NetworkFilters = {}): NetworkRecord[] {
    return this.#state.networks.filter((n) => matchesFilters(n, f, (id) => this.endpointsOf(id).length));
  }

  get(ref: string): NetworkRecord {
    const nets = this.#state.networks;
    const n = nets.find((x) => x.Id === ref) ?? nets.find((x) => x.Name === ref);
    if (n) return n;
    const byPrefix = ref ? nets.filter((x) => x.Id.startsWith(ref)) : [];
    if (byPrefix.length === 1) return byPrefix[0]!;
    if (byPrefix.length > 1) throw invalidArgument(`network ${ref} is ambiguous (${byPrefix.length} matches found on id prefix)`);
    throw notFound(`network ${ref} not found`);
  }

  endpointsOf(networkId: string): Array<{ sandbox: SandboxState; ep: EndpointState }> {
    const out: Array<{ sandbox: SandboxState; ep: EndpointState }> = [];
    for (const s of Object.values(this.#state.sandboxes)) for (const ep of Object.values(s.Networks)) if (ep.NetworkID === networkId) out.push({ sandbox: s, ep });
    return out;
  }

  async remove(ref: string): Promise<void> {
    const n = this.get(ref);
    if (PREDEFINED.has(n.Name)) throw forbidden(`${n.Name} is a pre-defined network and cannot be removed`);
    await this.#lock.run('networks', async () => {
      const eps = this.endpointsOf(n.Id);
      if (eps.length) throw conflict(`error while removing network: network ${n.Name} id ${n.Id} has active endpoints (${eps.map((e) => e.sandbox.containerName).join(', ')}); disconnect or stop them first`);
      this.#state.networks = this.#state.networks.filter((x) => x !== n);
      // An admin's bridge is never deleted, not even after a crash here.
      this.#state.reclaim ??= [];
      if (!n.adoptedBridge) this.#state.reclaim.push(n.bridge);
      await this.#save();
      await this.#dns?.sync(this.#state.networks);
      await this.#driver.destroy(n).catch(() => {});
      await this.#driver.syncTable();
      await this.#driver.sweepForward();
      this.#state.reclaim = this.#state.reclaim.filter((b) => b !== n.bridge);
      await this.#save();
    });
  }

  async prune(filters: { label?: string[]; 'label!'?: string[]; until?: string[] } = {}): Promise<NetworkRecord[]> {
    const out: NetworkRecord[] = [];
    const until = filters.until?.[0] ? Date.parse(filters.until[0]) || Number(filters.until[0]) * 1000 : undefined;
    for (const n of this.list({ label: filters.label })) {
      if (PREDEFINED.has(n.Name) || this.endpointsOf(n.Id).length) continue;
      if (until !== undefined && Date.parse(n.Created) >= until) continue;
      // label!: a network carrying any of these labels (key, or key=value) is kept.
      if ((filters['label!'] ?? []).some((l) => matchesFilters(n, { label: [l] }, () => 0))) continue;
      await this.remove(n.Id).then(() => out.push(n), () => {});
    }
    return out;
  }

  sandbox(containerId: string): SandboxState | undefined {
    return this.#state.sandboxes[containerId];
  }

  #leased(n: NetworkRecord): Set<string> {
    return new Set(this.endpointsOf(n.Id).map((e) => e.ep.IPAddress));
  }

  #endpoint(containerId: string, n: NetworkRecord, a: AttachRequest, ifIndex: number): EndpointState {
    return newEndpoint({ containerId, network: n, attach: a, ifIndex, leased: this.#leased(n) });
  }

  #portTaken = (p: { hostIp: string; proto: string; hostPort: number }) =>
    Object.values(this.#state.sandboxes).some((s) => s.nft.some((x) => x.proto === p.proto && x.hostPort === p.hostPort && (!x.hostIp || !p.hostIp || x.hostIp === p.hostIp)));

  reserveNamespace(containerId: string): string {
    const path = join(this.#netnsDir, containerId.slice(0, 12));
    if (this.#reserved.has(path)) return path;
    createNetns(path, loopbackUp);
    this.#reserved.add(path);
    return path;
  }

  async setUp(req: SandboxRequest): Promise<SandboxState> {
    const id = req.containerId;
    if (this.#state.sandboxes[id]) await this.tearDown(id);
    const sb: StoredSandbox = { containerId: id, containerName: req.containerName, SandboxKey: join(this.#netnsDir, id.slice(0, 12)), Networks: {}, Ports: {}, nft: [] };
    if (req.dns?.length) sb.dns = [...req.dns];
    if (Object.keys(req.portBindings ?? {}).length || req.publishAll) sb.portReq = { portBindings: req.portBindings, publishAll: req.publishAll, exposed: req.exposed };
    let gw: EndpointState | undefined;
    // Leases and ports are chosen under one lock so concurrent starts never collide.
    await this.#lock.run('alloc', async () => {
      req.networks.forEach((a, i) => {
        const n = this.get(a.network);
        if (sb.Networks[n.Name]) throw conflict(`container is already connected to network ${n.Name}`);
        sb.Networks[n.Name] = this.#endpoint(id, n, a, i);
        sb.Networks[n.Name]!.DNSNames = n.Name === 'bridge' ? null : dnsNames(req.containerName, a.aliases, id);
      });
      // Ports lead where the container goes out; with no way out (only --internal
      // networks) nothing is published, silently as with dockerd.
      gw = gatewayOf(sb, (name) => this.#byName(name));
      if (gw) {
        const p = await resolvePorts(req, gw.IPAddress, this.#portTaken, this.#hostPorts);
        sb.nft = p.nft;
        sb.Ports = p.wire;
      }
      this.#state.sandboxes[id] = sb;
    });
    try {
      await this.#save();
      // The first user network leads 127.0.0.11 (the primary unless that is the default
      // bridge: dockerd starts its resolver for any user network the container joins).
      const primary = Object.entries(sb.Networks).find(([name]) => hasEmbeddedDns(this.get(name)));
      const dnsNet = primary ? this.get(primary[0]) : undefined;
      if (this.#reserved.delete(sb.SandboxKey)) {
        // Made ahead by reserveNamespace (loopback is up): only the DNS redirect is left.
        if (dnsNet) sb.resolver = inNetns(sb.SandboxKey, () => this.#sandboxDns.install(sb, dnsNet, primary![1].Gateway));
      } else {
        createNetns(sb.SandboxKey, () => {
          loopbackUp();
          // Done here, while the thread is in the new netns: no process, no second switch.
          if (dnsNet) sb.resolver = this.#sandboxDns.install(sb, dnsNet, primary![1].Gateway);
        });
      }
      const names = Object.values(sb.Networks).map((ep) => ep.hostVeth).join();
      for (const [name, ep] of Object.entries(sb.Networks)) await this.#driver.attach(sb.SandboxKey, this.get(name), ep, { defaultRoute: ep === gw });
      if (Object.values(sb.Networks).map((ep) => ep.hostVeth).join() !== names) await this.#save(); // a veth renamed on a clash
      await this.#driver.publish(sb.nft);
      await this.#checkForward().catch(() => {});
      return sb;
    } catch (err) {
      await this.tearDown(id).catch(() => {});
      throw err;
    }
  }

  async tearDown(containerId: string, opts: { unplug?: boolean } = {}): Promise<Array<{ name: string; networkId: string; driver: string }>> {
    const sb = this.#state.sandboxes[containerId];
    if (!sb) {
      const path = join(this.#netnsDir, containerId.slice(0, 12));
      this.#reserved.delete(path);
      await removeNetns(path);
      return [];
    }
    const left = Object.entries(sb.Networks).map(([name, ep]) => ({ name, networkId: ep.NetworkID, driver: this.#state.networks.find((n) => n.Id === ep.NetworkID)?.Driver ?? 'bridge' }));
    // No RTM_DELLINK per endpoint here: that call waits out an RCU grace period in the
    // kernel (~10 ms, blocking berthd's thread) on every `run --rm`. Removing the
    // namespace is enough: when its last user is gone the kernel destroys it, and a
    // veth pair dies with the namespace that holds one end. Ports and leases go now.
    await this.#driver.unpublish(sb.nft).catch(() => {});
    for (const p of sb.nft) this.#hostPorts.release(p);
    // Unless the namespace outlives this: its veths would stay on the bridge with an
    // address and MAC leased again at once (to this container restarted, as likely as not).
    if (opts.unplug) {
      for (const ep of Object.values(sb.Networks)) {
        const n = this.#state.networks.find((x) => x.Id === ep.NetworkID);
        if (n) await this.#driver.detach(sb.SandboxKey, n, ep).catch(() => {});
      }
    }
    await removeNetns(sb.SandboxKey);
    delete this.#state.sandboxes[containerId];
    await this.#save();
    return left;
  }

  async connect(containerId: string, a: AttachRequest): Promise<EndpointState> {
    const sb = this.#state.sandboxes[containerId];
    if (!sb) throw failedPrecondition(`container ${containerId} has no network namespace of its own (not running, or --network host/none/container:)`);
    const n = this.get(a.network);
    if (sb.Networks[n.Name]) throw forbidden(`endpoint with name ${sb.containerName} already exists in network ${n.Name}`);
    const used = new Set(Object.values(sb.Networks).map((e) => e.ifName));
    let i = 0;
    while (used.has(`eth${i}`)) i++;
    const ep = await this.#lock.run('alloc', async () => {
      const e = this.#endpoint(containerId, n, a, i);
      e.DNSNames = dnsNames(sb.containerName, a.aliases, containerId);
      sb.Networks[n.Name] = e;
      // The container's first way out (it had only --internal networks): its ports now lead there.
      if (sb.portReq && gatewayOf(sb, (name) => this.#byName(name)) === e) {
        try {
          const p = await resolvePorts(sb.portReq, e.IPAddress, this.#portTaken, this.#hostPorts);
          sb.nft = p.nft;
          sb.Ports = p.wire;
        } catch (err) {
          delete sb.Networks[n.Name];
          throw err;
        }
      }
      return e;
    });
    const published = sb.nft.filter((p) => p.ip === ep.IPAddress);
    try {
      await this.#save();
      const veth = ep.hostVeth;
      // The way out of a container that had none (only --internal networks so far).
      await this.#driver.attach(sb.SandboxKey, n, ep, { defaultRoute: gatewayOf(sb, (name) => this.#byName(name)) === ep });
      if (ep.hostVeth !== veth) await this.#save(); // renamed on a clash
      await this.#driver.publish(published);
      // A container whose 127.0.0.11 led nowhere (its user networks all left) gets it back.
      if (this.#sandboxDns.follow(sb, (name) => this.get(name))) await this.#save();
      // A container that began on the default bridge gets the embedded DNS with its first user network.
      else if (this.#sandboxDns.join(sb, n, ep.Gateway)) await this.#save();
    } catch (err) {
      delete sb.Networks[n.Name];
      if (published.length) {
        sb.nft = [];
        sb.Ports = {};
        await this.#driver.unpublish(published).catch(() => {});
        for (const p of published) this.#hostPorts.release(p);
      }
      await this.#driver.detach(sb.SandboxKey, n, ep).catch(() => {});
      await this.#save().catch(() => {});
      throw err;
    }
    return ep;
  }

  async disconnect(containerId: string, network: string): Promise<void> {
    const sb = this.#state.sandboxes[containerId];
    const n = this.get(network);
    const ep = sb?.Networks[n.Name];
    if (!sb || !ep) throw notFound(`container ${containerId.slice(0, 12)} is not connected to network ${n.Name}`);
    const byName = (name: string) => this.#byName(name);
    const leading = gatewayOf(sb, byName) === ep;
    await this.#driver.detach(sb.SandboxKey, n, ep);
    try {
      const before = sb.nft;
      if (leading) await moveWayOut(this.#driver, sb, gatewayOf(sb, byName, ep));
      // Ports that no way out is left for are dropped: their host ports go free.
      if (sb.nft.length === 0) for (const p of before) this.#hostPorts.release(p);
    } catch (err) {
      process.stderr.write(`berthd: the published ports and default route of ${sb.containerName} could not move to another network (${(err as Error).message})\n`);
    }
    // A sandbox set up before dnsNetwork was recorded: its redirect led to the first network.
    if (sb.resolver && sb.dnsNetwork === undefined) sb.dnsNetwork = Object.values(sb.Networks)[0]?.NetworkID;
    delete sb.Networks[n.Name];
    // Docker keeps the embedded DNS while any user network is attached.
    try {
      this.#sandboxDns.follow(sb, (name) => this.get(name));
    } catch (err) {
      process.stderr.write(`berthd: 127.0.0.11 in ${sb.containerName} could not follow to another network (${(err as Error).message})\n`);
    }
    await this.#save();
  }

  async reconcile(live: Set<string>): Promise<void> {
    for (const id of Object.keys(this.#state.sandboxes)) if (!live.has(id)) await this.tearDown(id).catch(() => {});
    const keep = new Set(Object.values(this.#state.sandboxes).map((s) => s.SandboxKey));
    for (const f of await readdir(this.#netnsDir).catch(() => [] as string[])) {
      const p = join(this.#netnsDir, f);
      if (!keep.has(p)) await removeNetns(p);
    }
    await this.#driver.syncTable();
    this.#hostPorts.holdAgain(Object.values(this.#state.sandboxes));
  }

  async close(): Promise<void> {
    clearInterval(this.#forwardTimer);
    await this.#dns?.close();
    await this.#saving.catch(() => {});
    if (Object.keys(this.#state.sandboxes).length === 0) {
      // The bridges stay, as docker0 and dockerd's user bridges do across restarts: their
      // routes keep the subnets reserved, so another engine choosing a pool meanwhile
      // avoids them and the next start finds them still free (BridgeDriver.park).
      for (const n of this.#state.networks) await this.#driver.park(n).catch(() => {});
      await this.#driver.dropTable();
    }
    this.#hostPorts.releaseAll();
    this.#driver.close();
  }
}

/** Loopback up, in the namespace the calling thread is in. */
function loopbackUp(): void {
  const nl = new Netlink();
  try { nl.setUp(1); } finally { nl.close(); }
}
