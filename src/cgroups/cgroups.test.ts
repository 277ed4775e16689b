/**
 * cgroup readers and writers against fixture trees that follow the kernel's
 * documented interfaces (cgroup-v2.rst for v2, cgroup-v1 memory/cpuacct/blkio docs).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CgroupDir, detectLayout, readCgroupStats, workingSetBytes, writeCgroupLimits, sharesToWeight, blkioToIoWeight, readHostCgroupInfo, parseCpuList } from './index.js';
import { parseNetDev } from './net-dev.js';

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'cg-'));
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(join(root, p, '..'), { recursive: true });
    writeFileSync(join(root, p), text);
  }
  return root;
}

const V2 = '/berth/abc';
const v2Files = {
  'cgroup.controllers': 'cpuset cpu io memory pids\n',
  'cpuset.cpus.effective': '0-3\n',
  'cpuset.mems.effective': '0\n',
  [`${V2}/cpu.stat`]: 'usage_usec 2500\nuser_usec 2000\nsystem_usec 500\nnr_periods 10\nnr_throttled 4\nthrottled_usec 300\n',
  [`${V2}/memory.current`]: '10485760\n',
  [`${V2}/memory.peak`]: '20971520\n',
  [`${V2}/memory.max`]: 'max\n',
  [`${V2}/memory.stat`]: 'anon 4194304\nfile 6291456\ninactive_file 4194304\nactive_file 2097152\n',
  [`${V2}/memory.events`]: 'low 0\nhigh 0\nmax 7\noom 1\noom_kill 1\n',
  [`${V2}/pids.current`]: '3\n',
  [`${V2}/pids.max`]: '100\n',
  [`${V2}/io.stat`]: '254:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n',
  [`${V2}/cpu.max`]: 'max 100000\n',
  [`${V2}/cpu.weight`]: '100\n',
  [`${V2}/memory.swap.max`]: 'max\n',
  [`${V2}/memory.low`]: '0\n',
  [`${V2}/pids.max.w`]: '',
  [`${V2}/io.weight`]: 'default 100\n',
  [`${V2}/cpuset.cpus`]: '\n',
};

test('v2: layout detected from cgroup.controllers; stats read from the unified files', async () => {
  const root = tree(v2Files);
  try {
    const layout = detectLayout(root);
    assert.equal(layout.version, 2);
    const s = await readCgroupStats(new CgroupDir(layout, V2));
    assert.equal(s.cpu.total_usage, 2_500_000);
    assert.equal(s.cpu.usage_in_usermode, 2_000_000);
    assert.equal(s.cpu.usage_in_kernelmode, 500_000);
    assert.equal(s.cpu.percpu_usage, undefined);
    assert.deepEqual(s.cpu.throttling_data, { periods: 10, throttled_periods: 4, throttled_time: 300_000 });
    assert.equal(s.memory.usage, 10485760);
    assert.equal(s.memory.max_usage, 20971520);
    assert.equal(s.memory.limit, undefined, '"max" is no limit');
    assert.equal(s.memory.failcnt, 7);
    assert.equal(workingSetBytes(s.memory), 10485760 - 4194304, 'inactive_file is excluded');
    assert.deepEqual(s.pids, { current: 3, limit: 100 });
    assert.deepEqual(s.blkio.io_service_bytes_recursive, [{ major: 254, minor: 0, op: 'read', value: 4096 }, { major: 254, minor: 0, op: 'write', value: 8192 }]);
    assert.deepEqual(s.blkio.io_serviced_recursive?.map((e) => e.value), [1, 2]);
    const host = readHostCgroupInfo(root);
    assert.deepEqual([...host.cpus], [0, 1, 2, 3]);
    assert.equal(host.blkioWeight, true);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('v2: limits written in v2 units (memory.max, swap alone, cpu.max, cpu.weight, io.weight)', async () => {
  const root = tree(v2Files);
  const f = (n: string) => readFileSync(join(root, V2, n), 'utf8');
  try {
    const dir = new CgroupDir(detectLayout(root), V2);
    await writeCgroupLimits(dir, { memory: 64 << 20, memorySwap: 96 << 20, memoryReservation: 32 << 20, cpuQuota: 50000, cpuPeriod: 100000, cpuShares: 512, pidsLimit: 0, blkioWeight: 500, cpusetCpus: '0-1' });
    assert.equal(f('memory.max'), String(64 << 20));
    assert.equal(f('memory.swap.max'), String(32 << 20), 'memory.swap.max is swap only');
    assert.equal(f('memory.low'), String(32 << 20));
    assert.equal(f('cpu.max'), '50000 100000');
    assert.equal(f('cpu.weight'), String(sharesToWeight(512)));
    assert.equal(f('pids.max'), 'max');
    assert.equal(f('io.weight'), `default ${blkioToIoWeight(500)}`);
    assert.equal(f('cpuset.cpus'), '0-1');
    await writeCgroupLimits(dir, { memory: -1, memorySwap: -1, cpuQuota: -1 });
    assert.equal(f('memory.max'), 'max');
    assert.equal(f('memory.swap.max'), 'max');
    assert.equal(f('cpu.max'), 'max 100000');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('conversions match runc: shares→weight, blkio→io.weight', () => {
  assert.equal(sharesToWeight(1024), 39);
  assert.equal(sharesToWeight(2), 1);
  assert.equal(sharesToWeight(262144), 10000);
  assert.equal(blkioToIoWeight(10), 1);
  assert.equal(blkioToIoWeight(1000), 10000);
});

test('v1: stats from per-controller hierarchies; memsw raised before memory when growing', async () => {
  const P = '/berth/x';
  const root = tree({
    [`cpuacct${P}/cpuacct.usage`]: '3000\n',
    [`cpuacct${P}/cpuacct.usage_percpu`]: '1000 2000 \n',
    [`cpuacct${P}/cpuacct.stat`]: 'user 5\nsystem 2\n',
    [`cpu${P}/cpu.stat`]: 'nr_periods 3\nnr_throttled 1\nthrottled_time 999\n',
    [`memory${P}/memory.usage_in_bytes`]: '8192\n',
    [`memory${P}/memory.max_usage_in_bytes`]: '16384\n',
    [`memory${P}/memory.limit_in_bytes`]: '9223372036854771712\n',
    [`memory${P}/memory.memsw.limit_in_bytes`]: '9223372036854771712\n',
    [`memory${P}/memory.stat`]: 'cache 4096\ntotal_inactive_file 4096\n',
    [`blkio${P}/blkio.throttle.io_service_bytes_recursive`]: '254:0 Read 512\n254:0 Write 1024\n254:0 Total 1536\nTotal 1536\n',
    [`pids${P}/pids.current`]: '2\n',
    [`pids${P}/pids.max`]: 'max\n',
  });
  try {
    const layout = detectLayout(root);
    assert.equal(layout.version, 1);
    const dir = new CgroupDir(layout, P);
    const s = await readCgroupStats(dir);
    assert.deepEqual(s.cpu.percpu_usage, [1000, 2000]);
    assert.equal(s.cpu.usage_in_usermode, 5e7);
    assert.equal(s.memory.limit, undefined, 'the v1 "unlimited" value is no limit');
    assert.equal(workingSetBytes(s.memory), 4096);
    assert.deepEqual(s.pids, { current: 2, limit: undefined });
    assert.equal(s.blkio.io_service_bytes_recursive?.length, 3);
    await writeCgroupLimits(dir, { memory: 64 << 20, memorySwap: 128 << 20, pidsLimit: 10 });
    assert.equal(readFileSync(join(root, 'memory', P, 'memory.limit_in_bytes'), 'utf8'), String(64 << 20));
    assert.equal(readFileSync(join(root, 'memory', P, 'memory.memsw.limit_in_bytes'), 'utf8'), String(128 << 20));
    assert.equal(readFileSync(join(root, 'pids', P, 'pids.max'), 'utf8'), '10');
    assert.throws(() => new CgroupDir(layout, '/berth/../../etc'), /invalid cgroups path/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('cpu lists and /proc/net/dev parse', () => {
  assert.deepEqual([...parseCpuList('0-2,5')!], [0, 1, 2, 5]);
  assert.equal(parseCpuList('a'), undefined);
  assert.equal(parseCpuList('3-1'), undefined);
  const nd = parseNetDev('Inter-|   Receive\n face |bytes\n    lo: 1 1 0 0 0 0 0 0 1 1 0 0 0 0 0 0\n  eth0: 100 2 0 0 0 0 0 0 200 3 0 0 0 0 0 0\n');
  assert.deepEqual(Object.keys(nd), ['eth0']);
  assert.equal(nd.eth0!.rx_bytes, 100);
  assert.equal(nd.eth0!.tx_bytes, 200);
});
