import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildCreateRequest, parseMount, rewriteBoolFlags, type RunFlags } from './opts.js';
import { FrameDemuxer, encodeFrame, parseDetachKeys, DetachWatcher } from './stdio.js';
import { splitReference } from './progress.js';
import { startErrorStatus } from './commands/run.js';
import { compareVersions, parseHost } from './client.js';

const build = (f: RunFlags, args: string[] = [], env: NodeJS.ProcessEnv = {}) => buildCreateRequest('busybox', args, f, env).body;

test('run flags → Config', () => {
  const b = build({ interactive: true, tty: true, env: ['A=1', 'HOME', 'UNSET'], workdir: '/w', user: '1000:1000', hostname: 'h', label: ['k=v', 'flag'], stopSignal: 'SIGINT', stopTimeout: '7' }, ['ls', '-l'], { HOME: '/root' });
  assert.deepEqual(b.Cmd, ['ls', '-l']);
  assert.deepEqual(b.Env, ['A=1', 'HOME=/root']);
  assert.equal(b.Tty, true);
  assert.equal(b.OpenStdin, true);
  assert.equal(b.AttachStdin, true);
  assert.equal(b.StdinOnce, true);
  assert.equal(b.AttachStdout, true);
  assert.equal(b.WorkingDir, '/w');
  assert.equal(b.User, '1000:1000');
  assert.equal(b.Hostname, 'h');
  assert.deepEqual(b.Labels, { k: 'v', flag: '' });
  assert.equal(b.StopSignal, 'SIGINT');
  assert.equal(b.StopTimeout, 7);
  assert.equal(b.Entrypoint, null);
  assert.equal(b.Image, 'busybox');
  assert.deepEqual(build({ entrypoint: '' }).Entrypoint, ['']);
  assert.deepEqual(build({ entrypoint: '/bin/sh' }).Entrypoint, ['/bin/sh']);
  assert.equal(build({}).Cmd, null);
  const d = buildCreateRequest('busybox', [], { interactive: true }, {}, true).body;
  assert.equal(d.AttachStdin, false);
  assert.equal(d.AttachStdout, false);
  assert.equal(d.StdinOnce, false);
  const a = build({ attach: ['stdout'] });
  assert.equal(a.AttachStdout, true);
  assert.equal(a.AttachStderr, false);
});

test('--env-file then -e, comments skipped', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-'));
  try {
    const f = join(dir, 'env');
    writeFileSync(f, '# comment\nX=1\n\nFROMENV\n  Y=two words\n');
    assert.deepEqual(build({ envFile: [f], env: ['Z=3'] }, [], { FROMENV: 'e' }).Env, ['X=1', 'FROMENV=e', 'Y=two words', 'Z=3']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('volumes, mounts, tmpfs → HostConfig', () => {
  const b = build({ volume: ['data:/data', '/host:/ctr:ro', '/anon', './rel:/r'], tmpfs: ['/run:rw,size=64m', '/tmp'], mount: ['type=bind,source=/a,target=/b,readonly', 'type=tmpfs,dst=/t,tmpfs-size=1m,tmpfs-mode=1777', 'source=vol,target=/v,volume-nocopy'] });
  assert.deepEqual(b.HostConfig!.Binds, ['data:/data', '/host:/ctr:ro', `${process.cwd()}/rel:/r`]);
  assert.deepEqual(b.Volumes, { '/anon': {} });
  assert.deepEqual(b.HostConfig!.Tmpfs, { '/run': 'rw,size=64m', '/tmp': '' });
  assert.deepEqual(b.HostConfig!.Mounts, [
    { Type: 'bind', Source: '/a', Target: '/b', ReadOnly: true },
    { Type: 'tmpfs', Target: '/t', TmpfsOptions: { SizeBytes: 1048576, Mode: 0o1777 } },
    { Type: 'volume', Source: 'vol', Target: '/v', VolumeOptions: { NoCopy: true } },
  ]);
  assert.throws(() => parseMount('type=bind,source=/a'), /target is required/);
  assert.throws(() => parseMount('type=bogus,target=/a'), /invalid value for type: bogus/);
  assert.throws(() => build({ volume: ['rel'] }), /invalid volume specification: 'rel'/);
  assert.throws(() => build({ tmpfs: ['rel'] }), /mount path must be absolute/);
});

test('resources, ulimits, restart, caps, ports', () => {
  const hc = build({ memory: '512m', shmSize: '1g', cpus: '1.5', pidsLimit: '100', ulimit: ['nofile=1024:2048', 'nproc=10'], restart: 'on-failure:3', capAdd: ['NET_ADMIN'], capDrop: ['ALL'], securityOpt: ['no-new-privileges'], privileged: true, readOnly: true, init: true, network: 'host', rm: false, publish: ['8080:80', '127.0.0.1:53:53/udp'] }).HostConfig!;
  assert.equal(hc.Memory, 536870912);
  assert.equal(hc.ShmSize, 1073741824);
  assert.equal(hc.NanoCpus, 1_500_000_000);
  assert.equal(hc.PidsLimit, 100);
  assert.deepEqual(hc.Ulimits, [{ Name: 'nofile', Soft: 1024, Hard: 2048 }, { Name: 'nproc', Soft: 10, Hard: 10 }]);
  assert.deepEqual(hc.RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 3 });
  assert.deepEqual(hc.CapAdd, ['NET_ADMIN']);
  assert.deepEqual(hc.CapDrop, ['ALL']);
  assert.deepEqual(hc.SecurityOpt, ['no-new-privileges']);
  assert.equal(hc.Privileged, true);
  assert.equal(hc.ReadonlyRootfs, true);
  assert.equal(hc.Init, true);
  assert.equal(hc.NetworkMode, 'host');
  assert.deepEqual(hc.PortBindings, { '80/tcp': [{ HostIp: '', HostPort: '8080' }], '53/udp': [{ HostIp: '127.0.0.1', HostPort: '53' }] });
  assert.equal(build({ rm: true }).HostConfig!.AutoRemove, true);
  assert.throws(() => build({ memory: '10zz' }), (e: Error) => e.message === `invalid argument "10zz" for "-m, --memory" flag: invalid suffix: 'zz'` && (e as { exitCode?: number }).exitCode === 125);
  assert.throws(() => build({ cpus: 'abc' }), /invalid argument "abc" for "--cpus" flag/);
  assert.throws(() => build({ ulimit: ['nofile=2048:1024'] }), /soft limit must be less than or equal to hard limit/);
  assert.throws(() => build({ restart: 'always:3' }), /maximum retry count can only be used with 'on-failure'/);
  assert.throws(() => build({ restart: 'always', rm: true }), /Conflicting options: --restart and --rm/);
});

test('frame demux across chunk boundaries; detach keys', () => {
  const got: Array<[number, string]> = [];
  const d = new FrameDemuxer((s, p) => got.push([s, p.toString()]));
  const all = Buffer.concat([encodeFrame(1, 'hello '), encodeFrame(2, 'err'), encodeFrame(1, 'world')]);
  for (let i = 0; i < all.length; i += 3) d.push(all.subarray(i, i + 3));
  assert.deepEqual(got, [[1, 'hello '], [2, 'err'], [1, 'world']]);
  assert.equal(d.pending, 0);
  assert.deepEqual(parseDetachKeys('ctrl-p,ctrl-q'), [16, 17]);
  assert.deepEqual(parseDetachKeys('ctrl-a,x'), [1, 120]);
  assert.throws(() => parseDetachKeys('ctrl-1'), /invalid detach keys/);
  const w = new DetachWatcher([16, 17]);
  w.feed(Buffer.from([16, 16]));
  assert.equal(w.detached, false);
  w.feed(Buffer.from([17]));
  assert.equal(w.detached, true);
});

test('misc parsing: references, start errors, hosts, versions, bool flags', () => {
  assert.deepEqual(splitReference('busybox'), { repo: 'busybox', tag: 'latest', display: 'busybox:latest' });
  assert.deepEqual(splitReference('localhost:5000/x'), { repo: 'localhost:5000/x', tag: 'latest', display: 'localhost:5000/x:latest' });
  assert.equal(splitReference('localhost:5000/x:1.2').tag, '1.2');
  assert.equal(splitReference('x@sha256:abc').tag, 'sha256:abc');
  assert.equal(startErrorStatus('exec: "nope": executable file not found in $PATH'), 127);
  assert.equal(startErrorStatus('stat /x: no such file or directory'), 127);
  assert.equal(startErrorStatus('exec /etc/passwd: permission denied'), 126);
  assert.equal(startErrorStatus('cgroup trouble'), 125);
  assert.deepEqual(parseHost('unix:///run/x.sock'), { socketPath: '/run/x.sock' });
  assert.deepEqual(parseHost('tcp://127.0.0.1:2375'), { host: '127.0.0.1', port: 2375 });
  assert.ok(compareVersions('1.41', '1.47') < 0);
  assert.ok(compareVersions('1.9', '1.41') < 0);
  assert.deepEqual(rewriteBoolFlags(['run', '--rm=true', '--sig-proxy=false', '-d=1', '--init=false', 'busybox', '--', '--rm=false']), ['run', '--rm', '--no-sig-proxy', '-d=1', 'busybox', '--', '--rm=false']);
});
