/**
 * One sample of a container's cgroup counters, in the field names of docker's stats
 * JSON (the api passes them through: clients do their own arithmetic on raw counters).
 * v1 reads cpuacct/cpu/memory/pids/blkio; v2 reads the unified files documented in
 * the kernel's cgroup-v2.rst. Only reads: no process is spawned per sample.
 */
import type { CgroupDir } from './detect.js';
import { parseFlatKeyed, parseNestedKeyed, parseNumberList, readNumber, readText } from './read.js';

export interface BlkioEntry { major: number; minor: number; op: string; value: number }

export interface CgroupStats {
  cpu: {
    total_usage: number;
    /** v1 only (cpuacct.usage_percpu); v2 has no per-CPU accounting. */
    percpu_usage?: number[];
    usage_in_kernelmode: number;
    usage_in_usermode: number;
    throttling_data: { periods: number; throttled_periods: number; throttled_time: number };
  };
  memory: {
    usage?: number;
    max_usage?: number;
    failcnt?: number;
    /** undefined: unlimited (the caller substitutes the host's memory, as dockerd does). */
    limit?: number;
    stats: Record<string, number>;
  };
  pids: { current?: number; limit?: number };
  blkio: { io_service_bytes_recursive: BlkioEntry[] | null; io_serviced_recursive: BlkioEntry[] | null };
}

/** USER_HZ: cpuacct.stat counts ticks of 1/100 s on every Linux architecture docker supports. */
const NS_PER_TICK = 1e9 / 100;
/** v1 writes this (PAGE_COUNTER_MAX rounded to pages) for "no limit". */
const V1_UNLIMITED = 2 ** 62;

function parseV1Blkio(text: string | undefined): BlkioEntry[] | null {
  if (!text) return null;
  const out: BlkioEntry[] = [];
  for (const line of text.split('\n')) {
    const m = /^(\d+):(\d+) (\w+) (\d+)$/.exec(line.trim());
    if (m) out.push({ major: Number(m[1]), minor: Number(m[2]), op: m[3]!, value: Number(m[4]) });
  }
  return out;
}

async function readV1(dir: CgroupDir): Promise<CgroupStats> {
  const [usage, percpu, cpuacct, cpuStat, memUsage, memMax, memFail, memLimit, memStat, pidsCur, pidsMax, bytes, ios] = await Promise.all([
    readNumber(dir.file('cpuacct', 'cpuacct.usage')),
    readText(dir.file('cpuacct', 'cpuacct.usage_percpu')),
    readText(dir.file('cpuacct', 'cpuacct.stat')),
    readText(dir.file('cpu', 'cpu.stat')),
    readNumber(dir.file('memory', 'memory.usage_in_bytes')),
    readNumber(dir.file('memory', 'memory.max_usage_in_bytes')),
    readNumber(dir.file('memory', 'memory.failcnt')),
    readNumber(dir.file('memory', 'memory.limit_in_bytes')),
    readText(dir.file('memory', 'memory.stat')),
    readNumber(dir.file('pids', 'pids.current')),
    readNumber(dir.file('pids', 'pids.max')),
    readText(dir.file('blkio', 'blkio.throttle.io_service_bytes_recursive')),
    readText(dir.file('blkio', 'blkio.throttle.io_serviced_recursive')),
  ]);
  const ticks = parseFlatKeyed(cpuacct);
  const cs = parseFlatKeyed(cpuStat);
  return {
    cpu: {
      total_usage: usage ?? 0,
      percpu_usage: parseNumberList(percpu),
      usage_in_kernelmode: (ticks.system ?? 0) * NS_PER_TICK,
      usage_in_usermode: (ticks.user ?? 0) * NS_PER_TICK,
      throttling_data: { periods: cs.nr_periods ?? 0, throttled_periods: cs.nr_throttled ?? 0, throttled_time: cs.throttled_time ?? 0 },
    },
    memory: {
      usage: memUsage,
      max_usage: memMax,
      failcnt: memFail,
      limit: memLimit !== undefined && memLimit < V1_UNLIMITED ? memLimit : undefined,
      stats: parseFlatKeyed(memStat),
    },
    pids: { current: pidsCur, limit: pidsMax },
    blkio: { io_service_bytes_recursive: parseV1Blkio(bytes), io_serviced_recursive: parseV1Blkio(ios) },
  };
}

function parseV2Io(text: string | undefined): CgroupStats['blkio'] {
  if (text === undefined) return { io_service_bytes_recursive: null, io_serviced_recursive: null };
  const bytes: BlkioEntry[] = [];
  const ios: BlkioEntry[] = [];
  for (const { key, values } of parseNestedKeyed(text)) {
    const m = /^(\d+):(\d+)$/.exec(key);
    if (!m) continue;
    const major = Number(m[1]);
    const minor = Number(m[2]);
    // dockerd's v2 names are lower-case "read"/"write".
    bytes.push({ major, minor, op: 'read', value: values.rbytes ?? 0 }, { major, minor, op: 'write', value: values.wbytes ?? 0 });
    ios.push({ major, minor, op: 'read', value: values.rios ?? 0 }, { major, minor, op: 'write', value: values.wios ?? 0 });
  }
  return { io_service_bytes_recursive: bytes, io_serviced_recursive: ios };
}

async function readV2(dir: CgroupDir): Promise<CgroupStats> {
  const f = (name: string) => dir.file('memory', name);
  const [cpuStat, memCur, memPeak, memMax, memStat, memEvents, pidsCur, pidsMax, io] = await Promise.all([
    readText(f('cpu.stat')),
    readNumber(f('memory.current')),
    readNumber(f('memory.peak')),
    readNumber(f('memory.max')),
    readText(f('memory.stat')),
    readText(f('memory.events')),
    readNumber(f('pids.current')),
    readNumber(f('pids.max')),
    readText(f('io.stat')),
  ]);
  const cs = parseFlatKeyed(cpuStat);
  return {
    cpu: {
      total_usage: (cs.usage_usec ?? 0) * 1000,
      usage_in_kernelmode: (cs.system_usec ?? 0) * 1000,
      usage_in_usermode: (cs.user_usec ?? 0) * 1000,
      throttling_data: { periods: cs.nr_periods ?? 0, throttled_periods: cs.nr_throttled ?? 0, throttled_time: (cs.throttled_usec ?? 0) * 1000 },
    },
    memory: {
      usage: memCur,
      max_usage: memPeak,
      // v2 has no failcnt; memory.events "max" counts the times usage hit the limit.
      failcnt: memEvents === undefined ? undefined : parseFlatKeyed(memEvents).max,
      limit: memMax,
      stats: parseFlatKeyed(memStat),
    },
    pids: { current: pidsCur, limit: pidsMax },
    blkio: parseV2Io(io),
  };
}

/** Read one sample; throws nothing (fields of a vanished cgroup are zero/absent). */
export function readCgroupStats(dir: CgroupDir): Promise<CgroupStats> {
  return dir.version === 2 ? readV2(dir) : readV1(dir);
}

/** docker CLI's working set: usage without the inactive page cache (docker/cli#80). */
export function workingSetBytes(m: CgroupStats['memory']): number {
  const usage = m.usage ?? 0;
  const inactive = m.stats.total_inactive_file ?? m.stats.inactive_file;
  return inactive !== undefined && inactive < usage ? usage - inactive : usage;
}
