/**
 * Real Docker clients a new user would reach for, against a private berthd:
 * docker-compose 1.29 (Debian's, python), testcontainers-node and dockerode (npm),
 * and a broad docker-py script. The client programs live in test/compat/; each
 * prints what it saw, and the assertions are here. Every step has its own deadline.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { httpGet } from '../testing/http-get.js';
import { TestDaemon, REPO, run, lastJson } from '../testing/daemon.js';

const COMPAT = join(REPO, 'test/compat');
const COMPOSE_BIN = '/usr/bin/docker-compose';
const PY = '/usr/bin/python3';

let d: TestDaemon;
before(async () => {
  d = await TestDaemon.start();
});
after(async () => {
  await d?.stop();
});

test('docker-compose 1.29: up, ps, logs, exec, run --rm, recreate, down -v', { skip: !existsSync(COMPOSE_BIN) && 'docker-compose is not installed (apt-get install docker-compose)', timeout: 90000 }, async () => {
  const file = join(COMPAT, 'compose/docker-compose.yml');
  const compose = (args: string[], env: Record<string, string> = {}, timeout = 30000) =>
    run(COMPOSE_BIN, ['-p', 'berthcompat', '-f', file, '--ansi', 'never', ...args], { DOCKER_HOST: d.host, ...env }, { timeout });
  try {
    const up = await compose(['up', '-d'], {}, 60000);
    assert.equal(up.code, 0, up.stderr);

    const ps = await compose(['ps']);
    assert.equal(ps.code, 0, ps.stderr);
    assert.match(ps.stdout, /berthcompat_web_1 .* Up \(healthy\)/);
    assert.match(ps.stdout, /berthcompat_client_1 .* Up/);

    // The published port answers on the host with the file the service wrote to the named volume.
    const port = await compose(['port', 'web', '8080']);
    assert.equal(port.code, 0, port.stderr);
    const hostPort = Number(port.stdout.trim().split(':').pop());
    assert.equal(await httpGet(hostPort, '/hello'), 'web-up hi-from-compose\n');

    // depends_on service_healthy: client started after web was healthy and reached it by service name.
    const logs = await compose(['logs', '--no-color']);
    assert.equal(logs.code, 0, logs.stderr);
    assert.match(logs.stdout, /client_1 +\| client sees web-up hi-from-compose/);
    assert.match(logs.stdout, /web_1 +\| web started/);

    const exec = await compose(['exec', '-T', 'client', 'cat', '/shared/hello']);
    assert.equal(exec.code, 0, exec.stderr);
    assert.equal(exec.stdout, 'web-up hi-from-compose\n');
    const execFail = await compose(['exec', '-T', 'web', 'sh', '-c', 'exit 5']);
    assert.equal(execFail.code, 5);

    const runRm = await compose(['run', '--rm', '-T', 'client', 'sh', '-c', 'wget -qO- http://web:8080/hello']);
    assert.equal(runRm.code, 0, runRm.stderr);
    assert.equal(runRm.stdout, 'web-up hi-from-compose\n');

    // A changed environment recreates web (compose reads the image's ContainerConfig for that).
    const re = await compose(['up', '-d'], { COMPAT_GREETING: 'changed' }, 60000);
    assert.equal(re.code, 0, re.stderr);
    assert.match(re.stderr, /Recreating berthcompat_web_1 \.\.\. done/);
    const again = await compose(['exec', '-T', 'web', 'cat', '/data/hello'], { COMPAT_GREETING: 'changed' });
    assert.equal(again.stdout, 'web-up changed\n');

    const down = await compose(['down', '-v', '-t', '1'], {}, 60000);
    assert.equal(down.code, 0, down.stderr);
    assert.deepEqual((await d.api('GET', '/containers/json?all=1')).json(), []);
    const vols = (await d.api('GET', '/volumes')).json<{ Volumes: Array<{ Name: string }> }>().Volumes.map((v) => v.Name);
    assert.ok(!vols.includes('berthcompat_shared'), vols.join(','));
    const nets = (await d.api('GET', '/networks')).json<Array<{ Name: string }>>().map((n) => n.Name);
    assert.ok(!nets.includes('berthcompat_backend'), nets.join(','));
  } finally {
    await compose(['down', '-v', '-t', '0'], {}, 60000).catch(() => {});
  }
});

test('testcontainers-node: GenericContainer with port and log waits, exec, copy in/out, network alias, stop', { timeout: 60000 }, async () => {
  // Ryuk, testcontainers' reaper, runs the testcontainers/ryuk image, which cannot be pulled offline.
  const r = await run(process.execPath, [join(COMPAT, 'testcontainers-flow.mjs')], { DOCKER_HOST: d.host, TESTCONTAINERS_RYUK_DISABLED: 'true' }, { timeout: 55000 });
  const o = lastJson(r.stdout);
  assert.equal(o.error, undefined, o.error);
  assert.equal(o.ok, true, r.stderr);
  assert.ok(o.mappedPort > 0);
  assert.equal(o.http, 'hello from testcontainers\n');
  assert.equal(o.inline, 'inline-content\n');
  assert.deepEqual(o.exec, { exitCode: 3, stdout: 'tc-value\n', stderr: 'oops\n' });
  assert.equal(o.copyOutHasFile, true);
  assert.equal(o.logs, true);
  assert.equal(o.alias, true, 'a second container reached the first by its network alias');
  assert.equal(o.stopped, true);
  assert.deepEqual((await d.api('GET', '/containers/json?all=1')).json(), [], 'testcontainers removed what it made');
});

test('dockerode: attach+stdin, wait, demuxed logs, exec, archive, pause, stats, errors, run, events', { timeout: 60000 }, async () => {
  const r = await run(process.execPath, [join(COMPAT, 'dockerode-flow.mjs')], { DOCKER_HOST: d.host }, { timeout: 55000 });
  const o = lastJson(r.stdout);
  assert.equal(o.error, undefined, o.error);
  assert.equal(o.ok, true, r.stderr);
  assert.equal(o.ping, 'OK');
  assert.deepEqual(o.wait, { StatusCode: 7, Error: null });
  assert.deepEqual(o.attach, { stdout: 'got hello-stdin\n', stderr: 'to-err\n' });
  assert.deepEqual(o.logs, { stdout: 'got hello-stdin\n', stderr: 'to-err\n' });
  assert.equal(o.inspect.exitCode, 7);
  assert.equal(o.inspect.status, 'exited');
  assert.match(o.hostPort, /^\d+$/);
  assert.deepEqual(o.exec, { stdout: 'exec-out\n', stderr: 'exec-err\n', exitCode: 4 });
  assert.deepEqual(o.archive, { 'file.txt': 'archived\n' });
  assert.equal(o.paused, true);
  assert.equal(o.execPaused, 409);
  assert.deepEqual(o.stats, { cpu: 'object', precpu: 'object', mem: 'object' });
  assert.equal(o.notFound, 404);
  assert.equal(o.removeRunning, 409);
  assert.equal(o.startRunning, 304);
  assert.equal(o.stopStopped, 304);
  assert.deepEqual(o.run, { status: 0, out: 'from-run' });
  assert.equal(o.runRemoved, true);
  assert.ok(o.events.includes('container:die:dockerode-sleeper'), JSON.stringify(o.events));
});

test('docker-py 5.0.3: networks, volumes, images, containers, events, APIClient, errors', { timeout: 90000 }, async () => {
  const r = await run(PY, [join(COMPAT, 'docker_py_compat.py')], { DOCKER_HOST: d.host }, { timeout: 85000 });
  assert.equal(r.code, 0, r.stderr);
  const o = lastJson(r.stdout);
  for (const [k, v] of Object.entries(o)) assert.equal((v as any)?.error, undefined, `${k}: ${JSON.stringify(v)}`);
  assert.deepEqual(o.network.members, ['pycompat-n1']);
  assert.deepEqual(o.network.nets, ['pycompat-net', 'pycompat-net2']);
  assert.equal(o.network.gone, true);
  assert.equal(o.volume.data, 'persisted\n');
  assert.deepEqual(o.volume.listed, ['pycompat-vol']);
  assert.deepEqual(o.images.tags, ['pycompat-img:v1', 'pycompat-img:v2']);
  assert.ok(o.images.history_keys.includes('CreatedBy'));
  assert.equal(o.images.gone, true);
  const c = o.container;
  assert.equal(c.name, 'pycompat-c2');
  assert.ok(c.top_titles.includes('PID'));
  assert.deepEqual(c.stats_keys, ['cpu_stats', 'memory_stats', 'pids_stats', 'precpu_stats']);
  assert.equal(c.paused, 'paused');
  assert.equal(c.unpaused, 'running');
  assert.equal(c.content, 'put\n');
  assert.deepEqual(c.env, ['COMMITTED=yes']);
  assert.equal(c.exported_busybox, true);
  assert.equal(c.fromcommit, 'put\nyes\n');
  assert.equal(c.waited, 137);
  assert.deepEqual(o.events, ['create', 'destroy', 'die', 'start']);
  assert.equal(o.lowlevel.code, 2);
  assert.equal(o.lowlevel.logs, 'low\n');
  assert.equal(o.lowlevel.mem, 64 * 1024 * 1024);
  assert.equal(o.lowlevel.listed, true);
  assert.deepEqual(o.errors, { notfound: 404, imagenotfound: 404, name_conflict: [409, true], remove_running: 409, volume: 404, network: 404 });
});
