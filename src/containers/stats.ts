/**
 * docker's stats JSON for a container, sampled from its cgroup (v1 or v2) and its
 * network namespace. Raw counters are passed through; clients compute percentages
 * from cpu_stats against precpu_stats. Only file reads: nothing is spawned per sample.
 */
import { readFile } from 'node:fs/promises';
import { CgroupDir, containerCgroupsPath, hostCgroupInfo, readCgroupStats, readNetDev, type CgroupStats, type NetDevCounters } from '../cgroups/index.js';
import type { ContainerRecord } from './types.js';
import { ZERO_TIME, nowRFC3339Nano } from './rules.js';

export interface CpuStatsJSON {
  cpu_usage: { total_usage: number; percpu_usage?: number[]; usage_in_kernelmode: number; usage_in_usermode: number };
  system_cpu_usage?: number;
  online_cpus?: number;
  throttling_data: { periods: number; throttled_periods: number; throttled_time: number };
}

export interface StatsJSON {
  name: string;
  id: string;
  read: string;
  preread: string;
  pids_stats: { current?: number; limit?: number };
  blkio_stats: {
    io_service_bytes_recursive: CgroupStats['blkio']['io_service_bytes_recursive'];
    io_serviced_recursive: CgroupStats['blkio']['io_serviced_recursive'];
    io_queue_recursive: null; io_service_time_recursive: null; io_wait_time_recursive: null;
    io_merged_recursive: null; io_time_recursive: null; sectors_recursive: null;
  };
  num_procs: number;
  storage_stats: Record<string, never>;
  cpu_stats: CpuStatsJSON;
  precpu_stats: CpuStatsJSON;
  memory_stats: { usage?: number; max_usage?: number; stats?: Record<string, number>; failcnt?: number; limit?: number };
  networks?: Record<string, NetDevCounters>;
}

const NS_PER_TICK = 1e9 / 100;

/** /proc/stat's aggregate cpu line in ns (dockerd sums user..softirq) and the online CPU count. */
export async function readSystemCpu(): Promise<{ systemUsage: number; onlineCpus: number }> {
  const text = await readFile('/proc/stat', 'utf8');
  const lines = text.split('\n');
  const fields = lines[0]!.trim().split(/\s+/).slice(1, 8).map(Number);
  const onlineCpus = lines.filter((l) => /^cpu\d+ /.test(l)).length;
  return { systemUsage: fields.reduce((a, b) => a + b, 0) * NS_PER_TICK, onlineCpus };
}

function emptyCpu(): CpuStatsJSON {
  return { cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 }, throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 } };
}

function emptyBlkio(): StatsJSON['blkio_stats'] {
  return {
    io_service_bytes_recursive: null, io_serviced_recursive: null, io_queue_recursive: null, io_service_time_recursive: null,
    io_wait_time_recursive: null, io_merged_recursive: null, io_time_recursive: null, sectors_recursive: null,
  };
}

/** What a stopped container reports (dockerd's zero stats). */
export function zeroStats(c: ContainerRecord): StatsJSON {
  return {
    name: '/' + c.Name, id: c.Id, read: ZERO_TIME, preread: ZERO_TIME, pids_stats: {}, blkio_stats: emptyBlkio(),
    num_procs: 0, storage_stats: {}, cpu_stats: emptyCpu(), precpu_stats: emptyCpu(), memory_stats: {},
  };
}

/** One sample; `prev` supplies precpu_stats and preread (empty on the first). */
export async function sampleStats(c: ContainerRecord, prev?: StatsJSON): Promise<StatsJSON> {
  if (!c.State.Running) return zeroStats(c);
  const host = hostCgroupInfo();
  const dir = new CgroupDir(host.layout, containerCgroupsPath(c.Id, c.HostConfig.CgroupParent));
  const [cg, sys, nets] = await Promise.all([readCgroupStats(dir), readSystemCpu(), readNetDev(c.State.Pid)]);
  const out: StatsJSON = {
    name: '/' + c.Name,
    id: c.Id,
    read: nowRFC3339Nano(),
    preread: prev?.read ?? ZERO_TIME,
    pids_stats: cg.pids,
    blkio_stats: { ...emptyBlkio(), ...cg.blkio },
    num_procs: 0,
    storage_stats: {},
    cpu_stats: {
      cpu_usage: {
        total_usage: cg.cpu.total_usage,
        ...(cg.cpu.percpu_usage ? { percpu_usage: cg.cpu.percpu_usage } : {}),
        usage_in_kernelmode: cg.cpu.usage_in_kernelmode,
        usage_in_usermode: cg.cpu.usage_in_usermode,
      },
      system_cpu_usage: sys.systemUsage,
      online_cpus: sys.onlineCpus,
      throttling_data: cg.cpu.throttling_data,
    },
    precpu_stats: prev?.cpu_stats ?? emptyCpu(),
    memory_stats: {
      usage: cg.memory.usage,
      ...(cg.memory.max_usage !== undefined ? { max_usage: cg.memory.max_usage } : {}),
      stats: cg.memory.stats,
      ...(cg.memory.failcnt !== undefined ? { failcnt: cg.memory.failcnt } : {}),
      // No limit of its own: dockerd reports the machine's memory.
      limit: Math.min(cg.memory.limit ?? host.memoryTotal, host.memoryTotal),
    },
  };
  if (nets && Object.keys(nets).length) out.networks = nets;
  return out;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

export interface StatsOptions {
  /** One sample a second until the client leaves or the container stops. */
  stream: boolean;
  /** With stream=false: answer at once, precpu_stats empty (no second sample). */
  oneShot?: boolean;
}

/**
 * The samples a stats request answers with. `get` re-reads the record each time so
 * a container that stops mid-stream ends the stream (dockerd closes it too).
 */
export async function* statsSamples(get: () => ContainerRecord | undefined, opts: StatsOptions, signal?: AbortSignal): AsyncGenerator<StatsJSON> {
  let c = get();
  if (!c) return;
  let prev: StatsJSON | undefined;
  if (!opts.stream) {
    prev = await sampleStats(c);
    if (opts.oneShot || !c.State.Running) {
      yield prev;
      return;
    }
    // Like dockerd: a second sample a second later, so precpu_stats is meaningful.
    await sleep(1000, signal);
    c = get() ?? c;
    yield await sampleStats(c, prev);
    return;
  }
  while (!signal?.aborted) {
    c = get();
    if (!c) return;
    const s = await sampleStats(c, prev);
    yield s;
    // A stopped container keeps its stream (zero samples) as with dockerd: `stats -a` shows it.
    prev = c.State.Running ? s : undefined;
    await sleep(1000, signal);
  }
}
