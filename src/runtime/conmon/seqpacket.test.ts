import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { libc, errno } from '../../common/libc.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { SeqpacketSession, connectSeqpacket } from './seqpacket.js';
import { fdPoller, EPOLLIN } from '../../common/fd-poller.js';

const AF_UNIX = 1;
const SOCK_SEQPACKET = 5;
const SOCK_CLOEXEC = 0o2000000;
const MSG_DONTWAIT = 0x40;
const l = libc();
const socketpair = l.func('int socketpair(int domain, int type, int protocol, _Out_ int *sv)');
const send = l.func('intptr_t send(int fd, const void *buf, size_t len, int flags)');
const recv = l.func('intptr_t recv(int fd, void *buf, size_t len, int flags)');
const close = l.func('int close(int fd)');

/** A connected pair: [our end for the session, the "conmon" end driven by the test]. */
function pair(): [number, number] {
  const sv = [0, 0];
  assert.equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
  return [sv[0]!, sv[1]!];
}

/** Send one conmon packet: a stream byte (2 stdout, 3 stderr) and the data. */
function packet(fd: number, stream: number, text: string): number {
  const b = Buffer.concat([Buffer.from([stream]), Buffer.from(text)]);
  return Number(send(fd, b, b.length, MSG_DONTWAIT));
}

async function next(s: SeqpacketSession, it = s.output[Symbol.asyncIterator](), ms = 2000) {
  let timer: NodeJS.Timeout | undefined;
  const r = await Promise.race([it.next(), new Promise<never>((_, rej) => (timer = setTimeout(() => rej(new Error('no output in time')), ms)))]);
  clearTimeout(timer);
  return r;
}

test('output and EOF arrive; stdin is sent in packets conmon can read whole, and shutdown follows the data', async () => {
  const [ours, peer] = pair();
  const s = new SeqpacketSession(ours);
  const it = s.output[Symbol.asyncIterator]();
  packet(peer, 2, 'out');
  packet(peer, 3, 'err');
  assert.deepEqual([(await next(s, it)).value, (await next(s, it)).value].map((c) => `${c.stream}:${c.data}`), ['stdout:out', 'stderr:err']);

  const big = Buffer.alloc(100_000, 7);
  s.write(big);
  s.closeStdin();
  await s.flush();
  const sizes: number[] = [];
  const buf = Buffer.alloc(65536);
  for (;;) {
    const n = Number(recv(peer, buf, buf.length, MSG_DONTWAIT));
    if (n <= 0) {
      assert.equal(n, 0, 'EOF (the shutdown) after the data, not EAGAIN');
      break;
    }
    sizes.push(n);
  }
  assert.deepEqual(sizes, [32768, 32768, 32768, 1696]);

  close(peer);
  assert.equal((await next(s, it)).done, true);
  assert.equal(fdPoller().watching, 0, 'the EOF released the watch');
});

test('back-pressure: a consumer that stops reading leaves the rest in the socket, and reading on gets it all in order', async () => {
  const [ours, peer] = pair();
  const s = new SeqpacketSession(ours);
  let sent = 0;
  while (sent < 300 && packet(peer, 2, `p${sent};`) > 0) sent++;
  await new Promise((r) => setTimeout(r, 50));
  let got = '';
  close(peer);
  for await (const c of s.output) got += c.data.toString();
  assert.equal(got, Array.from({ length: sent }, (_, i) => `p${i};`).join(''));
});

test('hundreds of quiet sessions hold no pool thread: file I/O and a late writer are served at once', { timeout: 20000 }, () => {
  // In a child with libuv's default 4 pool threads: a blocking recv per session
  // would park all four and stall every fs call behind them.
  const script = `
    const { SeqpacketSession } = await import(${JSON.stringify(new URL('./seqpacket.js', import.meta.url).href)});
    const { libc } = await import(${JSON.stringify(new URL('../../common/libc.js', import.meta.url).href)});
    const { readFile } = await import('node:fs/promises');
    const l = libc();
    const socketpair = l.func('int socketpair(int domain, int type, int protocol, _Out_ int *sv)');
    const send = l.func('intptr_t send(int fd, const void *buf, size_t len, int flags)');
    const sessions = [];
    const peers = [];
    for (let i = 0; i < 300; i++) {
      const sv = [0, 0];
      if (socketpair(1, 5 | 0o2000000, 0, sv) !== 0) throw new Error('socketpair');
      sessions.push(new SeqpacketSession(sv[0]));
      peers.push(sv[1]);
    }
    const t0 = Date.now();
    await readFile('/proc/self/status');
    const fsMs = Date.now() - t0;
    const it = sessions[299].output[Symbol.asyncIterator]();
    const b = Buffer.from([2, 104, 105]);
    send(peers[299], b, 3, 0);
    const chunk = await it.next();
    for (const s of sessions) s.close();
    console.log(JSON.stringify({ fsMs, got: chunk.value.data.toString() }));
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 15000, env: { ...process.env, UV_THREADPOOL_SIZE: '4' } });
  assert.equal(r.status, 0, r.stderr || 'the child hung: file I/O stalled behind the sessions');
  const o = JSON.parse(r.stdout.trim().split('\n').pop()!);
  assert.equal(o.got, 'hi');
  assert.ok(o.fsMs < 1000, `readFile took ${o.fsMs} ms`);
});

test('close while output is waiting: the consumer ends, the peer sees the hang-up', async () => {
  const [ours, peer] = pair();
  const s = new SeqpacketSession(ours);
  packet(peer, 2, 'never read');
  s.close();
  const r = await next(s);
  assert.equal(r.done, true);
  const buf = Buffer.alloc(16);
  const n = Number(recv(peer, buf, 16, MSG_DONTWAIT));
  // Closed with unread data: the peer reads a reset (ECONNRESET), never EAGAIN.
  assert.ok(n === 0 || (n === -1 && errno() === 104), `recv gave ${n}, errno ${errno()}`);
  close(peer);
});

test('connect waits off the event loop while the monitor\'s backlog is full, then succeeds or times out', { timeout: 10_000 }, async () => {
  const bind = l.func('int bind(int fd, const void *addr, uint32_t len)');
  const listen = l.func('int listen(int fd, int backlog)');
  const accept = l.func('int accept(int fd, void *addr, void *len)');
  const socket = l.func('int socket(int domain, int type, int protocol)');
  const dir = mkdtempSync('/tmp/bsq-');
  const path = join(dir, 'attach');
  const srv = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0) as number;
  const addr = Buffer.alloc(110);
  addr.writeUInt16LE(AF_UNIX, 0);
  Buffer.from(path).copy(addr, 2);
  assert.equal(bind(srv, addr, 2 + path.length + 1), 0);
  assert.equal(listen(srv, 0), 0); // one connection may wait; the next finds the backlog full
  const fds: number[] = [];
  try {
    fds.push(await connectSeqpacket(path));
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 10);
    const second = connectSeqpacket(path, 3000);
    await new Promise((r) => setTimeout(r, 200));
    clearInterval(ticker);
    assert.ok(ticks >= 10, `the event loop ran while connect waited (${ticks} ticks in 200 ms)`);
    fds.push(accept(srv, null, null) as number); // room in the backlog again
    fds.push(await second);
    const t0 = Date.now();
    await assert.rejects(connectSeqpacket(path, 200), /accepted no connection for 200 ms/);
    assert.ok(Date.now() - t0 < 2000);
  } finally {
    for (const fd of [...fds, srv]) close(fd);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('poller: a watch whose fd was closed and reused under it neither throws nor silences the new owner', { timeout: 5_000 }, async () => {
  const [a, aPeer] = pair();
  const stale = fdPoller().add(a, { onReady: () => {} });
  close(a); // closed behind the poller's back: the kernel drops the registration
  const [b, bPeer] = pair(); // most likely the same number as a
  let ready = 0;
  const fresh = fdPoller().add(b, { onReady: () => { ready++; } });
  fdPoller().remove(stale); // deletes by number: may take b's registration away
  fdPoller().arm(fresh, EPOLLIN); // must not throw, must still report
  packet(bPeer, 2, 'x');
  for (let i = 0; i < 100 && !ready; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(ready, 1, 'the new owner heard of its data');
  fdPoller().remove(fresh);
  for (const fd of [b, bPeer, aPeer]) close(fd);
});
