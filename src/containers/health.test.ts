import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyProbeResult, probePlan } from './health.js';

const plan = { cmd: ['true'], intervalMs: 1000, timeoutMs: 1000, startPeriodMs: 0, retries: 2 };
const r = (exitCode: number) => ({ start: 's', end: 'e', exitCode, output: String(exitCode) });

test('probe plan: CMD, CMD-SHELL, NONE and docker defaults (ns → ms)', () => {
  assert.deepEqual(probePlan({ Config: { Healthcheck: { Test: ['CMD-SHELL', 'curl x'] } } })?.cmd, ['/bin/sh', '-c', 'curl x']);
  assert.deepEqual(probePlan({ Config: { Healthcheck: { Test: ['CMD', 'a', 'b'], Interval: 2e9 } } }), { cmd: ['a', 'b'], intervalMs: 2000, timeoutMs: 30000, startPeriodMs: 0, retries: 3 });
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
