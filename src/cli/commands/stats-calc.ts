/**
 * docker CLI's arithmetic on a stats sample (docker/cli's stats_helpers): CPU % from
 * the delta against precpu_stats, memory without the inactive page cache, and block
 * and network totals. Pure, so it is unit-tested.
 */
import { humanSize } from '../format/human.js';

/** The parts of docker's stats JSON the CLI reads. */
export interface StatsSample {
  name?: string;
  id?: string;
  read?: string;
  pids_stats?: { current?: number };
  blkio_stats?: { io_service_bytes_recursive?: Array<{ op: string; value: number }> | null };
  cpu_stats?: { cpu_usage?: { total_usage?: number; percpu_usage?: number[] }; system_cpu_usage?: number; online_cpus?: number };
  precpu_stats?: { cpu_usage?: { total_usage?: number }; system_cpu_usage?: number };
  memory_stats?: { usage?: number; limit?: number; stats?: Record<string, number> };
  networks?: Record<string, { rx_bytes: number; tx_bytes: number }>;
}

export interface StatsEntry {
  cpuPercent: number; memory: number; memoryLimit: number; memoryPercent: number;
  netRx: number; netTx: number; blockRead: number; blockWrite: number; pids: number;
}

export function memoryUsage(m: StatsSample['memory_stats']): number {
  const usage = m?.usage ?? 0;
  const s = m?.stats ?? {};
  // cgroup v1 reports total_inactive_file, v2 inactive_file (docker/cli#80 and #2464).
  const inactive = s.total_inactive_file !== undefined ? s.total_inactive_file : s.inactive_file;
  return inactive !== undefined && inactive < usage ? usage - inactive : usage;
}

export function calculate(s: StatsSample): StatsEntry {
  const cpu = s.cpu_stats ?? {};
  const pre = s.precpu_stats ?? {};
  const cpuDelta = (cpu.cpu_usage?.total_usage ?? 0) - (pre.cpu_usage?.total_usage ?? 0);
  const sysDelta = (cpu.system_cpu_usage ?? 0) - (pre.system_cpu_usage ?? 0);
  const online = cpu.online_cpus || cpu.cpu_usage?.percpu_usage?.length || 0;
  const cpuPercent = sysDelta > 0 && cpuDelta > 0 ? (cpuDelta / sysDelta) * online * 100 : 0;
  const memory = memoryUsage(s.memory_stats);
  const memoryLimit = s.memory_stats?.limit ?? 0;
  let blockRead = 0, blockWrite = 0;
  for (const e of s.blkio_stats?.io_service_bytes_recursive ?? []) {
    const op = e.op.toLowerCase();
    if (op === 'read') blockRead += e.value;
    else if (op === 'write') blockWrite += e.value;
  }
  let netRx = 0, netTx = 0;
  for (const n of Object.values(s.networks ?? {})) { netRx += n.rx_bytes; netTx += n.tx_bytes; }
  return {
    cpuPercent, memory, memoryLimit, memoryPercent: memoryLimit ? (memory / memoryLimit) * 100 : 0,
    netRx, netTx, blockRead, blockWrite, pids: s.pids_stats?.current ?? 0,
  };
}

const BINARY = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB', 'ZiB', 'YiB'];

/** go-units BytesSize: binary units, 4 significant digits ("1.5MiB", "15.62GiB"). */
export function bytesSize(bytes: number): string {
  let size = bytes, i = 0;
  while (size >= 1024 && i < BINARY.length - 1) { size /= 1024; i++; }
  return String(Number(size.toPrecision(4))) + BINARY[i];
}

/** One row of docker's stats table; every field a string so {{json .}} matches docker. */
export function statsRow(container: string, s: StatsSample, noTrunc = false): Record<string, string> {
  const e = calculate(s);
  const id = s.id ?? container;
  return {
    BlockIO: `${humanSize(e.blockRead)} / ${humanSize(e.blockWrite)}`,
    CPUPerc: `${e.cpuPercent.toFixed(2)}%`,
    Container: container,
    ID: noTrunc ? id : id.slice(0, 12),
    MemPerc: `${e.memoryPercent.toFixed(2)}%`,
    MemUsage: `${bytesSize(e.memory)} / ${bytesSize(e.memoryLimit)}`,
    Name: (s.name ?? '').replace(/^\//, '') || '--',
    NetIO: `${humanSize(e.netRx)} / ${humanSize(e.netTx)}`,
    PIDs: String(e.pids),
  };
}
