import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, request, rawConnect, tick, type Harness } from './testing/harness.js';
import { frame } from './frames.js';

const headEnd = (b: Buffer) => b.indexOf('\r\n\r\n') >= 0;
function split(b: Buffer): { head: string; body: Buffer } {
  const i = b.indexOf('\r\n\r\n');
  return { head: b.subarray(0, i).toString(), body: b.subarray(i + 4) };
}

describe('hijacked streams (attach, exec start)', () => {
  let h: Harness;
  let id: string;
  let ttyId: string;
  before(async () => {
    h = await startHarness();
    id = (await request(h.sock, 'POST', '/containers/create?name=hj', { body: JSON.stringify({ Image: 'busybox', OpenStdin: true }) })).json().Id;
    ttyId = (await request(h.sock, 'POST', '/containers/create?name=hjtty', { body: JSON.stringify({ Image: 'busybox', Tty: true }) })).json().Id;
    await request(h.sock, 'POST', `/containers/${id}/start`);
    await request(h.sock, 'POST', `/containers/${ttyId}/start`);
  });
  after(async () => { await h.close(); });

  async function execCreate(cmd = ['cat'], tty = false): Promise<string> {
    const r = await request(h.sock, 'POST', `/containers/${id}/exec`, { body: JSON.stringify({ Cmd: cmd, AttachStdin: true, AttachStdout: true, Tty: tty }) });
    assert.equal(r.status, 201);
    return r.json().Id;
  }

  it('exec start WITHOUT Upgrade: 200 OK, hijacked anyway; stdin forwarded; half-close → closeStdin', async () => {
    const execId = await execCreate();
    const c = await rawConnect(h.sock);
    const body = JSON.stringify({ stdin: true, Detach: false, Tty: false });
    c.socket.write(`POST /exec/${execId}/start HTTP/1.1\r\nHost: localhost\r\nUser-Agent: tc-node/12.2.0\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    const got = await c.waitFor(headEnd);
    const { head } = split(got);
    assert.match(head, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(head, /Content-Type: application\/vnd\.docker\.multiplexed-stream/);
    assert.match(head, /Api-Version: 1\.47/);
    assert.doesNotMatch(head, /Transfer-Encoding|Content-Length/i);
    // Bytes after the request are stdin, not a new HTTP request.
    c.socket.write('GET /not-a-request HTTP/1.1\r\n\r\n');
    const want = frame('stdout', Buffer.from('GET /not-a-request HTTP/1.1\r\n\r\n'));
    const after = await c.waitFor((b) => split(b).body.length >= want.length);
    assert.deepEqual(split(after).body, want);
    const session = h.containers.sessions.at(-1)!;
    assert.equal(session.stdinClosed, false);
    c.socket.end();
    await c.ended;
    assert.equal(session.stdinClosed, true);
  });

  it('exec start after a keep-alive request on the same connection', async () => {
    const execId = await execCreate();
    const c = await rawConnect(h.sock);
    c.socket.write('GET /_ping HTTP/1.1\r\nHost: x\r\n\r\n');
    await c.waitFor((b) => b.toString().includes('\r\n\r\nOK'));
    const body = JSON.stringify({ Detach: false, Tty: false });
    const start = c.received().length;
    c.socket.write(`POST /v1.41/exec/${execId}/start HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    await c.waitFor((b) => headEnd(b.subarray(start)));
    assert.match(c.received().subarray(start).toString(), /^HTTP\/1\.1 200 OK\r\nContent-Type: application\/vnd\.docker\.raw-stream/);
    c.socket.write('abc');
    await c.waitFor((b) => b.subarray(start).includes(frame('stdout', Buffer.from('abc'))));
    c.socket.end();
    await c.ended;
  });

  it('attach WITH Upgrade: 101 UPGRADED; v1.41 says raw-stream but frames; client disconnect closes the session', async () => {
    const c = await rawConnect(h.sock);
    c.socket.write(`POST /v1.41/containers/hj/attach?stream=1&stdin=1&stdout=1&stderr=1 HTTP/1.1\r\nHost: api.moby.localhost\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Type: text/plain\r\n\r\n`);
    const { head } = split(await c.waitFor(headEnd));
    assert.match(head, /^HTTP\/1\.1 101 UPGRADED\r\nContent-Type: application\/vnd\.docker\.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp/);
    const session = h.containers.sessions.at(-1)!;
    session.out.push({ stream: 'stderr', data: Buffer.from('err!') });
    c.socket.write('ping');
    const want = Buffer.concat([frame('stderr', Buffer.from('err!')), frame('stdout', Buffer.from('ping'))]);
    await c.waitFor((b) => split(b).body.length >= want.length);
    assert.deepEqual(split(c.received()).body, want);
    c.socket.end();
    await c.ended;
    assert.equal(session.stdinClosed, true);
  });

  it('a client that goes away without output pending is released on the next output', async () => {
    h.containers.echo = false;
    const c = await rawConnect(h.sock);
    c.socket.write(`POST /containers/hj/attach?stream=1&stdout=1 HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n`);
    await c.waitFor(headEnd);
    const session = h.containers.sessions.at(-1)!;
    c.socket.destroy();
    // On a unix socket a vanished peer first looks like a half-close; the next write tells.
    for (let i = 0; i < 50 && !session.closed; i++) {
      session.out.push({ stream: 'stdout', data: Buffer.from('x'.repeat(1024)) });
      await tick(10);
    }
    h.containers.echo = true;
    assert.equal(session.closed, true);
  });

  it('attach with Upgrade at API 1.47 names the multiplexed type; tty container gets raw bytes', async () => {
    let c = await rawConnect(h.sock);
    c.socket.write(`POST /containers/hj/attach?stream=1&stdout=1 HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n`);
    assert.match(split(await c.waitFor(headEnd)).head, /Content-Type: application\/vnd\.docker\.multiplexed-stream/);
    c.socket.destroy();
    c = await rawConnect(h.sock);
    c.socket.write(`POST /v1.47/containers/hjtty/attach?stream=1&stdin=1&stdout=1 HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n`);
    assert.match(split(await c.waitFor(headEnd)).head, /Content-Type: application\/vnd\.docker\.raw-stream/);
    c.socket.write('tty in');
    await c.waitFor((b) => split(b).body.toString() === 'tty in');
    c.socket.end();
    await c.ended;
  });

  it('exec start WITH Upgrade: body read from the socket, stdin in the same packet is kept', async () => {
    const execId = await execCreate();
    const c = await rawConnect(h.sock);
    const body = JSON.stringify({ Detach: false, Tty: false });
    c.socket.write(`POST /v1.44/exec/${execId}/start HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}early`);
    await c.waitFor((b) => headEnd(b) && split(b).body.includes(frame('stdout', Buffer.from('early'))));
    assert.match(split(c.received()).head, /^HTTP\/1\.1 101 UPGRADED/);
    c.socket.end();
    await c.ended;
    assert.equal(h.containers.sessions.at(-1)!.stdinClosed, true);
  });

  it('exec start with a chunked body and Upgrade', async () => {
    const execId = await execCreate();
    const c = await rawConnect(h.sock);
    const body = JSON.stringify({ Detach: false, Tty: true });
    c.socket.write(`POST /exec/${execId}/start HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nTransfer-Encoding: chunked\r\n\r\n${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`);
    await c.waitFor(headEnd);
    assert.match(split(c.received()).head, /^HTTP\/1\.1 101 UPGRADED/);
    c.socket.end();
    await c.ended;
  });

  it('exec start Detach → plain 200, connection stays usable', async () => {
    const execId = await execCreate();
    const r = await request(h.sock, 'POST', `/exec/${execId}/start`, { body: JSON.stringify({ Detach: true }) });
    assert.equal(r.status, 200);
    assert.equal(r.text, '');
    const j = (await request(h.sock, 'GET', `/exec/${execId}/json`)).json();
    assert.equal(j.Running, true);
  });

  it('exec start of a missing binary: hijacked, error text in the stream (as dockerd)', async () => {
    const execId = await execCreate(['/nope']);
    const c = await rawConnect(h.sock);
    const body = '{"Detach":false,"Tty":false}';
    c.socket.write(`POST /exec/${execId}/start HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    await c.ended;
    const { head, body: b } = split(c.received());
    assert.match(head, /^HTTP\/1\.1 101/);
    assert.equal(b[0], 1);
    assert.match(b.subarray(8).toString(), /no such file or directory: unknown\r\n$/);
    assert.equal((await request(h.sock, 'GET', `/exec/${execId}/json`)).json().ExitCode, 126);
  });

  it('unknown exec / container → 404 before any hijack, with or without Upgrade', async () => {
    let r = await request(h.sock, 'POST', '/exec/nosuch/start', { body: '{}' });
    assert.equal(r.status, 404);
    assert.match(r.json().message, /No such exec instance/);
    const c = await rawConnect(h.sock);
    c.socket.write('POST /containers/nosuch/attach?stream=1 HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n');
    await c.ended;
    assert.match(c.received().toString(), /^HTTP\/1\.1 404 Not Found\r\n[\s\S]*\{"message":"No such container: nosuch"\}/);
    r = await request(h.sock, 'POST', `/containers/${id}/exec`, { body: JSON.stringify({ Cmd: [] }) });
    assert.equal(r.status, 400);
  });

  it('attach logs=1&stream=0 replays the log and closes', async () => {
    h.containers.emitLog(id, 'stdout', 'old line\n');
    const c = await rawConnect(h.sock);
    c.socket.write(`POST /containers/${id}/attach?logs=1&stream=0&stdout=1 HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n`);
    await c.ended;
    assert.deepEqual(split(c.received()).body, frame('stdout', Buffer.from('old line\n')));
  });
});
