import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startHarness, request, tick, type Harness } from './testing/harness.js';
import { frame } from './frames.js';

/** Opens a request and resolves at the response head, before the body is complete. */
function openStream(sock: string, method: string, path: string): Promise<{ res: http.IncomingMessage; req: http.ClientRequest; chunks: Buffer[]; ended: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: sock, method, path }, (res) => {
      const chunks: Buffer[] = [];
      const ended = new Promise<void>((r) => { res.on('end', r); res.on('close', r); });
      res.on('data', (c: Buffer) => chunks.push(c));
      resolve({ res, req, chunks, ended });
    });
    req.on('error', reject);
    req.end();
  });
}

async function until(pred: () => boolean, ms = 2000): Promise<void> {
  const t0 = Date.now();
  while (!pred()) {
    if (Date.now() - t0 > ms) throw new Error('condition not reached');
    await tick(5);
  }
}

describe('long-lived responses: wait, logs, events', () => {
  let h: Harness;
  let id: string;
  before(async () => {
    h = await startHarness();
    id = (await request(h.sock, 'POST', '/containers/create?name=st', { body: JSON.stringify({ Image: 'busybox' }) })).json().Id;
  });
  after(async () => { await h.close(); });

  it('wait: 200 + headers flushed before the exit, body when it happens', async () => {
    const s = await openStream(h.sock, 'POST', `/v1.41/containers/${id}/wait?condition=next-exit`);
    assert.equal(s.res.statusCode, 200);
    assert.match(String(s.res.headers['content-type']), /application\/json/);
    assert.equal(s.chunks.length, 0);
    await request(h.sock, 'POST', `/containers/${id}/start`);
    h.containers.exit(id, 3);
    await s.ended;
    assert.deepEqual(JSON.parse(Buffer.concat(s.chunks).toString()), { StatusCode: 3, Error: null });
  });

  it('wait: unknown container → 404; bad condition → 400', async () => {
    assert.equal((await request(h.sock, 'POST', '/containers/nosuch/wait')).status, 404);
    assert.equal((await request(h.sock, 'POST', `/containers/${id}/wait?condition=bogus`)).status, 400);
  });

  it('wait: the service wait is aborted when the client disconnects', async () => {
    await request(h.sock, 'POST', `/containers/${id}/start`);
    const s = await openStream(h.sock, 'POST', `/containers/${id}/wait`);
    assert.equal(h.containers.waiters.size, 1);
    s.req.destroy();
    await until(() => h.containers.waiters.size === 0);
  });

  it('wait removed resolves when the container is gone', async () => {
    const c2 = (await request(h.sock, 'POST', '/containers/create', { body: JSON.stringify({ Image: 'busybox' }) })).json().Id;
    const s = await openStream(h.sock, 'POST', `/containers/${c2}/wait?condition=removed`);
    await request(h.sock, 'DELETE', `/containers/${c2}`);
    await s.ended;
    assert.equal(JSON.parse(Buffer.concat(s.chunks).toString()).StatusCode, 0);
  });

  it('logs: multiplexed frames, tail, timestamps', async () => {
    h.containers.emitLog(id, 'stdout', 'one\n');
    h.containers.emitLog(id, 'stderr', 'two\n');
    h.containers.emitLog(id, 'stdout', 'three\n');
    let r = await request(h.sock, 'GET', `/containers/${id}/logs?stdout=1&stderr=1`);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, Buffer.concat([frame('stdout', Buffer.from('one\n')), frame('stderr', Buffer.from('two\n')), frame('stdout', Buffer.from('three\n'))]));
    r = await request(h.sock, 'GET', `/containers/${id}/logs?stdout=1&tail=1&timestamps=1`);
    const payload = r.body.subarray(8).toString();
    assert.match(payload, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{9}Z three\n$/);
    r = await request(h.sock, 'GET', `/containers/${id}/logs`);
    assert.equal(r.status, 400);
  });

  it('logs follow: headers at once, lines streamed as they come, released on disconnect', async () => {
    const s = await openStream(h.sock, 'GET', `/containers/${id}/logs?follow=true&stdout=true&stderr=true&tail=-1&since=0`);
    assert.equal(s.res.statusCode, 200);
    assert.equal(h.containers.followers.size, 1);
    const before = Buffer.concat(s.chunks).length;
    h.containers.emitLog(id, 'stdout', 'live\n');
    await until(() => Buffer.concat(s.chunks).subarray(before).includes(frame('stdout', Buffer.from('live\n'))));
    s.req.destroy();
    await until(() => h.containers.followers.size === 0);
  });

  it('logs of a tty container are raw', async () => {
    const t = (await request(h.sock, 'POST', '/containers/create', { body: JSON.stringify({ Image: 'busybox', Tty: true }) })).json().Id;
    h.containers.emitLog(t, 'stdout', 'raw\r\n');
    const r = await request(h.sock, 'GET', `/containers/${t}/logs?stdout=1`);
    assert.equal(r.text, 'raw\r\n');
    assert.equal(r.headers['content-type'], 'application/vnd.docker.raw-stream');
  });

  it('events: replay since, filter, end at until', async () => {
    const t0 = Date.now() / 1000 - 1;
    h.events.publish('container', 'create', 'c1', { name: 'a', image: 'busybox' });
    h.events.publish('container', 'die', 'c1', { name: 'a', exitCode: '0', image: 'busybox' });
    h.events.publish('image', 'tag', 'sha256:x', { name: 'busybox:latest' });
    const untilT = Date.now() / 1000 + 0.3;
    const filters = encodeURIComponent(JSON.stringify({ type: ['container'], event: { die: true } }));
    const s = await openStream(h.sock, 'GET', `/events?since=${t0.toFixed(9)}&until=${untilT.toFixed(9)}&filters=${filters}`);
    assert.equal(s.res.statusCode, 200);
    h.events.publish('container', 'die', 'c2', { name: 'b', exitCode: '1' });
    h.events.publish('container', 'start', 'c2', { name: 'b' });
    await s.ended;
    const lines = Buffer.concat(s.chunks).toString().trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(lines.map((e) => [e.Action, e.Actor.ID]), [['die', 'c1'], ['die', 'c2']]);
    assert.equal(lines[0].status, 'die');
  });

  it('events follow: headers at once, subscription released on disconnect', async () => {
    let active = 0;
    const orig = h.events.subscribe.bind(h.events);
    h.events.subscribe = (fn) => {
      active++;
      const un = orig(fn);
      return () => { active--; un(); };
    };
    const s = await openStream(h.sock, 'GET', '/events?filters=' + encodeURIComponent('{"container":{"zz":true}}'));
    assert.equal(s.res.statusCode, 200);
    assert.equal(active, 1);
    h.events.publish('container', 'start', 'zz123', { name: 'zz' });
    await until(() => Buffer.concat(s.chunks).toString().includes('zz123'));
    s.req.destroy();
    await until(() => active === 0);
  });
});
