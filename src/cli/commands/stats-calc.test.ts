import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bytesSize, calculate, statsRow } from './stats-calc.js';

test('docker CLI arithmetic: CPU % from deltas, memory without inactive file cache', () => {
  const s = {
    id: 'a'.repeat(64), name: '/web',
    cpu_stats: { cpu_usage: { total_usage: 2e9 }, system_cpu_usage: 10e9, online_cpus: 2 },
    precpu_stats: { cpu_usage: { total_usage: 1e9 }, system_cpu_usage: 6e9 },
    memory_stats: { usage: 100 << 20, limit: 1 << 30, stats: { total_inactive_file: 36 << 20 } },
    blkio_stats: { io_service_bytes_recursive: [{ op: 'Read', value: 1000 }, { op: 'Write', value: 2000 }, { op: 'Total', value: 3000 }] },
    networks: { eth0: { rx_bytes: 1500, tx_bytes: 500 } },
    pids_stats: { current: 4 },
  };
  const e = calculate(s);
  assert.equal(e.cpuPercent, 50);
  assert.equal(e.memory, 64 << 20);
  const row = statsRow('web', s);
  assert.deepEqual(row, {
    BlockIO: '1kB / 2kB', CPUPerc: '50.00%', Container: 'web', ID: 'a'.repeat(12), MemPerc: '6.25%',
    MemUsage: '64MiB / 1GiB', Name: 'web', NetIO: '1.5kB / 500B', PIDs: '4',
  });
  assert.equal(calculate({ memory_stats: { usage: 10, stats: { inactive_file: 4 } } }).memory, 6, 'v2 uses inactive_file');
  assert.equal(bytesSize(1536), '1.5KiB');
  assert.equal(bytesSize(16_000_000_000), '14.9GiB');
});
