// dockerode against the engine at DOCKER_HOST: the calls dockerode-flow.mjs leaves out:
// docker.run with streams, a hijacked attach with stdin, followed logs demuxed with
// modem.demuxStream, followProgress on build, getEvents with filters, listContainers
// with filters, putArchive of a tar.gz, buildImage with t/buildargs, the prunes.
// Each step records its result or its error; prints one JSON object.
import Docker from 'dockerode';
import { PassThrough } from 'node:stream';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';

const docker = new Docker({ socketPath: (process.env.DOCKER_HOST ?? '').replace(/^unix:\/\//, '') });
const out = {};
const P = 'odeep';

function collect() {
  const s = new PassThrough();
  const chunks = [];
  s.on('data', (c) => chunks.push(c));
  return { s, text: () => Buffer.concat(chunks).toString() };
}

function within(p, ms, what) {
  let timer;
  const expired = new Promise((_, rej) => { timer = setTimeout(() => rej(new Error(`${what} timed out`)), ms); });
  return Promise.race([p, expired]).finally(() => clearTimeout(timer));
}

async function tarOf(files) {
  const p = tar.pack();
  for (const [name, data] of Object.entries(files)) p.entry({ name }, data);
  p.finalize();
  const chunks = [];
  for await (const c of p) chunks.push(c);
  return Buffer.concat(chunks);
}

async function step(name, fn) {
  try {
    out[name] = await within(fn(), 20000, name);
  } catch (e) {
    out[name] = { error: String(e?.message ?? e) };
  }
}

await step('run', async () => {
  const o = collect();
  const e = collect();
  const [res, c] = await docker.run('busybox', ['sh', '-c', 'echo to-out; echo to-err >&2; exit 4'], [o.s, e.s], { Tty: false, HostConfig: { AutoRemove: false } });
  await c.remove();
  return { code: res.StatusCode, out: o.text(), err: e.text() };
});

await step('attach_stdin', async () => {
  const c = await docker.createContainer({ Image: 'busybox', Cmd: ['sh', '-c', 'read a; echo got-$a'], OpenStdin: true, StdinOnce: true, Tty: false });
  const stream = await c.attach({ hijack: true, stream: true, stdin: true, stdout: true, stderr: true });
  const o = collect();
  c.modem.demuxStream(stream, o.s, o.s);
  await c.start();
  stream.write('line\n');
  stream.end();
  const w = await c.wait();
  await new Promise((r) => setTimeout(r, 50));
  await c.remove();
  return { code: w.StatusCode, out: o.text() };
});

await step('logs_follow', async () => {
  const c = await docker.createContainer({ Image: 'busybox', Cmd: ['sh', '-c', 'echo o1; echo e1 >&2; sleep 0.3; echo o2'] });
  await c.start();
  const s = await c.logs({ follow: true, stdout: true, stderr: true });
  const o = collect();
  const e = collect();
  c.modem.demuxStream(s, o.s, e.s);
  await new Promise((r) => s.on('end', r));
  await c.remove();
  return { out: o.text(), err: e.text() };
});

await step('list_filters', async () => {
  const a = await docker.createContainer({ Image: 'busybox', Cmd: ['true'], name: `${P}-la`, Labels: { odeep: 'a' } });
  const b = await docker.createContainer({ Image: 'busybox', Cmd: ['sleep', '30'], name: `${P}-lb`, Labels: { odeep: 'b' } });
  await b.start();
  const names = (l) => l.map((x) => x.Names[0]).sort();
  const r = {
    running: names(await docker.listContainers({ filters: { label: ['odeep'] } })),
    all: names(await docker.listContainers({ all: true, filters: { label: ['odeep'] } })),
    exited: names(await docker.listContainers({ all: true, filters: JSON.stringify({ status: ['created'], label: ['odeep=a'] }) })),
  };
  await b.remove({ force: true });
  await a.remove();
  return r;
});

await step('put_targz', async () => {
  const c = await docker.createContainer({ Image: 'busybox', Cmd: ['sleep', '30'] });
  await c.start();
  await c.putArchive(gzipSync(await tarOf({ 'gz.txt': 'zipped\n' })), { path: '/tmp' });
  const ex = await c.exec({ Cmd: ['cat', '/tmp/gz.txt'], AttachStdout: true });
  const s = await ex.start({});
  const o = collect();
  c.modem.demuxStream(s, o.s, o.s);
  await new Promise((r) => s.on('end', r));
  await c.remove({ force: true });
  return o.text();
});

await step('build', async () => {
  const ctx = await tarOf({ Dockerfile: 'FROM busybox\nARG GREETING=none\nRUN echo $GREETING > /g\nLABEL by=dockerode\n' });
  const stream = await docker.buildImage(ctx, { t: `${P}-built:1`, buildargs: { GREETING: 'hi-arg' } });
  const events = [];
  const res = await new Promise((resolve, reject) => docker.modem.followProgress(stream, (err, r) => (err ? reject(err) : resolve(r)), (ev) => events.push(ev)));
  const o = collect();
  const [run, c] = await docker.run(`${P}-built:1`, ['cat', '/g'], [o.s, o.s], { Tty: false });
  await c.remove();
  const img = await docker.getImage(`${P}-built:1`).inspect();
  const failed = await docker.buildImage(await tarOf({ Dockerfile: 'FROM busybox\nRUN exit 3\n' }), {});
  const err = await new Promise((resolve) => docker.modem.followProgress(failed, (e, r) => resolve(e ? String(e.message ?? e) : (r.find((x) => x.error)?.error ?? null))));
  return { progress: events.length > 0 && res.some((x) => x.aux?.ID || /Successfully built/.test(x.stream ?? '')), out: o.text(), code: run.StatusCode, label: img.Config.Labels?.by, failed: err };
});

await step('pull_progress', async () => {
  // No registry here: the pull of an image that cannot be reached ends with an error.
  try {
    const s = await docker.pull('127.0.0.1:1/none/such:tag');
    const r = await new Promise((resolve) => docker.modem.followProgress(s, (e, res) => resolve(e ? `err:${e.message}` : res)));
    return typeof r === 'string' ? 'error-in-stream' : JSON.stringify(r);
  } catch (e) {
    return `status:${e.statusCode}`;
  }
});

await step('events', async () => {
  const since = Math.floor(Date.now() / 1000) - 1;
  const c = await docker.createContainer({ Image: 'busybox', Cmd: ['true'], name: `${P}-ev`, Labels: { odeep: 'ev' } });
  await c.start();
  await c.wait();
  await c.remove();
  const s = await docker.getEvents({ since, until: Math.floor(Date.now() / 1000) + 1, filters: { type: ['container'], label: ['odeep=ev'], event: ['start', 'die', 'destroy'] } });
  const chunks = [];
  for await (const x of s) chunks.push(x);
  return Buffer.concat(chunks).toString().trim().split('\n').map((l) => JSON.parse(l).Action);
});

await step('prunes', async () => {
  const c = await docker.createContainer({ Image: 'busybox', Cmd: ['true'], Labels: { odeep: 'prune' } });
  await docker.createVolume({ Name: `${P}-pv`, Labels: { odeep: 'prune' } });
  await docker.createNetwork({ Name: `${P}-pn`, Labels: { odeep: 'prune' } });
  await docker.getImage('busybox').tag({ repo: `${P}-pi`, tag: 'x' });
  const pc = await docker.pruneContainers({ filters: { label: ['odeep=prune'] } });
  const pv = await docker.pruneVolumes({ filters: { label: ['odeep=prune'], all: ['true'] } });
  const pn = await docker.pruneNetworks({ filters: { label: ['odeep=prune'] } });
  const pi = await docker.pruneImages({ filters: { dangling: ['true'] } });
  await docker.getImage(`${P}-pi:x`).remove();
  return { containers: pc.ContainersDeleted?.includes(c.id), volumes: pv.VolumesDeleted, networks: pn.NetworksDeleted, images: Array.isArray(pi.ImagesDeleted) || pi.ImagesDeleted === null, space: typeof pi.SpaceReclaimed };
});

console.log(JSON.stringify(out));
