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
