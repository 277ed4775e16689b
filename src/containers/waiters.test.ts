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

test('50 aborted waits leave nothing behind, nor do released ones (no entry, no abort listener)', async () => {
  const w = new Waiters();
  for (let i = 0; i < 50; i++) {
    const ac = new AbortController();
    const p = w.add('c1', 'not-running', ac.signal);
    ac.abort();
    await assert.rejects(p, /canceled/);
  }
  assert.equal(w.size, 0);
  const ac = new AbortController();
  let listeners = 0;
  const orig = ac.signal.addEventListener.bind(ac.signal);
  ac.signal.addEventListener = ((...a: Parameters<typeof orig>) => { listeners++; orig(...a); }) as typeof orig;
  const origRm = ac.signal.removeEventListener.bind(ac.signal);
  ac.signal.removeEventListener = ((...a: Parameters<typeof origRm>) => { listeners--; origRm(...a); }) as typeof origRm;
  const p = w.add('c2', 'next-exit', ac.signal);
  w.exited('c2', { StatusCode: 0, Error: null });
  await p;
  assert.equal(listeners, 0);
  assert.equal(w.size, 0);
});

test('an --rm container removed moments ago still answers a wait by its id; others and old ones do not', () => {
  let now = 1_000;
  const w = new Waiters(() => now);
  const rm = 'a'.repeat(64), plain = 'b'.repeat(64);
  w.removed(rm, { StatusCode: 3, Error: null }, true);
  w.removed(plain, { StatusCode: 0, Error: null }); // docker rm: gone for good
  assert.deepEqual(w.recentlyRemoved(rm), { StatusCode: 3, Error: null });
  assert.deepEqual(w.recentlyRemoved(rm.slice(0, 12)), { StatusCode: 3, Error: null });
  assert.equal(w.recentlyRemoved(rm.slice(0, 11)), undefined, 'short prefixes and names are not guessed');
  assert.equal(w.recentlyRemoved('some-name'), undefined);
  assert.equal(w.recentlyRemoved(plain), undefined);
  now += 10_001;
  assert.equal(w.recentlyRemoved(rm), undefined, 'the grace period is over');
  assert.equal(w.size, 0);
});
