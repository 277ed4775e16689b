/**
 * Runtimes prepared right after a create (containers/prepared-start.ts): a start uses
 * one only while it is current, and one that no start claims, or that a change makes
 * stale, leaves nothing behind: no monitor, no runc state, no mount.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import { TestDaemon } from '../testing/daemon.js';
import { sleep } from '../common/sleep.js';
import { makeTar } from '../diff/test-tar.js';

const TTL_MS = 600;
let d: TestDaemon;
before(async () => {
  process.env['BERTH_PREPARE_START_TTL_MS'] = String(TTL_MS);
  try {
    d = await TestDaemon.start();
  } finally {
    delete process.env['BERTH_PREPARE_START_TTL_MS'];
  }
});
after(async () => { await d?.stop(); });

/** Processes (conmon, runc init) whose command line names the container. */
async function processesOf(id: string): Promise<number> {
  let n = 0;
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmd.includes(id) && cmd.includes(d.dir)) n++;
  }
  return n;
}

async function mountedUnder(dir: string): Promise<string[]> {
  const info = await readFile('/proc/self/mountinfo', 'utf8');
  return info.split('\n').map((l) => l.split(' ')[4] ?? '').filter((p) => p.startsWith(dir + '/'));
}

const runcState = async (id: string) => (await readdir(join(d.dir, 'run', 'runc')).catch(() => [] as string[])).includes(id);

async function until(what: string, cond: () => Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

async function create(body: Record<string, unknown>): Promise<string> {
  const r = await d.api('POST', '/containers/create', { Image: 'busybox', HostConfig: { NetworkMode: 'none' }, ...body });
  assert.equal(r.status, 201, r.body.toString());
  return r.json<{ Id: string }>().Id;
}

async function assertNothingLeft(id: string): Promise<void> {
  assert.equal(await processesOf(id), 0, 'no monitor or process');
  assert.equal(await runcState(id), false, 'no runc state');
  assert.deepEqual(await mountedUnder(join(d.dir, 'data', 'containers', id)), [], 'no mount');
}

test('a created container is prepared, still shows as created, and is released when no start comes', { timeout: 20_000 }, async () => {
  const id = await create({ Cmd: ['sleep', '100'] });
  await until('the prepared runtime', () => runcState(id));
  const st = (await d.api('GET', `/containers/${id}/json`)).json<{ State: { Status: string; Pid: number; Running: boolean } }>().State;
  assert.deepEqual([st.Status, st.Pid, st.Running], ['created', 0, false]);
  await until('its release after the TTL', async () => !(await runcState(id)) && (await processesOf(id)) === 0);
  await assertNothingLeft(id);
  // The start after that builds it afresh.
  assert.equal((await d.api('POST', `/containers/${id}/start`)).status, 204);
  assert.equal((await d.api('GET', `/containers/${id}/json`)).json<{ State: { Running: boolean } }>().State.Running, true);
  assert.equal((await d.api('DELETE', `/containers/${id}?force=1`)).status, 204);
  await assertNothingLeft(id);
});

test('docker run on a prepared container: output, exit code, --rm leaves nothing', { timeout: 20_000 }, async () => {
  for (let i = 0; i < 3; i++) {
    const r = await d.docker(['run', '--rm', '--network', 'none', 'busybox', 'sh', '-c', 'echo out-$$; exit 3']);
    assert.equal(r.code, 3, r.stderr);
    assert.equal(r.stdout, 'out-1\n');
  }
  const all = (await d.api('GET', '/containers/json?all=1')).json<unknown[]>();
  assert.equal(all.length, 0);
  assert.deepEqual(await mountedUnder(join(d.dir, 'data')), []);
});

test('changes between create and start win over the prepared runtime: update, cp, rename', { timeout: 20_000 }, async () => {
  const id = await create({ Cmd: ['sh', '-c', 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes /note; hostname'], Hostname: 'h1' });
  await until('the prepared runtime', () => runcState(id));
  assert.equal((await d.api('POST', `/containers/${id}/update`, { Memory: 64 << 20, MemorySwap: -1 })).status, 200);
  const cp = await d.api('PUT', `/containers/${id}/archive?path=/`, await makeTar([{ name: 'note', content: 'copied before start\n' }]), { 'Content-Type': 'application/x-tar' });
  assert.equal(cp.status, 200, cp.body.toString());
  assert.equal((await d.api('POST', `/containers/${id}/rename?name=prep-renamed`)).status, 204);
  assert.equal((await d.api('POST', `/containers/${id}/start`)).status, 204);
  await d.api('POST', `/containers/${id}/wait`);
  const logs = await d.docker(['logs', id]);
  assert.equal(logs.stdout, `${64 << 20}\ncopied before start\nh1\n`);
  assert.equal((await d.api('DELETE', `/containers/${id}`)).status, 204);
  await assertNothingLeft(id);
});

test('rm of a prepared container, and berthd stopping or killed with one, leave nothing', { timeout: 30_000 }, async () => {
  const a = await create({ Cmd: ['true'] });
  await until('the prepared runtime', () => runcState(a));
  assert.equal((await d.api('DELETE', `/containers/${a}`)).status, 204);
  await assertNothingLeft(a);

  const b = await create({ Cmd: ['echo', 'after restart'] });
  await until('the prepared runtime', () => runcState(b));
  await d.kill('SIGTERM');
  await assertNothingLeft(b);
  await d.launch();
  const r = await d.docker(['start', '-a', b]);
  assert.equal(r.stdout, 'after restart\n', r.stderr);
  assert.equal((await d.api('DELETE', `/containers/${b}`)).status, 204);

  // Killed outright: the next berthd's reconcile removes what it prepared.
  const c = await create({ Cmd: ['echo', 'after a crash'] });
  await until('the prepared runtime', () => runcState(c));
  await sleep(100);
  await d.kill('SIGKILL');
  await d.launch();
  await assertNothingLeft(c);
  const r2 = await d.docker(['start', '-a', c]);
  assert.equal(r2.stdout, 'after a crash\n', r2.stderr);
  assert.equal((await d.api('DELETE', `/containers/${c}`)).status, 204);
});

test('a bridge container is prepared with an empty namespace: address, /etc/hosts, DNS and ports come with its start', { timeout: 30_000 }, async () => {
  const net = `prep${process.pid}`;
  assert.equal((await d.api('POST', '/networks/create', { Name: net })).status, 201);
  const port = 20000 + (process.pid % 20000);
  try {
    const srv = (await d.api('POST', '/containers/create?name=prep-srv', { Image: 'busybox', Cmd: ['sleep', '60'], HostConfig: { NetworkMode: net, PortBindings: { '80/tcp': [{ HostPort: String(port) }] } } })).json<{ Id: string }>().Id;
    const cli = (await d.api('POST', '/containers/create', {
      Image: 'busybox', Cmd: ['sh', '-c', 'grep -c "$(hostname)" /etc/hosts; grep nameserver /etc/resolv.conf; ping -c1 -W2 prep-srv >/dev/null && echo resolved'],
      HostConfig: { NetworkMode: net },
    })).json<{ Id: string }>().Id;
    await until('the prepared runtimes', async () => (await runcState(srv)) && (await runcState(cli)));
    const before = (await d.api('GET', `/containers/${cli}/json`)).json<{ NetworkSettings: { Networks: Record<string, { IPAddress: string }> } }>();
    assert.equal(before.NetworkSettings.Networks[net]?.IPAddress ?? '', '', 'no address before the start');
    assert.equal((await d.api('POST', `/containers/${srv}/start`)).status, 204);
    assert.equal((await d.api('POST', `/containers/${cli}/start`)).status, 204);
    // A second container on the same host port: created fine, refused at its start (as dockerd).
    const dup = (await d.api('POST', '/containers/create', { Image: 'busybox', Cmd: ['true'], HostConfig: { PortBindings: { '80/tcp': [{ HostPort: String(port) }] } } })).json<{ Id: string }>().Id;
    const w = (await d.api('POST', `/containers/${cli}/wait`)).json<{ StatusCode: number }>();
    const logs = await d.docker(['logs', cli]);
    assert.equal(w.StatusCode, 0, logs.stdout + logs.stderr);
    assert.equal(logs.stdout, '1\nnameserver 127.0.0.11\nresolved\n');
    const after = (await d.api('GET', `/containers/${srv}/json`)).json<{ NetworkSettings: { Networks: Record<string, { IPAddress: string }> } }>();
    assert.match(after.NetworkSettings.Networks[net]!.IPAddress, /^\d+\.\d+\.\d+\.\d+$/);
    await until('the dup prepared', () => runcState(dup));
    const refused = await d.api('POST', `/containers/${dup}/start`);
    assert.ok(refused.status >= 400, `second start on port ${port}: ${refused.status} ${refused.body}`);
    await assertNothingLeft(dup);
    for (const id of [srv, cli, dup]) assert.equal((await d.api('DELETE', `/containers/${id}?force=1`)).status, 204);
    for (const id of [srv, cli, dup]) await assertNothingLeft(id);
    assert.deepEqual(await readdir(join(d.dir, 'run', 'netns')).catch(() => []), [], 'no network namespace left');
  } finally {
    await d.api('DELETE', `/networks/${net}`);
  }
});

test('at most one preparation per core is under way or unclaimed: a create loop does not pay for the starts it never makes', { timeout: 30_000 }, async () => {
  const cores = availableParallelism();
  const ids: string[] = [];
  for (let i = 0; i < cores + 2; i++) ids.push(await create({ Cmd: ['echo', `n${i}`] }));
  await sleep(TTL_MS / 2);
  const prepared = [];
  for (const id of ids) if (await runcState(id)) prepared.push(id);
  assert.equal(prepared.length, cores, `prepared: ${prepared.length} of ${ids.length}`);
  // Every one starts all the same, prepared or not.
  for (const [i, id] of ids.entries()) {
    const r = await d.docker(['start', '-a', id]);
    assert.equal(r.stdout, `n${i}\n`, r.stderr);
  }
  for (const id of ids) assert.equal((await d.api('DELETE', `/containers/${id}`)).status, 204);
  for (const id of ids) await assertNothingLeft(id);
});

test('a bad command fails at start as before, and leaves nothing', { timeout: 20_000 }, async () => {
  for (const network of ['none', 'bridge']) {
    const bad = await d.docker(['run', '--rm', '--network', network, 'busybox', '/no/such/cmd']);
    assert.equal(bad.code, 127, bad.stderr);
    assert.match(bad.stderr, /no such file or directory|not found/i);
  }
  assert.equal((await d.api('GET', '/containers/json?all=1')).json<unknown[]>().length, 0);
  assert.deepEqual(await mountedUnder(join(d.dir, 'data')), []);
});
