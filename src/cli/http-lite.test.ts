import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { LitePool, LiteResponse, liteRequest, type Upgraded } from './http-lite.js';

/** A raw server on a unix socket: `answer` sees each request's bytes and writes whatever it likes. */
async function rawServer(answer: (sock: Socket, req: string, n: number) => void): Promise<{ path: string; close(): Promise<void>; conns: () => number }> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-lite-'));
  const path = join(dir, 's.sock');
  let conns = 0;
  let n = 0;
  const sockets: Socket[] = [];
  const server: Server = createServer((sock) => {
    conns++;
    sockets.push(sock);
    let buf = '';
    sock.on('data', (c) => {
      buf += c.toString('latin1');
      // One request per head; a body (Content-Length or chunked) is taken whole.
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buf.slice(0, end);
        const cl = /content-length: (\d+)/i.exec(head);
        let total = end + 4 + (cl ? Number(cl[1]) : 0);
        if (/transfer-encoding: chunked/i.test(head)) {
          const fin = buf.indexOf('\r\n0\r\n\r\n', end);
          if (fin < 0 && !buf.slice(end + 4).startsWith('0\r\n\r\n')) return;
          total = fin < 0 ? end + 9 : fin + 7;
        }
        if (buf.length < total) return;
        const req = buf.slice(0, total);
        buf = buf.slice(total);
        answer(sock, req, n++);
      }
    });
    sock.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(path, r));
  return {
    path,
    conns: () => conns,
    close: async () => {
      await new Promise<void>((r) => { server.close(() => r()); for (const s of sockets) s.destroy(); });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function text(res: LiteResponse): Promise<string> {
  let s = '';
  for await (const c of res) s += (c as Buffer).toString('utf8');
  return s;
}

const get = (pool: LitePool, path = '/x', extra: object = {}) => liteRequest(pool, { method: 'GET', path, headers: { Host: 'h' }, ...extra }) as Promise<LiteResponse>;

test('Content-Length, chunked (split anywhere) and read-to-close bodies; keep-alive reuses the connection', async () => {
  const bodies = [
    'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 7\r\n\r\n{"a":1}',
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\nX-Trailer: y\r\n\r\n',
    'HTTP/1.1 204 No Content\r\nApi-Version: 1.47\r\n\r\n',
  ];
  const srv = await rawServer((sock, _req, n) => {
    const out = Buffer.from(bodies[n % 3]!);
    // Byte by byte: every parser state meets a split.
    if (n % 3 === 1) { for (let i = 0; i < out.length; i++) sock.write(out.subarray(i, i + 1)); } else sock.write(out);
  });
  const pool = new LitePool({ socketPath: srv.path });
  try {
    for (let round = 0; round < 2; round++) {
      const a = await get(pool);
      assert.equal(a.statusCode, 200);
      assert.equal(a.headers['content-type'], 'application/json');
      assert.equal(await text(a), '{"a":1}');
      assert.equal(await text(await get(pool)), 'hello world');
      const c = await get(pool);
      assert.equal(c.statusCode, 204);
      assert.equal(c.headers['api-version'], '1.47');
      assert.equal(await text(c), '');
    }
    assert.equal(srv.conns(), 1, 'six requests on one kept-alive connection');
  } finally {
    pool.destroy();
    await srv.close();
  }

  const closing = await rawServer((sock) => { sock.end('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nstreamed until close'); });
  const p2 = new LitePool({ socketPath: closing.path });
  try {
    assert.equal(await text(await get(p2)), 'streamed until close');
  } finally {
    p2.destroy();
    await closing.close();
  }
});

test('request bodies: JSON with its length, a stream chunked; POST without a body says Content-Length: 0', async () => {
  const seen: string[] = [];
  const srv = await rawServer((sock, req) => { seen.push(req); sock.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'); });
  const pool = new LitePool({ socketPath: srv.path });
  try {
    await text(await liteRequest(pool, { method: 'POST', path: '/c', headers: { Host: 'h' }, body: '{"é":1}' }) as LiteResponse);
    await text(await liteRequest(pool, { method: 'POST', path: '/s', headers: { Host: 'h' }, body: Readable.from([Buffer.from('abc'), Buffer.from('defg')]) }) as LiteResponse);
    await text(await liteRequest(pool, { method: 'POST', path: '/e', headers: { Host: 'h' } }) as LiteResponse);
    // The length counts UTF-8 bytes (the server here reads latin1).
    assert.equal(seen[0], `POST /c HTTP/1.1\r\nHost: h\r\nContent-Length: 8\r\n\r\n${Buffer.from('{"é":1}').toString('latin1')}`);
    assert.match(seen[1]!, /Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n$/);
    assert.match(seen[2]!, /^POST \/e HTTP\/1\.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n$/);
    await assert.rejects(liteRequest(pool, { method: 'GET', path: '/', headers: { 'X-Bad': 'a\r\nInjected: 1' } }), /line break/);
  } finally {
    pool.destroy();
    await srv.close();
  }
});

test('101 hands over the socket with the bytes that came along; a 4xx to an upgrade is a response', async () => {
  const srv = await rawServer((sock, req) => {
    if (req.includes('/bad')) { sock.write('HTTP/1.1 404 Not Found\r\nContent-Length: 20\r\n\r\n{"message":"nope!!"}'); return; }
    sock.write('HTTP/1.1 101 UPGRADED\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\nearly');
    sock.on('data', (c) => sock.write(c)); // then an echo
  });
  const pool = new LitePool({ socketPath: srv.path });
  try {
    const up = await liteRequest(pool, { method: 'POST', path: '/attach', headers: { Host: 'h', Connection: 'Upgrade', Upgrade: 'tcp' }, upgrade: true }) as Upgraded;
    assert.equal(up.statusCode, 101);
    assert.equal(up.head.toString(), 'early');
    const echoed = new Promise<string>((r) => up.socket.once('data', (c) => r(c.toString())));
    up.socket.write('ping');
    assert.equal(await echoed, 'ping');
    up.socket.destroy();
    const bad = await liteRequest(pool, { method: 'POST', path: '/bad', headers: { Host: 'h' }, upgrade: true }) as LiteResponse;
    assert.equal(bad.statusCode, 404);
    assert.equal(await text(bad), '{"message":"nope!!"}');
  } finally {
    pool.destroy();
    await srv.close();
  }
});

test('failures: no socket, garbage, a hang-up mid-body, abort, and a stale kept-alive connection retried once', async () => {
  const nowhere = new LitePool({ socketPath: '/nonexistent/berth.sock' });
  await assert.rejects(get(nowhere), (e: NodeJS.ErrnoException) => e.code === 'ENOENT');

  const srv = await rawServer((sock, req) => {
    if (req.includes('/garbage')) sock.end('SMTP ready\r\n\r\n');
    else if (req.includes('/short')) sock.end('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc');
    else if (req.includes('/badlen')) sock.end('HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n');
    else if (req.includes('/badchunk')) sock.end('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n');
    else if (req.includes('/slow')) sock.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n');
    else if (req.includes('/once')) { sock.write('HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n1'); setTimeout(() => sock.destroy(), 20); } // then closes while idle
    else sock.write('HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n2');
  });
  const pool = new LitePool({ socketPath: srv.path });
  try {
    await assert.rejects(get(pool, '/garbage'), /malformed answer from the daemon: status line/);
    await assert.rejects(get(pool, '/badlen'), /Content-Length/);
    await assert.rejects(async () => text(await get(pool, '/badchunk')), /chunk size/);
    await assert.rejects(async () => text(await get(pool, '/short')), /socket hang up/);
    const ac = new AbortController();
    const slow = await get(pool, '/slow', { signal: ac.signal });
    const reading = text(slow);
    setTimeout(() => ac.abort(), 20);
    await assert.rejects(reading, (e: Error) => e.name === 'AbortError');
    assert.equal(await text(await get(pool, '/once')), '1');
    await new Promise((r) => setTimeout(r, 60)); // the server has closed the idle connection
    assert.equal(await text(await get(pool, '/next')), '2');
  } finally {
    pool.destroy();
    await srv.close();
  }
});

test('readAll: the whole body, or the error a for-await would give, also one raised before the call', async () => {
  const srv = await rawServer((sock, req) => {
    if (req.includes('/split')) {
      const out = Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nh\u00e9llo\r\n6\r\n world\r\n0\r\n\r\n'.replace('5\r\nh', '6\r\nh'));
      for (let i = 0; i < out.length; i++) sock.write(out.subarray(i, i + 1));
    } else if (req.includes('/badchunk')) sock.end('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n');
    else if (req.includes('/short')) sock.end('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc');
    else if (req.includes('/slow')) sock.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n');
    else sock.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
  });
  const pool = new LitePool({ socketPath: srv.path });
  try {
    // A multi-byte character split across packets comes out whole.
    assert.equal((await (await get(pool, '/split')).readAll()).toString('utf8'), 'h\u00e9llo world');
    const bad = await get(pool, '/badchunk');
    await new Promise((r) => setTimeout(r, 30)); // the body has failed before anyone reads it
    await assert.rejects(bad.readAll(), /chunk size/);
    await assert.rejects(async () => (await get(pool, '/short')).readAll(), /socket hang up/);
    const ac = new AbortController();
    const reading = (await get(pool, '/slow', { signal: ac.signal })).readAll();
    setTimeout(() => ac.abort(), 20);
    await assert.rejects(reading, (e: Error) => e.name === 'AbortError');
    const done = await get(pool, '/ok');
    assert.equal((await done.readAll()).toString(), 'ok');
    assert.equal((await done.readAll()).length, 0); // read already: nothing more, no hang
  } finally {
    pool.destroy();
    await srv.close();
  }
});

test('a tcp:// endpoint speaks the same', async () => {
  const server = createServer((sock) => {
    sock.once('data', () => sock.write('HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\ntcp'));
    sock.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const pool = new LitePool({ host: '127.0.0.1', port });
  try {
    assert.equal(await text(await get(pool)), 'tcp');
  } finally {
    pool.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  }
});

test('an answer before the whole upload: the rest is dropped and the connection is not reused', async () => {
  let conns = 0;
  const server = createServer((sock) => {
    conns++;
    let head = '';
    sock.on('data', (c) => {
      head += c.toString('latin1');
      if (head.includes('POST /early') && head.includes('\r\n\r\n')) {
        head = '';
        sock.write('HTTP/1.1 400 Bad Request\r\nContent-Length: 2\r\n\r\nno'); // keep-alive, body unread
      } else if (head.includes('GET /next') && head.includes('\r\n\r\n')) {
        head = '';
        sock.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
      }
    });
    sock.on('error', () => {});
  });
  const dir = mkdtempSync(join(tmpdir(), 'berth-lite-'));
  const path = join(dir, 's.sock');
  await new Promise<void>((r) => server.listen(path, r));
  const pool = new LitePool({ socketPath: path });
  try {
    const body = new Readable({ read() {} });
    body.push(Buffer.from('first part'));
    const early = await liteRequest(pool, { method: 'POST', path: '/early', headers: { Host: 'h' }, body }) as LiteResponse;
    assert.equal(early.statusCode, 400);
    assert.equal(await text(early), 'no');
    body.push(Buffer.from('more, after the answer')); // must not reach any later request
    body.push(null);
    assert.equal(await text(await get(pool, '/next')), 'ok');
    assert.equal(conns, 2, 'the unfinished connection was not reused');
  } finally {
    pool.destroy();
    await new Promise<void>((r) => server.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  }
});
