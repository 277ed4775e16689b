/**
 * What a new user of real SDKs hit that the older compat scripts did not cover:
 * docker-py's attach replay and attach-then-remove, tar owners on put_archive,
 * the `^/name$` filter idiom, and over the raw API the volume prune `label!` guard,
 * `copyUIDGID`, the network create event and volume timestamps.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import tar from 'tar-stream';
import { TestDaemon, REPO, run, lastJson } from '../testing/daemon.js';

let d: TestDaemon;
before(async () => {
  d = await TestDaemon.start();
});
after(async () => {
  await d?.stop();
});

test('docker-py: attach replay, attach then remove, exec of a missing binary, tar owners, name filter', { timeout: 60000 }, async () => {
  const r = await run('/usr/bin/python3', [join(REPO, 'test/compat/docker_py_streams.py')], { DOCKER_HOST: d.host }, { timeout: 55000 });
  assert.equal(r.code, 0, r.stderr);
  const o = lastJson(r.stdout);
  for (const [k, v] of Object.entries(o)) assert.equal((v as any)?.error, undefined, `${k}: ${JSON.stringify(v)}`);
  // The replay arrives after the 101 head, not with it (docker-py would drop it).
  assert.deepEqual(o.attach_replay, ['one\ntwo\n', 'one\ntwo\n', 'one\ntwo\n']);
  // The stream ended only once the exit was recorded: remove() did not answer 409.
  assert.deepEqual(o.attach_then_remove, [true, true]);
  assert.equal(o.exec_missing_binary[0], 126);
  assert.match(o.exec_missing_binary[1], /no such file or directory/);
  assert.equal(o.archive_owner.put, true);
  assert.deepEqual(o.archive_owner.ls, ['1234:1234 750 /tmp/owned', '1000:1001 640 /tmp/owned/f.txt']);
  assert.deepEqual(o.archive_owner.back, [1000, 1001, 0o640]);
  assert.deepEqual(o.name_filter, { exact: ['pystreams-web'], bare: ['pystreams-web'], sub: ['pystreams-web', 'pystreams-web2'] });
  assert.match(o.volume_created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$/);
  if (new Date().getTimezoneOffset() === 0) assert.ok(o.volume_created_at.endsWith('Z'), o.volume_created_at);
});

test('copyUIDGID gives the copied files to the container user', { timeout: 30000 }, async () => {
  const cr = await d.api('POST', '/containers/create?name=sdk-cuid', { Image: 'busybox', Cmd: ['sleep', '30'], User: 'nobody' });
  assert.equal(cr.status, 201, cr.body.toString());
  const id = cr.json().Id as string;
  try {
    assert.equal((await d.api('POST', `/containers/${id}/start`)).status, 204);
    const tarOf = async (name: string) => {
      const p = tar.pack();
      p.entry({ name, uid: 1000, gid: 1000, mode: 0o644 }, 'x\n');
      p.finalize();
      const chunks: Buffer[] = [];
      for await (const c of p) chunks.push(c as Buffer);
      return Buffer.concat(chunks);
    };
    const put = async (q: string, name: string) => d.api('PUT', `/containers/${id}/archive?path=/tmp${q}`, await tarOf(name), { 'Content-Type': 'application/x-tar' });
    assert.equal((await put('&copyUIDGID=1', 'a.txt')).status, 200);
    assert.equal((await put('', 'b.txt')).status, 200);
    const ex = await d.docker(['exec', id, 'stat', '-c', '%u:%g %n', '/tmp/a.txt', '/tmp/b.txt']);
    assert.equal(ex.code, 0, ex.stderr);
    // busybox's nobody is 65534:65534; without copyUIDGID the tar's 1000:1000 stays.
    assert.equal(ex.stdout, '65534:65534 /tmp/a.txt\n1000:1000 /tmp/b.txt\n');
  } finally {
    await d.api('DELETE', `/containers/${id}?force=1`);
  }
});

test('volume prune keeps what label! protects; the driver filter; network create event', { timeout: 30000 }, async () => {
  const since = Math.floor(Date.now() / 1000) - 1;
  for (const [name, labels] of [['sdk-keep', { keep: '1' }], ['sdk-drop', {}]] as const) {
    assert.equal((await d.api('POST', '/volumes/create', { Name: name, Labels: labels })).status, 201);
  }
  const filters = encodeURIComponent(JSON.stringify({ all: ['true'], 'label!': ['keep'] }));
  const pr = await d.api('POST', `/volumes/prune?filters=${filters}`);
  assert.equal(pr.status, 200, pr.body.toString());
  assert.deepEqual(pr.json().VolumesDeleted, ['sdk-drop']);
  const names = (f: object) => d.api('GET', `/volumes?filters=${encodeURIComponent(JSON.stringify(f))}`).then((r) => r.json().Volumes.map((v: { Name: string }) => v.Name));
  assert.deepEqual(await names({ driver: ['local'] }), ['sdk-keep']);
  assert.deepEqual(await names({ driver: ['nfs-plugin'] }), []);
  assert.equal((await d.api('DELETE', '/volumes/sdk-keep')).status, 204);

  // Container prune honours label! too: the labelled stopped container stays.
  const mk = async (labels: Record<string, string>) => {
    const id = (await d.api('POST', '/containers/create', { Image: 'busybox', Cmd: ['true'], Labels: labels })).json().Id as string;
    return id;
  };
  const kept = await mk({ keep: '1' });
  const dropped = await mk({});
  const cp = await d.api('POST', `/containers/prune?filters=${encodeURIComponent(JSON.stringify({ 'label!': ['keep'] }))}`);
  assert.equal(cp.status, 200, cp.body.toString());
  assert.ok(cp.json().ContainersDeleted.includes(dropped));
  assert.ok(!cp.json().ContainersDeleted.includes(kept));
  assert.equal((await d.api('GET', `/containers/${kept}/json`)).status, 200);
  assert.equal((await d.api('DELETE', `/containers/${kept}`)).status, 204);

  const nc = await d.api('POST', '/networks/create', { Name: 'sdk-evnet' });
  assert.equal(nc.status, 201, nc.body.toString());
  assert.equal((await d.api('DELETE', '/networks/sdk-evnet')).status, 204);
  const ev = await d.api('GET', `/events?since=${since}&until=${Math.floor(Date.now() / 1000) + 1}&filters=${encodeURIComponent(JSON.stringify({ type: ['network'] }))}`);
  // The window also holds the connect/disconnect events of the containers run before (on bridge).
  const actions = ev.body.toString().trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)).map((e) => `${e.Action}:${e.Actor.Attributes.name}`);
  assert.deepEqual(actions.filter((a) => a.endsWith(':sdk-evnet')), ['create:sdk-evnet', 'destroy:sdk-evnet']);
  assert.ok(actions.every((a) => /^(create|destroy):sdk-evnet$|^(connect|disconnect):bridge$/.test(a)), actions.join(' '));
});

test('a volume with driver_opts type=none,o=bind,device=DIR is that host directory; tmpfs opts mount a tmpfs', { timeout: 30000 }, async () => {
  const host = await mkdtemp('/tmp/bt-nb-');
  try {
    await writeFile(join(host, 'from-host'), 'h\n');
    const vc = await d.api('POST', '/volumes/create', { Name: 'sdk-nb', DriverOpts: { type: 'none', o: 'bind', device: host } });
    assert.equal(vc.status, 201, vc.body.toString());
    assert.deepEqual(vc.json().Options, { type: 'none', o: 'bind', device: host });
    const r = await d.docker(['run', '--rm', '-v', 'sdk-nb:/d', 'busybox', 'sh', '-c', 'cat /d/from-host; echo c > /d/from-ctr']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'h\n');
    assert.equal(await readFile(join(host, 'from-ctr'), 'utf8'), 'c\n');
    assert.equal((await d.api('POST', '/volumes/create', { Name: 'sdk-tv', DriverOpts: { type: 'tmpfs', device: 'tmpfs', o: 'size=4m' } })).status, 201);
    const t = await d.docker(['run', '--rm', '-v', 'sdk-tv:/t', 'busybox', 'sh', '-c', 'grep " /t " /proc/mounts']);
    assert.match(t.stdout, /^tmpfs \/t tmpfs rw,.*size=4096k/);
    const bad = await d.api('POST', '/volumes/create', { Name: 'sdk-bad', DriverOpts: { type: 'none', device: host } });
    assert.equal(bad.status, 400);
    assert.equal((await d.api('DELETE', '/volumes/sdk-nb')).status, 204);
    assert.equal((await d.api('DELETE', '/volumes/sdk-tv')).status, 204);
    // Removing the volume leaves the host directory's files alone.
    assert.equal(await readFile(join(host, 'from-host'), 'utf8'), 'h\n');
  } finally {
    await rm(host, { recursive: true, force: true });
  }
});

test('attach, start, wait: the last output of a quick container reaches the attached client before the wait answers (dockerode run)', { timeout: 60000 }, async () => {
  // dockerode's docker.run attaches, starts, then waits with condition not-running: the
  // exit must not be visible before the attached client has the output.
  const post = (path: string, onData?: (s: string) => void) => new Promise<string>((resolve, reject) => {
    const req = request({ socketPath: d.socket, method: 'POST', path }, (res) => {
      let b = '';
      res.setEncoding('utf8');
      res.on('data', (x: string) => { b += x; onData?.(b); });
      res.on('end', () => resolve(b));
      if (onData) resolve(''); // a stream: the caller goes on once the head is in
    });
    req.on('error', reject);
    req.end();
  });
  for (let i = 0; i < 25; i++) {
    const cr = await d.api('POST', '/containers/create', { Image: 'busybox', Cmd: ['echo', 'from-run'], Tty: true, HostConfig: { AutoRemove: true } });
    assert.equal(cr.status, 201, cr.body.toString());
    const id = cr.json().Id as string;
    let attached = '';
    await post(`/containers/${id}/attach?stream=1&stdout=1&stderr=1`, (b) => (attached = b));
    assert.equal((await d.api('POST', `/containers/${id}/start`)).status, 204);
    const waited = JSON.parse(await post(`/containers/${id}/wait?condition=not-running`));
    assert.equal(waited.StatusCode, 0);
    // berthd writes the output before the wait's answer; this process may find both sockets
    // readable in one poll and run the wait's continuation first: one turn lets the other in.
    await new Promise((r) => setImmediate(r));
    assert.equal(attached, 'from-run\r\n', `run ${i}: the wait answered before the attached client had the output`);
  }
});
