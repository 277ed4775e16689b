import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyProbeResult, nextInterval, probePlan } from './health.js';

const plan = { cmd: ['true'], intervalMs: 1000, timeoutMs: 1000, startPeriodMs: 0, startIntervalMs: 5000, retries: 2 };
const r = (exitCode: number) => ({ start: 's', end: 'e', exitCode, output: String(exitCode) });

test('probe plan: CMD, CMD-SHELL, NONE and docker defaults (ns → ms)', () => {
  assert.deepEqual(probePlan({ Config: { Healthcheck: { Test: ['CMD-SHELL', 'curl x'] } } })?.cmd, ['/bin/sh', '-c', 'curl x']);
  assert.deepEqual(probePlan({ Config: { Healthcheck: { Test: ['CMD', 'a', 'b'], Interval: 2e9 } } }), { cmd: ['a', 'b'], intervalMs: 2000, timeoutMs: 30000, startPeriodMs: 0, startIntervalMs: 5000, retries: 3 });
  assert.equal(probePlan({ Config: { Healthcheck: { Test: ['NONE'] } } }), undefined);
  assert.equal(probePlan({ Config: {} }), undefined);
});

test('health state machine: healthy on success, unhealthy after retries, start period forgives', () => {
  let h = { Status: 'starting' as const, FailingStreak: 0, Log: [] } as Parameters<typeof applyProbeResult>[0];
  h = applyProbeResult(h, r(1), plan, true);
  assert.equal(h.FailingStreak, 0, 'failures in the start period do not count');
  assert.equal(h.Status, 'starting');
  h = applyProbeResult(h, r(0), plan, false);
  assert.equal(h.Status, 'healthy');
  h = applyProbeResult(h, r(1), plan, false);
  assert.deepEqual([h.Status, h.FailingStreak], ['healthy', 1]);
  h = applyProbeResult(h, r(1), plan, false);
  assert.deepEqual([h.Status, h.FailingStreak], ['unhealthy', 2]);
  for (let i = 0; i < 5; i++) h = applyProbeResult(h, r(1), plan, false);
  assert.equal(h.Log.length, 5, 'the last 5 results are kept');
});

test('start interval (API 1.44): used in the start period while starting, the interval otherwise', () => {
  const p = probePlan({ Config: { Healthcheck: { Test: ['CMD', 'true'], Interval: 30e9, StartPeriod: 10e9, StartInterval: 2e8 } as never } })!;
  assert.equal(p.startIntervalMs, 200);
  assert.equal(nextInterval(p, 0, 'starting'), 200);
  assert.equal(nextInterval(p, 9_999, undefined), 200);
  assert.equal(nextInterval(p, 10_000, 'starting'), 30_000, 'the start period is over');
  assert.equal(nextInterval(p, 1_000, 'healthy'), 30_000, 'healthy already: the normal interval');
  assert.equal(nextInterval({ ...p, startPeriodMs: 0 }, 0, 'starting'), 30_000, 'no start period: no start interval');
});
