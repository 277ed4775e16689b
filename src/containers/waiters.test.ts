import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Waiters } from './waiters.js';

test('next-exit waiters resolve on exit; removed waiters only on removal', async () => {
  const w = new Waiters();
  const exit = w.add('c1', 'next-exit');
  let removedDone = false;
  const removed = w.add('c1', 'removed').then((r) => { removedDone = true; return r; });
  w.exited('c1', { StatusCode: 3, Error: null });
  assert.equal((await exit).StatusCode, 3);
  await new Promise((r) => setImmediate(r));
  assert.equal(removedDone, false);
  w.removed('c1', { StatusCode: 3, Error: null });
  assert.equal((await removed).StatusCode, 3);
});

test('an aborted wait rejects and is forgotten', async () => {
  const w = new Waiters();
  const ac = new AbortController();
  const p = w.add('c1', 'next-exit', ac.signal);
  ac.abort();
  await assert.rejects(p, /canceled/);
  w.exited('c1', { StatusCode: 0, Error: null });
});
