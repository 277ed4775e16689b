import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LogEntry, LogOptions } from '../types.js';
import { readLogs } from './reader.js';
import { FakeConmon } from './fake-conmon.test-util.js';

async function tmp(t: { after(fn: () => unknown): void }): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'berth-logs-'));
  t.after(() => rm(d, { recursive: true, force: true }));
  return d;
}

async function collect(path: string, opts: LogOptions = {}): Promise<LogEntry[]> {
  const out: LogEntry[] = [];
  for await (const e of readLogs(path, opts)) out.push(e);
  return out;
}
const text = (es: LogEntry[]) => es.map((e) => `${e.stream}:${e.data.toString()}`);

test('P fragments are joined per stream until their F', async (t) => {
  const d = await tmp(t);
  const log = join(d, 'ctr.log');
  const c = new FakeConmon(log);
  const long = Buffer.alloc(40 * 1024, 'x');
  long[0] = 0x41;
  long[long.length - 1] = 0x5a;
  // 40 KiB in 8 KiB reads: P,P,P,P, then the rest with the newline: F.
  c.read('stdout', 'first\n');
  for (let i = 0; i < long.length; i += 8192) {
    c.read('stdout', long.subarray(i, i + 8192));
    if (i === 8192) c.read('stderr', 'interleaved\n');
  }
  c.read('stdout', '\nlast without newline');
  c.close();
  const es = await collect(log);
  assert.deepEqual(es.map((e) => e.stream), ['stdout', 'stderr', 'stdout', 'stdout']);
  assert.equal(es[0]!.data.toString(), 'first\n');
  assert.equal(es[1]!.data.toString(), 'interleaved\n');
  assert.equal(es[2]!.data.length, long.length + 1);
  assert.ok(es[2]!.data.subarray(0, long.length).equals(long));
  assert.equal(es[3]!.data.toString(), 'last without newline');
  // The line's time is its first fragment's.
  assert.ok(es[2]!.time < es[1]!.time);
  assert.deepEqual(text(await collect(log, { stderr: true })), ['stderr:interleaved\n']);
  assert.equal((await collect(log, { stdout: true })).length, 3);
  // Tail counts whole lines, also across the fragments.
  const tl = await collect(log, { tail: 2 });
  assert.equal(tl.length, 2);
  assert.equal(tl[0]!.data.length, long.length + 1);
  assert.equal(tl[1]!.data.toString(), 'last without newline');
  const t3 = await collect(log, { tail: 3 });
  assert.deepEqual(t3.map((e) => e.stream), ['stderr', 'stdout', 'stdout']);
  assert.deepEqual(await collect(log, { tail: 0 }), []);
  assert.deepEqual(await collect(join(d, 'missing.log')), []);
});

test('tail of a large file reads only its end; rotated files count too', async (t) => {
  const d = await tmp(t);
  const log = join(d, 'big.log');
  const c = new FakeConmon(log);
  // ~ 24 MB of history in the .1 file, a few lines in the current one.
  const line = 'y'.repeat(200) + '\n';
  for (let i = 0; i < 3000; i++) c.read('stdout', `${i} ${line}`.repeat(100).slice(0, 8192 - 50).replace(/[^\n]*$/, ''));
  c.close();
  await (await import('node:fs/promises')).rename(log, `${log}.1`);
  const c2 = new FakeConmon(log, c.clock);
  c2.read('stdout', 'cur1\ncur2\n');
  c2.close();
  assert.ok((await stat(`${log}.1`)).size > 20_000_000);
  const t0 = performance.now();
  const es = await collect(log, { tail: 5 });
  const ms = performance.now() - t0;
  assert.equal(es.length, 5);
  assert.deepEqual(es.slice(3).map((e) => e.data.toString()), ['cur1\n', 'cur2\n']);
  assert.match(es[0]!.data.toString(), /^2999 y+\n$/);
  // Reading everything yields the old file first.
  const t1 = performance.now();
  let n = 0;
  let first = '';
  let lastLine = '';
  for await (const e of readLogs(log, {})) {
    if (n++ === 0) first = e.data.toString();
    lastLine = e.data.toString();
  }
  assert.match(first, /^0 y+\n$/);
  assert.equal(lastLine, 'cur2\n');
  // The tail touched only the end: far cheaper than the full read of ~24 MB.
  const fullMs = performance.now() - t1;
  assert.ok(ms * 10 < fullMs, `tail ${ms} ms vs full read ${fullMs} ms`);
});

test('since and until against RFC3339Nano stamps', async (t) => {
  const d = await tmp(t);
  const log = join(d, 's.log');
  const c = new FakeConmon(log, 1_000_000_000_000_000_000n);
  c.step = 1_000_000_000n; // one second per record
  for (let i = 0; i < 10; i++) c.read(i % 2 ? 'stderr' : 'stdout', `l${i}\n`);
  c.close();
  const names = (es: LogEntry[]) => es.map((e) => e.data.toString().trim());
  const base = 1_000_000_000n;
  const S = 1_000_000_000n;
  assert.deepEqual(names(await collect(log, { since: base * S + 7n * S })), ['l7', 'l8', 'l9']);
  assert.deepEqual(names(await collect(log, { since: base * S + 6n * S + S / 2n })), ['l7', 'l8', 'l9']);
  assert.deepEqual(names(await collect(log, { until: base * S + 2n * S })), ['l0', 'l1', 'l2']);
  assert.deepEqual(names(await collect(log, { since: base * S + 3n * S, until: base * S + 5n * S + S / 2n })), ['l3', 'l4', 'l5']);
  assert.deepEqual(names(await collect(log, { since: base * S + 3n * S, tail: 2 })), ['l8', 'l9']);
  assert.deepEqual(names(await collect(log, { since: base * S + 8n * S, tail: 5 })), ['l8', 'l9']);
  assert.deepEqual(names(await collect(log, { since: base * S + 3n * S, until: base * S + 6n * S, tail: 2 })), ['l5', 'l6']);
  assert.deepEqual(names(await collect(log, { since: base * S + 2n * S, stdout: true, tail: 2 })), ['l6', 'l8']);
});

test('since and until at the exact nanosecond of a line keep that line', async (t) => {
  const d = await tmp(t);
  const log = join(d, 'n.log');
  // Stamps 1 ns apart, far from a whole second: any rounding through a double loses them.
  const c = new FakeConmon(log, 1_700_000_000_123_456_789n);
  c.step = 1n;
  for (let i = 0; i < 5; i++) c.read('stdout', `n${i}\n`);
  c.close();
  const names = (es: LogEntry[]) => es.map((e) => e.data.toString().trim());
  const at = (i: number) => 1_700_000_000_123_456_789n + BigInt(i);
  assert.deepEqual(names(await collect(log, { since: at(2) })), ['n2', 'n3', 'n4']);
  assert.deepEqual(names(await collect(log, { until: at(2) })), ['n0', 'n1', 'n2']);
  assert.deepEqual(names(await collect(log, { since: at(3), until: at(3) })), ['n3']);
});

test('a line that began before since is dropped whole, in tail mode too', async (t) => {
  const d = await tmp(t);
  const log = join(d, 'p.log');
  const c = new FakeConmon(log, 1_000_000_000_000_000_000n);
  c.step = 1_000_000_000n;
  c.read('stdout', 'aaa');
  c.read('stdout', 'bbb\n');
  c.read('stdout', 'ccc\n');
  c.close();
  const base = 1_000_000_000n;
  const S = 1_000_000_000n;
  for (const tail of [undefined, 10]) {
    assert.deepEqual((await collect(log, { since: base * S + 1n * S, tail })).map((e) => e.data.toString()), ['ccc\n'], `tail=${tail}`);
    assert.deepEqual((await collect(log, { since: base * S, tail })).map((e) => e.data.toString()), ['aaabbb\n', 'ccc\n']);
  }
});

test('follow streams appended lines and ends when the container exits', async (t) => {
  const d = await tmp(t);
  const log = join(d, 'f.log');
  const c = new FakeConmon(log);
  c.read('stdout', 'old1\nold2\n');
  let exit!: () => void;
  const exited = new Promise<void>((r) => (exit = r));
  const got: Array<{ s: string; at: number }> = [];
  const reader = (async () => {
    for await (const e of readLogs(log, { follow: true, tail: 1 }, undefined, exited)) got.push({ s: e.data.toString(), at: performance.now() });
  })();
  await sleep(100);
  assert.deepEqual(got.map((x) => x.s), ['old2\n']);
  const sent = performance.now();
  c.read('stdout', 'new1\n');
  await sleep(150);
  assert.deepEqual(got.map((x) => x.s), ['old2\n', 'new1\n']);
  assert.ok(got[1]!.at - sent < 100, `latency ${got[1]!.at - sent} ms`);
  // A long line arriving in pieces comes out once, whole.
  c.read('stdout', 'part-a ');
  await sleep(50);
  assert.equal(got.length, 2);
  c.read('stdout', 'part-b\n');
  // Written right before the exit: still delivered, and the unfinished fragment is flushed.
  c.read('stderr', 'bye\n');
  c.read('stdout', 'no newline');
  exit();
  await reader;
  assert.deepEqual(got.map((x) => x.s), ['old2\n', 'new1\n', 'part-a part-b\n', 'bye\n', 'no newline']);
  c.close();
});

test('follow stops on abort; waits for a log that does not exist yet', async (t) => {
  const d = await tmp(t);
  const log = join(d, 'later.log');
  const ac = new AbortController();
  const got: string[] = [];
  const reader = (async () => {
    for await (const e of readLogs(log, { follow: true }, ac.signal)) got.push(e.data.toString());
  })();
  await sleep(50);
  const c = new FakeConmon(log);
  c.read('stdout', 'hello\n');
  for (let i = 0; i < 40 && got.length === 0; i++) await sleep(25);
  assert.deepEqual(got, ['hello\n']);
  ac.abort();
  await reader;
  c.close();
});

test('follow with until ends when until passes', async (t) => {
  const d = await tmp(t);
  const log = join(d, 'u.log');
  await writeFile(log, '');
  const t0 = Date.now();
  const es = [];
  for await (const e of readLogs(log, { follow: true, until: BigInt(Date.now() + 200) * 1_000_000n })) es.push(e);
  assert.equal(es.length, 0);
  assert.ok(Date.now() - t0 >= 150 && Date.now() - t0 < 1500);
});
