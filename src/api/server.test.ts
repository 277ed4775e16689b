import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, request, type Harness } from './testing/harness.js';
import { apiErrorChannel } from './http-util.js';

describe('api server: routing, versions, errors', () => {
  let h: Harness;
  before(async () => { h = await startHarness(); });
  after(async () => { await h.close(); });

  for (const method of ['HEAD', 'GET']) {
    it(`${method} /_ping answers OK with negotiation headers`, async () => {
      const r = await request(h.sock, method, '/_ping');
      assert.equal(r.status, 200);
      assert.equal(r.text, method === 'GET' ? 'OK' : '');
      assert.equal(r.headers['api-version'], '1.47');
      assert.equal(r.headers['ostype'], 'linux');
      assert.equal(r.headers['docker-experimental'], 'false');
      assert.equal(r.headers['builder-version'], '1');
      assert.equal(r.headers['cache-control'], 'no-cache, no-store, must-revalidate');
      assert.equal(r.headers['pragma'], 'no-cache');
      assert.match(String(r.headers['server']), /^Berth\/0\.1\.0 \(linux\)$/);
    });
  }

  it('serves versioned and unversioned paths alike', async () => {
    for (const p of ['/version', '/v1.41/version', '/v1.24/version', '/v1.47/version']) {
      const r = await request(h.sock, 'GET', p);
      assert.equal(r.status, 200, p);
      const v = r.json();
      assert.equal(v.ApiVersion, '1.47');
      assert.equal(v.MinAPIVersion, '1.24');
      assert.equal(v.Components[0].Name, 'Engine');
      assert.equal(v.Components[0].Details.ApiVersion, '1.47');
      assert.equal(v.Os, 'linux');
      assert.equal(r.headers['api-version'], '1.47');
    }
  });

  it('rejects too new and too old versions with dockerd text', async () => {
    let r = await request(h.sock, 'GET', '/v1.99/version');
    assert.equal(r.status, 400);
    assert.deepEqual(r.json(), { message: 'client version 1.99 is too new. Maximum supported API version is 1.47' });
    r = await request(h.sock, 'GET', '/v1.12/containers/json');
    assert.equal(r.status, 400);
    assert.equal(r.json().message, 'client version 1.12 is too old. Minimum supported API version is 1.24, please upgrade your client to a newer version');
  });

  it('unknown path: 404 page not found, JSON', async () => {
    const r = await request(h.sock, 'GET', '/v1.41/nope/nothing');
    assert.equal(r.status, 404);
    assert.match(String(r.headers['content-type']), /application\/json/);
    assert.deepEqual(r.json(), { message: 'page not found' });
  });

  it('maps service errors to statuses', async () => {
    let r = await request(h.sock, 'GET', '/containers/nosuch/json');
    assert.equal(r.status, 404);
    assert.equal(r.json().message, 'No such container: nosuch');
    const c = await request(h.sock, 'POST', '/containers/create?name=dup', { body: JSON.stringify({ Image: 'busybox' }) });
    assert.equal(c.status, 201);
    r = await request(h.sock, 'POST', '/containers/create?name=dup', { body: JSON.stringify({ Image: 'busybox' }) });
    assert.equal(r.status, 409);
    r = await request(h.sock, 'POST', '/containers/create', { body: JSON.stringify({ Image: 'missing' }) });
    assert.equal(r.status, 404);
    assert.equal(r.json().message, 'No such image: missing:latest');
    // start twice → 304, no body
    const id = c.json().Id;
    assert.equal((await request(h.sock, 'POST', `/containers/${id}/start`)).status, 204);
    r = await request(h.sock, 'POST', `/containers/${id}/start`);
    assert.equal(r.status, 304);
    assert.equal(r.text, '');
    r = await request(h.sock, 'DELETE', `/containers/${id}`);
    assert.equal(r.status, 409);
    assert.equal((await request(h.sock, 'POST', `/containers/${id}/stop?t=0`)).status, 204);
    assert.deepEqual(h.containers.lastStop?.opts, { timeout: 0, signal: undefined });
    assert.equal((await request(h.sock, 'POST', `/containers/${id}/stop`)).status, 304);
    assert.equal((await request(h.sock, 'DELETE', `/containers/${id}?v=1&force=1`)).status, 204);
  });

  it('start failures about the command are 400 with runtime text', async () => {
    const c = await request(h.sock, 'POST', '/containers/create', { body: JSON.stringify({ Image: 'busybox', Cmd: ['/no/such'] }) });
    const { failedPrecondition } = await import('../common/errors.js');
    h.containers.startError = failedPrecondition('failed to create task: OCI runtime create failed: runc create failed: unable to start container process: exec: "/no/such": stat /no/such: no such file or directory: unknown');
    const r = await request(h.sock, 'POST', `/containers/${c.json().Id}/start`);
    assert.equal(r.status, 400);
    assert.match(r.json().message, /no such file or directory/);
  });

  it('unexpected exceptions: 500 with message, reported on diagnostics_channel', async () => {
    const seen: unknown[] = [];
    const sub = (m: unknown) => seen.push(m);
    apiErrorChannel.subscribe(sub);
    const orig = h.containers.top;
    h.containers.top = async () => { throw new Error('boom\n    at secret stack'); };
    const c = await request(h.sock, 'POST', '/containers/create', { body: JSON.stringify({ Image: 'busybox' }) });
    const r = await request(h.sock, 'GET', `/containers/${c.json().Id}/top`);
    h.containers.top = orig;
    apiErrorChannel.unsubscribe(sub);
    assert.equal(r.status, 500);
    assert.deepEqual(r.json(), { message: 'boom' });
    assert.equal(seen.length, 1);
  });

  it('malformed JSON body → 400 one line', async () => {
    const r = await request(h.sock, 'POST', '/containers/create', { body: '{"Image": busybox' });
    assert.equal(r.status, 400);
    const m = r.json().message as string;
    assert.match(m, /^invalid JSON: /);
    assert.ok(!m.includes('\n'));
    assert.equal((await request(h.sock, 'POST', '/containers/create', { body: '' })).status, 400);
  });

  it('accepts an 8 KB request line and ignores unknown query params', async () => {
    const big = encodeURIComponent(JSON.stringify({ Binds: Array.from({ length: 200 }, (_, i) => `/host/path/${i}:/c/${i}`) }));
    const path = `/containers/create?Image=busybox&Cmd=sh&Cmd=-c&HostConfig=${big}&name=bigq`;
    assert.ok(path.length > 8192, String(path.length));
    const r = await request(h.sock, 'POST', path, { body: JSON.stringify({ Image: 'busybox', Cmd: ['sh'] }) });
    assert.equal(r.status, 201);
    assert.equal(h.containers.lastCreate?.name, 'bigq');
    assert.deepEqual(h.containers.lastCreate?.req.Cmd, ['sh']);
  });

  it('accepts chunked request bodies whatever the content type', async () => {
    const http = await import('node:http');
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request({ socketPath: h.sock, method: 'POST', path: '/containers/create?name=chunky', headers: { 'Content-Type': 'text/plain' } }, (res) => { res.resume(); resolve(res.statusCode ?? 0); });
      req.on('error', reject);
      req.write('{"Image":');
      setTimeout(() => req.end('"busybox"}'), 10);
    });
    assert.equal(status, 201);
  });

  it('decodes filters in both forms for the container list', async () => {
    await request(h.sock, 'GET', `/containers/json?all=1&filters=${encodeURIComponent('{"label":{"a=b":true},"status":{"exited":true}}')}`);
    assert.deepEqual(h.containers.lastListOpts, { all: true, limit: undefined, filters: { label: ['a=b'], status: ['exited'] } });
    await request(h.sock, 'GET', `/containers/json?all=0&limit=-1&size=0&trunc_cmd=0&filters=${encodeURIComponent('{"name":["x"]}')}`);
    assert.deepEqual(h.containers.lastListOpts, { all: false, limit: undefined, filters: { name: ['x'] } });
    const r = await request(h.sock, 'GET', `/containers/json?filters=${encodeURIComponent('{"bogus":["x"]}')}`);
    assert.equal(r.status, 400);
    assert.equal(r.json().message, "invalid filter 'bogus'");
  });

  it('container list and inspect wire shapes', async () => {
    // The list shows the name the container was made with while it still means its image
    // (the fake containers' image id): so the fake images know it for this test.
    const busybox = h.images.add('busybox:latest', 'sha256:' + 'a'.repeat(64));
    after(() => { h.images.images.splice(h.images.images.indexOf(busybox), 1); });
    const c = await request(h.sock, 'POST', '/containers/create?name=shape', { body: JSON.stringify({ Image: 'busybox', Cmd: ['echo', 'hello world'], Labels: { k: 'v' }, HostConfig: { Memory: 1024, NetworkMode: 'none' } }) });
    const id = c.json().Id;
    const list = (await request(h.sock, 'GET', '/containers/json?all=true')).json();
    const e = list.find((x: { Id: string }) => x.Id === id);
    assert.deepEqual(e.Names, ['/shape']);
    assert.equal(e.Command, "echo 'hello world'");
    assert.equal(e.Status, 'Created');
    assert.equal(e.State, 'created');
    assert.equal(e.Image, 'busybox');
    assert.deepEqual(e.Labels, { k: 'v' });
    assert.equal(e.HostConfig.NetworkMode, 'none');
    assert.ok('none' in e.NetworkSettings.Networks);
    const i = (await request(h.sock, 'GET', '/v1.41/containers/shape/json')).json();
    assert.equal(i.Name, '/shape');
    assert.equal(i.HostConfig.Memory, 1024);
    assert.equal(i.HostConfig.ShmSize, 67108864);
    assert.deepEqual(i.HostConfig.RestartPolicy, { Name: 'no', MaximumRetryCount: 0 });
    assert.equal(i.Config.Image, 'busybox');
    assert.equal(i.Config.Hostname, id.slice(0, 12));
    assert.equal(i.Platform, 'linux');
    assert.deepEqual(i.NetworkSettings.Ports, {});
  });

  it('swarm leave → 503, plugin inspect → 404', async () => {
    const r = await request(h.sock, 'POST', '/v1.41/swarm/leave?force=True');
    assert.equal(r.status, 503);
    assert.equal(r.json().message, 'This node is not part of a swarm');
    assert.equal((await request(h.sock, 'GET', '/plugins/foo/json')).status, 404);
  });

  it('images: names with registry host:port and slashes, tag, rmi, import, pull', async () => {
    h.images.add('localhost:5000/foo/bar:1');
    let r = await request(h.sock, 'GET', '/v1.41/images/localhost:5000/foo/bar:1/json');
    assert.equal(r.status, 200);
    const img = r.json();
    assert.deepEqual(img.RepoTags, ['localhost:5000/foo/bar:1']);
    assert.deepEqual(img.RootFS.Layers.length, 1);
    r = await request(h.sock, 'GET', '/images/json');
    const s = r.json()[0];
    for (const k of ['Id', 'ParentId', 'RepoTags', 'RepoDigests', 'Created', 'Size', 'VirtualSize', 'SharedSize', 'Labels', 'Containers']) assert.ok(k in s, k);
    assert.equal(s.SharedSize, -1);
    assert.equal(s.Containers, -1);
    assert.equal(s.Created, 1704067200);
    r = await request(h.sock, 'POST', '/images/localhost:5000/foo/bar:1/tag?repo=mine&tag=2');
    assert.equal(r.status, 201);
    assert.ok(h.images.images[0]!.repoTags.includes('mine:2'));
    r = await request(h.sock, 'GET', '/images/mine:2/history');
    assert.equal(r.json()[0].CreatedBy, '/bin/sh -c #(nop) CMD ["sh"]');
    r = await request(h.sock, 'DELETE', '/images/mine:2?force=1');
    assert.equal(r.status, 200);
    assert.equal(r.json()[1].Deleted.slice(0, 7), 'sha256:');
    r = await request(h.sock, 'GET', '/images/nosuch/json');
    assert.equal(r.status, 404);
    r = await request(h.sock, 'POST', '/images/create?fromSrc=-&repo=imp&tag=v1&changes=CMD%20%5B%22sh%22%5D&message=hi', { body: Buffer.alloc(1024), headers: { 'Content-Type': 'text/plain' } });
    assert.equal(r.status, 200);
    assert.deepEqual(r.text.trim().split('\n').map((l) => JSON.parse(l)).pop(), { status: 'sha256:' + 'd'.repeat(64) });
    assert.deepEqual(h.images.lastImport?.opts.changes, ['CMD ["sh"]']);
    assert.equal(h.images.lastImport?.opts.reference, 'imp:v1');
    r = await request(h.sock, 'POST', '/images/create?fromImage=busybox&tag=latest');
    assert.equal(r.status, 501);
    assert.match(r.json().message, /cannot pull busybox:latest/);
  });

  it('volumes: create 201, list, inspect, delete 204, prune', async () => {
    let r = await request(h.sock, 'POST', '/volumes/create', { body: JSON.stringify({ Name: 'v1', Labels: { a: 'b' } }) });
    assert.equal(r.status, 201);
    assert.equal(r.json().Name, 'v1');
    r = await request(h.sock, 'GET', '/volumes');
    assert.deepEqual(Object.keys(r.json()), ['Volumes', 'Warnings']);
    assert.equal(r.json().Volumes[0].Mountpoint, '/var/lib/berth/volumes/v1/_data');
    assert.equal((await request(h.sock, 'GET', '/volumes/v1')).status, 200);
    assert.equal((await request(h.sock, 'DELETE', '/volumes/v1')).status, 204);
    r = await request(h.sock, 'GET', '/volumes/v1');
    assert.equal(r.status, 404);
    r = await request(h.sock, 'POST', '/volumes/prune');
    assert.deepEqual(r.json(), { VolumesDeleted: [], SpaceReclaimed: 0 });
  });
});
