import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cgroupParentProblem, containerCgroupsPath } from './parent.js';
import { realtimeProblem } from './realtime.js';

test('cgroup parent: absolute and relative parents are anchored at the root', () => {
  assert.equal(containerCgroupsPath('abc'), '/berth/abc');
  assert.equal(containerCgroupsPath('abc', ''), '/berth/abc');
  assert.equal(containerCgroupsPath('abc', '/mine'), '/mine/abc');
  assert.equal(containerCgroupsPath('abc', 'mine/sub/'), '/mine/sub/abc');
  assert.equal(containerCgroupsPath('abc', '/'), '/abc');
  assert.equal(containerCgroupsPath('abc', '/a/./b'), '/a/b/abc');
});

test('cgroup parent: values that would climb out of the root are refused', () => {
  for (const bad of ['..', '../x', '/a/../../etc', 'a/..', '/x/..', 'a\nb', 'a\0b', 'system.slice:docker:x', 'x'.repeat(4000)]) {
    assert.ok(cgroupParentProblem(bad), bad.slice(0, 20));
    assert.throws(() => containerCgroupsPath('id', bad), /invalid cgroup parent/);
  }
  for (const ok of ['/a', 'a', 'a.b-c_d', '/a/b/c', '/']) assert.equal(cgroupParentProblem(ok), undefined, ok);
});

test('realtime budget: a request must fit the parent share', () => {
  const none = { parent: '/berth', runtime: 0, period: 1_000_000 };
  assert.match(realtimeProblem(none, 10_000, undefined) ?? '', /more than the parent cgroup \/berth allows \(cpu.rt_runtime_us 0/);
  const some = { parent: '/rt', runtime: 20_000, period: 1_000_000 };
  assert.equal(realtimeProblem(some, 10_000, 1_000_000), undefined);
  assert.equal(realtimeProblem(some, 2_000, 100_000), undefined);
  assert.ok(realtimeProblem(some, 30_000, 1_000_000));
  assert.ok(realtimeProblem(some, 5_000, 100_000));
  assert.equal(realtimeProblem({ parent: '/', runtime: -1, period: 1_000_000 }, 900_000, undefined), undefined);
  assert.equal(realtimeProblem(none, 0, 1000), undefined);
});

test('realtimeBudget reads the parent of the container cgroup (0 when it has none yet)', async () => {
  const { mkdtempSync, rmSync, mkdirSync, writeFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const { realtimeBudget } = await import('./realtime.js');
  const root = mkdtempSync(join(tmpdir(), 'cgrt-'));
  try {
    const layout = { version: 1 as const, root };
    assert.deepEqual(realtimeBudget(layout, '/a/b/id'), { parent: '/a/b', runtime: 0, period: 1_000_000 });
    mkdirSync(join(root, 'cpu/a/b'), { recursive: true });
    writeFileSync(join(root, 'cpu/a/b/cpu.rt_runtime_us'), '95000\n');
    writeFileSync(join(root, 'cpu/a/b/cpu.rt_period_us'), '500000\n');
    assert.deepEqual(realtimeBudget(layout, '/a/b/id'), { parent: '/a/b', runtime: 95000, period: 500_000 });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
