/**
 * Resolve a Docker-format seccomp profile into the OCI linux.seccomp for one
 * container: keep the rules whose capability and architecture conditions hold.
 */
import type { Seccomp } from '../../oci/runtime-spec.js';
import { BerthError } from '../../common/errors.js';
import type { SeccompProfile, SeccompRule } from './seccomp-default.js';

/** Node's process.arch → the Go-style names Docker profiles use. */
export function goArch(nodeArch: string): string {
  const m: Record<string, string> = { x64: 'amd64', ia32: 'x86', arm64: 'arm64', arm: 'arm', s390x: 's390x', ppc64: 'ppc64le', riscv64: 'riscv64', mips64el: 'mips64le' };
  return m[nodeArch] ?? nodeArch;
}

const NATIVE_SCMP: Record<string, string> = {
  amd64: 'SCMP_ARCH_X86_64', x86: 'SCMP_ARCH_X86', arm64: 'SCMP_ARCH_AARCH64', arm: 'SCMP_ARCH_ARM',
  s390x: 'SCMP_ARCH_S390X', ppc64le: 'SCMP_ARCH_PPC64LE', riscv64: 'SCMP_ARCH_RISCV64', mips64le: 'SCMP_ARCH_MIPSEL64',
};

function applies(rule: SeccompRule, caps: Set<string>, arch: string): boolean {
  const inc = rule.includes ?? {};
  const exc = rule.excludes ?? {};
  if (inc.caps?.length && !inc.caps.every((c) => caps.has(c))) return false;
  if (inc.arches?.length && !inc.arches.includes(arch)) return false;
  if (exc.caps?.some((c) => caps.has(c))) return false;
  if (exc.arches?.includes(arch)) return false;
  return true;
}

/**
 * unavailableArches: sub-architectures whose system call ABI the kernel cannot run
 * (host-info's probe: x32 on most kernels). They are left out of an archMap's list:
 * each costs runc's libseccomp a full pass at every container and exec start (~5 ms
 * for x32 here), to filter calls the kernel would refuse anyway. A profile's explicit
 * `architectures` list is kept as written.
 */
export function resolveSeccomp(profile: SeccompProfile, opts: { caps: readonly string[]; arch: string; unavailableArches?: readonly string[] }): Seccomp {
  const caps = new Set(opts.caps);
  let architectures = profile.architectures;
  if (!architectures || architectures.length === 0) {
    const native = NATIVE_SCMP[opts.arch];
    const entry = profile.archMap?.find((a) => a.architecture === native);
    const subs = (entry?.subArchitectures ?? []).filter((a) => !opts.unavailableArches?.includes(a));
    architectures = entry ? [entry.architecture, ...subs] : native ? [native] : [];
  }
  const out: Seccomp = { defaultAction: profile.defaultAction, architectures, syscalls: [] };
  if (profile.defaultErrnoRet !== undefined) out.defaultErrnoRet = profile.defaultErrnoRet;
  for (const rule of profile.syscalls ?? []) {
    if (!applies(rule, caps, opts.arch)) continue;
    const s: NonNullable<Seccomp['syscalls']>[number] = { names: [...rule.names], action: rule.action };
    if (rule.errnoRet !== undefined) s.errnoRet = rule.errnoRet;
    if (rule.args?.length) s.args = rule.args.map((a) => ({ ...a, valueTwo: a.valueTwo ?? 0 }));
    out.syscalls!.push(s);
  }
  return out;
}

/** Parse the JSON a client sent with --security-opt seccomp=<profile> (Docker or OCI form). */
export function parseSeccompProfile(json: string): SeccompProfile {
  let raw: any;
  try {
    raw = JSON.parse(json);
  } catch (err) {
    throw new BerthError('INVALID_ARGUMENT', `seccomp profile is not valid JSON: ${(err as Error).message}`);
  }
  if (!raw || typeof raw !== 'object' || typeof raw.defaultAction !== 'string') {
    throw new BerthError('INVALID_ARGUMENT', 'seccomp profile has no defaultAction');
  }
  const syscalls: SeccompRule[] = [];
  for (const s of raw.syscalls ?? []) {
    // Old profiles name one syscall with "name" instead of "names".
    const names: string[] = Array.isArray(s.names) ? s.names : typeof s.name === 'string' ? [s.name] : [];
    if (names.length === 0 || typeof s.action !== 'string') {
      throw new BerthError('INVALID_ARGUMENT', 'seccomp profile: every syscall rule needs names and an action');
    }
    syscalls.push({ ...s, names });
  }
  return { ...raw, syscalls } as SeccompProfile;
}
