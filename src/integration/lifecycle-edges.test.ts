/**
 * Lifecycle edge cases found in review: a stop timeout beyond Node's timer range must
 * not turn into an immediate SIGKILL.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { TestDaemon } from '../testing/daemon.js';

let d: TestDaemon;
before(async () => { d = await TestDaemon.start(); });
after(async () => { await d?.stop(); });

/** POST and give up after `ms` (the daemon keeps the stop going). */
function postAndLeave(path: string, ms: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = request({ socketPath: d.socket, method: 'POST', path }, (res) => { res.resume(); resolve(res.statusCode); });
    req.on('error', () => resolve(undefined));
    req.end();
    setTimeout(() => { req.destroy(); resolve(undefined); }, ms);
  });
}

test('docker stop -t 3000000 on a container ignoring TERM waits instead of killing at once', async () => {
  const id = (await d.api('POST', '/containers/create', { Image: 'busybox', Cmd: ['sh', '-c', 'trap "" TERM; while :; do sleep 0.1; done'] })).json().Id;
  assert.equal((await d.api('POST', `/containers/${id}/start`)).status, 204);
  await new Promise((r) => setTimeout(r, 300)); // the trap is set
  const status = await postAndLeave(`/containers/${id}/stop?t=3000000`, 1500);
  assert.equal(status, undefined, 'stop returned early: the grace period overflowed into an immediate kill');
  assert.equal((await d.api('GET', `/containers/${id}/json`)).json().State.Running, true);
  assert.equal((await d.api('DELETE', `/containers/${id}?force=1`)).status, 204);
});

test('--device: the node appears with its numbers and is usable; a missing one is refused at create', async () => {
  const r = await d.docker(['run', '--rm', '--device', '/dev/null:/dev/mynull', 'busybox', 'sh', '-c', 'ls -l /dev/mynull; echo ok > /dev/mynull && echo written']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^c.* 1,\s+3 .*\/dev\/mynull/m);
  assert.match(r.stdout, /written/);
  const missing = await d.docker(['run', '--rm', '--device', '/dev/nosuch', 'busybox', 'true']);
  // The docker CLI turns any run error mentioning "no such file or directory" into 127.
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /error gathering device information while adding custom device "\/dev\/nosuch": no such file or directory/);
  const list = await d.api('GET', '/containers/json?all=1');
  assert.equal(list.json().length, 0, 'nothing was created');
});

test('docker stop signals PID 1 only (its children live on until it acts); rm -f sends kill, die, destroy like dockerd', { timeout: 30000 }, async () => {
  const r = await d.docker(['run', '-d', '--name', 'pid1only', 'busybox', 'sh', '-c',
    'sleep 100 & child=$!; trap "kill -0 $child && echo child-alive || echo child-dead; exit 0" TERM; echo ready; wait']);
  assert.equal(r.code, 0, r.stderr);
  for (let i = 0; i < 50 && !(await d.docker(['logs', 'pid1only'])).stdout.includes('ready'); i++) await new Promise((res) => setTimeout(res, 50));
  assert.equal((await d.docker(['stop', 'pid1only'])).code, 0);
  assert.match((await d.docker(['logs', 'pid1only'])).stdout, /child-alive/);
  assert.equal((await d.docker(['rm', 'pid1only'])).code, 0);

  const id = (await d.docker(['run', '-d', 'busybox', 'sleep', '100'])).stdout.trim();
  const since = Math.floor(Date.now() / 1000) - 1;
  assert.equal((await d.docker(['rm', '-f', id])).code, 0);
  const until = Math.ceil(Date.now() / 1000) + 1;
  const ev = await d.api('GET', `/events?since=${since}&until=${until}&filters=${encodeURIComponent(JSON.stringify({ container: [id] }))}`);
  const actions = ev.body.toString().trim().split('\n').map((l) => JSON.parse(l).Action);
  assert.deepEqual(actions.filter((a: string) => ['kill', 'die', 'stop', 'destroy'].includes(a)), ['kill', 'die', 'destroy']);
});

test('rm -f of a running --rm container succeeds (its own exit path removes it)', async () => {
  const id = (await d.docker(['run', '-d', '--rm', 'busybox', 'sleep', '100'])).stdout.trim();
  const r = await d.docker(['rm', '-f', id]);
  assert.deepEqual([r.code, r.stderr], [0, ''], r.stderr);
  assert.equal(r.stdout.trim(), id);
  assert.equal((await d.api('GET', `/containers/${id}/json`)).status, 404);
});

test('--volumes-from shares volumes and binds (mode kept or overridden); -q hides the pull; --device-cgroup-rule reaches the container; --runtime checked', { timeout: 30000 }, async () => {
  const host = await import('node:fs/promises').then((fs) => fs.mkdtemp('/tmp/bvf-'));
  try {
    await import('node:fs/promises').then((fs) => fs.writeFile(`${host}/f`, 'fromhost\n'));
    assert.equal((await d.berth(['create', '--name', 'vfdata', '-v', 'vfvol:/data', '-v', `${host}:/hd:ro`, 'busybox', 'true'])).code, 0);
    const rw = await d.berth(['run', '--rm', '--volumes-from', 'vfdata', 'busybox', 'sh', '-c', 'echo hi > /data/x && cat /data/x /hd/f; touch /hd/y || echo hd-ro']);
    assert.equal(rw.stdout, 'hi\nfromhost\nhd-ro\n', rw.stderr);
    const ro = await d.docker(['run', '--rm', '--volumes-from', 'vfdata:ro', 'busybox', 'sh', '-c', 'cat /data/x; touch /data/z || echo data-ro']);
    assert.equal(ro.stdout, 'hi\ndata-ro\n', ro.stderr);
    // A missing source container: a 400 (the docker CLI would pull the image on a 404).
    const missing = await d.docker(['run', '--rm', '--volumes-from', 'nosuchsource', 'busybox', 'true']);
    assert.equal(missing.code, 125);
    assert.match(missing.stderr, /No such container: nosuchsource/);
    assert.doesNotMatch(missing.stderr, /Unable to find image/);
    const quiet = await d.berth(['run', '-q', '--rm', 'nosuchimage:q1', 'true']);
    assert.equal(quiet.code, 125);
    assert.doesNotMatch(quiet.stderr, /Unable to find image/);
    const cid = (await d.berth(['create', '--device-cgroup-rule', 'c 42:* rmw', 'busybox', 'true'])).stdout.trim();
    assert.deepEqual(JSON.parse((await d.docker(['inspect', '-f', '{{json .HostConfig.DeviceCgroupRules}}', cid])).stdout), ['c 42:* rmw']);
    assert.equal((await d.docker(['rm', cid])).code, 0);
    // --runtime: berthd's own is accepted, another refused in dockerd's words.
    assert.equal((await d.berth(['run', '--rm', '--runtime', 'runc', 'busybox', 'true'])).code, 0);
    const rt = await d.docker(['run', '--rm', '--runtime', 'kata', 'busybox', 'true']);
    assert.equal(rt.code, 125);
    assert.match(rt.stderr, /unknown or invalid runtime name: kata/);
  } finally {
    await d.docker(['rm', '-f', 'vfdata']);
    await d.docker(['volume', 'rm', 'vfvol']);
    await import('node:fs/promises').then((fs) => fs.rm(host, { recursive: true, force: true }));
  }
});
