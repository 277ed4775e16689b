/**
 * The network service: named networks (docker's shapes), and the sandboxes
 * (network namespaces) of containers with their endpoints and published ports.
 */

export interface IpamConfig { Subnet: string; Gateway: string; IPRange?: string }

/** What is persisted and what GET /networks/{id} shows (without Containers). */
export interface NetworkRecord {
  Id: string;
  Name: string;
  Created: string;
  Scope: 'local';
  Driver: 'bridge' | 'host' | 'null';
  EnableIPv6: false;
  IPAM: { Driver: 'default'; Options: Record<string, string>; Config: IpamConfig[] };
  Internal: boolean;
  Attachable: boolean;
  Ingress: false;
  Options: Record<string, string>;
  Labels: Record<string, string>;
  /** The Linux bridge's name ('' for host/none). */
  bridge: string;
  /**
   * Set when the bridge existed before the network (an admin's, named by
   * com.docker.network.bridge.name): berth never deletes it nor changes its MAC, and puts
   * its route_localnet back at rm. Absent: berth created the bridge (records from before
   * this field too, as dockerd treats an unknown creator).
   */
  adoptedBridge?: { routeLocalnet: string };
}

/** One container's attachment to one network (docker's EndpointSettings). */
export interface EndpointState {
  NetworkID: string;
  EndpointID: string;
  Gateway: string;
  IPAddress: string;
  IPPrefixLen: number;
  MacAddress: string;
  Aliases: string[] | null;
  DNSNames: string[] | null;
  IPAMConfig: { IPv4Address?: string } | null;
  /** Links on a user-defined network ("name:alias"): names only this container resolves (docker's EndpointSettings.Links). */
  Links?: string[] | null;
  /** Interface name inside the container and host end of the veth. */
  ifName: string;
  hostVeth: string;
}

export interface PublishedPort { HostIp: string; HostPort: string }

/** A container's network namespace and what is wired into it. */
export interface SandboxState {
  containerId: string;
  containerName: string;
  /** The bind-mounted netns path given to the runtime. */
  SandboxKey: string;
  /** By network name. */
  Networks: Record<string, EndpointState>;
  /** "80/tcp" → bindings, docker's NetworkSettings.Ports (exposed-only ports absent). */
  Ports: Record<string, PublishedPort[]>;
  /** The container's --dns servers: where the embedded DNS forwards its other names. */
  dns?: string[];
  /**
   * The nameserver resolv.conf names on a user-defined primary network: 127.0.0.11 when
   * the in-netns redirect is installed (dns-redirect.ts), else the gateway itself.
   */
  resolver?: string;
}

export interface AttachRequest {
  network: string;
  aliases?: string[];
  ip?: string;
  /** "name[:alias]": on a user-defined network, alias resolves to name for this container only. */
  links?: string[];
  /** The interface's MAC address (lower-case, colons); derived from the IP when absent. */
  mac?: string;
}

export interface SandboxRequest {
  containerId: string;
  containerName: string;
  hostname: string;
  /** The first is the primary network (eth0). */
  networks: AttachRequest[];
  portBindings: Record<string, Array<{ HostIp?: string; HostPort?: string }> | null>;
  publishAll: boolean;
  exposed: string[];
  /** --dns: upstreams of the embedded DNS for this container (the host's when empty). */
  dns?: string[];
}

export interface CreateNetworkOptions {
  Name: string;
  Driver?: string;
  Internal?: boolean;
  Attachable?: boolean;
  Labels?: Record<string, string>;
  Options?: Record<string, string>;
  IPAM?: { Driver?: string; Config?: Array<{ Subnet?: string; Gateway?: string; IPRange?: string }> | null; Options?: Record<string, string> | null } | null;
  EnableIPv6?: boolean;
  CheckDuplicate?: boolean;
}

export interface NetworkFilters { name?: string[]; id?: string[]; label?: string[]; driver?: string[]; type?: string[]; scope?: string[]; dangling?: string[] }

/**
 * Wires one network namespace to one network. The bridge driver does it with
 * netlink and nftables; Kubernetes pods will use a CNI driver through the same interface.
 */
export interface NetworkDriver {
  /** Make the network's host side exist (bridge, gateway address, NAT, filter). Idempotent. */
  ensure(n: NetworkRecord): Promise<void>;
  /** Remove the host side of a network with no endpoints left. */
  destroy(n: NetworkRecord): Promise<void>;
  /** Plug the netns at sandboxKey into the network with the endpoint's address (and the default route through it). */
  attach(sandboxKey: string, n: NetworkRecord, ep: EndpointState, o?: { defaultRoute?: boolean }): Promise<void>;
  /** Unplug; a missing interface is not an error. */
  detach(sandboxKey: string | undefined, n: NetworkRecord, ep: EndpointState): Promise<void>;
}

export interface NetworkService {
  create(opts: CreateNetworkOptions): Promise<{ Id: string; Warning: string }>;
  list(filters?: NetworkFilters): NetworkRecord[];
  /** By full id, unique id prefix or name; NOT_FOUND "network x not found". */
  get(ref: string): NetworkRecord;
  remove(ref: string): Promise<void>;
  /** Unused custom networks matching label (and none of label!), created before until; the removed ones. */
  prune(filters?: { label?: string[]; 'label!'?: string[]; until?: string[] }): Promise<NetworkRecord[]>;
  /** Container ids and names attached to a network (for inspect's Containers). */
  endpointsOf(networkId: string): Array<{ sandbox: SandboxState; ep: EndpointState }>;

  /** Create the container's netns and wire its networks and ports; nothing is left on failure. */
  setUp(req: SandboxRequest): Promise<SandboxState>;
  /**
   * An empty network namespace (loopback up) for the container, at the path its sandbox
   * will have; setUp later wires it. Nothing else is allocated (no address, port or
   * name), so a container whose start is prepared ahead shows no network until it starts.
   * tearDown removes it.
   */
  reserveNamespace(containerId: string): string;
  /**
   * Undo setUp (or reserveNamespace); idempotent, also after a crash. The networks it left.
   * unplug: other processes keep the namespace (--network container:<this>): its
   * interfaces are deleted now rather than with the namespace.
   */
  tearDown(containerId: string, opts?: { unplug?: boolean }): Promise<Array<{ name: string; networkId: string; driver: string }>>;
  /** Attach a running container's sandbox to one more network. */
  connect(containerId: string, req: AttachRequest): Promise<EndpointState>;
  disconnect(containerId: string, network: string): Promise<void>;
  sandbox(containerId: string): SandboxState | undefined;
  /** After a berthd restart: keep the sandboxes of live containers, reclaim the rest. */
  reconcile(live: Set<string>): Promise<void>;
  /** A container was renamed: its DNS name follows at once. */
  renameContainer(containerId: string, newName: string): Promise<void>;
  /** Daemon shutdown: with no sandbox left the nft table goes; bridges stay (their routes keep the subnets reserved). */
  close(): Promise<void>;
}
