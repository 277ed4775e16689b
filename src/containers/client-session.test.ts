import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClientSession } from './client-session.js';
import { AsyncQueue } from './async-queue.js';
import type { IoSession, StdioChunk } from '../runtime/types.js';

function fakeIo() {
  const out = new AsyncQueue<StdioChunk>();
  const written: Buffer[] = [];
  let stdinClosed = false;
  let closed = false;
  const io: IoSession = {
    output: out,
    write: (b) => written.push(b),
    closeStdin: () => { stdinClosed = true; },
    close: () => { closed = true; out.end(); },
  };
  return { io, out, written, get stdinClosed() { return stdinClosed; }, get closed() { return closed; } };
}

async function collect(s: ClientSession): Promise<string> {
  let t = '';
  for await (const c of s.output) t += `${c.stream}:${c.data}`;
  return t;
}

test('stdin written before connect is delivered once connected; output filtered by stream', async () => {
  const s = new ClientSession({ tty: false, stdin: true, stdout: true, stderr: false, stdinOnce: true });
  s.write(Buffer.from('early'));
  s.closeStdin();
  const f = fakeIo();
  s.connect(f.io);
  assert.equal(Buffer.concat(f.written).toString(), 'early');
  assert.equal(f.stdinClosed, true);
  f.out.push({ stream: 'stdout', data: Buffer.from('a') });
  f.out.push({ stream: 'stderr', data: Buffer.from('b') });
  f.out.end();
  assert.equal(await collect(s), 'stdout:a');
});

test('ctrl-p ctrl-q detaches: the bytes are not forwarded and the stream ends', async () => {
  const s = new ClientSession({ tty: true, stdin: true, stdout: true, stderr: true, stdinOnce: false, detachKeys: Buffer.from([16, 17]) });
  const f = fakeIo();
  s.connect(f.io);
  s.write(Buffer.from('ls\n'));
  s.write(Buffer.from([16]));
  s.write(Buffer.from([17]));
  assert.equal(Buffer.concat(f.written).toString(), 'ls\n');
  assert.equal(f.closed, true);
  assert.equal(await collect(s), '');
});

test('beforeEnd runs before the client sees the end (exec exit codes)', async () => {
  let recorded = false;
  const s = new ClientSession({ tty: false, stdin: false, stdout: true, stderr: true, stdinOnce: true, beforeEnd: async () => { await new Promise((r) => setTimeout(r, 20)); recorded = true; } });
  const f = fakeIo();
  s.connect(f.io);
  f.out.end();
  await collect(s);
  assert.equal(recorded, true);
});

test('without a TTY the detach keys are data: ctrl-p ctrl-q reach the process', async () => {
  const s = new ClientSession({ tty: false, stdin: true, stdout: true, stderr: true, stdinOnce: true, detachKeys: Buffer.from([16, 17]) });
  const f = fakeIo();
  s.connect(f.io);
  s.write(Buffer.from([97, 16, 17, 98]));
  assert.deepEqual([...Buffer.concat(f.written)], [97, 16, 17, 98]);
  assert.equal(f.closed, false);
  f.out.end();
  await collect(s);
});

test('stdin EOF without StdinOnce ends this client only (docker attach returns); with StdinOnce it closes the process stdin', async () => {
  const s = new ClientSession({ tty: false, stdin: true, stdout: true, stderr: true, stdinOnce: false });
  const f = fakeIo();
  s.connect(f.io);
  s.closeStdin();
  assert.equal(f.stdinClosed, false);
  assert.equal(f.closed, true);
  assert.equal(await collect(s), '');

  const once = new ClientSession({ tty: false, stdin: true, stdout: true, stderr: true, stdinOnce: true });
  const g = fakeIo();
  once.connect(g.io);
  once.closeStdin();
  assert.equal(g.stdinClosed, true);
  assert.equal(g.closed, false);
  g.out.push({ stream: 'stdout', data: Buffer.from('late') });
  g.out.end();
  assert.equal(await collect(once), 'stdout:late');
});

test('flushed: resolves only after the runtime EOF and once the writer took every chunk; a closed client counts as flushed', async () => {
  const s = new ClientSession({ tty: true, stdin: false, stdout: true, stderr: true, stdinOnce: false, beforeEnd: () => new Promise(() => {}) });
  await s.flushed(); // not connected: nothing to hand over
  const f = fakeIo();
  s.connect(f.io);
  let done = false;
  const p = s.flushed().then(() => (done = true));
  f.out.push({ stream: 'stdout', data: Buffer.from('last words') });
  f.out.end();
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(done, false, 'nobody took the output yet');
  const it = s.output[Symbol.asyncIterator]();
  assert.equal(String((await it.next()).value?.data), 'last words');
  await new Promise((r) => setTimeout(r, 5));
  assert.equal(done, false, 'the writer has the chunk but has not asked for more');
  void it.next(); // the writer asks again: it wrote what it had (the stream itself ends only after beforeEnd)
  await p;

  const s2 = new ClientSession({ tty: true, stdin: false, stdout: true, stderr: true, stdinOnce: false });
  const f2 = fakeIo();
  s2.connect(f2.io);
  f2.out.push({ stream: 'stdout', data: Buffer.from('unread') });
  s2.close();
  await s2.flushed();
});

test('flushed() waits for the consumer to finish with the last chunk, also when the output ended at once (a quick container)', async () => {
  // The exit came before the start recorded the container running: nothing to wait for
  // before the end, so the queue ends while the client's writer still holds the chunk
  // (the hijack holds first output until the head went out alone).
  let left = false; // onClose: the attach hub forgets the session, its flush no longer waits for it
  const s = new ClientSession({ tty: true, stdin: false, stdout: true, stderr: true, stdinOnce: false, beforeEnd: async () => {}, onClose: () => { left = true; } });
  const f = fakeIo();
  s.connect(f.io);
  let written = '';
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  const writer = (async () => {
    for await (const c of s.output) {
      await held;
      written += c.data.toString();
    }
  })();
  f.out.push({ stream: 'stdout', data: Buffer.from('from-run') });
  f.out.end();
  let flushed = false;
  const done = s.flushed().then(() => { flushed = true; });
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(flushed, false, 'flushed() resolved while the writer still held the last output');
  assert.equal(left, false, 'the session left the live set while the writer still held the last output');
  release();
  await done;
  assert.equal(written, 'from-run');
  await writer;
  await new Promise((r) => setImmediate(r));
  assert.equal(left, true);
});
