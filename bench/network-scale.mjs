#!/usr/bin/env node
/**
 * Networking on the start path and at scale, against a private berthd.
 * 1. Start budget: `berth run --rm busybox true` on the default bridge vs `--network
 *    none` (and a user network), interleaved round-robin; the budget is bridge − none
 *    ≤ 15 ms (median).
 * 2. Scale: N containers on one user network started with `docker run -d` (concurrency
 *    C), then every container resolves K others by name through 127.0.0.11 (one exec
 *    each, C at a time): total start time, total resolve time, per-exec p50/p99, next
 *    to the same execs running `true` (the exec floor).
 *
 *   node bench/network-scale.mjs [--iterations 20] [--warmup 3] [--count 100] [--concurrency 8] [--lookups 3] [--skip-start]
 */
import { percentile, table } from './lib/stats.mjs';
import { main, parseFlags, now } from './lib/proc.mjs';
import { busyboxTar, startBerthd } from './lib/engines.mjs';
import { roundRobin } from './lib/round-robin.mjs';
import { machineFacts } from './lib/machine.mjs';

const flags = parseFlags(process.argv.slice(2), { iterations: 20, warmup: 3, count: 100, concurrency: 8, lookups: 3, 'skip-start': false });

async function pool(jobs, width) {
  const out = new Array(jobs.length);
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < jobs.length) {
      const i = next++;
      out[i] = await jobs[i]();
    }
  }));
  return out;
}

async function timed(fn) {
  const t = now();
  const r = await fn();
  if (r.code !== 0) throw new Error(`exit ${r.code}: ${r.stderr.slice(0, 300)}`);
  return now() - t;
}

main(async () => {
  process.stderr.write(`${JSON.stringify(await machineFacts())}\n`);
  const b = await startBerthd({ tar: await busyboxTar() });
  const ok = async (args) => {
    const r = await b.docker(args, { timeoutMs: 120_000 });
    if (r.code !== 0) throw new Error(`docker ${args.join(' ')}: ${r.stderr.slice(0, 300)}`);
    return r.stdout;
  };
  const net = `scale-${process.pid}`;
  await ok(['network', 'create', net]);

  if (!flags['skip-start']) {
    const variant = (key, extra) => ({ key, once: () => timed(() => b.berth(['run', '--rm', ...extra, 'busybox', 'true'])) });
    const res = await roundRobin([variant('none', ['--network', 'none']), variant('bridge', []), variant('user-net', ['--network', net])], flags);
    const rows = [...res].map(([k, v]) => ({ label: `berth run --rm (${k})`, times: v.times, errors: v.errors }));
    console.log(`\n## start path (${flags.iterations} interleaved rounds, ms)\n`);
    console.log(table(rows));
    const med = (k) => percentile(res.get(k).times, 50);
    console.log(`\nbridge − none: ${(med('bridge') - med('none')).toFixed(1)} ms (budget 15 ms); user-net − none: ${(med('user-net') - med('none')).toFixed(1)} ms`);
  }

  const N = flags.count;
  const names = Array.from({ length: N }, (_, i) => `n${i}`);
  let t = now();
  await pool(names.map((n) => () => ok(['run', '-d', '--name', n, '--network', net, 'busybox', 'sleep', '3600'])), flags.concurrency);
  const startMs = now() - t;
  // Each container asks for K others (spread over the whole set) through 127.0.0.11.
  const targets = (i) => Array.from({ length: flags.lookups }, (_, k) => names[(i + 1 + Math.floor((k * N) / flags.lookups)) % N]);
  const floor = await pool(names.map((n) => () => timed(() => b.docker(['exec', n, 'true']))), flags.concurrency);
  t = now();
  const failures = [];
  const lookups = await pool(names.map((n, i) => () => timed(async () => {
    const r = await b.docker(['exec', n, 'sh', '-c', targets(i).map((x) => `nslookup ${x} >/dev/null || echo FAIL ${x}`).join('; ')]);
    if (r.stdout.includes('FAIL')) failures.push(`${n}: ${r.stdout.trim()}`);
    return r;
  })), flags.concurrency);
  const resolveMs = now() - t;
  console.log(`\n## ${N} containers on one user network (concurrency ${flags.concurrency})\n`);
  const rows = [
    [`start ${N} (docker run -d)`, `${startMs.toFixed(0)} ms total, ${(startMs / N).toFixed(1)} ms each`],
    [`${N} × ${flags.lookups} lookups by name (nslookup via 127.0.0.11)`, `${resolveMs.toFixed(0)} ms total, ${(resolveMs / N).toFixed(1)} ms per container`],
    ['exec with the lookups, p50 / p99', `${percentile(lookups, 50).toFixed(1)} / ${percentile(lookups, 99).toFixed(1)} ms`],
    ['exec true (the floor), p50 / p99', `${percentile(floor, 50).toFixed(1)} / ${percentile(floor, 99).toFixed(1)} ms`],
    ['failed lookups', String(failures.length)],
  ];
  console.log(['| measure | value |', '|---|---|', ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n'));
  if (failures.length) console.log(failures.slice(0, 5).join('\n'));
  await ok(['rm', '-f', ...names]);
  await ok(['network', 'rm', net]);
});
