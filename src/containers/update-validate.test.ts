import { test } from 'node:test';
import assert from 'node:assert/strict';
import { discardUnsupported, dropUnsupported, validateResources } from './update-validate.js';
import type { HostCgroupInfo } from '../cgroups/index.js';
import type { HostConfig } from '../oci/docker-config.js';

const all = (v: boolean) => ({
  memory: v, memoryReservation: v, memorySwappiness: v, oomKillDisable: v, pids: v, cpuShares: v, cfsPeriod: v, cfsQuota: v,
  cpuset: v, blkioWeightDevice: v, readBpsDevice: v, writeBpsDevice: v, readIOpsDevice: v, writeIOpsDevice: v,
});
const host = (v: boolean): HostCgroupInfo => ({
  layout: { version: 1, root: '/x' }, cpus: new Set([0, 1]), mems: new Set([0]), blkioWeight: v, swap: v, memoryTotal: 1 << 30, features: all(v),
});

test('create warnings: an unsupported --blkio-weight is dropped with dockerd\'s warning, then not range-checked', () => {
  const hc: HostConfig = { BlkioWeight: 5000 };
  const w = discardUnsupported(hc, host(false));
  assert.deepEqual(w, ['Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded.']);
  assert.equal(hc.BlkioWeight, 0);
  validateResources(hc, host(false));
  assert.throws(() => validateResources({ BlkioWeight: 5000 }, host(true)), /Range of blkio weight is from 10 to 1000/);
});

test('create warnings: nothing to say on a host that supports everything; each unsupported limit is dropped', () => {
  const full: HostConfig = { Memory: 64 << 20, MemorySwap: 128 << 20, MemorySwappiness: 10, MemoryReservation: 32 << 20, OomKillDisable: true, PidsLimit: 10, CpuShares: 512, CpuPeriod: 100000, CpuQuota: 50000, CpusetCpus: '0', BlkioWeight: 100, BlkioDeviceReadBps: [{ Path: '/dev/sda', Rate: 1 }] };
  assert.deepEqual(discardUnsupported({ ...full }, host(true)), []);
  const hc = { ...full };
  const w = discardUnsupported(hc, host(false));
  assert.equal(w.length, 11, w.join('\n')); // no swap warning: the memory limit itself went
  assert.ok(w.every((x) => /discarded|without swap|no memory limit/.test(x)));
  assert.deepEqual([hc.Memory, hc.MemorySwap, hc.PidsLimit, hc.CpusetCpus, hc.OomKillDisable, hc.BlkioDeviceReadBps], [0, -1, 0, '', undefined, []]);
});

test('create warnings: OOM killer off without a memory limit warns; hostile shapes pass through untouched', () => {
  assert.match(discardUnsupported({ OomKillDisable: true }, host(true))[0]!, /no memory limit is set/);
  assert.deepEqual(dropUnsupported({ HostConfig: 'x' as never }).warnings, []);
  assert.deepEqual(dropUnsupported(null as never).warnings, []);
  const req = { HostConfig: { BlkioWeight: 10 } };
  dropUnsupported(req);
  assert.equal(req.HostConfig.BlkioWeight, 10, 'the caller\'s object is not changed');
});
