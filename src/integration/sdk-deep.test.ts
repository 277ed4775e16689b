/**
 * The SDK calls a developer reaches for after the basics: docker-py's run kwargs, log
 * windows, exec options, archive/export/commit/diff, legacy link removal, df/events,
 * image save/load/build/list/search, registry data, IPAM networks and volume options
 * (test/compat/docker_py_deep.py), and dockerode's run/attach/logs demux, followProgress,
 * filtered events and lists, putArchive of a tar.gz, buildImage and the prunes
 * (test/compat/dockerode-deep.mjs). Each script reports what it saw; this asserts it.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { freeOctet } from '../testing/netns.js';
import { TestDaemon, REPO, run, lastJson } from '../testing/daemon.js';
import { TestRegistry } from './registry-fixture.js';

// A /24 no host route uses (a fixed one can meet another suite's network on a shared machine).
const NET = `10.${freeOctet(5, 150, 250)}.5`;
let d: TestDaemon;
let reg: TestRegistry;
before(async () => {
  [d, reg] = await Promise.all([TestDaemon.start(), TestRegistry.start()]);
});
after(async () => {
  await Promise.all([d?.stop(), reg?.stop()]);
});

function noErrors(o: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(o)) assert.equal((v as any)?.error, undefined, `${k}: ${JSON.stringify(v)}`);
}

test('docker-py: the less common calls of APIClient and the high-level client', { timeout: 60000 }, async () => {
  const r = await run('/usr/bin/python3', [join(REPO, 'test/compat/docker_py_deep.py')], { DOCKER_HOST: d.host, REGISTRY: reg.host, NET24: NET }, { timeout: 55000 });
  assert.equal(r.code, 0, r.stderr);
  const o = lastJson(r.stdout);
  noErrors(o);
  const k = o.run_kwargs;
  // uid, workdir, env, extra host, dns, ulimit, tmpfs mount, read-only root, sysctl.
  assert.equal(k.exec, '1000\n/tmp\ntwo words\n10.9.8.7\texample.test\nnameserver 1.1.1.1\n1024\n1\n1\n1\n');
  assert.deepEqual(k.labels, { flag: '' });
  assert.deepEqual(k.env, ['A=1', 'B=two words']);
  assert.deepEqual(k.ports, ['80/tcp', '81/tcp', '82/udp']);
  assert.equal(k.port81, '127.0.0.1');
  assert.deepEqual(k.hc, { Memory: 64 << 20, NanoCpus: 5e8, CpuShares: 512, Init: true, ReadonlyRootfs: true, ShmSize: 16 << 20, CapAdd: ['NET_ADMIN'], Dns: ['1.1.1.1'], ExtraHosts: ['example.test:10.9.8.7'], Tmpfs: { '/run/t': 'size=1m' }, Sysctls: { 'net.ipv4.ip_forward': '1' } });
  assert.deepEqual(k.restart, { Name: 'on-failure', MaximumRetryCount: 2 });
  assert.deepEqual(k.log, { Type: 'json-file', Config: { 'max-size': '1m' } });
  assert.deepEqual(k.ulimits, [{ Name: 'nofile', Soft: 1024, Hard: 2048 }]);
  assert.deepEqual(k.health, ['CMD', 'true']);
  assert.deepEqual(k.mounts, ['/data', '/named', '/scratch']);
  assert.equal(k.open_stdin, true);
  assert.deepEqual(o.run_forms, { both: ['err', 'out'], entrypoint: 'ep echo ep-arg\n', stream: '1\n2\n', auto_removed: true, exit: 3 });
  assert.equal(o.platform_mismatch[0], 404);
  assert.match(o.platform_mismatch[1], /^image with reference busybox was found but does not match the specified platform: wanted linux\/\w+, actual: linux\/\w+$/);
  assert.equal(o.logs.tail, 'b\n');
  assert.equal(o.logs.since, 'b\n');
  assert.equal(o.logs.until, 'a\n');
  assert.match(o.logs.ts[0], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z$/);
  assert.equal(o.logs.ts[1], 'a');
  assert.equal(o.logs.follow, 'a\nb\n');
  assert.deepEqual(o.logs.stats, ['cpu_stats', 'memory_stats', 'networks', 'pids_stats', 'read']);
  assert.equal(o.logs.stats_decode, true);
  assert.equal(o.exec.env, 'xv\n/etc\n65534\n');
  assert.deepEqual(o.exec.demux, ['o\n', 'e\n']);
  assert.equal(o.exec.stream, 's1\ns2\n');
  assert.match(o.exec.priv, /^CapEff:\s+0*1ffffffffff$|^CapEff:\s+000001fffeffffff$|^CapEff:\s+[0-9a-f]{16}$/);
  assert.equal(o.exec.socket, 'via-socket\n');
  const fs = o.fs;
  assert.equal(fs.put, true);
  assert.deepEqual(fs.stat, ['in.txt', 8]);
  assert.equal(fs.back, 'payload\n');
  assert.deepEqual(fs.diff, [['/tmp', 0], ['/tmp/in.txt', 1]]);
  assert.equal(fs.export_has, true);
  assert.equal(fs.commit_run, 'payload\n');
  assert.equal(fs.committed_env, true);
  assert.equal(fs.mem, 96 << 20);
  assert.equal(fs.renamed, 'pydeep-fs2');
  assert.equal(fs.usr1, 5);
  assert.equal(fs.kill9, 137);
  // rm --link: the alias leaves the parent (inspect, and /etc/hosts at the next start); both containers stay; a second removal is 404.
  assert.deepEqual(o.links, { before: '1', links: null, after: '0', alive: ['running', 'running'], again: 404 });
  assert.deepEqual(o.system.events, [['volume', 'create'], ['volume', 'destroy']]);
  assert.deepEqual(o.system.df, ['BuildCache', 'Containers', 'Images', 'LayersSize', 'Volumes']);
  for (const [f, has] of Object.entries({ ...o.system.info, ...o.system.version })) assert.equal(has, true, f);
  const im = o.images;
  assert.equal(im.has_manifest, true);
  assert.deepEqual(im.repotags, ['pydeep-img:t1']);
  assert.ok(im.loaded.includes('pydeep-img:t1'), JSON.stringify(im.loaded));
  assert.deepEqual(im.list_name, ['pydeep-img:t1']);
  assert.equal(im.list_ref, 1);
  assert.equal(im.list_label, 0);
  assert.equal(im.search[0], 501);
  assert.match(im.search[1], /image search is not supported by berth/);
  assert.equal(o.build.out, 'argval\n');
  assert.deepEqual(o.build.labels, { stage: 'base', built: 'py' });
  assert.deepEqual(o.build.tags, ['pydeep-b:1']);
  assert.equal(o.build.stream, true);
  assert.match(o.build.fail, /returned a non-zero code: 7/);
  assert.deepEqual(o.registry_data, { digest: true, platform: true, os: 'linux' });
  const n = o.network;
  assert.equal(n.ip, `${NET}.50`);
  assert.equal(n.aliases, true);
  assert.deepEqual(n.links, ['pydeep-nt:lnk']);
  // Connected to a user network after starting on the default bridge: names resolve through 127.0.0.11.
  assert.equal(n.ping, 'ok\n');
  assert.deepEqual(n.resolv, [0, 1]);
  assert.equal(n.internal, true);
  assert.deepEqual(n.labels, { l: '1' });
  assert.deepEqual(n.subnet, { Subnet: `${NET}.0/24`, Gateway: `${NET}.1`, IPRange: `${NET}.128/25` });
  assert.equal(n.dup, 409);
  assert.equal(n.containers, 2);
  assert.deepEqual(o.volume, { opts: { type: 'tmpfs', device: 'tmpfs', o: 'size=2m' }, busy: 409, gone: true });
  const left = await d.api('GET', '/containers/json?all=1');
  assert.deepEqual(left.json(), [], 'the script removed every container it made');
});

test('dockerode: run streams, hijacked stdin, followed logs, filters, tar.gz archive, build, events, prunes', { timeout: 40000 }, async () => {
  const r = await run(process.execPath, [join(REPO, 'test/compat/dockerode-deep.mjs')], { DOCKER_HOST: d.host }, { timeout: 35000 });
  assert.equal(r.code, 0, r.stderr);
  const o = lastJson(r.stdout);
  noErrors(o);
  assert.deepEqual(o.run, { code: 4, out: 'to-out\n', err: 'to-err\n' });
  assert.deepEqual(o.attach_stdin, { code: 0, out: 'got-line\n' });
  assert.deepEqual(o.logs_follow, { out: 'o1\no2\n', err: 'e1\n' });
  assert.deepEqual(o.list_filters, { running: ['/odeep-lb'], all: ['/odeep-la', '/odeep-lb'], exited: ['/odeep-la'] });
  assert.equal(o.put_targz, 'zipped\n');
  assert.deepEqual(o.build, { progress: true, out: 'hi-arg\n', code: 0, label: 'dockerode', failed: "The command '/bin/sh -c exit 3' returned a non-zero code: 3" });
  assert.match(o.pull_progress, /^status:5\d\d$/);
  assert.deepEqual(o.events, ['start', 'die', 'destroy']);
  assert.deepEqual(o.prunes, { containers: true, volumes: ['odeep-pv'], networks: ['odeep-pn'], images: true, space: 'number' });
});
