/**
 * Resource control and supervision end to end (issue 3): limits seen from inside and
 * enforced, OOM, update, stats through the docker CLI, pause, restart policies with
 * back-off and across a berthd restart, health checks, and the event stream.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { TestDaemon } from '../testing/daemon.js';

let d: TestDaemon;
before(async () => { d = await TestDaemon.start(); });
after(async () => { await d?.stop(); });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, ms = 15000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

const inspect = async (ref: string) => (await d.api('GET', `/containers/${ref}/json`)).json();

/** Collect /events lines for a while, as a streaming client sees them. */
function streamEvents(query: string): { events: any[]; close: () => void } {
  const events: any[] = [];
  let buf = '';
  const req = request({ socketPath: d.socket, path: `/events?${query}` }, (res) => {
    res.on('data', (c) => {
      buf += c.toString();
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        events.push(JSON.parse(buf.slice(0, nl)));
        buf = buf.slice(nl + 1);
      }
    });
    res.on('error', () => {});
  });
  req.on('error', () => {});
  req.end();
  return { events, close: () => req.destroy() };
}

test('limits are visible inside the container and bad values are refused at create', async () => {
  const r = await d.docker(['run', '--rm', '--memory', '64m', '--memory-reservation', '32m', '--memory-swap', '128m', '--memory-swappiness', '10',
    '--cpu-period', '50000', '--cpu-quota', '25000', '--cpu-shares', '512', '--cpuset-cpus', '0', '--cpuset-mems', '0', '--pids-limit', '42',
    '--device-read-bps', '/dev/vda:1mb', '--device-write-iops', '/dev/vda:100', '--ulimit', 'nofile=512:1024', '--shm-size', '8m', '--oom-kill-disable',
    'busybox', 'sh', '-c', 'cd /sys/fs/cgroup; cat memory/memory.limit_in_bytes memory/memory.soft_limit_in_bytes memory/memory.memsw.limit_in_bytes memory/memory.swappiness cpu/cpu.cfs_period_us cpu/cpu.cfs_quota_us cpu/cpu.shares cpuset/cpuset.cpus pids/pids.max; grep -c "oom_kill_disable 1" memory/memory.oom_control; cat blkio/blkio.throttle.read_bps_device blkio/blkio.throttle.write_iops_device; ulimit -n; ulimit -Hn; df -k /dev/shm | tail -1']);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.deepEqual(lines.slice(0, 10), [String(64 << 20), String(32 << 20), String(128 << 20), '10', '50000', '25000', '512', '0', '42', '1']);
  assert.match(lines[10]!, /^\d+:\d+ 1048576$/);
  assert.match(lines[11]!, /^\d+:\d+ 100$/);
  assert.deepEqual(lines.slice(12, 14), ['512', '1024']);
  assert.match(lines[14]!, /\s8192\s/);

  for (const [args, msg] of [
    [['--memory', '1k'], /Minimum memory limit allowed is 6MB/],
    [['--memory', '-5'], /invalid|negative/i],
    [['--cpuset-cpus', '99'], /Requested CPUs are not available - requested 99/],
    [['--cpuset-mems', '7'], /memory nodes are not available/],
    [['--ulimit', 'nofile=100000000:100000000'], /above the host's hard limit/],
    [['--cpus', '64'], /Range of CPUs is from 0.01/],
    [['--memory-swappiness', '101'], /swappiness/],
    [['--device-read-bps', '/dev/nonexistent:1mb'], /no such device/],
  ] as const) {
    const bad = await d.docker(['create', '--name', 'bad', ...args, 'busybox', 'true']);
    assert.notEqual(bad.code, 0, args.join(' '));
    assert.match(bad.stderr, msg, args.join(' '));
  }
  // --memory alone: dockerd records the swap it applies, twice the memory (or -1, unlimited, without swap accounting).
  const mem = await d.docker(['create', '--name', 'memonly', '--memory', '50m', 'busybox', 'true']);
  assert.equal(mem.code, 0, mem.stderr);
  const swap = (await inspect('memonly')).HostConfig.MemorySwap;
  await d.docker(['rm', 'memonly']);
  assert.ok(swap === 100 << 20 || (swap === -1 && /swap limit/.test(mem.stderr)), `MemorySwap ${swap}`);
  // The docker CLI 28 drops --kernel-memory itself; berth's CLI passes it and the daemon refuses it.
  const km = await d.berth(['create', '--name', 'bad', '--kernel-memory', '64m', 'busybox', 'true']);
  assert.match(km.stderr, /Kernel memory limit is not supported/);
  const ps = await d.api('GET', '/containers/json?all=1&filters=' + encodeURIComponent('{"name":["bad"]}'));
  assert.deepEqual(ps.json(), [], 'nothing is created by a refused create');
});

test('enforced: OOM kill reported exactly, fork loop stops at the pids limit, --cpus 0.5 gets about half a core', async () => {
  const ev = streamEvents(`filters=${encodeURIComponent('{"event":["oom"]}')}`);
  try {
    const oom = await d.docker(['run', '--name', 'hog', '--memory', '16m', '--memory-swap', '16m', 'busybox', 'sh', '-c', 'x=aaaaaaaa; while true; do x=$x$x; done']);
    assert.equal(oom.code, 137);
    const st = (await inspect('hog')).State;
    assert.equal(st.OOMKilled, true);
    assert.equal(st.ExitCode, 137);
    await until('oom event', async () => ev.events.some((e) => e.Action === 'oom' && e.Actor.Attributes.name === 'hog'), 5000);
    await d.docker(['run', '-d', '--name', 'killed', 'busybox', 'sleep', '300']);
    await d.docker(['kill', 'killed']);
    const killed = await until('killed exits', async () => { const c = await inspect('killed'); return !c.State.Running && c.State; });
    assert.equal(killed.ExitCode, 137);
    assert.equal(killed.OOMKilled, false, '137 alone is not an OOM');
  } finally {
    ev.close();
  }

  const pids = await d.docker(['run', '--rm', '--pids-limit', '10', 'busybox', 'sh', '-c', 'for i in $(seq 1 30); do sleep 5 & done 2>/dev/null; cat /sys/fs/cgroup/pids/pids.current']);
  assert.ok(Number(pids.stdout.trim()) <= 10, `pids.current ${pids.stdout} stderr ${pids.stderr}`);

  const run = await d.docker(['run', '-d', '--name', 'busy', '--cpus', '0.5', 'busybox', 'sh', '-c', 'while :; do :; done']);
  assert.equal(run.code, 0, run.stderr);
  const read = async () => (await d.api('GET', '/containers/busy/stats?stream=false&one-shot=true')).json().cpu_stats.cpu_usage.total_usage as number;
  await sleep(300);
  const a = await read();
  const t0 = Date.now();
  await sleep(2000);
  const used = (await read()) - a;
  const share = used / ((Date.now() - t0) * 1e6);
  assert.ok(share > 0.3 && share < 0.7, `--cpus 0.5 used ${share.toFixed(2)} of a core`);

  // update changes the quota live
  const up = await d.api('POST', '/containers/busy/update', { NanoCpus: 250_000_000, Memory: 100 << 20, MemorySwap: 200 << 20, PidsLimit: 33, RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 2 } });
  assert.equal(up.status, 200, up.body.toString());
  assert.deepEqual(up.json(), { Warnings: [] });
  const inside = await d.docker(['exec', 'busy', 'cat', '/sys/fs/cgroup/cpu/cpu.cfs_quota_us', '/sys/fs/cgroup/memory/memory.limit_in_bytes', '/sys/fs/cgroup/pids/pids.max']);
  assert.deepEqual(inside.stdout.trim().split('\n'), ['25000', String(100 << 20), '33']);
  const hc = (await inspect('busy')).HostConfig;
  assert.equal(hc.NanoCpus, 250_000_000);
  assert.deepEqual(hc.RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 2 });
  const cli = await d.berth(['update', '--memory', '5m', 'busy']);
  assert.notEqual(cli.code, 0);
  assert.match(cli.stderr, /Minimum memory limit allowed is 6MB/);
  const b = await read();
  const t1 = Date.now();
  await sleep(2000);
  const share2 = ((await read()) - b) / ((Date.now() - t1) * 1e6);
  assert.ok(share2 > 0.1 && share2 < 0.4, `after update to 0.25 CPUs used ${share2.toFixed(2)}`);
});

test('stats: docker stats --no-stream, berth stats, the JSON shape, 100 concurrent requests', async () => {
  await d.docker(['run', '-d', '--name', 'st', '--memory', '64m', 'busybox', 'sleep', '300']);
  const ds = await d.docker(['stats', '--no-stream'], { timeout: 20000 });
  assert.equal(ds.code, 0, ds.stderr);
  assert.match(ds.stdout, /^CONTAINER ID\s+NAME\s+CPU %\s+MEM USAGE \/ LIMIT\s+MEM %\s+NET I\/O\s+BLOCK I\/O\s+PIDS$/m);
  assert.match(ds.stdout, /\sst\s+\d+\.\d\d%\s+[\d.]+[KM]iB \/ 64MiB/);
  const bs = await d.berth(['stats', '--no-stream', '--format', '{{.Name}} {{.MemUsage}} {{.PIDs}}', 'st']);
  assert.match(bs.stdout, /^st [\d.]+[KM]iB \/ 64MiB 1$/m);
  const one = (await d.api('GET', '/containers/st/stats?stream=false')).json();
  for (const k of ['read', 'preread', 'pids_stats', 'blkio_stats', 'num_procs', 'storage_stats', 'cpu_stats', 'precpu_stats', 'memory_stats']) assert.ok(k in one, k);
  assert.ok(one.precpu_stats.system_cpu_usage > 0, 'stream=false primes precpu_stats');
  assert.equal(one.memory_stats.limit, 64 << 20);
  assert.ok(one.memory_stats.stats.total_inactive_file !== undefined);
  const t0 = Date.now();
  const many = await Promise.all(Array.from({ length: 100 }, () => d.api('GET', '/containers/st/stats?stream=false&one-shot=true')));
  assert.ok(many.every((r) => r.status === 200));
  const ping = Date.now();
  await d.api('GET', '/_ping');
  assert.ok(Date.now() - t0 < 5000, `100 one-shot samples took ${Date.now() - t0} ms`);
  assert.ok(Date.now() - ping < 1000);
  // streamed: one sample a second
  const got: any[] = [];
  await new Promise<void>((resolve) => {
    const req = request({ socketPath: d.socket, path: '/containers/st/stats' }, (res) => {
      res.on('data', (c) => {
        for (const l of c.toString().split('\n')) if (l.trim()) got.push(JSON.parse(l));
        if (got.length >= 2) { req.destroy(); resolve(); }
      });
    });
    req.on('error', () => resolve());
    req.end();
  });
  assert.equal(got[1].preread, got[0].read);
});

test('pause: state paused in inspect and ps, exec refused with 409', async () => {
  await d.docker(['run', '-d', '--name', 'pz', 'busybox', 'sleep', '300']);
  assert.equal((await d.docker(['pause', 'pz'])).code, 0);
  const st = (await inspect('pz')).State;
  assert.equal(st.Status, 'paused');
  assert.equal(st.Paused, true);
  assert.match((await d.docker(['ps', '--filter', 'name=pz', '--format', '{{.Status}}'])).stdout, /\(Paused\)/);
  const ex = await d.api('POST', '/containers/pz/exec', { Cmd: ['true'] });
  assert.equal(ex.status, 409);
  assert.equal((await d.docker(['unpause', 'pz'])).code, 0);
  assert.equal((await inspect('pz')).State.Status, 'running');
});

test('restart policies: on-failure:N with growing back-off; always; unless-stopped after a user stop', async () => {
  const ev = streamEvents(`filters=${encodeURIComponent('{"container":["flaky"],"event":["start"]}')}`);
  try {
    await d.docker(['run', '-d', '--name', 'flaky', '--restart', 'on-failure:3', 'busybox', 'sh', '-c', 'exit 3']);
    await until('3 restarts', async () => { const c = await inspect('flaky'); return c.RestartCount === 3 && !c.State.Running && c.State.Status === 'exited'; }, 10000);
    await sleep(1200);
    const c = await inspect('flaky');
    assert.equal(c.RestartCount, 3, 'no more than MaximumRetryCount restarts');
    assert.equal(c.State.ExitCode, 3);
    const starts = ev.events.map((e) => e.timeNano / 1e6);
    assert.equal(starts.length, 4);
    const gaps = starts.slice(1).map((t, i) => t - starts[i]!);
    // 100, 200, 400 ms plus the time to start: each gap at least its delay and growing.
    assert.ok(gaps[0]! >= 100 && gaps[1]! >= 200 && gaps[2]! >= 400, `gaps ${gaps.map(Math.round)}`);
    assert.ok(gaps[2]! > gaps[0]!, `back-off grows: ${gaps.map(Math.round)}`);
  } finally {
    ev.close();
  }
  await d.docker(['run', '-d', '--name', 'ok0', '--restart', 'on-failure', 'busybox', 'true']);
  await sleep(800);
  assert.equal((await inspect('ok0')).RestartCount, 0, 'on-failure does not restart exit 0');

  await d.docker(['run', '-d', '--name', 'alw', '--restart', 'always', 'busybox', 'sh', '-c', 'sleep 0.2']);
  await until('always restarts', async () => (await inspect('alw')).RestartCount >= 2, 10000);
  await d.docker(['stop', '-t', '1', 'alw']);
  const n = (await inspect('alw')).RestartCount;
  await sleep(800);
  assert.equal((await inspect('alw')).RestartCount, n, 'a user stop ends always');
  assert.equal((await inspect('alw')).State.Running, false);
});

test('restart on berthd start: always and unless-stopped come back, a user-stopped unless-stopped does not', async () => {
  await d.docker(['run', '-d', '--name', 'rb1', '--restart', 'always', 'busybox', 'sleep', '300']);
  await d.docker(['run', '-d', '--name', 'rb2', '--restart', 'unless-stopped', 'busybox', 'sleep', '300']);
  await d.docker(['run', '-d', '--name', 'rb3', '--restart', 'unless-stopped', 'busybox', 'sleep', '300']);
  await d.docker(['stop', '-t', '0', 'rb3']);
  await d.docker(['run', '-d', '--name', 'rb4', '--restart', 'always', 'busybox', 'sleep', '300']);
  await d.docker(['stop', '-t', '0', 'rb4']);
  const pid1 = (await inspect('rb1')).State.Pid;
  const pid2 = (await inspect('rb2')).State.Pid;
  await d.kill('SIGKILL');
  process.kill(pid1, 'SIGKILL');
  process.kill(pid2, 'SIGKILL');
  await sleep(300);
  await d.launch();
  await until('rb1 and rb2 running again', async () => {
    const [a, b] = [await inspect('rb1'), await inspect('rb2')];
    return a.State.Running && b.State.Running && a.State.Pid !== pid1 && b.State.Pid !== pid2;
  }, 10000).catch(async (err) => {
    throw new Error(`${err.message}: ${JSON.stringify([(await inspect('rb1')).State, (await inspect('rb2')).State])} ${d.log.slice(-1500)}`);
  });
  await sleep(300);
  assert.equal((await inspect('rb3')).State.Running, false);
  assert.equal((await inspect('rb4')).State.Running, true, 'always comes back at daemon start even after a user stop (docker)');
});

test('health checks: starting → healthy → unhealthy, events, ps and the health filter', async () => {
  const ev = streamEvents(`filters=${encodeURIComponent('{"container":["hc"]}')}`);
  try {
    const r = await d.docker(['run', '-d', '--name', 'hc', '--health-cmd', 'cat /tmp/ok', '--health-interval', '300ms', '--health-timeout', '2s', '--health-retries', '2',
      'busybox', 'sh', '-c', 'echo fine > /tmp/ok; sleep 300']);
    assert.equal(r.code, 0, r.stderr);
    const cfg = (await inspect('hc')).Config.Healthcheck;
    assert.deepEqual(cfg, { Test: ['CMD-SHELL', 'cat /tmp/ok'], Interval: 300e6, Timeout: 2e9, Retries: 2 });
    await until('healthy', async () => (await inspect('hc')).State.Health?.Status === 'healthy', 10000);
    const h = (await inspect('hc')).State.Health;
    assert.equal(h.FailingStreak, 0);
    assert.equal(h.Log.at(-1).ExitCode, 0);
    assert.equal(h.Log.at(-1).Output, 'fine\n');
    assert.match((await d.docker(['ps', '--filter', 'name=hc', '--format', '{{.Status}}'])).stdout, /^Up .* \(healthy\)$/m);
    assert.match((await d.docker(['ps', '-q', '--filter', 'health=healthy'])).stdout, /\w{12}/);
    await d.docker(['exec', 'hc', 'rm', '/tmp/ok']);
    await until('unhealthy', async () => (await inspect('hc')).State.Health?.Status === 'unhealthy', 10000);
    const u = (await inspect('hc')).State.Health;
    assert.ok(u.FailingStreak >= 2);
    assert.ok(u.Log.length <= 5);
    await until('health events', async () => ev.events.some((e) => e.Action === 'health_status: healthy') && ev.events.some((e) => e.Action === 'health_status: unhealthy'), 3000);
    assert.ok(ev.events.some((e) => e.Action.startsWith('exec_start: /bin/sh -c cat /tmp/ok')));
  } finally {
    ev.close();
  }
  const none = await d.docker(['run', '-d', '--name', 'nohc', '--no-healthcheck', 'busybox', 'sleep', '300']);
  assert.equal(none.code, 0, none.stderr);
  assert.deepEqual((await inspect('nohc')).Config.Healthcheck, { Test: ['NONE'] });
  assert.equal((await inspect('nohc')).State.Health, undefined);
});

test('events: a streaming client sees docker\'s names; since/until replay; berth events', async () => {
  const t0 = Date.now() / 1000;
  // By label: after the rename the name no longer matches (as with dockerd).
  const ev = streamEvents(`filters=${encodeURIComponent('{"type":["container"],"label":["team=a"]}')}`);
  try {
    await d.docker(['run', '-d', '--name', 'evt', '--label', 'team=a', 'busybox', 'sleep', '300']);
    await d.docker(['exec', 'evt', 'true']);
    await d.docker(['pause', 'evt']);
    await d.docker(['unpause', 'evt']);
    await d.docker(['rename', 'evt', 'evt2']);
    await d.docker(['rm', '-f', 'evt2']);
    await until('destroy', async () => ev.events.some((e) => e.Action === 'destroy'), 5000);
  } finally {
    ev.close();
  }
  const actions = ev.events.map((e) => e.Action.replace(/:.*/, ''));
  for (const a of ['create', 'start', 'exec_create', 'exec_start', 'exec_die', 'pause', 'unpause', 'rename']) assert.ok(actions.includes(a), `${a} in ${actions}`);
  const die = ev.events.find((e) => e.Action === 'die');
  assert.ok(die, `die in ${actions}`);
  assert.equal(die.Actor.Attributes.exitCode, '137');
  const t1 = Date.now() / 1000 + 0.5;
  const replay = await d.berth(['events', '--since', String(t0), '--until', t1.toFixed(3), '--filter', 'event=create', '--filter', 'label=team=a']);
  assert.equal(replay.code, 0, replay.stderr);
  assert.match(replay.stdout, /container create [0-9a-f]{64} \(.*image=busybox.*name=evt.*team=a/);
  const js = await d.berth(['events', '--since', String(t0), '--until', t1.toFixed(3), '--filter', 'event=die', '--format', '{{.Action}} {{.Actor.Attributes.exitCode}}']);
  assert.match(js.stdout, /^die 137$/m);
});
