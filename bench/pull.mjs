#!/usr/bin/env node
/**
 * Pull + unpack of one multi-layer image (~150-300 MB uncompressed) from a registry on
 * 127.0.0.1 (Debian's docker-registry): berthd vs dockerd 20.10 vs the raw floor
 * (each blob streamed with curl into `tar -xzf`, 3 at a time, as the engines download).
 * Also berthd's peak RSS (VmHWM) over all its pulls.
 *
 *   node bench/pull.mjs [--iterations 3] [--warmup 1] [--only berth,dockerd,floor] [--alt-dist DIR] [--json f]
 *
 * --alt-dist DIR adds berth-alt: a second berthd run from DIR (a copy of an older
 * dist/, see README), interleaved with the others: the A/B of a change. Both berthds
 * get UV_THREADPOOL_SIZE=128, as bin/berthd sets it.
 *
 * The image: (1) binaries from the host's /usr/bin (many files, compressible like a
 * distribution layer), (2) incompressible random data, (3) compressible text in many
 * small files; gzip -6 blobs, a Docker schema 2 manifest. Everything is removed on exit.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, readdirSync, lstatSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { REPO, tempDir, startBerthd, startDockerd, haveDockerd, busyboxTar } from './lib/engines.mjs';
import { main, must, now, onCleanup, parseFlags, run } from './lib/proc.mjs';
import { roundRobin } from './lib/round-robin.mjs';
import { table, ratios } from './lib/stats.mjs';
import { machineFacts } from './lib/machine.mjs';

const flags = parseFlags(process.argv.slice(2), { iterations: 3, warmup: 1, only: '', json: '', 'alt-dist': '', 'bin-mb': 120, 'random-mb': 40, 'text-mb': 60 });
const only = flags.only ? new Set(flags.only.split(',')) : undefined;
const want = (k) => !only || only.has(k);
const MB = 1 << 20;

async function packLayer(path, fill) {
  const pack = tar.pack();
  const out = createWriteStream(path);
  const done = pipeline(pack, out);
  await fill(pack);
  pack.finalize();
  await done;
}
const entry = (pack, header, body) => new Promise((resolve, reject) => pack.entry(header, body, (e) => (e ? reject(e) : resolve())));

async function buildLayers(dir) {
  const specs = [
    ['bin', async (pack) => {
      let total = 0;
      for (const name of readdirSync('/usr/bin').sort()) {
        const st = lstatSync(join('/usr/bin', name));
        if (!st.isFile() || total > flags['bin-mb'] * MB) continue;
        await entry(pack, { name: `usr/bin/${name}`, mode: st.mode & 0o7777, mtime: st.mtime }, await readFile(join('/usr/bin', name)));
        total += st.size;
      }
    }],
    ['random', async (pack) => {
      for (let i = 0; i < 4; i++) await entry(pack, { name: `random/${i}.bin`, mode: 0o644 }, randomBytes((flags['random-mb'] / 4) * MB));
    }],
    ['text', async (pack) => {
      const per = 100 * 1024;
      for (let i = 0; i < (flags['text-mb'] * MB) / per; i++) {
        const lines = [];
        for (let n = 0; lines.length * 60 < per; n++) lines.push(`${new Date(1.7e12 + n * 1000).toISOString()} INFO request ${i}-${n} handled in ${n % 97}ms`);
        await entry(pack, { name: `text/${Math.floor(i / 100)}/${i}.log`, mode: 0o644 }, Buffer.from(lines.join('\n').slice(0, per)));
      }
    }],
  ];
  const layers = [];
  for (const [name, fill] of specs) {
    const raw = join(dir, `${name}.tar`);
    await packLayer(raw, fill);
    await must('pigz', ['-6', '-n', '-k', raw]);
    const gz = raw + '.gz';
    const digest = async (p) => 'sha256:' + createHash('sha256').update(await readFile(p)).digest('hex');
    layers.push({ name, gz, digest: await digest(gz), diffId: await digest(raw), size: (await stat(gz)).size, rawSize: (await stat(raw)).size });
    await rm(raw);
  }
  return layers;
}

async function startRegistry() {
  const { TestRegistry } = await import(join(REPO, 'dist/integration/registry-fixture.js'));
  const reg = await TestRegistry.start();
  onCleanup(() => reg.stop());
  return reg;
}

async function pushImage(reg, layers) {
  const put = async (body, digest) => {
    const start = await fetch(`http://${reg.host}/v2/bench/img/blobs/uploads/`, { method: 'POST' });
    const loc = new URL(start.headers.get('location'), `http://${reg.host}`);
    loc.searchParams.set('digest', digest);
    const r = await fetch(loc, { method: 'PUT', body, duplex: 'half', headers: { 'Content-Type': 'application/octet-stream' } });
    if (r.status !== 201) throw new Error(`blob upload: ${r.status} ${await r.text()}`);
  };
  for (const l of layers) await put(createReadStream(l.gz), l.digest);
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Cmd: ['sh'] }, rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) }, history: layers.map((l) => ({ created_by: `bench ${l.name}` })) }));
  const cd = 'sha256:' + createHash('sha256').update(config).digest('hex');
  await put(config, cd);
  const manifest = JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
    config: { mediaType: 'application/vnd.docker.container.image.v1+json', digest: cd, size: config.length },
    layers: layers.map((l) => ({ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', digest: l.digest, size: l.size })),
  });
  const r = await fetch(`http://${reg.host}/v2/bench/img/manifests/1`, { method: 'PUT', body: manifest, headers: { 'Content-Type': 'application/vnd.docker.distribution.manifest.v2+json' } });
  if (r.status !== 201) throw new Error(`manifest put: ${r.status}`);
}

function engineVariant(key, label, engine, ref) {
  return {
    key, label,
    async once() {
      const t0 = now();
      const r = await engine.docker(['pull', '-q', ref], { timeoutMs: 600_000 });
      const ms = now() - t0;
      if (r.code !== 0) throw new Error(`pull: ${r.stderr}`);
      const rm = await engine.docker(['rmi', ref]);
      if (rm.code !== 0) throw new Error(`rmi: ${rm.stderr}`);
      return ms;
    },
  };
}

function floorVariant(reg, layers, dir) {
  return {
    key: 'floor', label: 'floor: curl | tar -xzf (3 at a time)',
    async once() {
      const root = join(dir, 'floor');
      await rm(root, { recursive: true, force: true });
      const t0 = now();
      const queue = layers.map((l, i) => ({ l, i }));
      const worker = async () => {
        for (let job = queue.shift(); job; job = queue.shift()) {
          const out = join(root, String(job.i));
          await mkdir(out, { recursive: true });
          const url = `http://${reg.host}/v2/bench/img/blobs/${job.l.digest}`;
          const r = await run('sh', ['-c', 'curl -sfL "$1" | tar -xzf - -C "$2"', 'sh', url, out], { timeoutMs: 600_000 });
          if (r.code !== 0) throw new Error(`floor layer ${job.i}: ${r.stderr}`);
        }
      };
      await Promise.all([worker(), worker(), worker()]);
      // What an engine must also do before it reports done: the data on disk.
      await must('sync', ['-f', root]);
      const ms = now() - t0;
      await rm(root, { recursive: true, force: true });
      return ms;
    },
  };
}

async function peakRss(pid) {
  const s = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const kb = Number(/VmHWM:\s+(\d+)/.exec(s)?.[1] ?? NaN);
  return kb / 1024;
}

main(async () => {
  const dir = await tempDir('bp-');
  process.stderr.write('building layers...\n');
  const layers = await buildLayers(dir);
  const reg = await startRegistry();
  await pushImage(reg, layers);
  const ref = `${reg.host}/bench/img:1`;
  const tarBb = await busyboxTar();
  const variants = [];
  let berth;
  const env = { UV_THREADPOOL_SIZE: '128' }; // what bin/berthd sets
  if (want('berth')) {
    berth = await startBerthd({ tar: tarBb, env });
    variants.push(engineVariant('berth', 'docker pull → berthd', berth, ref));
  }
  let alt;
  if (flags['alt-dist']) {
    alt = await startBerthd({ tar: tarBb, env, dist: flags['alt-dist'] });
    variants.push(engineVariant('berth-alt', `docker pull → berthd from ${flags['alt-dist']}`, alt, ref));
  }
  if (want('dockerd') && haveDockerd()) variants.push(engineVariant('dockerd', 'docker pull → dockerd 20.10', await startDockerd({ tar: tarBb }), ref));
  if (want('floor')) variants.push(floorVariant(reg, layers, dir));
  const rssBefore = berth ? await peakRss(berth.pid) : NaN;
  const res = await roundRobin(variants, { iterations: flags.iterations, warmup: flags.warmup });
  const rows = variants.map((v) => ({ key: v.key, label: v.label, ...res.get(v.key) }));
  const facts = await machineFacts();
  const total = layers.reduce((s, l) => s + l.rawSize, 0);
  const gz = layers.reduce((s, l) => s + l.size, 0);
  process.stdout.write(`\n## pull + unpack: ${layers.length} layers, ${(total / MB).toFixed(0)} MiB uncompressed, ${(gz / MB).toFixed(0)} MiB gzip\n\n`);
  process.stdout.write(layers.map((l) => `- ${l.name}: ${(l.rawSize / MB).toFixed(1)} MiB → ${(l.size / MB).toFixed(1)} MiB gzip`).join('\n') + '\n\n');
  process.stdout.write(table(rows) + '\n\n');
  process.stdout.write(ratios(rows, [{ num: 'berth', den: 'dockerd', target: 1 }, { num: 'berth', den: 'floor', target: 1.5 }, { num: 'dockerd', den: 'floor' }, { num: 'berth-alt', den: 'floor' }, { num: 'berth', den: 'berth-alt' }]) + '\n');
  if (berth) {
    const peak = await peakRss(berth.pid);
    process.stdout.write(`- berthd peak RSS (VmHWM): ${peak.toFixed(0)} MiB after the pulls (${rssBefore.toFixed(0)} MiB before; target < 200)\n`);
  }
  if (alt) process.stdout.write(`- berth-alt peak RSS (VmHWM): ${(await peakRss(alt.pid)).toFixed(0)} MiB\n`);
  process.stdout.write(`\n${JSON.stringify(facts)}\n`);
  if (flags.json) await writeFile(flags.json, JSON.stringify({ rows, layers, facts }, null, 2));
});
