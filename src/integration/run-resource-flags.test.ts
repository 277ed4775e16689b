/**
 * The run/create flags whose answer is dockerd's (not a network one): --cgroup-parent
 * placing the cgroup in every hierarchy, --annotation into the OCI bundle, real-time
 * CPU against its parent's budget, dockerd's errors and warnings for what Linux with
 * overlay2 and no GPU/plugins cannot do, --sig-proxy=false, --use-api-socket. Driven
 * by berth's CLI, the docker CLI and the raw API against a private berthd.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestDaemon, REPO, run } from '../testing/daemon.js';
import { readHostInfo } from '../runtime/spec/host-info.js';

const CG = '/sys/fs/cgroup';
const tag = `bt-rf-${process.pid}`;
let d: TestDaemon;

/** Every cgroup dir this file may have made (parents are left by runc, as dockerd leaves them). */
function removeCgroupTrees(): void {
  const rm = (dir: string): void => {
    if (!existsSync(dir)) return;
    for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) rm(join(dir, e.name));
    try { rmdirSync(dir); } catch { /* still busy: left for the next run's cleanup */ }
  };
  for (const h of readdirSync(CG)) for (const p of [tag, `${tag}-rel`, `${tag}-rt`]) rm(join(CG, h, p));
}

before(async () => { removeCgroupTrees(); d = await TestDaemon.start(); });
after(async () => { await d?.stop(); removeCgroupTrees(); });

const inspect = async (ref: string) => (await d.api('GET', `/containers/${ref}/json`)).json();
const create = (body: object) => d.api('POST', '/containers/create', { Image: 'busybox', Cmd: ['true'], ...body });
const count = async () => (await d.api('GET', '/containers/json?all=1')).json().length as number;

test('--cgroup-parent: the cgroup sits under the parent in every hierarchy, and goes at removal', { timeout: 30000 }, async () => {
  const r = await d.docker(['run', '-d', '--cgroup-parent', `/${tag}`, 'busybox', 'sleep', '30']);
  assert.equal(r.code, 0, r.stderr);
  const id = r.stdout.trim();
  const hierarchies = ['memory', 'cpu', 'pids', 'blkio', 'cpuset', 'freezer', 'devices'].filter((h) => existsSync(join(CG, h, 'cgroup.procs')));
  for (const h of hierarchies) assert.ok(existsSync(join(CG, h, tag, id)), `${h}/${tag}/${id} while running`);
  const pid = (await inspect(id)).State.Pid as number;
  assert.match(readFileSync(`/proc/${pid}/cgroup`, 'utf8'), new RegExp(`:memory:/${tag}/${id}\\n`));
  assert.equal((await inspect(id)).HostConfig.CgroupParent, `/${tag}`);
  // berth's own readers follow the parent: top lists the process.
  const top = await d.docker(['top', id]);
  assert.equal(top.code, 0, top.stderr);
  assert.match(top.stdout, /sleep 30/);
  // stats and update read and write the container's cgroup under its parent.
  const st = (await d.api('GET', `/containers/${id}/stats?stream=0`)).json();
  assert.ok(st.pids_stats?.current >= 1, `stats: ${JSON.stringify(st.pids_stats)}`);
  const up = await d.docker(['update', '--memory', '64m', '--memory-swap', '128m', id]);
  assert.equal(up.code, 0, up.stderr);
  assert.equal(readFileSync(join(CG, 'memory', tag, id, 'memory.limit_in_bytes'), 'utf8').trim(), String(64 * 1024 * 1024));
  assert.equal((await d.docker(['rm', '-f', id])).code, 0);
  // runc removes the container's own cgroups at delete; allow the exit path a moment.
  for (let i = 0; i < 30 && hierarchies.some((h) => existsSync(join(CG, h, tag, id))); i++) await new Promise((r) => setTimeout(r, 100));
  for (const h of hierarchies) {
    assert.ok(!existsSync(join(CG, h, tag, id)), `${h}/${tag}/${id} removed`);
    assert.ok(existsSync(join(CG, h, tag)), `${h}/${tag}: the parent stays, as dockerd leaves it`);
  }

  // A relative parent is anchored at the root (docker's documented rule), seen from inside with the host cgroupns.
  const rel = await d.berth(['run', '--rm', '--cgroupns', 'host', '--cgroup-parent', `${tag}-rel/sub`, 'busybox', 'cat', '/proc/self/cgroup']);
  assert.equal(rel.code, 0, rel.stderr);
  assert.match(rel.stdout, new RegExp(`^\\d+:memory:/${tag}-rel/sub/[0-9a-f]{64}$`, 'm'));
  assert.match(rel.stdout, new RegExp(`^\\d+:cpu:/${tag}-rel/sub/[0-9a-f]{64}$`, 'm'));
});

test('--cgroup-parent: values that climb out of the cgroup root are refused (400) and create nothing', { timeout: 20000 }, async () => {
  const before = await count();
  for (const bad of ['..', '../../etc', `/${tag}/../../..`, 'a/../../b', 'x\ny', 'system.slice:docker:x']) {
    const r = await create({ HostConfig: { CgroupParent: bad } });
    assert.equal(r.status, 400, `${JSON.stringify(bad)}: ${r.body}`);
    assert.match(r.json().message, /^invalid cgroup parent /);
  }
  const cli = await d.docker(['run', '--rm', '--cgroup-parent', '../../x', 'busybox', 'true']);
  assert.equal(cli.code, 125);
  assert.match(cli.stderr, /Error response from daemon: invalid cgroup parent "..\/..\/x": it contains '..'/);
  assert.equal(await count(), before);
  assert.ok(!existsSync(join(CG, 'x')) && !existsSync(join(CG, 'memory', 'x')));
});

test('--annotation: into the OCI bundle and inspect; an empty key is refused', { timeout: 20000 }, async () => {
  const r = await d.berth(['run', '-d', '--annotation', 'com.example.k=v 1', '--annotation', 'flag', '--annotation', 'x=a=b', 'busybox', 'sleep', '30']);
  assert.equal(r.code, 0, r.stderr);
  const id = r.stdout.trim();
  const want = { 'com.example.k': 'v 1', flag: '', x: 'a=b' };
  const bundle = join(d.dir, 'run', 'c', id, 'config.json');
  const config = JSON.parse(readFileSync(bundle, 'utf8'));
  assert.deepEqual(config.annotations, want);
  // Docker's archMap list, less x32 when this kernel cannot run it (host-info's probe).
  const x32 = process.arch === 'x64' && !(await readHostInfo()).unavailableSeccompArches.includes('SCMP_ARCH_X32');
  assert.deepEqual(config.linux.seccomp.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', ...(x32 ? ['SCMP_ARCH_X32'] : [])]);
  assert.deepEqual((await inspect(id)).HostConfig.Annotations, want);
  await d.api('DELETE', `/containers/${id}?force=1`);

  const dk = await d.docker(['create', '--annotation', 'org.test=1', 'busybox']);
  assert.equal(dk.code, 0, dk.stderr);
  assert.deepEqual((await inspect(dk.stdout.trim())).HostConfig.Annotations, { 'org.test': '1' });
  await d.api('DELETE', `/containers/${dk.stdout.trim()}`);

  const bad = await create({ HostConfig: { Annotations: { '': 'x' } } });
  assert.equal(bad.status, 400);
  assert.equal(bad.json().message, 'invalid Annotations: the empty string is not permitted as an annotation key');
});

test('--cpu-rt-runtime/--cpu-rt-period: set within the parent budget, refused beyond it', { timeout: 20000 }, async (t) => {
  if (!existsSync(join(CG, 'cpu', 'cpu.rt_runtime_us'))) {
    const r = await d.docker(['run', '--rm', '--cpu-rt-runtime', '1000', 'busybox', 'true']);
    assert.match(r.stderr, /kernel does not support CPU real-time scheduler/);
    t.skip('no CONFIG_RT_GROUP_SCHED: only the refusal is checked');
    return;
  }
  const parent = join(CG, 'cpu', `${tag}-rt`);
  mkdirSync(parent, { recursive: true });
  writeFileSync(join(parent, 'cpu.rt_runtime_us'), '20000');
  const ok = await d.berth(['run', '--rm', '--cgroup-parent', `/${tag}-rt`, '--cpu-rt-runtime', '10000', '--cpu-rt-period', '1000000', 'busybox', 'cat', '/sys/fs/cgroup/cpu/cpu.rt_runtime_us', '/sys/fs/cgroup/cpu/cpu.rt_period_us']);
  assert.equal(ok.code, 0, ok.stderr);
  assert.deepEqual(ok.stdout.trim().split('\n'), ['10000', '1000000']);
  // berth's default parent has no budget (as dockerd's /docker without --cpu-rt-runtime): said at create.
  const none = await d.docker(['run', '--rm', '--cpu-rt-runtime', '10000', 'busybox', 'true']);
  assert.equal(none.code, 125);
  assert.match(none.stderr, /cpu real-time runtime 10000us per 1000000us is more than the parent cgroup \/berth allows/);
  const over = await d.docker(['run', '--rm', '--cgroup-parent', `/${tag}-rt`, '--cpu-rt-runtime', '30000', 'busybox', 'true']);
  assert.match(over.stderr, /more than the parent cgroup/);
  const hi = await d.berth(['run', '--rm', '--cpu-rt-runtime', '10000', '--cpu-rt-period', '5000', 'busybox', 'true']);
  assert.match(hi.stderr, /Error response from daemon: cpu real-time runtime cannot be higher than cpu real-time period/);
});

test("dockerd's answers: storage-opt, gpus, isolation, QoS, Windows-only CPU, volume driver, weight device", { timeout: 30000 }, async () => {
  const before = await count();
  const refusals: Array<[object, string]> = [
    [{ StorageOpt: { size: '1G' } }, "--storage-opt is supported only for overlay over xfs with 'pquota' mount option"],
    [{ StorageOpt: { foo: 'bar' } }, 'Unknown option foo'],
    [{ DeviceRequests: [{ Driver: '', Count: -1, Capabilities: [['gpu']] }] }, 'could not select device driver "" with capabilities: [[gpu]]'],
    [{ Isolation: 'hyperv' }, "invalid isolation (hyperv): linux only supports 'default'"],
    [{ IOMaximumBandwidth: 1048576 }, 'invalid option: QoS maximum bandwidth configuration is not supported on linux'],
    [{ IOMaximumIOps: 100 }, 'invalid option: QoS maximum IOPs configuration is not supported on linux'],
    [{ VolumeDriver: 'foo', Binds: ['vx:/x'] }, 'create vx: error looking up volume plugin foo: plugin "foo" not found'],
  ];
  for (const [hc, msg] of refusals) {
    const r = await create({ HostConfig: hc });
    assert.equal(r.status, 400, `${JSON.stringify(hc)}: ${r.body}`);
    assert.equal(r.json().message, msg);
  }
  assert.equal(await count(), before, 'a refused create leaves no container');

  const warned = await create({ HostConfig: { CpuPercent: 20, CpuCount: 2 } });
  assert.equal(warned.status, 201);
  assert.deepEqual(warned.json().Warnings, ['linux does not support CPU percent. Percent discarded.', 'linux does not support CPU count. Count discarded.']);
  const hc = (await inspect(warned.json().Id)).HostConfig;
  assert.equal(hc.CpuPercent, 0);
  await d.api('DELETE', `/containers/${warned.json().Id}`);

  for (const cli of ['docker', 'berth'] as const) {
    const go = (args: string[]) => (cli === 'docker' ? d.docker(args) : d.berth(args));
    const gpus = await go(['run', '--rm', '--gpus', 'all', 'busybox', 'true']);
    assert.equal(gpus.code, 125);
    assert.match(gpus.stderr, /Error response from daemon: could not select device driver "" with capabilities: \[\[gpu\]\]/);
    const so = await go(['create', '--storage-opt', 'size=1G', 'busybox']);
    assert.match(so.stderr, /--storage-opt is supported only for overlay over xfs with 'pquota' mount option/);
    const soBad = await go(['run', '--rm', '--storage-opt', 'nosep', 'busybox', 'true']);
    assert.equal(soBad.code, 125);
    assert.match(soBad.stderr, /invalid storage option/);
    // docker's CLI refuses its Windows-only flags itself, before any call.
    for (const flag of ['--cpu-count', '--cpu-percent', '--io-maxbandwidth', '--io-maxiops']) {
      const w = await go(['run', '--rm', flag, '2', 'busybox', 'true']);
      assert.equal(w.code, 1, `${cli} ${flag}`);
      assert.equal(w.stderr.trim(), `"${flag}" is only supported on a Docker daemon running on windows, but the Docker daemon is running on linux`);
    }
    const iso = await go(['run', '--rm', '--isolation', 'default', '--volume-driver', 'local', '-v', `${tag}-vol:/x`, '--disable-content-trust', 'busybox', 'true']);
    assert.equal(iso.code, 0, iso.stderr);
    const wd = await go(['run', '--rm', '--blkio-weight-device', '/dev/null:100', 'busybox', 'true']);
    if (existsSync(join(CG, 'blkio', 'blkio.weight_device')) || existsSync(join(CG, 'blkio', 'blkio.bfq.weight_device'))) assert.equal(wd.code, 0, wd.stderr);
    else assert.match(wd.stderr, /WARNING: Your kernel does not support Block I\/O weight_device or the cgroup is not mounted. Weight-device discarded./);
    const vd = await go(['run', '--rm', '--volume-driver', 'nosuch', '-v', '/data', 'busybox', 'true']);
    assert.equal(vd.code, 125);
    assert.match(vd.stderr, /error looking up volume plugin nosuch: plugin "nosuch" not found/);
  }
  await d.api('DELETE', `/volumes/${tag}-vol`);
  const bad = await d.berth(['run', '--rm', '--blkio-weight-device', 'sda:100', 'busybox', 'true']);
  assert.match(bad.stderr, /invalid argument "sda:100" for "--blkio-weight-device" flag: bad format for device path: sda:100/);
});

/** Start `berth run` with the given flags, wait for "ready", SIGTERM the CLI: what did the container see? */
async function sigterm(flags: string[], name: string): Promise<{ code: number | null; running: boolean }> {
  const p = spawn(process.execPath, [join(REPO, 'dist/berth-cli.mjs'), 'run', '--name', name, ...flags, 'busybox', 'sh', '-c', 'trap "exit 3" TERM; echo ready; sleep 20 & wait'], { env: { ...process.env, BERTH_HOST: d.host }, stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    await new Promise<void>((res, rej) => {
      const t = setTimeout(() => rej(new Error('no ready line')), 10000);
      p.stdout.on('data', (b: Buffer) => { if (b.toString().includes('ready')) { clearTimeout(t); res(); } });
    });
    p.kill('SIGTERM');
    const code = await new Promise<number | null>((res) => p.on('close', (c) => res(c)));
    const running = (await inspect(name)).State.Running as boolean;
    return { code, running };
  } finally {
    p.kill('SIGKILL');
    await d.api('DELETE', `/containers/${name}?force=1`);
  }
}

test('--sig-proxy=false: the CLI does not forward its signals; --sig-proxy (default) does', { timeout: 30000 }, async () => {
  const off = await sigterm(['--sig-proxy=false'], 'sp-off');
  assert.equal(off.running, true, 'the container kept running');
  const on = await sigterm(['--sig-proxy=true'], 'sp-on');
  assert.equal(on.code, 3, 'the container got TERM and its exit status came back');
  assert.equal(on.running, false);
});

test('--use-api-socket: berthd socket at /var/run/docker.sock and the credentials in /run/secrets/docker', { timeout: 20000 }, async () => {
  const auth = { auths: { 'reg.example:5000': { auth: 'dTpw' } } };
  const r = await run(process.execPath, [join(REPO, 'dist/berth-cli.mjs'), 'run', '--rm', '--use-api-socket', 'busybox', 'sh', '-c',
    'echo $DOCKER_CONFIG; stat -c "%d:%i %F" /var/run/docker.sock; stat -c %a /run/secrets/docker/config.json; cat /run/secrets/docker/config.json'],
  { BERTH_HOST: d.host, DOCKER_AUTH_CONFIG: JSON.stringify(auth) });
  assert.equal(r.code, 0, r.stderr);
  const [cfgDir, sock, mode, ...json] = r.stdout.trim().split('\n');
  assert.equal(cfgDir, '/run/secrets/docker');
  const st = statSync(d.socket);
  assert.equal(sock, `${st.dev}:${st.ino} socket`, 'the very socket this CLI talks to');
  assert.equal(mode, '600');
  assert.deepEqual(JSON.parse(json.join('\n')), auth);
  // DOCKER_CONFIG set by the user: no credentials copied, the socket still mounted.
  const own = await run(process.execPath, [join(REPO, 'dist/berth-cli.mjs'), 'run', '--rm', '--use-api-socket', '-e', 'DOCKER_CONFIG=/mine', 'busybox', 'sh', '-c', 'echo $DOCKER_CONFIG; test -S /var/run/docker.sock && ls /run/secrets 2>&1'],
    { BERTH_HOST: d.host, DOCKER_AUTH_CONFIG: JSON.stringify(auth) });
  assert.equal(own.code, 1, own.stdout);
  assert.match(own.stdout, /^\/mine\n.*No such file or directory/s);
});
