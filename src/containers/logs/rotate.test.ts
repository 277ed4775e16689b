import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { conmonLogCap, LogRotator, parseLogOpts, parseLogSize } from './rotate.js';
import { readLogs } from './reader.js';
import { FakeConmon } from './fake-conmon.test-util.js';

async function tmp(t: { after(fn: () => unknown): void }): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'berth-rot-'));
  t.after(() => rm(d, { recursive: true, force: true }));
  return d;
}

test('docker max-size / max-file parsing', () => {
  assert.equal(parseLogSize('10m'), 10 * 1024 * 1024);
  assert.equal(parseLogSize('1.5k'), 1536);
  assert.equal(parseLogSize('2GB'), 2 * 1024 ** 3);
  assert.equal(parseLogSize('100'), 100);
  assert.equal(parseLogSize('-1'), 0);
  assert.equal(parseLogSize(undefined), 0);
  assert.throws(() => parseLogSize('ten'), { code: 'INVALID_ARGUMENT' });
  assert.throws(() => parseLogSize('0'), { code: 'INVALID_ARGUMENT' });
  assert.deepEqual(parseLogOpts(undefined), { maxSize: 10 * 1024 * 1024, maxFiles: 3 });
  assert.deepEqual(parseLogOpts({ 'max-size': '1m', 'max-file': '5' }), { maxSize: 1024 * 1024, maxFiles: 5 });
  assert.deepEqual(parseLogOpts({ 'max-size': '-1' }), { maxSize: 0, maxFiles: 3 });
  assert.throws(() => parseLogOpts({ 'max-file': '0' }), /max-file cannot be less than 1/);
  assert.throws(() => parseLogOpts({ 'max-file': '2' }, { maxSize: 0, maxFiles: 1 }), /max-size/);
  assert.throws(() => parseLogOpts({ nope: '1' }), /unknown log opt 'nope'/);
});

test('rotation shifts files, keeps max-file in all, reopens the writer', async (t) => {
  const d = await tmp(t);
  const log = join(d, 'c.log');
  const c = new FakeConmon(log);
  t.after(() => c.close());
  let reopens = 0;
  const r = new LogRotator({ logPath: log, maxSize: 1000, maxFiles: 3, reopen: () => { reopens++; c.reopen(); } });
  const fill = (tag: string) => { for (let i = 0; i < 20; i++) c.read('stdout', `${tag}-${i} ${'z'.repeat(40)}\n`); };
  assert.equal(await r.check(), false);
  fill('a');
  assert.equal(await r.check(), true);
  assert.equal(reopens, 1);
  assert.equal((await stat(log)).size, 0);
  fill('b');
  assert.equal(await r.check(), true);
  fill('c');
  assert.equal(await r.check(), true);
  fill('d');
  assert.deepEqual((await readdir(d)).sort(), ['c.log', 'c.log.1', 'c.log.2']);
  // History = what the retained files hold, oldest first.
  const lines: string[] = [];
  for await (const e of readLogs(log, {})) lines.push(e.data.toString().split(' ')[0]!);
  assert.deepEqual(lines, [...['b', 'c', 'd'].flatMap((x) => Array.from({ length: 20 }, (_, i) => `${x}-${i}`))]);
  const tail = [];
  for await (const e of readLogs(log, { tail: 25 })) tail.push(e.data.toString().split(' ')[0]!);
  assert.equal(tail[0], 'c-15');
  assert.equal(tail.length, 25);
  // A smaller max-file later removes the extra files.
  const r1 = new LogRotator({ logPath: log, maxSize: 1000, maxFiles: 1, reopen: () => c.reopen() });
  assert.equal(await r1.check(), true);
  assert.deepEqual((await readdir(d)).sort(), ['c.log']);
  assert.equal((await stat(log)).size, 0);
});

test('follow keeps every line, in order, across rotations', async (t) => {
  const d = await tmp(t);
  const log = join(d, 'f.log');
  const c = new FakeConmon(log);
  const r = new LogRotator({ logPath: log, maxSize: 4096, maxFiles: 2, intervalMs: 5, reopen: () => c.reopen() });
  let rotations = 0;
  const orig = r.check.bind(r);
  r.check = async () => { const x = await orig(); if (x) rotations++; return x; };
  let exit!: () => void;
  const exited = new Promise<void>((res) => (exit = res));
  const got: string[] = [];
  const reader = (async () => {
    for await (const e of readLogs(log, { follow: true }, undefined, exited)) got.push(e.data.toString());
  })();
  r.start();
  const N = 1500;
  for (let i = 0; i < N; i++) {
    // Some lines come in two fragments, to cross rotations mid-line too.
    if (i % 7 === 0) {
      c.read('stdout', `line-${i} `);
      c.read('stdout', 'tail\n');
    } else c.read('stdout', `line-${i}\n`);
    if (i % 50 === 0) await sleep(2);
  }
  await sleep(100);
  r.stop();
  exit();
  await reader;
  c.close();
  assert.ok(rotations >= 5, `only ${rotations} rotations`);
  assert.equal(got.length, N);
  for (let i = 0; i < N; i++) assert.equal(got[i], i % 7 === 0 ? `line-${i} tail\n` : `line-${i}\n`);
});

test('conmon\'s cap sits well above max-size (the rotator acts first), none without max-size', () => {
  assert.equal(conmonLogCap(0), 0);
  assert.equal(conmonLogCap(2048), 2048 + (1 << 20));
  assert.equal(conmonLogCap(10 << 20), 20 << 20);
});
