/**
 * From a container's record to the OCI spec the runtime runs: user resolved inside
 * the image, /etc files written, namespaces chosen, host facts applied.
 */
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { hostname as hostHostname } from 'node:os';
import { invalidArgument, conflict } from '../common/errors.js';
import type { Spec, Mount } from '../oci/runtime-spec.js';
import { buildSpecWithWarnings, type SpecInput } from '../runtime/spec/index.js';
import { readHostInfo, readHostDevices, DEFAULT_NET_SYSCTLS, ipv6OffSysctl, type HostInfo } from '../runtime/spec/host-info.js';
import { resolveDevices } from './devices.js';
import { containerCgroupsPath } from '../cgroups/index.js';
import { ImageEtcCache, resolveUser } from './support/user.js';
import { mkdirAllInRoot } from './support/in-root.js';
import { renderHosts, renderHostname, renderResolvConf, readHostResolvConf } from './support/etc-files.js';
import { legacyLinks, linkEnv, linkHostsLines } from './network-request.js';
import { checkExecSize } from './support/exec-size.js';
import { processEnv } from './create-config.js';
import { joinSharedNamespaces, shareShm } from './shared-namespaces.js';
import { requestedNetworks } from './network-hooks.js';
import type { ContainerManager } from './manager.js';
import type { ContainerRecord } from './types.js';

let hostInfo: Promise<HostInfo> | undefined;
const host = () => (hostInfo ??= readHostInfo());
const etcCache = new ImageEtcCache();

/**
 * The image's /etc/passwd and /etc/group answer for this container while its own layer is
 * empty (a fresh container). Anything written since (by its process, `docker cp`, or runc
 * making a mount point) sends it back to its own files: even a write far from /etc may be
 * the target of an image's /etc/passwd symlink.
 */
async function imageEtc(m: ContainerManager, c: ContainerRecord): Promise<{ cache: ImageEtcCache; image: string } | undefined> {
  const upper = await m.deps.snapshots.upperDir(c.Id).catch(() => undefined);
  if (upper === undefined) return undefined;
  try {
    if (readdirSync(upper).length > 0) return undefined;
  } catch {
    return undefined;
  }
  return { cache: etcCache, image: c.Image };
}

/**
 * The namespace the container's network lives in. A container:<x> one is x's, resolved
 * by prepareContainerSpec (x must run then). An exec or a probe builds only the process
 * part, which does not depend on it: it works whatever x has done since (stopped, gone).
 */
function networkNamespace(c: ContainerRecord): NonNullable<SpecInput['namespaces']>['network'] {
  const mode = c.HostConfig.NetworkMode || 'default';
  if (mode === 'host') return 'host';
  if (mode.startsWith('container:')) return 'none';
  // Networking hook: a bridge-mode container runs in the netns network/ prepared.
  if (c.Network) return c.Network.SandboxKey;
  return 'none';
}

/** The running container whose network a container:<x> container joins at its start (dockerd's words when there is none). */
function networkDonor(m: ContainerManager, c: ContainerRecord, mode: string): ContainerRecord {
  const ref = mode.slice('container:'.length);
  const other = m.get(ref);
  if (other.Id === c.Id) throw invalidArgument('cannot join own network');
  if (!other.State.Running || !other.State.Pid) throw conflict(`cannot join network of a non running container: ${ref}`);
  return other;
}

/**
 * A container:<x> container shares x's network and so x's view of it, as with dockerd:
 * x's hostname (its own UTS namespace gets the name) and x's /etc/hosts, /etc/hostname
 * and /etc/resolv.conf files themselves, so names resolve through x's embedded DNS
 * (whose redirect is in the namespace they share). Recorded, so inspect shows x's paths
 * and name, and execs get x's hostname; adopted again at every start (x may be another).
 */
function adoptNetworkOf(c: ContainerRecord, x: ContainerRecord): void {
  c.HostnamePath = x.HostnamePath;
  c.HostsPath = x.HostsPath;
  c.ResolvConfPath = x.ResolvConfPath;
  c.Config.Hostname = containerHostname(x);
  c.Config.Domainname = x.Config.Domainname ?? '';
}

/** The embedded DNS server's address for a container whose primary network is user-defined. */
function embeddedDnsOf(c: ContainerRecord): string | undefined {
  const nets = c.Network ? Object.entries(c.Network.Networks) : [];
  // Any user network (not only the primary) gives the embedded DNS, as with dockerd.
  const user = nets.find(([name]) => name !== 'bridge');
  // 127.0.0.11 when network/ redirected it inside the netns, like docker; else the gateway.
  return user ? (c.Network?.resolver ?? user[1].Gateway) : undefined;
}

function primaryEndpoint(c: ContainerRecord) {
  return c.Network ? Object.values(c.Network.Networks)[0] : undefined;
}

function isNetworkJoiner(c: ContainerRecord): boolean {
  return (c.HostConfig.NetworkMode ?? '').startsWith('container:');
}

export function containerHostname(c: ContainerRecord): string {
  if ((c.HostConfig.NetworkMode === 'host' || c.HostConfig.UTSMode === 'host') && !c.Config.Hostname) return hostHostname();
  return c.Config.Hostname || c.Id.slice(0, 12);
}

/**
 * The container's sysctls: dockerd's network defaults (DEFAULT_NET_SYSCTLS) when it gets a
 * network namespace of its own (not host, not another container's), IPv6 off its
 * interfaces when it is on networks (ipv6OffSysctl), then its own --sysctl.
 */
export function containerSysctls(c: Pick<ContainerRecord, 'HostConfig' | 'Config' | 'NetworkingConfig' | 'Network'>, info: Pick<HostInfo, 'netSysctls' | 'ipv6'>): Record<string, string> | undefined {
  const mode = c.HostConfig.NetworkMode || 'default';
  const own = mode !== 'host' && !mode.startsWith('container:');
  const out: Record<string, string> = {};
  if (own) for (const name of info.netSysctls) out[name] = DEFAULT_NET_SYSCTLS[name]!;
  const mine = c.HostConfig.Sysctls ?? {};
  // A disable_ipv6 of the container's own decides alone: runc writes sysctls in no set
  // order, and `all` is copied to every interface.
  const ownIpv6 = Object.keys(mine).some((k) => /^net\.ipv6\.conf\.[^.]+\.disable_ipv6$/.test(k));
  if (info.ipv6 && !ownIpv6 && requestedNetworks(c as ContainerRecord).length) {
    // `default` for interfaces wired after the runtime's create (a prepared start's,
    // `network connect`'s); those wired before it are named. Loopback is there already.
    out[ipv6OffSysctl('default')] = '1';
    for (const ep of Object.values(c.Network?.Networks ?? {})) out[ipv6OffSysctl(ep.ifName)] = '1';
  }
  Object.assign(out, mine);
  return Object.keys(out).length ? out : undefined;
}

/** Build the process part shared by the container and its execs. */
/** netns: the namespace a start prepared ahead will wire (network/ reserveNamespace). */
export async function specInput(m: ContainerManager, c: ContainerRecord, rootfs: string, netns?: string): Promise<SpecInput> {
  const hc = c.HostConfig;
  const info = await host();
  const user = await resolveUser(rootfs, c.Config.User ?? '', hc.GroupAdd ?? [], await imageEtc(m, c));
  const hostname = containerHostname(c);
  // Legacy links' variables come before the container's own env, which overrides them (dockerd's order).
  const own = new Set((c.Config.Env ?? []).map((e) => e.split('=')[0]));
  const { env, unset } = processEnv([...linkEnv(legacyLinks(m, c)).filter((e) => !own.has(e.split('=')[0])), ...(c.Config.Env ?? [])]);
  if (!env.some((e) => e.startsWith('HOSTNAME=')) && !unset.has('HOSTNAME')) env.unshift(`HOSTNAME=${hostname}`);
  if (c.Config.Tty && !env.some((e) => e.startsWith('TERM=')) && !unset.has('TERM')) env.push('TERM=xterm');
  if (!env.some((e) => e.startsWith('HOME='))) env.push(`HOME=${user.home || '/'}`);
  // Before runc: an env it could never exec (or would take minutes to set) is the request's fault.
  checkExecSize([c.Path, ...c.Args], env, hc.Ulimits);
  if (hc.Init && !m.deps.initPath) throw invalidArgument('--init is not available: no static init binary (install Debian\'s tini) was found');
  return {
    args: [c.Path, ...c.Args],
    env,
    cwd: c.Config.WorkingDir || '/',
    user: { uid: user.uid, gid: user.gid, additionalGids: user.additionalGids },
    // The host's UTS namespace keeps the host's name: only one asked for explicitly goes to
    // the spec (where it conflicts, as with dockerd).
    hostname: hc.UTSMode === 'host' ? c.Config.Hostname || undefined : hostname,
    domainname: c.Config.Domainname || undefined,
    terminal: !!c.Config.Tty,
    consoleSize: hc.ConsoleSize && hc.ConsoleSize[0] ? { height: hc.ConsoleSize[0], width: hc.ConsoleSize[1] } : undefined,
    readonlyRootfs: !!hc.ReadonlyRootfs,
    privileged: !!hc.Privileged,
    capAdd: hc.CapAdd ?? [],
    capDrop: hc.CapDrop ?? [],
    securityOpt: hc.SecurityOpt ?? [],
    shmSize: hc.ShmSize || undefined,
    namespaces: {
      network: netns ?? networkNamespace(c),
      pid: hc.PidMode === 'host' ? 'host' : 'private',
      ipc: hc.IpcMode === 'host' ? 'host' : 'private',
      uts: hc.UTSMode === 'host' ? 'host' : 'private',
      cgroup: hc.CgroupnsMode === 'host' ? 'host' : 'private',
    },
    ulimits: hc.Ulimits ?? [],
    hostHardLimits: info.hardLimits,
    init: hc.Init ? m.deps.initPath : undefined,
    resources: hc,
    // --cgroup-parent (checked at create), else /berth.
    cgroupsPath: containerCgroupsPath(c.Id, hc.CgroupParent),
    sysctls: containerSysctls(c, info),
    oomScoreAdj: hc.OomScoreAdj || undefined,
    hostBoundingCaps: info.boundingCaps,
    unavailableSeccompArches: info.unavailableSeccompArches,
    hostDevices: hc.Privileged ? await readHostDevices() : undefined,
    devices: await resolveDevices(hc.Devices),
    deviceCgroupRules: hc.DeviceCgroupRules ?? undefined,
    maskedPaths: hc.MaskedPaths ?? undefined,
    readonlyPaths: hc.ReadonlyPaths ?? undefined,
    // --annotation: handed to the OCI runtime as is, as dockerd does.
    annotations: hc.Annotations && Object.keys(hc.Annotations).length ? { ...hc.Annotations } : undefined,
  };
}

interface EtcFiles { hostsPath: string; hostnamePath: string; resolvConfPath: string; hosts: string; hostname: string; resolv: string }

/** The container's /etc/hosts, /etc/hostname and /etc/resolv.conf, from its network state. */
async function renderEtc(m: ContainerManager, c: ContainerRecord): Promise<EtcFiles> {
  const hc = c.HostConfig;
  const hostname = containerHostname(c);
  const dir = m.store.dir(c.Id);
  let hostsSource: string | undefined;
  if (hc.NetworkMode === 'host') hostsSource = await readFile('/etc/hosts', 'utf8').catch(() => '');
  const paths = { hostsPath: join(dir, 'hosts'), hostnamePath: join(dir, 'hostname'), resolvConfPath: join(dir, 'resolv.conf') };
  let hosts: string;
  if (hostsSource !== undefined) {
    const extra = (hc.ExtraHosts ?? []).map((h) => { const i = h.search(/[:=]/); return `${h.slice(i + 1)}\t${h.slice(0, i)}`; });
    hosts = hostsSource + (extra.length ? extra.join('\n') + '\n' : '');
  } else {
    // Networking hook: the container's own address in /etc/hosts, host-gateway = its gateway.
    hosts = renderHosts({ hostname, domainname: c.Config.Domainname, extraHosts: hc.ExtraHosts ?? [], ipv6: false, ip: primaryEndpoint(c)?.IPAddress, hostGatewayIp: primaryEndpoint(c)?.Gateway });
    // Legacy links (default bridge): one line per linked container, after the container's own.
    const links = linkHostsLines(legacyLinks(m, c));
    if (links.length) hosts += links.join('\n') + '\n';
  }
  // Networking hook: on a user-defined network the embedded DNS (at the gateway) is the nameserver.
  const resolv = renderResolvConf(m.deps.hostResolvConf ?? (await readHostResolvConf()), { dns: hc.Dns ?? [], dnsSearch: hc.DnsSearch ?? [], dnsOptions: hc.DnsOptions ?? [], embeddedDns: embeddedDnsOf(c) });
  return { ...paths, hosts, hostname: renderHostname(hostname), resolv };
}

async function etcMounts(m: ContainerManager, c: ContainerRecord): Promise<Mount[]> {
  const hc = c.HostConfig;
  let paths: Pick<EtcFiles, 'hostsPath' | 'hostnamePath' | 'resolvConfPath'>;
  // A container:<x> container binds x's files (adoptNetworkOf): x wrote them, x owns them.
  if (isNetworkJoiner(c)) paths = { hostsPath: c.HostsPath, hostnamePath: c.HostnamePath, resolvConfPath: c.ResolvConfPath };
  else {
    const f = await renderEtc(m, c);
    paths = f;
    // Rendered afresh at every start, not fsynced (no thread-pool round trip either), and
    // in place as dockerd does: a container:<this> container still running from before
    // binds these very inodes, and a rename would leave it the old text.
    for (const [path, text] of [[f.hostsPath, f.hosts], [f.hostnamePath, f.hostname], [f.resolvConfPath, f.resolv]] as const) {
      writeFileSync(path, text, { mode: 0o644 });
    }
  }
  const taken = new Set(c.OciMounts.map((x) => x.destination));
  const out: Mount[] = [];
  for (const [dest, src] of [['/etc/resolv.conf', paths.resolvConfPath], ['/etc/hostname', paths.hostnamePath], ['/etc/hosts', paths.hostsPath]] as const) {
    if (taken.has(dest)) continue;
    out.push({ destination: dest, type: 'bind', source: src, options: ['rbind', 'rprivate', hc.ReadonlyRootfs ? 'ro' : 'rw'] });
  }
  // Docker's marker that a process runs in a container (scripts test for it): an empty
  // file, one for all containers, so read-only (dockerd puts it in each container's init layer).
  if (!taken.has('/.dockerenv')) out.push({ destination: '/.dockerenv', type: 'bind', source: dockerenvFile(m), options: ['rbind', 'rprivate', 'ro'] });
  return out;
}

/** The empty file, made once per data root (a start pays no stat for it). */
const dockerenvMade = new Set<string>();
function dockerenvFile(m: ContainerManager): string {
  const path = join(m.deps.dataRoot, 'dockerenv');
  if (!dockerenvMade.has(path)) {
    if (!existsSync(path)) writeFileSync(path, '', { mode: 0o444 });
    dockerenvMade.add(path);
  }
  return path;
}

/**
 * A start prepared before its network was up: /etc/hosts and /etc/resolv.conf again, now
 * with the container's address and DNS. Written in place (same inode): the runtime has
 * already bind-mounted these files, and the process reads them only once it is started.
 */
export async function rewriteEtcInPlace(m: ContainerManager, c: ContainerRecord): Promise<void> {
  if (isNetworkJoiner(c)) return; // x's files (adoptNetworkOf): x writes them
  const f = await renderEtc(m, c);
  writeFileSync(f.hostsPath, f.hosts);
  writeFileSync(f.resolvConfPath, f.resolv);
}

export async function prepareContainerSpec(m: ContainerManager, c: ContainerRecord, rootfs: string, netns?: string): Promise<Spec> {
  const mode = c.HostConfig.NetworkMode ?? '';
  if (mode.startsWith('container:')) {
    const x = networkDonor(m, c, mode);
    adoptNetworkOf(c, x);
    netns ??= `/proc/${x.State.Pid}/ns/net`;
  }
  // Independent: the user lookup reads the rootfs, the /etc files go to the container's dir.
  // berthd, not runc, makes a missing WorkingDir (as dockerd does): runc 1.1 refuses one
  // behind a symlink ("mkdir /work: file exists"); ours resolves it inside the rootfs.
  const [input, etc] = await Promise.all([
    specInput(m, c, rootfs, netns),
    etcMounts(m, c),
    c.Config.WorkingDir ? mkdirAllInRoot(rootfs, c.Config.WorkingDir) : undefined,
  ]);
  input.mounts = [...etc, ...c.OciMounts];
  const spec = buildSpecWithWarnings(input).spec;
  joinSharedNamespaces(m, c, spec);
  await shareShm(m, c, spec);
  return spec;
}
