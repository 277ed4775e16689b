/** Docker's defaults for a Linux container (moby oci/defaults.go), as data. */
import type { LinuxDevice, LinuxDeviceCgroup, Mount } from '../../oci/runtime-spec.js';

export const DEFAULT_SHM_SIZE = 64 * 1024 * 1024;

export function defaultMounts(opts: { shmSize: number; privileged: boolean; ipcHost: boolean }): Mount[] {
  const sysRo = opts.privileged ? [] : ['ro'];
  const mounts: Mount[] = [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', ...sysRo] },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', ...(opts.privileged ? ['rw'] : ['ro'])] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
  ];
  if (opts.ipcHost) {
    mounts.push({ destination: '/dev/shm', type: 'bind', source: '/dev/shm', options: ['rbind', 'rprivate'] });
  } else {
    mounts.push({ destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', `size=${opts.shmSize}`] });
  }
  return mounts;
}

export const DEFAULT_MASKED_PATHS: readonly string[] = [
  '/proc/asound', '/proc/acpi', '/proc/interrupts', '/proc/kcore', '/proc/keys', '/proc/latency_stats',
  '/proc/timer_list', '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware',
  '/sys/devices/virtual/powercap',
];

export const DEFAULT_READONLY_PATHS: readonly string[] = [
  '/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger',
];

const c = (major: number | null, minor: number | null, access = 'rwm', type = 'c'): LinuxDeviceCgroup =>
  ({ allow: true, type, major, minor, access });

/**
 * Deny everything, then allow the standard nodes, pty slaves, ptmx, tun and mknod of anything.
 * (No explicit fuse deny: cgroup v1 can't punch a hole in the mknod wildcard, and the
 * first rule already denies it.)
 */
export const DEFAULT_DEVICE_RULES: readonly LinuxDeviceCgroup[] = [
  { allow: false, access: 'rwm' },
  c(null, null, 'm'), c(null, null, 'm', 'b'),
  c(1, 3), c(1, 5), c(1, 7), c(1, 8), c(1, 9), c(5, 0), c(5, 1), c(5, 2), c(136, null), c(10, 200),
];

/** Parse a docker --device-cgroup-rule ("c 1:3 rwm", "a *:* rwm"). */
export function parseDeviceCgroupRule(rule: string): LinuxDeviceCgroup | undefined {
  const m = /^([acb]) ([0-9]+|\*):([0-9]+|\*) ([rwm]{1,3})$/.exec(rule.trim());
  if (!m) return undefined;
  const num = (s: string) => (s === '*' ? null : Number(s));
  return { allow: true, type: m[1]!, major: num(m[2]!), minor: num(m[3]!), access: m[4]! };
}

export type { LinuxDevice };
