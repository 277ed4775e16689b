import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildResources } from './resources.js';
import { buildSpec } from './build-spec.js';

test('real-time CPU fields reach linux.resources.cpu', () => {
  assert.deepEqual(buildResources({ CpuRealtimePeriod: 1_000_000, CpuRealtimeRuntime: 950 }).cpu, { realtimePeriod: 1_000_000, realtimeRuntime: 950 });
  assert.equal(buildResources({ CpuRealtimePeriod: 0, CpuRealtimeRuntime: 0 }).cpu, undefined);
});

test('annotations reach the spec', () => {
  assert.deepEqual(buildSpec({ args: ['true'], annotations: { a: 'b' } }).annotations, { a: 'b' });
});
