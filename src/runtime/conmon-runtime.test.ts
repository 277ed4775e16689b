/**
 * ConmonRuntime against real containers (root only): conmon + runc + a busybox rootfs.
 * Every test deletes what it made; after() checks nothing is left behind.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir } from 'node:fs/promises';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createConmonRuntime, type ConmonRuntime } from './conmon-runtime.js';
import { fdPoller } from '../common/fd-poller.js';
import { isMountPoint } from '../mount/mount.js';
import {
  makeBusyboxRootfs, rootfsMounts, testSpec, collect, runToExit, removeCgroupParent, rmTree, CGROUP_PARENT,
} from './test-support.js';
import { readHostDevices } from './spec/host-info.js';

const root = process.getuid?.() === 0;
const T = { timeout: 30_000, skip: root ? false : 'needs root' };

let execRoot = '';
let rootfs = '';
let rt: ConmonRuntime;
let n = 0;
let fdsBefore = 0;
const openFds = () => readdirSync('/proc/self/fd').length;
const newId = () => `t${process.pid}-${++n}`;

before(async () => {
  if (!root) return;
  execRoot = await mkdtemp('/tmp/brt-');
  rootfs = await makeBusyboxRootfs();
  rt = createConmonRuntime({ execRoot });
  // The process's attach poller keeps its epoll and eventfd for life: count them in.
  fdPoller();
  fdsBefore = openFds();
});

after(async () => {
  if (!root) return;
  for (const id of await rt.list()) await rt.delete(id);
  await rt.close();
  await sleep(100);
  const fdsAfter = openFds();
  const left = await readdir(join(execRoot, 'c'));
  await rmTree(execRoot);
  await rmTree(rootfs);
  await removeCgroupParent();
  assert.deepEqual(left, [], 'bundles left behind');
  // The runtime's own watcher is closed now, hence <=: every socket and pipe was released.
  assert.ok(fdsAfter <= fdsBefore, `fd leak: ${fdsBefore} open before, ${fdsAfter} after`);
});

const log = (id: string) => join(execRoot, `${id}.log`);

test('echo: output through an attach connected before start, exit code, PID 1, hostname', T, async () => {
  const id = newId();
  const r = await runToExit(rt, id, rootfs, { args: ['sh', '-c', 'echo pid=$$; hostname; echo oops >&2; exit 3'], hostname: 'boxy' }, execRoot);
  assert.equal(r.stdout, 'pid=1\nboxy\n');
  assert.equal(r.stderr, 'oops\n');
  assert.equal(r.exit.exitCode, 3);
  assert.equal(r.exit.oomKilled, false);
  assert.match(readFileSync(log(id), 'utf8'), /stdout F pid=1/);
  await rt.delete(id);
  await rt.delete(id); // idempotent
  assert.equal(existsSync(join(execRoot, 'c', id)), false);
});

test('a signal death is reported as 128+signal', T, async () => {
  // The kernel shields a namespace's PID 1 from its own SIGKILL, so (as with docker
  // run --init) the shell runs under tini, which reports the death as 128+9.
  const id = newId();
  const r = await runToExit(rt, id, rootfs, { args: ['sh', '-c', 'kill -9 $$'], init: '/usr/bin/tini-static' }, execRoot);
  assert.equal(r.exit.exitCode, 137);
  await rt.delete(id);
  // PID 1 killed from outside: conmon itself records 128+signal.
  const id2 = newId();
  const spec = await testSpec(id2, { args: ['sleep', '60'] });
  await rt.create({ id: id2, spec, rootfs: rootfsMounts(rootfs), logPath: log(id2), terminal: false, stdin: false });
  await rt.start(id2);
  await rt.kill(id2, 9);
  assert.equal((await rt.waitExit(id2)).exitCode, 137);
  await rt.delete(id2);
});

test('unknown command: runc\'s message, and nothing left behind', T, async () => {
  const id = newId();
  const spec = await testSpec(id, { args: ['nosuch'] });
  await assert.rejects(
    rt.create({ id, spec, rootfs: rootfsMounts(rootfs), logPath: log(id), terminal: false, stdin: false }),
    (e: any) => e.code === 'INTERNAL' && /executable file not found in \$PATH/.test(e.message),
  );
  assert.equal(existsSync(join(execRoot, 'c', id)), false, 'bundle removed');
  assert.equal(await isMountPoint(join(execRoot, 'c', id, 'rootfs')), false, 'rootfs unmounted');
  assert.equal(await rt.state(id), undefined, 'runc forgot it');
  assert.equal(existsSync(join(execRoot, 'exits', id)), false);
  assert.equal(existsSync(join(execRoot, 'persist', id)), false);
});

test('tty: output on stdout, resize through the ctl fifo', T, async () => {
  const id = newId();
  const spec = await testSpec(id, { args: ['sh', '-c', 'sleep 1; stty size; echo done'], terminal: true });
  await rt.create({ id, spec, rootfs: rootfsMounts(rootfs), logPath: log(id), terminal: true, stdin: false });
  const io = await rt.attach(id);
  const out = collect(io.output);
  await rt.start(id);
  await rt.resize(id, 33, 111);
  const [o, exit] = await Promise.all([out, rt.waitExit(id)]);
  assert.match(o.stdout, /33 111\r?\n/);
  assert.equal(o.stderr, '');
  assert.equal(exit.exitCode, 0);
  await rt.delete(id);
});

test('stdin: cat echoes, closeStdin ends it with 0', T, async () => {
  const id = newId();
  const spec = await testSpec(id, { args: ['cat'] });
  await rt.create({ id, spec, rootfs: rootfsMounts(rootfs), logPath: log(id), terminal: false, stdin: true });
  const io = await rt.attach(id);
  const out = collect(io.output);
  await rt.start(id);
  io.write(Buffer.from('hello\n'));
  io.closeStdin();
  const [o, exit] = await Promise.all([out, rt.waitExit(id)]);
  assert.equal(o.stdout, 'hello\n');
  assert.equal(exit.exitCode, 0);
  await rt.delete(id);
});

test('exec: output + exit code, tty exec with resize, detached exec, bad command, then kill', T, async () => {
  const id = newId();
  const spec = await testSpec(id, { args: ['sleep', '60'] });
  await rt.create({ id, spec, rootfs: rootfsMounts(rootfs), logPath: log(id), terminal: false, stdin: false });
  await rt.start(id);
  assert.equal((await rt.state(id))?.status, 'running');
  const proc = (args: string[], terminal = false) => ({ args, cwd: '/', env: ['PATH=/bin'], terminal, user: { uid: 0, gid: 0 } });

  const e1 = await rt.exec(id, { execId: 'e1', process: proc(['sh', '-c', 'echo out; echo err >&2; exit 5']), terminal: false, stdin: false, detach: false });
  assert.ok(e1.pid > 0);
  const o1 = await collect(e1.io!.output);
  assert.deepEqual(o1, { stdout: 'out\n', stderr: 'err\n' });
  assert.equal(await e1.exited, 5);

  const e2 = await rt.exec(id, { execId: 'e2', process: proc(['sh', '-c', 'sleep 1; stty size; tty'], true), terminal: true, stdin: false, detach: false });
  await e2.resize(24, 77);
  const o2 = await collect(e2.io!.output);
  assert.match(o2.stdout, /24 77\r?\n\/dev\/pts\/\d+/);
  assert.equal(await e2.exited, 0);

  const e3 = await rt.exec(id, { execId: 'e3', process: proc(['sh', '-c', 'exit 7']), terminal: false, stdin: false, detach: true });
  assert.equal(e3.io, undefined);
  assert.equal(await e3.exited, 7);

  const e4 = await rt.exec(id, { execId: 'e4', process: proc(['cat']), terminal: false, stdin: true, detach: false });
  e4.io!.write(Buffer.from('via exec stdin\n'));
  e4.io!.closeStdin();
  assert.equal((await collect(e4.io!.output)).stdout, 'via exec stdin\n');
  assert.equal(await e4.exited, 0);

  await assert.rejects(
    rt.exec(id, { execId: 'e5', process: proc(['nosuch']), terminal: false, stdin: false, detach: false }),
    /executable file not found/,
  );

  await rt.kill(id, 'KILL');
  assert.equal((await rt.waitExit(id)).exitCode, 137);
  assert.equal((await rt.state(id))?.status, 'stopped');
  await rt.delete(id);
  assert.equal(await rt.state(id), undefined);
});

test('init: tini as PID 1 forwards SIGTERM; pause/resume', T, async () => {
  const id = newId();
  const spec = await testSpec(id, { args: ['sleep', '60'], init: '/usr/bin/tini-static' });
  assert.deepEqual(spec.process!.args.slice(0, 2), ['/sbin/docker-init', '--']);
  await rt.create({ id, spec, rootfs: rootfsMounts(rootfs), logPath: log(id), terminal: false, stdin: false });
  await rt.start(id);
  await rt.pause(id);
  assert.equal((await rt.state(id))?.status, 'paused');
  await rt.resume(id);
  assert.equal(await rt.exitStatus(id), undefined);
  await rt.kill(id, 'SIGTERM');
  const exit = await rt.waitExit(id);
  assert.equal(exit.exitCode, 143);
  await assert.rejects(rt.kill(id, 'TERM'), (e: any) => e.code === 'FAILED_PRECONDITION' || e.code === 'NOT_FOUND');
  await rt.delete(id);
});

test('a second runtime on the same exec root sees the exit of a container the first started', T, async () => {
  const id = newId();
  const spec = await testSpec(id, { args: ['sh', '-c', 'sleep 2; exit 4'] });
  await rt.create({ id, spec, rootfs: rootfsMounts(rootfs), logPath: log(id), terminal: false, stdin: false });
  await rt.start(id);
  const rt2 = createConmonRuntime({ execRoot });
  try {
    assert.ok((await rt2.list()).includes(id));
    assert.equal((await rt2.state(id))?.status, 'running');
    const exit = await rt2.waitExit(id);
    assert.equal(exit.exitCode, 4);
    await rt2.delete(id);
  } finally {
    await rt2.close();
  }
});

test('OOM kill under a memory limit is reported', T, async () => {
  const id = newId();
  const r = await runToExit(rt, id, rootfs, {
    args: ['sh', '-c', 'head -c 200m /dev/zero | tail'],
    resources: { Memory: 16 * 1024 * 1024, MemorySwap: 16 * 1024 * 1024 },
  }, execRoot);
  assert.equal(r.exit.oomKilled, true);
  assert.notEqual(r.exit.exitCode, 0);
  await rt.delete(id);
});

test('seccomp is on and mount is refused; a privileged container can mount', T, async () => {
  const id = newId();
  const r = await runToExit(rt, id, rootfs, { args: ['sh', '-c', 'grep Seccomp: /proc/self/status; mount -t tmpfs t /mnt && echo mounted'] }, execRoot);
  assert.match(r.stdout, /Seccomp:\s+2/);
  assert.doesNotMatch(r.stdout, /mounted/);
  assert.notEqual(r.exit.exitCode, 0);
  await rt.delete(id);

  const id2 = newId();
  // Every host device and every capability berthd holds (this host lacks CAP_SYS_RESOURCE).
  const hostDevices = await readHostDevices();
  const r2 = await runToExit(rt, id2, rootfs, {
    args: ['sh', '-c', 'grep Seccomp: /proc/self/status; mount -t tmpfs t /mnt && echo mounted; ls /dev/null /dev/zero'],
    privileged: true, hostDevices,
  }, execRoot);
  assert.match(r2.stdout, /Seccomp:\s+0/);
  assert.match(r2.stdout, /mounted/);
  assert.match(r2.stdout, /\/dev\/zero/);
  assert.equal(r2.exit.exitCode, 0);
  await rt.delete(id2);
});

test('read-only rootfs refuses writes; tmpfs mount is writable', T, async () => {
  const id = newId();
  const r = await runToExit(rt, id, rootfs, {
    args: ['sh', '-c', 'mkdir /nope 2>/dev/null && echo wrote; mkdir /scratch/ok && echo tmpfs-ok'],
    readonlyRootfs: true,
    mounts: [{ destination: '/scratch', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'size=1m'] }],
  }, execRoot);
  assert.equal(r.stdout, 'tmpfs-ok\n');
  await rt.delete(id);
});

test('an exec root too long for the attach socket path fails clearly, leaving nothing', T, async () => {
  const long = join(execRoot, 'x'.repeat(60));
  const rt3 = createConmonRuntime({ execRoot: long });
  try {
    const id = 'y'.repeat(40);
    const spec = await testSpec(id, { args: ['true'] });
    await assert.rejects(
      rt3.create({ id, spec, rootfs: rootfsMounts(rootfs), logPath: log(id), terminal: false, stdin: false }),
      (e: any) => e.code === 'INVALID_ARGUMENT' && /sun_path/.test(e.message),
    );
    assert.deepEqual(await rt3.list(), []);
  } finally {
    await rt3.close();
    await rmTree(long);
  }
});

test('delete after exit: cgroups (with a child cgroup the container made) and runc state go without a runc process', T, async () => {
  const id = newId();
  // Privileged, so the cgroup tree is writable inside; background sleeps die with PID 1.
  const r = await runToExit(rt, id, rootfs, {
    args: ['sh', '-c', 'mkdir /sys/fs/cgroup/pids/child && echo made; sleep 60 & sleep 60 & exit 4'],
    privileged: true, hostDevices: await readHostDevices(),
  }, execRoot);
  assert.equal(r.stdout, 'made\n');
  assert.equal(r.exit.exitCode, 4);
  const cgroupDirs = () => readdirSync('/sys/fs/cgroup').flatMap((c) => {
    const p = join('/sys/fs/cgroup', c, CGROUP_PARENT, id);
    return existsSync(p) ? [p] : [];
  });
  assert.ok(cgroupDirs().some((p) => p.includes('/pids/')), 'the container had a pids cgroup');
  assert.ok(existsSync(join('/sys/fs/cgroup/pids', CGROUP_PARENT, id, 'child')), 'the child cgroup exists before delete');
  const runcState = join(execRoot, 'runc', id);
  assert.ok(existsSync(runcState));
  await rt.delete(id);
  assert.deepEqual(cgroupDirs(), [], 'cgroups removed');
  assert.equal(existsSync(runcState), false, 'runc state removed');
  assert.equal(await rt.state(id), undefined);

  // Still running: the in-process path declines and `runc delete --force` kills it.
  const id2 = newId();
  const spec = await testSpec(id2, { args: ['sleep', '60'] });
  await rt.create({ id: id2, spec, rootfs: rootfsMounts(rootfs), logPath: log(id2), terminal: false, stdin: false });
  await rt.start(id2);
  const pid = (await rt.state(id2))!.pid;
  await rt.delete(id2);
  // Killed: gone, or a zombie until its monitor reaps it.
  const alive = () => {
    try {
      return !/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    } catch {
      return false;
    }
  };
  for (let i = 0; i < 40 && alive(); i++) await sleep(50);
  assert.equal(alive(), false, 'the running process was killed');
  assert.equal(existsSync(join(execRoot, 'runc', id2)), false);
});
