#!/usr/bin/env node
/**
 * Where berth's start time goes. Runs `docker run --rm --network none busybox true`
 * (and the same with berth's CLI) against a private berthd preloaded with
 * profile/trace-hook.mjs, then lines up, on the shared monotonic clock, the CLI's
 * spawn and exit with berthd's API requests and the runc/conmon processes it ran.
 *
 *   node bench/profile.mjs [--iterations 15] [--warmup 2] [--cpu-prof DIR]
 *
 * Prints the timeline of the median run of each CLI and the median of each
 * phase across runs. --cpu-prof writes berthd's V8 CPU profile into DIR.
 */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main, parseFlags, now } from './lib/proc.mjs';
import { busyboxTar, startBerthd, tempDir } from './lib/engines.mjs';
import { percentile } from './lib/stats.mjs';

const HOOK = resolve(fileURLToPath(import.meta.url), '../profile/trace-hook.mjs');
const RUN_ARGS = ['run', '--rm', '--network', 'none', 'busybox', 'true'];

await main(async () => {
  const flags = parseFlags(process.argv.slice(2), { iterations: 15, warmup: 2, 'cpu-prof': '' });
  const tar = await busyboxTar();
  const traceFile = join(await tempDir('bt-trace-'), 'trace.jsonl');
  const prof = flags['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-dir', resolve(flags['cpu-prof'])] : [];
  const b = await startBerthd({ tar, nodeArgs: ['--import', HOOK, ...prof], env: { BERTH_TRACE: traceFile } });
  const clis = { docker: (a) => b.docker(a), berth: (a) => b.berth(a) };
  const runs = [];
  for (let i = 0; i < flags.warmup + flags.iterations; i++) {
    for (const [cli, fn] of Object.entries(clis)) {
      const t0 = now();
      const r = await fn(RUN_ARGS);
      const t1 = now();
      if (r.code !== 0) throw new Error(`${cli} run failed: ${r.stderr}`);
      if (i >= flags.warmup) runs.push({ cli, t0, t1 });
    }
  }
  const events = (await readFile(traceFile, 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l));
  for (const cli of Object.keys(clis)) report(cli, runs.filter((r) => r.cli === cli), events);
});

/** Per-run phases from the events that fall inside the CLI's lifetime. */
function phases(run, events) {
  const ev = events.filter((e) => e.t >= run.t0 && e.t <= run.t1);
  const reqs = ev.filter((e) => e.ev === 'req');
  const spawns = new Map();
  const procs = [];
  for (const e of ev) {
    if (e.ev === 'spawn') spawns.set(e.id, e);
    if (e.ev === 'exit' && spawns.has(e.id)) procs.push({ name: `${e.cmd} ${e.verb}`.trim(), start: spawns.get(e.id).t, ms: e.t - spawns.get(e.id).t, spawnMs: spawns.get(e.id).spawnMs });
  }
  const lastRes = ev.filter((e) => e.ev === 'res').at(-1);
  const out = {
    total: run.t1 - run.t0,
    'CLI start -> first request': reqs.length ? reqs[0].t - run.t0 : NaN,
    'last response -> CLI exit': lastRes ? run.t1 - lastRes.t : NaN,
    'spawn() calls blocking berthd (sum)': procs.reduce((a, p) => a + p.spawnMs, 0),
  };
  for (const p of procs) out[`child: ${p.name}`] = (out[`child: ${p.name}`] ?? 0) + p.ms;
  // Each of berthd's phase marks: ms since the event before it (request, answer or mark).
  let prev;
  for (const e of ev) {
    if (e.ev === 'phase' && prev) out[`. ${e.phase} (since the event before)`] = e.t - prev.t;
    if (e.ev === 'phase' || e.ev === 'req' || e.ev === 'res') prev = e;
  }
  const pairs = new Map();
  for (const e of ev) {
    const key = `${e.id}`;
    if (e.ev === 'req') pairs.set(key, { url: e.url.replace(/[0-9a-f]{64}/g, '<id>').replace(/^\/v[0-9.]+/, ''), t: e.t });
    if (e.ev === 'res' && pairs.has(key)) pairs.get(key).ms = e.t - pairs.get(key).t;
  }
  return { out, timeline: [...ev], pairs: [...pairs.values()], procs, run };
}

function report(cli, runs, events) {
  const all = runs.map((r) => phases(r, events));
  const keys = [...new Set(all.flatMap((p) => Object.keys(p.out)))];
  const lines = [`\n## ${cli} run --rm --network none busybox true: median of ${runs.length} runs (ms)`, '', '| phase | median | p90 |', '| --- | --- | --- |'];
  for (const k of keys) {
    const v = all.map((p) => p.out[k]).filter(Number.isFinite);
    lines.push(`| ${k} | ${percentile(v, 50).toFixed(1)} | ${percentile(v, 90).toFixed(1)} |`);
  }
  // The median run, event by event, offsets from the CLI's spawn.
  const med = [...all].sort((a, b) => a.out.total - b.out.total)[Math.floor(all.length / 2)];
  lines.push('', `timeline of the median run (${med.out.total.toFixed(1)} ms), offsets from the CLI's spawn:`, '```');
  for (const e of med.timeline) {
    const at = (e.t - med.run.t0).toFixed(1).padStart(6);
    if (e.ev === 'req') lines.push(`${at}  -> ${e.method} ${e.url.replace(/[0-9a-f]{64}/g, '<id>')}`);
    if (e.ev === 'res') lines.push(`${at}  <- ${e.status} ${e.url.replace(/[0-9a-f]{64}/g, '<id>')}`);
    if (e.ev === 'spawn') lines.push(`${at}     spawn ${e.cmd} ${e.verb} (spawn() took ${e.spawnMs.toFixed(1)} ms)`);
    if (e.ev === 'exit') lines.push(`${at}     exit  ${e.cmd} ${e.verb} code ${e.code}`);
    if (e.ev === 'phase') lines.push(`${at}       . ${e.phase}`);
  }
  lines.push(`${(med.run.t1 - med.run.t0).toFixed(1).padStart(6)}  CLI exited`, '```');
  process.stdout.write(lines.join('\n') + '\n');
}
