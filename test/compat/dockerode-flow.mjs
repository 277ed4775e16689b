// dockerode against the engine at DOCKER_HOST: create/attach/start/wait/logs with
// demux, stdin through a hijacked attach, exec (inspect exit code), inspect, archive
// put/get, pause/unpause, events, errors, remove. Prints one JSON object.
import Docker from 'dockerode';
import { PassThrough } from 'node:stream';
import tar from 'tar-stream';

const docker = new Docker({ socketPath: (process.env.DOCKER_HOST ?? '').replace(/^unix:\/\//, '') });
const out = {};
const made = [];

function collect() {
  const s = new PassThrough();
  const chunks = [];
  s.on('data', (c) => chunks.push(c));
  return { s, text: () => Buffer.concat(chunks).toString() };
}

function withTimeout(p, ms, what) {
  let timer;
  const expired = new Promise((_, rej) => { timer = setTimeout(() => rej(new Error(`${what} timed out`)), ms); });
  return Promise.race([p, expired]).finally(() => clearTimeout(timer));
}

try {
  out.ping = (await docker.ping()).toString();
  const v = await docker.version();
  out.apiVersion = v.ApiVersion;

  // run-like: attach, wait registered before start, then start.
  const c = await docker.createContainer({
    Image: 'busybox:latest', Cmd: ['sh', '-c', 'read line; echo "got $line"; echo to-err >&2; exit 7'],
    OpenStdin: true, StdinOnce: true, AttachStdin: true, AttachStdout: true, AttachStderr: true, Labels: { compat: 'dockerode' },
  });
  made.push(c);
  const stream = await c.attach({ stream: true, stdin: true, stdout: true, stderr: true, hijack: true });
  const o = collect();
  const e = collect();
  c.modem.demuxStream(stream, o.s, e.s);
  const waited = c.wait({ condition: 'next-exit' });
  await c.start();
  stream.end('hello-stdin\n');
  out.wait = await withTimeout(waited, 15000, 'wait');
  await new Promise((r) => setTimeout(r, 100));
  out.attach = { stdout: o.text(), stderr: e.text() };

  const logs = await c.logs({ stdout: true, stderr: true, follow: false });
  // Non-follow logs come back as a Buffer of multiplexed frames.
  const lo = collect();
  const le = collect();
  const ls = new PassThrough();
  c.modem.demuxStream(ls, lo.s, le.s);
  ls.end(logs);
  await new Promise((r) => setImmediate(r));
  out.logs = { stdout: lo.text(), stderr: le.text() };

  const info = await c.inspect();
  out.inspect = { exitCode: info.State.ExitCode, status: info.State.Status, label: info.Config.Labels.compat, name: info.Name };

  // A long-running container: exec, archive, top, pause, stats.
  const d = await docker.createContainer({ Image: 'busybox:latest', Cmd: ['sleep', '300'], name: 'dockerode-sleeper', HostConfig: { PortBindings: { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] } }, ExposedPorts: { '80/tcp': {} } });
  made.push(d);
  await d.start();
  const di = await d.inspect();
  out.hostPort = di.NetworkSettings.Ports['80/tcp']?.[0]?.HostPort ?? null;
  const ex = await d.exec({ Cmd: ['sh', '-c', 'echo exec-out; echo exec-err >&2; exit 4'], AttachStdout: true, AttachStderr: true });
  const xs = await ex.start({ hijack: true, stdin: false });
  const xo = collect();
  const xe = collect();
  d.modem.demuxStream(xs, xo.s, xe.s);
  await withTimeout(new Promise((r) => xs.on('end', r)), 10000, 'exec stream');
  out.exec = { stdout: xo.text(), stderr: xe.text(), exitCode: (await ex.inspect()).ExitCode };

  const pack = tar.pack();
  pack.entry({ name: 'dir/file.txt' }, 'archived\n');
  pack.finalize();
  await d.putArchive(pack, { path: '/tmp' });
  const got = await d.getArchive({ path: '/tmp/dir/file.txt' });
  const extract = tar.extract();
  const files = {};
  extract.on('entry', (h, s, next) => { const b = []; s.on('data', (x) => b.push(x)); s.on('end', () => { files[h.name] = Buffer.concat(b).toString(); next(); }); });
  await new Promise((resolve, reject) => { extract.on('finish', resolve); extract.on('error', reject); got.pipe(extract); });
  out.archive = files;
  out.top = (await d.top()).Titles;
  await d.pause();
  out.paused = (await d.inspect()).State.Paused;
  try { await d.exec({ Cmd: ['true'] }).then((x) => x.start({})); out.execPaused = 'no error'; } catch (err) { out.execPaused = err.statusCode; }
  await d.unpause();
  const st = await d.stats({ stream: false });
  out.stats = { cpu: typeof st.cpu_stats, precpu: typeof st.precpu_stats, mem: typeof st.memory_stats };
  out.list = (await docker.listContainers({ filters: { label: ['compat=dockerode'] }, all: true })).map((x) => x.Names[0]);

  // Errors clients act on.
  try { await docker.getContainer('no-such-container').inspect(); } catch (err) { out.notFound = err.statusCode; }
  try { await d.remove(); } catch (err) { out.removeRunning = err.statusCode; }
  try { await d.start(); } catch (err) { out.startRunning = err.statusCode; }

  const t0 = Date.now();
  await d.stop({ t: 1 });
  out.stopMs = Date.now() - t0;
  try { await d.stop(); } catch (err) { out.stopStopped = err.statusCode; }
  await d.remove({ v: true });
  await c.remove({ force: true });
  made.length = 0;
  out.imageInspect = (await docker.getImage('busybox:latest').inspect()).RepoTags;

  // docker.run: dockerode's own attach + start + wait helper (Tty: output unframed).
  const ro = collect();
  const [runRes, runC] = await withTimeout(docker.run('busybox:latest', ['echo', 'from-run'], ro.s, { Tty: true, HostConfig: { AutoRemove: true } }), 15000, 'docker.run');
  out.run = { status: runRes.StatusCode, out: ro.text().trim() };
  // dockerode waits for not-running, so AutoRemove may still be under way: poll briefly.
  for (let i = 0; i < 30 && !out.runRemoved; i++) {
    out.runRemoved = await runC.inspect().then(() => false, (err) => err.statusCode === 404);
    if (!out.runRemoved) await new Promise((r) => setTimeout(r, 100));
  }

  // Events between two points in time: the stream ends at `until`.
  const since = Math.floor(t0 / 1000) - 1;
  const ev = await docker.getEvents({ since, until: Math.floor(Date.now() / 1000) + 1, filters: { type: ['container'], event: ['die'] } });
  const evText = await withTimeout(new Promise((resolve) => { let b = ''; ev.on('data', (x) => (b += x)); ev.on('end', () => resolve(b)); }), 10000, 'events');
  out.events = evText.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)).map((x) => `${x.Type}:${x.Action}:${x.Actor?.Attributes?.name}`);
  out.ok = true;
} catch (err) {
  out.error = String(err?.stack ?? err);
} finally {
  for (const m of made) await m.remove({ force: true }).catch(() => {});
}
process.stdout.write(JSON.stringify(out) + '\n');
