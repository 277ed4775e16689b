#!/usr/bin/env node
/**
 * `exec true` latency in a running container, interleaved round-robin in one run.
 *
 *   node bench/exec.mjs [--iterations 30] [--warmup 3] [--only a,b,...] [--json out.json] [--alt-dist DIR]
 *
 * Variants (keys for --only):
 *   docker   docker CLI -> berthd: docker exec <c> true
 *   berth    berth CLI  -> berthd: berth exec <c> true
 *   runc     runc --root <berthd exec-root>/runc exec <c> true, on the same container (the floor)
 *   dockerd  docker CLI -> Debian dockerd (private, firewall and bridge off)
 *   podman   podman exec <c> true (if installed)
 */
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { table, ratios, summarize } from './lib/stats.mjs';
import { main, parseFlags, must } from './lib/proc.mjs';
import { busyboxTar, startBerthd, startDockerd, startPodman, haveDockerd, havePodman } from './lib/engines.mjs';
import { machineFacts } from './lib/machine.mjs';
import { roundRobin, PODMAN_ULIMITS } from './lib/round-robin.mjs';

const ALL = ['docker', 'berth', 'runc', 'dockerd', 'podman'];
const LONG_RUNNING = ['run', '-d', '--network', 'none', 'busybox', 'sleep', '100000'];

const ok = (r) => {
  if (r.code !== 0) throw new Error(`exit ${r.code}: ${r.stderr.trim().split('\n').slice(-2).join('; ')}`);
  return r.ms;
};
const idOf = (r) => {
  if (r.code !== 0) throw new Error(`cannot start the target container: ${r.stderr.trim()}`);
  return r.stdout.trim().split('\n').pop();
};

await main(async () => {
  const flags = parseFlags(process.argv.slice(2), { iterations: 30, warmup: 3, only: ALL.join(','), json: '', 'alt-dist': '' });
  const want = new Set(flags.only.split(',').map((s) => s.trim()).filter(Boolean));
  for (const k of want) if (!ALL.includes(k)) throw new Error(`--only: unknown variant ${k}; known: ${ALL.join(', ')}`);
  const tar = await busyboxTar();
  const variants = [];

  if (want.has('docker') || want.has('berth') || want.has('runc')) {
    const b = await startBerthd({ tar });
    const id = idOf(await b.docker(LONG_RUNNING));
    const runcRoot = join(b.execRoot, 'runc');
    if (want.has('docker')) variants.push({ key: 'docker', label: 'docker exec -> berthd', once: async () => ok(await b.docker(['exec', id, 'true'])) });
    if (want.has('berth')) variants.push({ key: 'berth', label: 'berth exec -> berthd', once: async () => ok(await b.berth(['exec', id, 'true'])) });
    if (want.has('runc')) {
      // Same container, runc driven directly: what exec costs with no engine in between.
      await must('runc', ['--root', runcRoot, 'state', id]);
      variants.push({ key: 'runc', label: 'runc exec (berthd\'s container)', once: async () => ok(await must('runc', ['--root', runcRoot, 'exec', id, 'true'])) });
    }
  }
  if (flags['alt-dist']) {
    // A/B: the same docker exec against a berthd built elsewhere (a patched copy of dist/).
    const alt = await startBerthd({ tar, dist: resolve(flags['alt-dist']) });
    const id = idOf(await alt.docker(LONG_RUNNING));
    variants.push({ key: 'docker-alt', label: `(b') docker exec -> berthd from ${flags['alt-dist']}`, once: async () => ok(await alt.docker(['exec', id, 'true'])) });
  }
  if (want.has('dockerd')) {
    if (haveDockerd()) {
      const d = await startDockerd({ tar });
      const id = idOf(await d.docker(LONG_RUNNING));
      variants.push({ key: 'dockerd', label: 'docker exec -> dockerd 20.10', once: async () => ok(await d.docker(['exec', id, 'true'])) });
    } else process.stderr.write('dockerd not installed: skipping\n');
  }
  if (want.has('podman')) {
    if (havePodman()) {
      const p = await startPodman({ tar });
      const id = idOf(await p.podman(['run', '-d', '--network', 'none', ...PODMAN_ULIMITS, 'busybox', 'sleep', '100000']));
      variants.push({ key: 'podman', label: 'podman exec', once: async () => ok(await p.podman(['exec', id, 'true'])) });
    } else process.stderr.write('podman not installed: skipping\n');
  }

  const results = await roundRobin(variants, flags);
  const rows = variants.map((v) => ({ key: v.key, label: v.label, ...results.get(v.key) }));
  const facts = await machineFacts();
  process.stdout.write([
    `exec latency (exec true in a running busybox), ${flags.iterations} interleaved iterations after ${flags.warmup} warm-up rounds`,
    facts.line, '',
    table(rows), '',
    ratios(rows, [
      { num: 'docker', den: 'runc' },
      { num: 'berth', den: 'runc' },
      { num: 'docker', den: 'dockerd' },
      { num: 'podman', den: 'runc' },
      { num: 'docker-alt', den: 'docker' },
    ]),
  ].join('\n') + '\n');
  if (flags.json) await writeFile(flags.json, JSON.stringify({ bench: 'exec', flags, facts, rows: rows.map((r) => ({ ...r, ...summarize(r.times) })) }, null, 1));
});
