#!/usr/bin/env node
/**
 * Container start latency, berth against its floor and its anchors, interleaved
 * round-robin in one run so drift (page cache, CPU frequency, other load) hits
 * every variant alike. Each sample is the wall time of one `run --rm ... true`
 * (or its runtime-level equivalent), from spawn to exit and clean-up.
 *
 *   node bench/start.mjs [--iterations 30] [--warmup 3] [--only a,b,...] [--json out.json] [--alt-dist DIR]
 *
 * --alt-dist DIR adds (b'): docker CLI -> a second berthd run from DIR (a patched
 * copy of dist/), interleaved with (b), to measure a proposed change; with `berth` in
 * --only also (c'): that build's own CLI (DIR/berth-launch.cjs) -> that berthd.
 *
 * Variants (keys for --only):
 *   conmon   floor: conmon runs `runc create`, pid from the sync pipe, `runc start`, exit file, `runc delete`
 *   conmon-spec  the floor with the config.json berthd writes for busybox (seccomp etc.)
 *   runc     reference: `runc run` of the same bundle
 *   docker   docker CLI -> berthd: docker run --rm --network none busybox true
 *   berth    berth CLI  -> berthd: bin/berth run --rm --network none busybox true (bin/berth drops NODE_EXTRA_CA_CERTS)
 *   berth-nocerts  the same with NODE_EXTRA_CA_CERTS also absent from the caller's environment
 *   dockerd  docker CLI -> Debian dockerd (private, firewall and bridge off)
 *   podman   podman run --rm --network none --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 busybox true
 *            (if installed; see PODMAN_ULIMITS)
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { table, ratios, summarize } from './lib/stats.mjs';
import { main, parseFlags, onCleanup } from './lib/proc.mjs';
import { busyboxTar, tempDir, startBerthd, startDockerd, startPodman, haveDockerd, havePodman, engineSpec } from './lib/engines.mjs';
import { prepareFloor, conmonRun, runcRun, floorCleanup, withEngineSpec } from './lib/floor.mjs';
import { machineFacts } from './lib/machine.mjs';
import { roundRobin, PODMAN_ULIMITS } from './lib/round-robin.mjs';

const ALL = ['conmon', 'conmon-spec', 'runc', 'docker', 'berth', 'berth-nocerts', 'dockerd', 'podman'];
const RUN_ARGS = ['run', '--rm', '--network', 'none', 'busybox', 'true'];
const PODMAN_RUN_ARGS = ['run', '--rm', '--network', 'none', ...PODMAN_ULIMITS, 'busybox', 'true'];

await main(async () => {
  const flags = parseFlags(process.argv.slice(2), { iterations: 30, warmup: 3, only: ALL.join(','), json: '', 'alt-dist': '' });
  const want = new Set(flags.only.split(',').map((s) => s.trim()).filter(Boolean));
  for (const k of want) if (!ALL.includes(k)) throw new Error(`--only: unknown variant ${k}; known: ${ALL.join(', ')}`);
  const tar = await busyboxTar();
  const variants = [];

  let f;
  if (want.has('conmon') || want.has('runc') || want.has('conmon-spec')) {
    f = await prepareFloor(await tempDir('bf-'), tar);
    onCleanup(() => floorCleanup(f));
    if (want.has('conmon')) variants.push({ key: 'conmon', label: '(a) conmon + runc (floor)', once: () => conmonRun(f) });
    if (want.has('runc')) variants.push({ key: 'runc', label: '(a\') runc run', once: () => runcRun(f) });
  }
  if (want.has('docker') || want.has('berth') || want.has('berth-nocerts') || want.has('conmon-spec')) {
    const b = await startBerthd({ tar });
    if (want.has('conmon-spec')) {
      const g = await withEngineSpec(f, await engineSpec(b));
      variants.push({ key: 'conmon-spec', label: '(a\'\') conmon + runc, berthd\'s spec', once: () => conmonRun(g) });
    }
    if (want.has('docker')) variants.push({ key: 'docker', label: '(b) docker CLI -> berthd', once: cliOnce(() => b.docker(RUN_ARGS)) });
    if (want.has('berth')) variants.push({ key: 'berth', label: '(c) berth CLI (bin/berth) -> berthd', once: cliOnce(() => b.berth(RUN_ARGS)) });
    // The same without NODE_EXTRA_CA_CERTS: Node 20 parses that bundle at every start (the CLI has no TLS).
    if (want.has('berth-nocerts')) variants.push({ key: 'berth-nocerts', label: '(c\') berth CLI, NODE_EXTRA_CA_CERTS unset', once: cliOnce(() => b.berth(RUN_ARGS, { env: withoutCaCerts(b) })) });
  }
  if (flags['alt-dist']) {
    // A/B: the same docker run against a berthd built elsewhere (a patched copy of dist/).
    const alt = await startBerthd({ tar, dist: resolve(flags['alt-dist']) });
    variants.push({ key: 'docker-alt', label: `(b') docker CLI -> berthd from ${flags['alt-dist']}`, once: cliOnce(() => alt.docker(RUN_ARGS)) });
    if (want.has('berth')) variants.push({ key: 'berth-alt', label: `(c') berth CLI from ${flags['alt-dist']} -> its berthd`, once: cliOnce(() => alt.berthOfDist(RUN_ARGS)) });
  }
  if (want.has('dockerd')) {
    if (haveDockerd()) {
      const d = await startDockerd({ tar });
      variants.push({ key: 'dockerd', label: '(d) docker CLI -> dockerd 20.10', once: cliOnce(() => d.docker(RUN_ARGS)) });
    } else process.stderr.write('dockerd not installed: skipping (d)\n');
  }
  if (want.has('podman')) {
    if (havePodman()) {
      const p = await startPodman({ tar });
      variants.push({ key: 'podman', label: '(e) podman run', once: cliOnce(() => p.podman(PODMAN_RUN_ARGS)) });
    } else process.stderr.write('podman not installed: skipping (e)\n');
  }

  const results = await roundRobin(variants, flags);
  const rows = variants.map((v) => ({ key: v.key, label: v.label, times: results.get(v.key).times, errors: results.get(v.key).errors }));
  const facts = await machineFacts();
  const report = [
    `start latency, ${flags.iterations} interleaved iterations after ${flags.warmup} warm-up rounds`,
    facts.line, '',
    table(rows), '',
    ratios(rows, [
      { num: 'docker', den: 'conmon', target: 1.6 },
      { num: 'berth', den: 'conmon', target: 2.2 },
      { num: 'docker', den: 'dockerd', target: 0.5 },
      { num: 'docker', den: 'conmon-spec' },
      { num: 'docker-alt', den: 'docker' },
      { num: 'berth-alt', den: 'berth' },
      { num: 'berth-nocerts', den: 'conmon' },
      { num: 'podman', den: 'conmon' },
      { num: 'runc', den: 'conmon' },
    ]),
  ].join('\n');
  process.stdout.write(report + '\n');
  if (flags.json) await writeFile(flags.json, JSON.stringify({ bench: 'start', flags, facts, rows: rows.map((r) => ({ ...r, ...summarize(r.times) })) }, null, 1));
});

/** A CLI sample: wall time of the process; a non-zero exit is an error, not a time. */
function cliOnce(fn) {
  return async () => {
    const r = await fn();
    if (r.code !== 0) throw new Error(`exit ${r.code}: ${r.stderr.trim().split('\n').slice(-2).join('; ')}`);
    return r.ms;
  };
}


function withoutCaCerts(b) {
  const env = { ...process.env, BERTH_HOST: `unix://${b.socket}` };
  delete env.NODE_EXTRA_CA_CERTS;
  return env;
}
