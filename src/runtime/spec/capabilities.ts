/**
 * Linux capability names and Docker's cap-add/cap-drop arithmetic.
 * Names in specs are always CAP_-prefixed; users may write them either way.
 */
import { BerthError } from '../../common/errors.js';

/** Capability names indexed by their bit number (linux/capability.h). */
export const ALL_CAPABILITIES: readonly string[] = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL',
  'CAP_SETGID', 'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST', 'CAP_NET_ADMIN', 'CAP_NET_RAW', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER',
  'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE', 'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE', 'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP', 'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
];

/** Docker's default set for unprivileged containers (moby oci/caps/defaults.go). */
export const DEFAULT_CAPABILITIES: readonly string[] = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW',
  'CAP_SETGID', 'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];

/** 'net_admin', 'NET_ADMIN', 'CAP_NET_ADMIN' → 'CAP_NET_ADMIN'; 'all' → 'ALL'. */
export function normalizeCapName(name: string): string {
  const up = name.trim().toUpperCase();
  if (up === 'ALL') return 'ALL';
  return up.startsWith('CAP_') ? up : 'CAP_' + up;
}

/** Decode a CapBnd/CapEff hex mask from /proc/<pid>/status into names. */
export function decodeCapMask(hex: string): string[] {
  const mask = BigInt('0x' + hex.trim());
  return ALL_CAPABILITIES.filter((_, bit) => (mask >> BigInt(bit)) & 1n);
}

/**
 * The effective set after Docker's rules: start from the defaults (or nothing when
 * ALL is dropped), add, then drop. Adding ALL gives every capability the host holds.
 * A capability the host lacks can't be granted: runc would fail with a bare EPERM.
 */
export function computeCapabilities(opts: {
  capAdd?: string[];
  capDrop?: string[];
  hostCaps: readonly string[];
}): string[] {
  const add = (opts.capAdd ?? []).map(normalizeCapName);
  const drop = (opts.capDrop ?? []).map(normalizeCapName);
  for (const c of [...add, ...drop]) {
    if (c !== 'ALL' && !ALL_CAPABILITIES.includes(c)) {
      throw new BerthError('INVALID_ARGUMENT', `unknown capability: "${c}"`);
    }
  }
  const host = new Set(opts.hostCaps);
  let caps: Set<string>;
  if (add.includes('ALL')) {
    caps = new Set(ALL_CAPABILITIES.filter((c) => host.has(c)));
  } else {
    caps = new Set(drop.includes('ALL') ? [] : DEFAULT_CAPABILITIES.filter((c) => host.has(c)));
    for (const c of add) {
      if (!host.has(c)) {
        throw new BerthError('INVALID_ARGUMENT', `cannot add capability ${c}: berthd itself does not hold it`);
      }
      caps.add(c);
    }
  }
  if (!add.includes('ALL')) {
    for (const c of drop) {
      if (c === 'ALL') continue;
      caps.delete(c);
    }
  } else if (!drop.includes('ALL')) {
    for (const c of drop) caps.delete(c);
  }
  return ALL_CAPABILITIES.filter((c) => caps.has(c));
}
