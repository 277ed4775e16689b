/**
 * End to end: a private berthd, real containers, driven by the docker CLI and the API.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { readFileSync } from 'node:fs';
import { TestDaemon } from '../testing/daemon.js';

let d: TestDaemon;
before(async () => {
  d = await TestDaemon.start();
});
after(async () => {
  await d?.stop();
});

test('docker run --rm busybox echo hello prints hello', async () => {
  const r = await d.docker(['run', '--rm', 'busybox', 'echo', 'hello']);
  assert.equal(r.stderr, '');
  assert.equal(r.stdout, 'hello\n');
  assert.equal(r.code, 0);
  const ps = await d.api('GET', '/containers/json?all=1');
  assert.deepEqual(ps.json(), [], 'an --rm container is gone once docker run returns');
});

test('exit codes: the container\'s, 127 for a missing command, 126 for a non-executable one', async () => {
  assert.equal((await d.docker(['run', '--rm', 'busybox', 'sh', '-c', 'exit 3'])).code, 3);
  const missing = await d.docker(['run', '--rm', 'busybox', 'nosuchcmd']);
  assert.equal(missing.code, 127, missing.stderr);
  assert.match(missing.stderr, /nosuchcmd/);
  const notExec = await d.docker(['run', '--rm', 'busybox', '/etc/passwd']);
  assert.equal(notExec.code, 126, notExec.stderr);
});

test('isolation: PID 1 is the command, own hostname, no host mounts, mount denied', async () => {
  const r = await d.docker(['run', '--rm', '--hostname', 'box1', 'busybox', 'sh', '-c', 'echo $$; hostname; cat /proc/1/cmdline | tr "\\0" " "; echo; mount -t tmpfs x /mnt 2>&1 || echo denied']);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines[0], '1');
  assert.equal(lines[1], 'box1');
  assert.match(lines[2]!, /^sh -c/);
  assert.match(r.stdout, /denied/);
  const mounts = await d.docker(['run', '--rm', 'busybox', 'cat', '/proc/self/mountinfo']);
  const points = mounts.stdout.trim().split('\n').map((l) => l.split(' ')[4]!);
  assert.ok(points.includes('/'), mounts.stdout);
  assert.deepEqual(points.filter((p) => p.startsWith('/tmp') || p.startsWith('/work') || p.startsWith('/var/lib')), [], 'host mounts are invisible');
  const ps = await d.docker(['run', '--rm', 'busybox', 'ps', '-o', 'pid,comm']);
  assert.equal(ps.stdout.trim().split('\n').length, 2, `only ps itself and a header: ${ps.stdout}`);
});

test('detached container: ps, logs, exec, stop, rm through the docker CLI', async () => {
  const run = await d.docker(['run', '-d', '--name', 'web', 'busybox', 'sh', '-c', 'echo started; trap "echo bye; exit 0" TERM; while true; do sleep 0.1; done']);
  assert.equal(run.code, 0, run.stderr);
  const id = run.stdout.trim();
  assert.match(id, /^[a-f0-9]{64}$/);
  const ps = await d.docker(['ps', '--format', '{{.Names}} {{.Status}}']);
  assert.match(ps.stdout, /^web Up/m);
  const exec = await d.docker(['exec', 'web', 'sh', '-c', 'echo in-exec; exit 4']);
  assert.equal(exec.stdout, 'in-exec\n');
  assert.equal(exec.code, 4);
  const stop = await d.docker(['stop', 'web']);
  assert.equal(stop.code, 0, stop.stderr);
  const logs = await d.docker(['logs', 'web']);
  assert.equal(logs.stdout, 'started\nbye\n');
  const insp = await d.api('GET', '/containers/web/json');
  assert.equal(insp.json().State.Status, 'exited');
  assert.equal(insp.json().State.ExitCode, 0);
  assert.equal((await d.docker(['rm', 'web'])).code, 0);
  assert.equal((await d.api('GET', '/containers/web/json')).status, 404);
});

test('stdin: echo hi | docker run -i busybox cat', async () => {
  const r = await d.docker(['run', '--rm', '-i', 'busybox', 'cat'], { input: 'hi there\n' });
  assert.equal(r.stdout, 'hi there\n');
  assert.equal(r.code, 0);
});

test('volumes and bind mounts persist data', async () => {
  const w = await d.docker(['run', '--rm', '-v', 'data1:/data', 'busybox', 'sh', '-c', 'echo kept > /data/f']);
  assert.equal(w.code, 0, w.stderr);
  const r = await d.docker(['run', '--rm', '-v', 'data1:/data:ro', 'busybox', 'sh', '-c', 'cat /data/f; touch /data/g 2>/dev/null || echo readonly']);
  assert.equal(r.stdout, 'kept\nreadonly\n');
  const v = await d.docker(['volume', 'ls', '-q']);
  assert.match(v.stdout, /^data1$/m);
  assert.equal((await d.docker(['volume', 'rm', 'data1'])).code, 0);
});

test('errors: unknown image 404, running container rm without -f 409, bad body 400', async () => {
  const u = await d.api('POST', '/containers/create', { Image: 'nosuch:image' });
  assert.equal(u.status, 404);
  assert.match(u.json().message, /No such image/);
  const bad = await d.api('POST', '/containers/create', Buffer.from('{not json'), { 'Content-Type': 'application/json' });
  assert.equal(bad.status, 400);
  const c = await d.api('POST', '/containers/create', { Image: 'busybox', Cmd: ['sleep', '30'] });
  const id = c.json().Id;
  assert.equal((await d.api('POST', `/containers/${id}/start`)).status, 204);
  assert.equal((await d.api('POST', `/containers/${id}/start`)).status, 304);
  const rm = await d.api('DELETE', `/containers/${id}`);
  assert.equal(rm.status, 409);
  assert.equal((await d.api('DELETE', `/containers/${id}?force=1`)).status, 204);
});

test('berthd killed with SIGKILL: containers keep running and are re-adopted', async () => {
  // It ends only when told (an exec after the re-adoption): a slow relaunch on a loaded
  // machine must not outlive a fixed sleep.
  const c = await d.api('POST', '/containers/create?name=survivor', { Image: 'busybox', Cmd: ['sh', '-c', 'while [ ! -e /tmp/go ]; do sleep 0.05; done; exit 7'] });
  assert.equal(c.status, 201);
  assert.equal((await d.api('POST', '/containers/survivor/start')).status, 204);
  await d.kill('SIGKILL');
  await d.launch();
  const st = await d.api('GET', '/containers/survivor/json');
  assert.equal(st.json().State.Running, true);
  assert.equal((await d.docker(['exec', 'survivor', 'touch', '/tmp/go'])).code, 0);
  const w = await d.api('POST', '/containers/survivor/wait');
  assert.equal(w.json().StatusCode, 7);
  assert.equal((await d.api('GET', '/containers/survivor/json')).json().State.ExitCode, 7);
});

test('--domainname reaches the kernel; --uts host keeps the host name; -h with --uts host conflicts', async () => {
  const dn = await d.docker(['run', '--rm', '--hostname', 'h1', '--domainname', 'example.org', 'busybox', 'sh', '-c', 'hostname; cat /proc/sys/kernel/domainname']);
  assert.equal(dn.code, 0, dn.stderr);
  assert.deepEqual(dn.stdout.trim().split('\n'), ['h1', 'example.org']);
  const uts = await d.docker(['run', '--rm', '--uts', 'host', 'busybox', 'hostname']);
  assert.equal(uts.code, 0, uts.stderr);
  assert.equal(uts.stdout.trim(), hostname());
  const both = await d.api('POST', '/containers/create', { Image: 'busybox', Cmd: ['true'], Hostname: 'x', HostConfig: { UTSMode: 'host' } });
  const start = both.status === 201 ? await d.api('POST', `/containers/${both.json().Id}/start`) : both;
  assert.equal(start.status, 400);
  assert.match(start.body.toString(), /conflicting options: hostname and the host UTS namespace/);
  if (both.status === 201) await d.api('DELETE', `/containers/${both.json().Id}?force=1`);
});

test('--ipc shareable and --ipc container:<x> share /dev/shm too; the host tmpfs goes with the container', async () => {
  const src = await d.docker(['run', '-d', '--name', 'shm-src', '--ipc', 'shareable', '--shm-size', '8m', 'busybox', 'sh', '-c', 'echo hi > /dev/shm/x; sleep 60']);
  assert.equal(src.code, 0, src.stderr);
  const id = src.stdout.trim();
  try {
    for (let i = 0; i < 50 && (await d.docker(['exec', 'shm-src', 'test', '-f', '/dev/shm/x'])).code !== 0; i++) await new Promise((r) => setTimeout(r, 100));
    const joined = await d.docker(['run', '--rm', '--ipc', 'container:shm-src', 'busybox', 'sh', '-c', 'cat /dev/shm/x; df -k /dev/shm | tail -1']);
    assert.equal(joined.code, 0, joined.stderr);
    const [line, df] = joined.stdout.trim().split('\n');
    assert.equal(line, 'hi');
    assert.match(df!, /^shm\s+8192\s/, 'the donor\'s 8 MiB tmpfs');
    const own = await d.docker(['run', '--rm', 'busybox', 'ls', '/dev/shm']);
    assert.equal(own.stdout.trim(), '', 'a private container has its own /dev/shm');
    assert.match(readFileSync('/proc/self/mountinfo', 'utf8'), new RegExp(`${id}/shm `));
  } finally {
    await d.docker(['rm', '-f', 'shm-src']);
  }
  assert.doesNotMatch(readFileSync('/proc/self/mountinfo', 'utf8'), new RegExp(`${id}/shm `), 'the host tmpfs was unmounted');
});

test('-u names resolve from the image, and from the container itself once it changed its /etc/passwd', { timeout: 30_000 }, async () => {
  // Twice the same image and user: the second answer comes from the image's files again.
  for (let i = 0; i < 2; i++) {
    const r = await d.docker(['run', '--rm', '-u', 'nobody', 'busybox', 'sh', '-c', 'id -u; echo $HOME']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '65534\n/home\n');
  }
  const unknown = await d.docker(['run', '--rm', '-u', 'neo', 'busybox', 'true']);
  assert.notEqual(unknown.code, 0);
  assert.match(unknown.stderr, /unable to find user neo/);
  // A container that rewrites its /etc/passwd sees its own at the next start (HOME and the user).
  const id = (await d.docker(['create', 'busybox', 'sh', '-c', 'echo $HOME; echo "root:x:0:0:root:/custom-home:/bin/sh" > /etc/passwd'])).stdout.trim();
  try {
    assert.equal((await d.docker(['start', '-a', id])).stdout, '/root\n');
    assert.equal((await d.docker(['start', '-a', id])).stdout, '/custom-home\n');
    // The image itself is unchanged for a fresh container.
    assert.equal((await d.docker(['run', '--rm', 'busybox', 'sh', '-c', 'echo $HOME'])).stdout, '/root\n');
  } finally {
    await d.docker(['rm', '-f', id]);
  }
});

test('a wait that comes after an --rm container is already gone still gets its exit code (dockerode and docker-py ask only after the start)', { timeout: 20_000 }, async () => {
  const id = (await d.api('POST', '/containers/create', { Image: 'busybox', Cmd: ['sh', '-c', 'exit 7'], HostConfig: { AutoRemove: true } })).json().Id as string;
  assert.equal((await d.api('POST', `/containers/${id}/start`)).status, 204);
  for (let i = 0; i < 100 && (await d.api('GET', `/containers/${id}/json`)).status !== 404; i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal((await d.api('GET', `/containers/${id}/json`)).status, 404, 'removed');
  for (const condition of ['not-running', 'next-exit', 'removed']) {
    const w = await d.api('POST', `/containers/${id}/wait?condition=${condition}`);
    assert.equal(w.status, 200, `${condition}: ${w.body.toString()}`);
    assert.deepEqual(w.json(), { StatusCode: 7, Error: null });
  }
  assert.equal((await d.docker(['wait', id])).stdout, '7\n');
  // A container that never existed, and one removed by docker rm, are 404 as ever.
  assert.equal((await d.api('POST', `/containers/${'f'.repeat(64)}/wait`)).status, 404);
  const plain = (await d.api('POST', '/containers/create', { Image: 'busybox', Cmd: ['true'] })).json().Id as string;
  assert.equal((await d.api('DELETE', `/containers/${plain}`)).status, 204);
  assert.equal((await d.api('POST', `/containers/${plain}/wait`)).status, 404);
});

test('--rm containers get a volatile overlay (their writes are never synced: they go at the exit), others not; docker restart of an --rm container restarts it (dockerd: no removal), its next exit removes it', { timeout: 30_000 }, async () => {
  const rootfsOptions = (id: string) => readFileSync('/proc/self/mountinfo', 'utf8').split('\n')
    .find((l) => l.split(' ')[4]?.includes(id) && l.includes(' - overlay '))?.split(' - overlay ')[1] ?? '';
  const gone = await d.docker(['run', '-d', '--rm', 'busybox', 'sh', '-c', 'echo x > /f; sleep 60']);
  const kept = await d.docker(['run', '-d', 'busybox', 'sleep', '60']);
  assert.equal(gone.code, 0, gone.stderr);
  assert.equal(kept.code, 0, kept.stderr);
  const [g, k] = [gone.stdout.trim(), kept.stdout.trim()];
  try {
    assert.match(rootfsOptions(g), /,(fsync=)?volatile(,|$)/); // newer kernels show fsync=volatile
    assert.match(rootfsOptions(k), /upperdir=/);
    assert.doesNotMatch(rootfsOptions(k), /volatile/);
    const restart = await d.docker(['restart', '-t', '0', g]);
    assert.equal(restart.code, 0, restart.stderr);
    const st = (await d.api('GET', `/containers/${g}/json`)).json().State;
    assert.equal(st.Running, true);
    assert.match(rootfsOptions(g), /,(fsync=)?volatile(,|$)/); // newer kernels show fsync=volatile
    assert.equal((await d.docker(['exec', g, 'cat', '/f'])).stdout, 'x\n');
    // Restarted, it is still an --rm container: its next exit removes it.
    assert.equal((await d.docker(['stop', '-t', '0', g])).code, 0);
    const deadline = Date.now() + 5000;
    while ((await d.api('GET', `/containers/${g}/json`)).status !== 404) {
      assert.ok(Date.now() < deadline, 'the restarted --rm container was not removed at its exit');
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    await d.docker(['rm', '-f', g, k]);
  }
});

test('two docker restart of an --rm container at once: it runs after both, and is still there', { timeout: 30_000 }, async () => {
  const run = await d.docker(['run', '-d', '--rm', 'busybox', 'sleep', '60']);
  assert.equal(run.code, 0, run.stderr);
  const id = run.stdout.trim();
  try {
    const [r1, r2] = await Promise.all([d.docker(['restart', '-t', '0', id]), d.docker(['restart', '-t', '0', id])]);
    assert.equal(r1.code, 0, r1.stderr);
    assert.equal(r2.code, 0, r2.stderr);
    assert.equal((await d.api('GET', `/containers/${id}/json`)).json().State.Running, true);
  } finally {
    await d.docker(['rm', '-f', id]);
  }
});
