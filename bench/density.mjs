#!/usr/bin/env node
/**
 * Density: how berthd copes with many running containers. For each network mode and
 * concurrency, N `busybox sleep 600` containers are created and started through the
 * API (what `docker run -d` sends), then, with all N running: the memory they cost
 * (conmon RSS/PSS, berthd's growth), `docker ps` / `docker stats --no-stream` latency;
 * then all are removed and the host is checked for leftovers (mounts, cgroups, conmon
 * processes, bundles, netns, veths).
 *
 *   node bench/density.mjs [--count 100] [--concurrency 1,8] [--networks none,bridge] [--json out.json]
 */
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { summarize, percentile } from './lib/stats.mjs';
import { main, parseFlags, now, run } from './lib/proc.mjs';
import { busyboxTar, startBerthd } from './lib/engines.mjs';
import { machineFacts } from './lib/machine.mjs';

function api(socket, method, path, body) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = request({ socketPath: socket, method, path, headers: data ? { 'Content-Type': 'application/json', 'Content-Length': data.length } : {} }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(120_000, () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.end(data);
  });
}

async function must(socket, method, path, body, want) {
  const r = await api(socket, method, path, body);
  if (!want.includes(r.status)) throw new Error(`${method} ${path}: ${r.status} ${r.body.slice(0, 300)}`);
  return r.body ? JSON.parse(r.body) : undefined;
}

/** Run `jobs` with at most `width` in flight. */
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

/** kB of a /proc/<pid>/status or smaps_rollup field. */
async function procKb(pid, file, field) {
  const text = await readFile(`/proc/${pid}/${file}`, 'utf8').catch(() => '');
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

/** Pids whose command line contains `needle`, with their argv[0]. */
async function procsWith(needle) {
  const out = [];
  for (const p of await readdir('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    const cmd = await readFile(`/proc/${p}/cmdline`, 'utf8').catch(() => '');
    if (cmd.includes(needle)) out.push({ pid: Number(p), argv0: cmd.split('\0')[0] });
  }
  return out;
}

async function leftovers(b, ids, netId = '') {
  const mountinfo = await readFile('/proc/self/mountinfo', 'utf8');
  const mounts = mountinfo.split('\n').filter((l) => l.split(' ')[4]?.startsWith(b.dir + '/data')).length;
  let cgroups = 0;
  for (const ctl of await readdir('/sys/fs/cgroup').catch(() => [])) {
    const dir = join('/sys/fs/cgroup', ctl, 'berth');
    const names = await readdir(dir).catch(() => []);
    cgroups += names.filter((n) => ids.has(n)).length;
  }
  const conmons = (await procsWith(b.execRoot)).filter((p) => p.argv0.endsWith('conmon')).length;
  const bundles = (await readdir(join(b.execRoot, 'c')).catch(() => [])).filter((n) => ids.has(n)).length;
  const netns = (await readdir(join(b.execRoot, 'netns')).catch(() => [])).length;
  // Only this run's host-side veths count (other engines on the host make their own):
  // berthd names them veth + sha256(container id + network id)[:7].
  const ours = new Set([...ids].map((id) => `veth${createHash('sha256').update(id + netId).digest('hex').slice(0, 7)}`));
  const links = (await run('ip', ['-o', 'link', 'show', 'type', 'veth'])).stdout.split('\n');
  const veths = links.filter((l) => ours.has(/^\d+:\s+([^@:]+)/.exec(l)?.[1] ?? '')).length;
  return { mounts, cgroups, conmons, bundles, netns, veths };
}

async function timeCli(b, args, times) {
  const t = [];
  for (let i = 0; i < times; i++) {
    const s = now();
    const r = await b.docker(args, { timeoutMs: 120_000 });
    if (r.code !== 0) throw new Error(`docker ${args.join(' ')}: ${r.stderr}`);
    t.push(now() - s);
  }
  return summarize(t).median;
}

async function round(b, { count, width, network }) {
  const base = await leftovers(b, new Set());
  const netId = network === 'none' ? '' : (await must(b.socket, 'GET', `/networks/${network}`, undefined, [200])).Id;
  const rss0 = await procKb(b.pid, 'status', 'VmRSS');
  const startOne = async (i) => {
    const s = now();
    const { Id } = await must(b.socket, 'POST', `/containers/create?name=d-${network}-${width}-${i}`,
      { Image: 'busybox', Cmd: ['sleep', '600'], HostConfig: { NetworkMode: network } }, [201]);
    await must(b.socket, 'POST', `/containers/${Id}/start`, undefined, [204]);
    return { id: Id, ms: now() - s };
  };
  const t0 = now();
  const started = await pool(Array.from({ length: count }, (_, i) => () => startOne(i)), width);
  const total = now() - t0;
  const times = started.map((s) => s.ms);
  const ids = new Set(started.map((s) => s.id));
  await new Promise((r) => setTimeout(r, 1000)); // let allocations settle before reading memory

  const conmons = (await procsWith(b.execRoot)).filter((p) => p.argv0.endsWith('conmon'));
  let conmonRss = 0;
  let conmonPss = 0;
  for (const p of conmons) {
    conmonRss += await procKb(p.pid, 'status', 'VmRSS');
    conmonPss += await procKb(p.pid, 'smaps_rollup', 'Pss');
  }
  const rss1 = await procKb(b.pid, 'status', 'VmRSS');
  // Checks the leak probe itself: with all running, it must see every container's veth.
  const vethsUp = network === 'none' ? 0 : (await leftovers(b, ids, netId)).veths;
  const psMs = await timeCli(b, ['ps'], 5);
  const psApi = [];
  for (let i = 0; i < 5; i++) {
    const s = now();
    await must(b.socket, 'GET', '/containers/json', undefined, [200]);
    psApi.push(now() - s);
  }
  const statsMs = await timeCli(b, ['stats', '--no-stream'], 3);
  const running = (await must(b.socket, 'GET', '/containers/json', undefined, [200])).length;

  const r0 = now();
  await pool([...ids].map((id) => () => must(b.socket, 'DELETE', `/containers/${id}?force=1`, undefined, [204])), width);
  const removeMs = now() - r0;
  await new Promise((r) => setTimeout(r, 500));
  const left = await leftovers(b, ids, netId);
  const leaks = Object.fromEntries(Object.entries(left).map(([k, v]) => [k, v - (k === 'netns' || k === 'mounts' ? base[k] : 0)]).filter(([, v]) => v !== 0));
  return {
    network, width, count, running,
    totalMs: total, p50: percentile(times, 50), p99: percentile(times, 99), max: Math.max(...times),
    conmons: conmons.length, conmonRssKb: conmonRss / conmons.length, conmonPssKb: conmonPss / conmons.length,
    berthdRssKb: rss1, berthdGrowthKb: (rss1 - rss0) / count,
    psMs, psApiMs: summarize(psApi).median, statsMs, removeMs, leaks, vethsUp,
  };
}

await main(async () => {
  const flags = parseFlags(process.argv.slice(2), { count: 100, concurrency: '1,8', networks: 'none,bridge', json: '' });
  const count = Number(flags.count);
  const widths = String(flags.concurrency).split(',').map(Number);
  const networks = String(flags.networks).split(',').filter(Boolean);
  const b = await startBerthd({ tar: await busyboxTar() });
  // One warm-up container so the first sample does not pay for cold caches.
  await round(b, { count: 2, width: 1, network: 'none' });
  const rows = [];
  for (const network of networks) {
    for (const width of widths) {
      const r = await round(b, { count, width, network });
      rows.push(r);
      console.error(`done: ${network} ×${width}`);
    }
  }
  const f = (v) => v.toFixed(0);
  const mb = (kb) => (kb / 1024).toFixed(1);
  console.log('| network | conc. | running | total s | p50 ms | p99 ms | max ms | conmon RSS MiB (PSS) | berthd RSS MiB (+KiB/ctr) | docker ps ms (API) | stats --no-stream ms | rm -f all s | leaks |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    console.log(`| ${r.network} | ${r.width} | ${r.running} | ${(r.totalMs / 1000).toFixed(1)} | ${f(r.p50)} | ${f(r.p99)} | ${f(r.max)} | ${mb(r.conmonRssKb)} (${mb(r.conmonPssKb)}) | ${mb(r.berthdRssKb)} (+${f(r.berthdGrowthKb)}) | ${f(r.psMs)} (${f(r.psApiMs)}) | ${f(r.statsMs)} | ${(r.removeMs / 1000).toFixed(1)} | ${Object.keys(r.leaks).length ? JSON.stringify(r.leaks) : 'none'} |`);
  }
  const facts = await machineFacts().catch(() => ({}));
  if (flags.json) await writeFile(flags.json, JSON.stringify({ machine: facts, rows }, null, 2));
  for (const r of rows) if (r.network !== 'none') console.log(`veths seen while ${r.network} ×${r.width} ran: ${r.vethsUp}/${r.count}`);
  if (rows.some((r) => Object.keys(r.leaks).length || r.running !== count)) throw new Error('leftovers or containers not running: see the table');
});
