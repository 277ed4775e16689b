/**
 * A real Docker SDK against berthd: Debian's python3-docker (docker-py 5.0.3) runs
 * test/sdk/docker_py_smoke.py and reports what it saw.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { TestDaemon, REPO, run } from '../testing/daemon.js';

let d: TestDaemon;
before(async () => {
  d = await TestDaemon.start();
});
after(async () => {
  await d?.stop();
});

test('docker-py: ping, run, detach, exec, logs, wait, remove, volumes, images, errors', async () => {
  const r = await run('/usr/bin/python3', [join(REPO, 'test/sdk/docker_py_smoke.py')], { DOCKER_HOST: d.host }, { timeout: 90000 });
  assert.equal(r.code, 0, r.stderr);
  const o = JSON.parse(r.stdout);
  assert.equal(o.ping, true);
  assert.equal(o.api_version, '1.47');
  assert.equal(o.run_output, 'hello from docker-py\n');
  assert.equal(o.status, 'running');
  assert.deepEqual(o.labels, { sdk: 'py' });
  assert.deepEqual(o.exec, [3, 'exec-ok\n']);
  assert.equal(o.exec_demux[0], 0);
  assert.match(o.exec_demux[1], /^[0-9a-f]{12}\n$/);
  assert.deepEqual(o.listed, ['pyc']);
  assert.equal(o.wait.StatusCode, 137, 'sh as PID 1 ignores TERM: stop kills it after the timeout');
  assert.equal(o.logs_stdout, 'out\n');
  assert.equal(o.logs_stderr, 'err\n');
  assert.equal(o.removed, true);
  assert.equal(o.volume, 'pyvol');
  assert.ok(o.images.includes('busybox:latest'), JSON.stringify(o.images));
  assert.equal(o.missing_binary[0], 'APIError');
  assert.equal(o.missing_binary[1], 400);
});
