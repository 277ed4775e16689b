/**
 * What the spec builder needs to know about the host, read once by the daemon
 * (this is the only file of spec/ that does I/O; buildSpec itself stays pure).
 */
import { readFile, readdir, lstat, access } from 'node:fs/promises';
import { join } from 'node:path';
import type { LinuxDevice } from '../../oci/runtime-spec.js';
import { decodeCapMask } from './capabilities.js';
import { libc, errno, type LibcFunction } from '../../common/libc.js';
import { parseProcLimits, type HostLimits } from './ulimits.js';

export interface HostInfo {
  /** Capabilities in berthd's bounding set: what a privileged container can get. */
  boundingCaps: string[];
  hardLimits: HostLimits;
  /** Seccomp sub-architectures this kernel cannot run (x32 unless its ABI is on). */
  unavailableSeccompArches: string[];
  /** Of DEFAULT_NET_SYSCTLS, those this kernel has (a spec naming another fails in runc). */
  netSysctls: string[];
  /** The kernel has IPv6 (net.ipv6.* sysctls exist: not so when booted with ipv6.disable=1). */
  ipv6: boolean;
}

/**
 * dockerd's defaults for a container with a network namespace of its own: any user may
 * bind ports below 1024 and open ICMP echo sockets, which the default capabilities
 * (NET_BIND_SERVICE, NET_RAW) grant root anyway. The container's own --sysctl wins.
 */
export const DEFAULT_NET_SYSCTLS: Readonly<Record<string, string>> = {
  'net.ipv4.ip_unprivileged_port_start': '0',
  'net.ipv4.ping_group_range': '0 2147483647',
};

/**
 * dockerd (27 and later) keeps IPv6 off a container's interfaces on a network without
 * IPv6, as all of berth's are: one with IPv6 on gets a link-local address and joins
 * IPv6 multicast groups, open to router advertisements and neighbour spoofing from the
 * other containers on the bridge. Loopback keeps ::1. The sysctl, per interface
 * (ipv6OffSysctl of its name) and as the namespace's default for interfaces to come.
 */
export const ipv6OffSysctl = (ifName: string): string => `net.ipv6.conf.${ifName}.disable_ipv6`;

export async function readHostInfo(): Promise<HostInfo> {
  const status = await readFile('/proc/self/status', 'utf8');
  const bnd = /^CapBnd:\s*([0-9a-f]+)/m.exec(status)?.[1] ?? '0';
  const limits = await readFile('/proc/self/limits', 'utf8');
  const unfiltered = /^Seccomp:\s*0$/m.test(status);
  const netSysctls: string[] = [];
  for (const name of Object.keys(DEFAULT_NET_SYSCTLS)) {
    if (await access(join('/proc/sys', ...name.split('.'))).then(() => true, () => false)) netSysctls.push(name);
  }
  return {
    netSysctls,
    ipv6: await access('/proc/sys/net/ipv6/conf/default/disable_ipv6').then(() => true, () => false),
    boundingCaps: decodeCapMask(bnd),
    hardLimits: parseProcLimits(limits),
    unavailableSeccompArches: unfiltered && process.arch === 'x64' && !x32AbiAvailable() ? ['SCMP_ARCH_X32'] : [],
  };
}

const X32_SYSCALL_BIT = 0x40000000;
const NR_GETPID = 39;
const ENOSYS = 38;
let syscallFn: LibcFunction | undefined;

/**
 * Whether the kernel runs x32 system calls: getpid with the x32 bit set answers ENOSYS
 * on a kernel built without the ABI or booted with it off (syscall.x32=n, Debian's
 * default). Only asked when berthd itself runs under no seccomp filter (the caller
 * checks): a filter that does not list x32 kills the calling thread instead.
 */
export function x32AbiAvailable(): boolean {
  syscallFn ??= libc().func('long syscall(long number)');
  const r = Number(syscallFn(X32_SYSCALL_BIT | NR_GETPID));
  return !(r === -1 && errno() === ENOSYS);
}

/** Every device node under /dev (recursively, skipping pts/shm/mqueue), for privileged containers. */
export async function readHostDevices(root = '/dev'): Promise<LinuxDevice[]> {
  const out: LinuxDevice[] = [];
  async function walk(dir: string): Promise<void> {
    let names: string[];
    try { names = await readdir(dir); } catch { return; }
    for (const name of names) {
      const p = join(dir, name);
      if (['/dev/pts', '/dev/shm', '/dev/mqueue', '/dev/console', '/dev/ptmx'].includes(p)) continue;
      let st;
      try { st = await lstat(p); } catch { continue; }
      if (st.isDirectory()) { await walk(p); continue; }
      if (st.isSymbolicLink()) continue;
      if (!st.isCharacterDevice() && !st.isBlockDevice()) continue;
      const rdev = st.rdev;
      // glibc's dev_t encoding.
      const major = ((rdev >> 8) & 0xfff) | (Math.floor(rdev / 2 ** 32) & ~0xfff);
      const minor = (rdev & 0xff) | ((rdev >> 12) & 0xfff00);
      out.push({ path: p, type: st.isCharacterDevice() ? 'c' : 'b', major, minor, fileMode: st.mode & 0o7777, uid: st.uid, gid: st.gid });
    }
  }
  await walk(root);
  return out;
}
