/**
 * Supervision details (issue 3 remainder): the `restarting` state during a back-off
 * and stop/rm of such a container, create warnings, health StartInterval and no probe
 * leaks across start/stop cycles, the event journal across a berthd restart, top with
 * ps options.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TestDaemon } from '../testing/daemon.js';
import { hostCgroupInfo } from '../cgroups/index.js';

let d: TestDaemon;
before(async () => { d = await TestDaemon.start(); });
after(async () => { await d?.stop(); });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, ms = 15000, every = 50): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(every);
  }
}

const inspect = async (ref: string) => (await d.api('GET', `/containers/${ref}/json`)).json();

/** Processes whose command line mentions `needle` (conmon and runc carry the container id). */
async function procsMentioning(needle: string): Promise<string[]> {
  const out: string[] = [];
  for (const p of await readdir('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    const cmd = await readFile(`/proc/${p}/cmdline`, 'utf8').catch(() => '');
    if (cmd.includes(needle)) out.push(cmd.replace(/\0/g, ' '));
  }
  return out;
}

test('restart back-off shows `restarting` (inspect and ps); docker stop and rm -f cancel the pending restart', { timeout: 60000 }, async () => {
  for (const [name, finish] of [['rs-stop', ['stop', '-t', '1']], ['rs-rm', ['rm', '-f']]] as const) {
    assert.equal((await d.docker(['run', '-d', '--name', name, '--restart', 'always', 'busybox', 'sh', '-c', 'exit 3'])).code, 0);
    const st = await until('a restarting state', async () => {
      const s = (await inspect(name)).State;
      return s.Restarting && s.Status === 'restarting' ? s : undefined;
    }, 20000, 20);
    assert.equal(st.Running, true, 'docker counts a restarting container as running');
    assert.equal(st.ExitCode, 3);
    const ps = await d.docker(['ps', '--filter', `name=${name}`, '--format', '{{.Status}}']);
    // The state may flip back to running between the two calls: ps must show one of docker's texts.
    assert.match(ps.stdout, /^(Restarting \(3\) .* ago|Up .*)\n$/, 'ps (without -a) lists it');
    if (name === 'rs-stop') {
      // pause during the back-off: dockerd's 409 and words. The process may be up for a
      // moment between back-offs; a pause that lands then is undone and tried again.
      let refused: { status: number; message: string } | undefined;
      for (let i = 0; i < 20 && !refused; i++) {
        const p = await d.api('POST', `/containers/${name}/pause`);
        if (p.status === 204) await d.api('POST', `/containers/${name}/unpause`);
        else refused = { status: p.status, message: p.json().message };
      }
      assert.equal(refused?.status, 409);
      assert.match(refused!.message, /^Container [0-9a-f]{64} is restarting, wait until the container is running$/);
    }
    const t0 = Date.now();
    const r = await d.docker([...finish, name]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(Date.now() - t0 < 5000, 'no wait for a process that does not exist');
    if (name === 'rs-stop') {
      const after1 = (await inspect(name)).State;
      assert.deepEqual([after1.Status, after1.Restarting, after1.Running], ['exited', false, false]);
      const count = (await inspect(name)).RestartCount;
      await sleep(1500);
      const later = await inspect(name);
      assert.equal(later.RestartCount, count, 'the pending restart was cancelled');
      assert.equal(later.State.Status, 'exited');
      assert.equal((await d.docker(['rm', name])).code, 0);
    } else {
      assert.equal((await d.api('GET', `/containers/${name}/json`)).status, 404);
    }
  }
});

test('create warnings: an option the host cannot honour is dropped and the CLI prints WARNING', async () => {
  const supported = hostCgroupInfo().blkioWeight;
  const r = await d.docker(['create', '--name', 'warn1', '--blkio-weight', '300', 'busybox', 'true']);
  assert.equal(r.code, 0, r.stderr);
  const c = await inspect('warn1');
  if (supported) {
    assert.equal(c.HostConfig.BlkioWeight, 300);
  } else {
    assert.match(r.stderr, /WARNING: Your kernel does not support Block I\/O weight or the cgroup is not mounted\. Weight discarded\./);
    assert.equal(c.HostConfig.BlkioWeight, 0, 'the weight is discarded, as dockerd does');
    const api = await d.api('POST', '/containers/create', { Image: 'busybox', Cmd: ['true'], HostConfig: { BlkioWeight: 300 } });
    assert.equal(api.status, 201);
    assert.equal(api.json().Warnings.length, 1);
    await d.api('DELETE', `/containers/${api.json().Id}`);
  }
  // Starting it works: nothing unsupported reaches runc.
  assert.equal((await d.docker(['start', '-a', 'warn1'])).code, 0);
  await d.docker(['rm', '-f', 'warn1']);
});

test('health: StartInterval probes fast during the start period; 20 start/stop cycles leak no probe', { timeout: 90000 }, async () => {
  const r = await d.docker(['run', '-d', '--name', 'hc1', '--health-cmd', 'true', '--health-interval', '1h', '--health-start-period', '30s',
    '--health-start-interval', '100ms', 'busybox', 'sleep', '600']);
  assert.equal(r.code, 0, r.stderr);
  const t0 = Date.now();
  await until('healthy through the start interval', async () => (await inspect('hc1')).State.Health?.Status === 'healthy', 10000);
  assert.ok(Date.now() - t0 < 8000, 'a 1h interval alone would never get there');

  await d.docker(['rm', '-f', 'hc1']);
  assert.equal((await d.docker(['run', '-d', '--name', 'hc2', '--health-cmd', 'true', '--health-interval', '50ms', 'busybox', 'sleep', '600'])).code, 0);
  const id = (await inspect('hc2')).Id as string;
  for (let i = 0; i < 20; i++) {
    await sleep(60 + (i % 4) * 30); // stop lands before, during and after a probe
    const stop = await d.api('POST', '/containers/hc2/stop?t=0');
    assert.equal(stop.status, 204, `stop ${i}: ${stop.body}`);
    const start = await d.api('POST', '/containers/hc2/start');
    assert.equal(start.status, 204, `start ${i}: ${start.body}`);
  }
  await sleep(300);
  assert.equal((await d.api('POST', '/containers/hc2/stop?t=0')).status, 204);
  const stoppedAt = Date.now() / 1000;
  await sleep(600);
  const ev = await d.api('GET', `/events?since=${stoppedAt}&until=${Date.now() / 1000}&filters=${encodeURIComponent(JSON.stringify({ container: [id] }))}`);
  // A probe that was running when the container stopped may report its end (exec_die)
  // after the stop returned, as with dockerd; none may start, and no result may count.
  const late = ev.body.toString().split('\n').filter(Boolean).map((l) => JSON.parse(l)).filter((e) => /^exec_(create|start)|health_status/.test(e.Action));
  assert.deepEqual(late, [], 'no probe runs once the container stopped');
  assert.deepEqual(await procsMentioning(id), [], 'no conmon or runc of the container or its probes is left');
  assert.deepEqual(await readdir(join(d.dir, 'run', 'c', id, 'x')).catch(() => []), [], 'no exec directory is left');
  assert.equal((await inspect('hc2')).ExecIDs, null, 'probes leave no exec records');
  await d.docker(['rm', '-f', 'hc2']);
});

test('events: since/until replays in order and ends; the journal survives a berthd restart', { timeout: 60000 }, async () => {
  const t0 = Date.now() / 1000 - 0.001;
  assert.equal((await d.docker(['run', '--name', 'ev1', 'busybox', 'true'])).code, 0);
  assert.equal((await d.docker(['rm', 'ev1'])).code, 0);
  const t1 = Date.now() / 1000;
  const q = `/events?since=${t0}&until=${t1}&filters=${encodeURIComponent(JSON.stringify({ type: ['container'] }))}`;
  const first = await d.api('GET', q);
  const actions = (b: Buffer) => b.toString().split('\n').filter(Boolean).map((l) => JSON.parse(l)).filter((e) => e.Actor.Attributes.name === 'ev1');
  const before1 = actions(first.body);
  assert.deepEqual(before1.map((e) => e.Action), ['create', 'attach', 'start', 'die', 'destroy'].filter((a) => before1.some((e) => e.Action === a)));
  assert.ok(before1.length >= 4, JSON.stringify(before1.map((e) => e.Action)));
  for (let i = 1; i < before1.length; i++) assert.ok(before1[i].timeNano > before1[i - 1].timeNano, 'in time order');

  await d.kill('SIGTERM');
  await d.launch();
  const again = actions((await d.api('GET', q)).body);
  assert.deepEqual(again, before1, 'the same events, replayed from disk');
  // docker events --since/--until through the CLI ends on its own.
  const cli = await d.docker(['events', '--since', String(t0), '--until', String(t1), '--filter', 'container=ev1', '--format', '{{.Action}}'], { timeout: 10000 });
  assert.equal(cli.code, 0, cli.stderr);
  assert.deepEqual(cli.stdout.trim().split('\n'), before1.map((e) => e.Action));
});

test('top with ps options: docker top c aux, -o pid,comm', async () => {
  assert.equal((await d.docker(['run', '-d', '--name', 'top1', 'busybox', 'sleep', '600'])).code, 0);
  const aux = await d.docker(['top', 'top1', 'aux']);
  assert.equal(aux.code, 0, aux.stderr);
  const lines = aux.stdout.trim().split('\n');
  assert.match(lines[0]!, /^USER\s+PID\s+%CPU\s+%MEM\s+VSZ\s+RSS\s+TTY\s+STAT\s+START\s+TIME\s+COMMAND$/);
  assert.equal(lines.length, 2, aux.stdout);
  assert.match(lines[1]!, /sleep 600$/);
  const o = await d.docker(['top', 'top1', '-o', 'pid,comm']);
  assert.equal(o.code, 0, o.stderr);
  assert.match(o.stdout, /^PID\s+COMMAND\n\d+\s+sleep\n$/);
  const bad = await d.docker(['top', 'top1', '-o', 'pid=PID']);
  assert.notEqual(bad.code, 0);
  await d.docker(['rm', '-f', 'top1']);
});

test('a restart-policy restart is die then start, as in dockerd (restart is docker restart\'s event); die carries execDuration', { timeout: 30000 }, async () => {
  const since = Date.now() / 1000 - 0.001;
  const r = await d.docker(['run', '-d', '--name', 'rp-ev', '--restart', 'on-failure:2', 'busybox', 'sh', '-c', 'exit 3']);
  assert.equal(r.code, 0, r.stderr);
  // The state can read "exited" a moment before its die event is out: wait for the events.
  const events = async () => (await d.api('GET', `/events?since=${since}&until=${Date.now() / 1000}&filters=${encodeURIComponent(JSON.stringify({ container: ['rp-ev'] }))}`))
    .body.toString().split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const list = await until('the policy gave up after two restarts', async () => {
    const l = await events();
    return l.filter((e) => e.Action === 'die').length === 3 && !(await inspect('rp-ev')).State.Restarting ? l : undefined;
  });
  assert.deepEqual(list.map((e) => e.Action), ['create', 'start', 'die', 'start', 'die', 'start', 'die']);
  const die = list.find((e) => e.Action === 'die');
  assert.equal(die.Actor.Attributes.exitCode, '3');
  assert.match(die.Actor.Attributes.execDuration, /^\d+$/);
  await d.docker(['rm', '-f', 'rp-ev']);
});
