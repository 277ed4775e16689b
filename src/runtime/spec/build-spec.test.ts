import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildSpec, buildSpecWithWarnings } from './build-spec.js';
import { ALL_CAPABILITIES, DEFAULT_CAPABILITIES, decodeCapMask } from './capabilities.js';
import { parseProcLimits, RLIM_INFINITY } from './ulimits.js';
import { specToJson } from '../conmon-runtime.js';

const HOST_CAPS = decodeCapMask('000001fffeffffff'); // this machine: no CAP_SYS_RESOURCE
const base = { args: ['sh'], hostBoundingCaps: HOST_CAPS, hostHardLimits: { nofile: 20000, nproc: 96365, core: RLIM_INFINITY }, arch: 'amd64' };

test('defaults are Docker\'s', () => {
  const s = buildSpec(base);
  assert.equal(s.root?.path, 'rootfs');
  assert.equal(s.root?.readonly, false);
  assert.deepEqual([...s.process!.capabilities!.bounding!].sort(), [...DEFAULT_CAPABILITIES].sort());
  assert.deepEqual(s.process!.capabilities!.inheritable, []);
  assert.deepEqual(s.linux!.namespaces!.map((n) => n.type).sort(), ['cgroup', 'ipc', 'mount', 'network', 'pid', 'uts']);
  const m = Object.fromEntries(s.mounts!.map((x) => [x.destination, x]));
  assert.deepEqual(m['/dev']!.options, ['nosuid', 'strictatime', 'mode=755', 'size=65536k']);
  assert.ok(m['/dev/pts']!.options!.includes('ptmxmode=0666') && m['/dev/pts']!.options!.includes('gid=5'));
  assert.ok(m['/sys']!.options!.includes('ro'));
  assert.ok(m['/dev/shm']!.options!.includes('size=67108864'));
  assert.ok(m['/dev/mqueue'] && m['/proc'] && m['/sys/fs/cgroup']);
  assert.ok(s.linux!.maskedPaths!.includes('/proc/kcore'));
  assert.ok(s.linux!.readonlyPaths!.includes('/proc/sys'));
  assert.deepEqual(s.linux!.resources!.devices![0], { allow: false, access: 'rwm' });
  assert.equal(s.process!.noNewPrivileges, false);
  assert.ok(s.process!.env!.some((e) => e.startsWith('PATH=')));
  // nofile defaults to Docker's 1048576 but never above the host's hard limit.
  assert.deepEqual(s.process!.rlimits, [{ type: 'RLIMIT_NOFILE', soft: 20000, hard: 20000 }]);
});

test('default seccomp: EPERM default, clone3 ENOSYS, clone flag filter, no mount', () => {
  const sc = buildSpec(base).linux!.seccomp!;
  assert.equal(sc.defaultAction, 'SCMP_ACT_ERRNO');
  assert.equal(sc.defaultErrnoRet, 1);
  assert.deepEqual(sc.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
  // A kernel without the x32 ABI: the same rules, x32 left out of Docker's archMap list.
  const noX32 = buildSpec({ ...base, unavailableSeccompArches: ['SCMP_ARCH_X32'] }).linux!.seccomp!;
  assert.deepEqual(noX32.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86']);
  assert.deepEqual(noX32.syscalls, sc.syscalls);
  // A profile that names its architectures keeps them as written.
  const own = JSON.stringify({ defaultAction: 'SCMP_ACT_ERRNO', architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X32'], syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW' }] });
  const kept = buildSpec({ ...base, unavailableSeccompArches: ['SCMP_ARCH_X32'], securityOpt: [`seccomp=${own}`] }).linux!.seccomp!;
  assert.deepEqual(kept.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X32']);
  const clone3 = sc.syscalls!.find((r) => r.names.includes('clone3'))!;
  assert.equal(clone3.action, 'SCMP_ACT_ERRNO');
  assert.equal(clone3.errnoRet, 38);
  const clone = sc.syscalls!.find((r) => r.names.includes('clone'))!;
  assert.equal(clone.args![0]!.op, 'SCMP_CMP_MASKED_EQ');
  assert.equal(clone.args![0]!.value, 0x7e020000);
  const allowed = new Set(sc.syscalls!.filter((r) => r.action === 'SCMP_ACT_ALLOW' && !r.args).flatMap((r) => r.names));
  for (const n of ['read', 'execve', 'arch_prctl', 'chroot']) assert.ok(allowed.has(n), n);
  for (const n of ['mount', 'unshare', 'reboot', 'bpf', 'ptrace_nope']) assert.ok(!allowed.has(n), n);
  assert.ok(sc.syscalls!.some((r) => r.names.includes('personality') && r.args?.[0]?.value === 0xffffffff));

  // CAP_SYS_ADMIN unlocks mount and plain clone/clone3.
  const admin = buildSpec({ ...base, capAdd: ['SYS_ADMIN'] }).linux!.seccomp!;
  const adminAllowed = new Set(admin.syscalls!.filter((r) => r.action === 'SCMP_ACT_ALLOW' && !r.args).flatMap((r) => r.names));
  assert.ok(adminAllowed.has('mount') && adminAllowed.has('clone3'));
  assert.ok(!admin.syscalls!.some((r) => r.names.includes('clone3') && r.action === 'SCMP_ACT_ERRNO'));
});

test('cap-add / cap-drop / ALL', () => {
  const caps = (o: object) => buildSpec({ ...base, ...o }).process!.capabilities!.effective!;
  assert.ok(caps({ capAdd: ['net_admin'] }).includes('CAP_NET_ADMIN'));
  assert.ok(caps({ capAdd: ['CAP_SYS_PTRACE'] }).includes('CAP_SYS_PTRACE'));
  assert.ok(!caps({ capDrop: ['CHOWN'] }).includes('CAP_CHOWN'));
  assert.deepEqual(caps({ capDrop: ['ALL'], capAdd: ['KILL'] }), ['CAP_KILL']);
  const all = caps({ capAdd: ['ALL'], capDrop: ['MKNOD'] });
  assert.ok(all.includes('CAP_SYS_ADMIN') && !all.includes('CAP_MKNOD') && !all.includes('CAP_SYS_RESOURCE'));
  assert.throws(() => buildSpec({ ...base, capAdd: ['BOGUS'] }), /unknown capability/);
  assert.throws(() => buildSpec({ ...base, capAdd: ['SYS_RESOURCE'] }), (e: any) => e.code === 'INVALID_ARGUMENT');
});

test('privileged: host caps, no seccomp, no masked paths, rw /sys, all devices', () => {
  const dev = { path: '/dev/sda', type: 'b' as const, major: 8, minor: 0 };
  const s = buildSpec({ ...base, privileged: true, hostDevices: [dev] });
  assert.deepEqual(s.process!.capabilities!.bounding, HOST_CAPS);
  assert.equal(HOST_CAPS.length, ALL_CAPABILITIES.length - 1);
  assert.equal(s.linux!.seccomp, undefined);
  assert.equal(s.linux!.maskedPaths, undefined);
  assert.equal(s.linux!.readonlyPaths, undefined);
  assert.ok(!s.mounts!.find((m) => m.destination === '/sys')!.options!.includes('ro'));
  assert.deepEqual(s.linux!.devices, [dev]);
  assert.deepEqual(s.linux!.resources!.devices, [{ allow: true, access: 'rwm' }]);
});

test('ulimits: a hard limit above the host\'s is refused, others pass', () => {
  assert.throws(() => buildSpec({ ...base, ulimits: [{ Name: 'nofile', Soft: 1024, Hard: 1048576 }] }),
    (e: any) => e.code === 'INVALID_ARGUMENT' && /above the host's hard limit 20000/.test(e.message));
  const s = buildSpec({ ...base, ulimits: [{ Name: 'nofile', Soft: 512, Hard: 1024 }, { Name: 'core', Soft: -1, Hard: -1 }] });
  assert.deepEqual(s.process!.rlimits, [
    { type: 'RLIMIT_NOFILE', soft: 512, hard: 1024 },
    { type: 'RLIMIT_CORE', soft: RLIM_INFINITY, hard: RLIM_INFINITY },
  ]);
  assert.match(specToJson(s), /"hard": 18446744073709551615/);
  assert.throws(() => buildSpec({ ...base, ulimits: [{ Name: 'nofile', Soft: 10, Hard: 5 }] }), /soft limit/);
  assert.throws(() => buildSpec({ ...base, ulimits: [{ Name: 'bogus', Soft: 1, Hard: 1 }] }), /invalid ulimit/);
});

test('parseProcLimits reads /proc/self/limits', () => {
  const text = 'Limit                     Soft Limit           Hard Limit           Units     \n' +
    'Max open files            20000                20000                files     \n' +
    'Max core file size        0                    unlimited            bytes     \n';
  assert.deepEqual(parseProcLimits(text), { nofile: 20000, core: RLIM_INFINITY });
});

test('security options', () => {
  assert.equal(buildSpec({ ...base, securityOpt: ['no-new-privileges'] }).process!.noNewPrivileges, true);
  assert.equal(buildSpec({ ...base, securityOpt: ['no-new-privileges:false'] }).process!.noNewPrivileges, false);
  assert.equal(buildSpec({ ...base, securityOpt: ['seccomp=unconfined'] }).linux!.seccomp, undefined);
  const custom = JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['chmod'], action: 'SCMP_ACT_ERRNO' }] });
  const sc = buildSpec({ ...base, securityOpt: [`seccomp=${custom}`] }).linux!.seccomp!;
  assert.equal(sc.defaultAction, 'SCMP_ACT_ALLOW');
  assert.deepEqual(sc.syscalls!.map((r) => r.names), [['chmod']]);
  const w = buildSpecWithWarnings({ ...base, securityOpt: ['apparmor=docker-default', 'label=disable'] });
  assert.equal(w.warnings.length, 1);
  assert.throws(() => buildSpec({ ...base, securityOpt: ['bogus'] }), /invalid --security-opt/);
  assert.throws(() => buildSpec({ ...base, securityOpt: ['seccomp={'] }), /not valid JSON/);
});

test('readonly rootfs, binds, tmpfs, init, namespaces, resources', () => {
  const s = buildSpec({
    ...base,
    readonlyRootfs: true,
    hostname: 'h', user: { uid: 1000, gid: 1000, additionalGids: [5] }, cwd: '/w',
    mounts: [
      { destination: '/data', type: 'bind', source: '/srv/data', options: ['rbind', 'ro'] },
      { destination: '/dev/shm', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] },
      { destination: '/etc/hosts', type: 'bind', source: '/x/hosts', options: ['rbind'] },
    ],
    init: '/usr/bin/tini-static',
    namespaces: { network: '/var/run/netns/n1', pid: 'host' },
    resources: { Memory: 64 << 20, NanoCpus: 1.5e9, PidsLimit: 100, CpuShares: 512, OomKillDisable: true },
    cgroupsPath: '/berth/abc', sysctls: { 'net.ipv4.ip_forward': '1' }, oomScoreAdj: 500,
  });
  assert.equal(s.root!.readonly, true);
  assert.equal(s.hostname, 'h');
  assert.deepEqual(s.process!.user, { uid: 1000, gid: 1000, additionalGids: [5] });
  assert.equal(s.process!.cwd, '/w');
  assert.deepEqual(s.process!.args, ['/sbin/docker-init', '--', 'sh']);
  const init = s.mounts!.find((m) => m.destination === '/sbin/docker-init')!;
  assert.equal(init.source, '/usr/bin/tini-static');
  assert.ok(init.options!.includes('ro'));
  const shm = s.mounts!.filter((m) => m.destination === '/dev/shm');
  assert.deepEqual(shm, [{ destination: '/dev/shm', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] }]);
  assert.ok(s.mounts!.some((m) => m.destination === '/data' && m.options!.includes('ro')));
  assert.ok(s.mounts!.some((m) => m.destination === '/etc/hosts'));
  assert.deepEqual(s.linux!.namespaces!.find((n) => n.type === 'network'), { type: 'network', path: '/var/run/netns/n1' });
  assert.ok(!s.linux!.namespaces!.some((n) => n.type === 'pid'));
  const r = s.linux!.resources!;
  assert.deepEqual(r.memory, { limit: 64 << 20, swap: 128 << 20, disableOOMKiller: true });
  assert.deepEqual(r.cpu, { period: 100000, quota: 150000, shares: 512 });
  assert.deepEqual(r.pids, { limit: 100 });
  assert.equal(s.linux!.cgroupsPath, '/berth/abc');
  assert.deepEqual(s.linux!.sysctl, { 'net.ipv4.ip_forward': '1' });
  assert.equal(s.process!.oomScoreAdj, 500);
  assert.ok(!buildSpec({ ...base, namespaces: { network: 'host' } }).linux!.namespaces!.some((n) => n.type === 'network'));
  assert.throws(() => buildSpec({ ...base, hostname: 'x', namespaces: { uts: 'host' } }), /hostname/);
  assert.throws(() => buildSpec({ ...base, resources: { NanoCpus: 1e9, CpuQuota: 5000 } }), /conflicting/);
});

test('device mappings and cgroup rules', () => {
  const s = buildSpec({ ...base, devices: [{ path: '/dev/xnull', type: 'c', major: 1, minor: 3, access: 'rw' }], deviceCgroupRules: ['c 42:* rmw'] });
  assert.deepEqual(s.linux!.devices, [{ path: '/dev/xnull', type: 'c', major: 1, minor: 3 }]);
  const rules = s.linux!.resources!.devices!;
  assert.ok(rules.some((r) => r.major === 1 && r.minor === 3 && r.access === 'rw'));
  assert.ok(rules.some((r) => r.major === 42 && r.minor === null));
  assert.throws(() => buildSpec({ ...base, deviceCgroupRules: ['x'] }), /device cgroup rule/);
});
