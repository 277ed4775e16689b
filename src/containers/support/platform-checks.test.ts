import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkPlatformFields, checkVolumeDriver, discardPlatformFields } from './platform-checks.js';
import type { HostConfig } from '../../oci/docker-config.js';

/** A v1 cgroup tree with the rt files, a budget-less /berth and a budgeted /rt. */
function fixture(rt: boolean): { root: string; done: () => void } {
  const root = mkdtempSync(join(tmpdir(), 'cg-'));
  for (const [dir, runtime] of [['cpu', '950000'], ['cpu/berth', '0'], ['cpu/rt', '20000']] as const) {
    mkdirSync(join(root, dir), { recursive: true });
    if (rt) { writeFileSync(join(root, dir, 'cpu.rt_runtime_us'), runtime); writeFileSync(join(root, dir, 'cpu.rt_period_us'), '1000000'); }
  }
  return { root, done: () => rmSync(root, { recursive: true, force: true }) };
}

test('platform checks: dockerd messages for what Linux cannot do', () => {
  const f = fixture(true);
  const layout = { version: 1 as const, root: f.root };
  const msg = (hc: HostConfig) => { try { checkPlatformFields(hc, layout); return 'ok'; } catch (e) { return (e as Error).message; } };
  try {
    assert.equal(msg({ Isolation: 'Default' }), 'ok');
    assert.equal(msg({ Isolation: 'process' }), "invalid isolation (process): linux only supports 'default'");
    assert.equal(msg({ IOMaximumIOps: 5 }), 'invalid option: QoS maximum IOPs configuration is not supported on linux');
    assert.equal(msg({ StorageOpt: { Size: '1G' } }), "--storage-opt is supported only for overlay over xfs with 'pquota' mount option");
    assert.equal(msg({ StorageOpt: { Foo: '1' } }), 'Unknown option foo');
    assert.equal(msg({ DeviceRequests: [{ Driver: 'nvidia', Capabilities: [['compute', 'utility', 'gpu']] }] }), 'could not select device driver "nvidia" with capabilities: [[compute utility gpu]]');
    assert.equal(msg({ CgroupParent: '/a/../..' }), `invalid cgroup parent "/a/../..": it contains '..': the cgroup must stay under the cgroup root`);
    assert.equal(msg({ CpuRealtimeRuntime: 10000, CpuRealtimePeriod: 5000 }), 'cpu real-time runtime cannot be higher than cpu real-time period');
    assert.match(msg({ CpuRealtimeRuntime: 10000 }), /more than the parent cgroup \/berth allows/);
    assert.equal(msg({ CpuRealtimeRuntime: 10000, CgroupParent: 'rt' }), 'ok');
    assert.match(msg({ CpuRealtimeRuntime: 10000, CgroupParent: '/missing' }), /parent cgroup \/missing allows \(cpu.rt_runtime_us 0/);
    assert.match(msg({ CpuRealtimePeriod: -1 }), /invalid CpuRealtimePeriod -1/);
  } finally { f.done(); }
  const g = fixture(false);
  try {
    assert.throws(() => checkPlatformFields({ CpuRealtimePeriod: 1000 }, { version: 1, root: g.root }), /^BerthError: kernel does not support CPU real-time scheduler$/);
    assert.throws(() => checkPlatformFields({ CpuRealtimeRuntime: 1000 }, { version: 2, root: g.root }), /kernel does not support CPU real-time scheduler/);
  } finally { g.done(); }
});

test('volume driver: only a driver that would create a volume matters', () => {
  assert.doesNotThrow(() => checkVolumeDriver({ VolumeDriver: 'foo' }, {}));
  assert.doesNotThrow(() => checkVolumeDriver({ VolumeDriver: 'foo', Binds: ['/host:/x'] }, {}));
  assert.doesNotThrow(() => checkVolumeDriver({ VolumeDriver: 'local', Binds: ['v:/x'] }, { '/y': {} }));
  assert.doesNotThrow(() => checkVolumeDriver({ VolumeDriver: 'foo', Binds: ['/h:/data'] }, { '/data': {} }));
  assert.throws(() => checkVolumeDriver({ VolumeDriver: 'foo', Binds: ['v:/x'] }, {}), /^BerthError: create v: error looking up volume plugin foo: plugin "foo" not found$/);
  assert.throws(() => checkVolumeDriver({ VolumeDriver: 'foo' }, { '/data': {} }), /^BerthError: error looking up volume plugin foo/);
});

test('discard: CPU percent and count are dropped with a warning', () => {
  const hc: HostConfig = { CpuPercent: 10, CpuCount: 1, VolumeDriver: 'x', Mounts: [{ Type: 'volume', Target: '/v' }] };
  const w = discardPlatformFields(hc);
  assert.deepEqual(w.slice(0, 2), ['linux does not support CPU percent. Percent discarded.', 'linux does not support CPU count. Count discarded.']);
  assert.match(w[2]!, /container-wide volume-driver configuration is ignored/);
  assert.equal(hc.CpuPercent, 0);
  assert.equal(hc.CpuCount, 0);
  assert.deepEqual(discardPlatformFields({ CpuPercent: 0 }), []);
});
