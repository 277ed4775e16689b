/**
 * Private engines for the benches: berthd (our daemon), dockerd (Debian's
 * docker.io, on its own socket, data root and exec root, firewall and bridge off)
 * and podman (own storage). Each gets busybox:latest from the same rootfs tar and
 * registers its own teardown with onCleanup.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile, mkdtemp } from 'node:fs/promises';
import { request } from 'node:http';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { run, must, onCleanup, stopProcess, unmountUnder, execFileP } from './proc.mjs';

export const REPO = resolve(fileURLToPath(import.meta.url), '../../..');
const BUSYBOX_CMD = 'CMD ["sh"]';

/** The busybox rootfs tar the whole project uses (scripts/busybox-rootfs.mjs). */
export async function busyboxTar() {
  const { stdout } = await execFileP(process.execPath, [join(REPO, 'scripts/busybox-rootfs.mjs')], { encoding: 'buffer', maxBuffer: 64 << 20 });
  return stdout;
}

/** A short temp dir (unix socket paths must stay under 108 bytes), removed at cleanup. */
export async function tempDir(prefix) {
  const dir = await mkdtemp(`/tmp/${prefix}`);
  onCleanup(async () => {
    await unmountUnder(dir);
    await rm(dir, { recursive: true, force: true });
  });
  return dir;
}

function api(socket, method, path, body, headers = {}) {
  return new Promise((resolvePromise, reject) => {
    const req = request({ socketPath: socket, method, path, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolvePromise({ status: res.statusCode, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(60_000, () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.end(body);
  });
}

async function waitPing(socket, child, what, log) {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${what} exited early: ${log().slice(-2000)}`);
    if (existsSync(socket)) {
      const r = await api(socket, 'GET', '/_ping').catch(() => undefined);
      if (r?.status === 200) return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not answer /_ping within 60 s: ${log().slice(-2000)}`);
}

function spawnLogged(cmd, args, env) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  const chunks = [];
  child.stdout.on('data', (b) => chunks.push(b));
  child.stderr.on('data', (b) => chunks.push(b));
  return { child, log: () => Buffer.concat(chunks).toString() };
}

/** Docker CLI environment pointed at a socket, with a private config dir. */
function dockerEnv(dir, socket) {
  return { ...process.env, DOCKER_HOST: `unix://${socket}`, DOCKER_CONFIG: join(dir, 'docker-cli') };
}

async function removeAllContainers(socket) {
  const r = await api(socket, 'GET', '/containers/json?all=1').catch(() => undefined);
  if (r?.status !== 200) return;
  for (const c of JSON.parse(r.body)) await api(socket, 'DELETE', `/containers/${c.Id}?force=1&v=1`).catch(() => {});
}

/**
 * berthd from dist/ (or another build, for A/B runs), optionally under a preload
 * (--import) for profiling.
 * Returns { dir, socket, execRoot, docker(args), berth(args), stop() }.
 */
export async function startBerthd({ tar, nodeArgs = [], env = {}, dist = join(REPO, 'dist') } = {}) {
  const dir = await tempDir('bb-');
  const socket = join(dir, 'run', 'berth.sock');
  const execRoot = join(dir, 'run');
  await writeFile(join(dir, 'daemon.json'), '{}\n');
  const { child, log } = spawnLogged(process.execPath, [...nodeArgs, join(dist, 'daemon/main.js'),
    '--data-root', join(dir, 'data'), '--exec-root', execRoot, '-H', `unix://${socket}`, '--config-file', join(dir, 'daemon.json')],
  { ...process.env, ...env });
  // Registered after tempDir's step, so it runs first: containers and daemon go before the dir.
  onCleanup(async () => {
    if (child.exitCode === null) await removeAllContainers(socket);
    await stopProcess(child);
    // berthd keeps its bridges when it stops, as dockerd keeps docker0: a bench's go with it.
    const { removeDaemonNetworking } = await import(pathToFileURL(join(REPO, 'dist/testing/daemon.js')).href);
    await removeDaemonNetworking(dir);
  });
  await waitPing(socket, child, 'berthd', log);
  const r = await api(socket, 'POST', `/images/create?fromSrc=-&repo=busybox&tag=latest&changes=${encodeURIComponent(BUSYBOX_CMD)}`, tar, { 'Content-Type': 'application/x-tar' });
  if (r.status !== 200) throw new Error(`berthd import busybox: ${r.status} ${r.body}`);
  const denv = dockerEnv(dir, socket);
  const benv = { ...process.env, BERTH_HOST: `unix://${socket}` };
  return {
    name: 'berthd', dir, socket, execRoot, log, pid: child.pid,
    docker: (args, o = {}) => run('docker', args, { env: denv, ...o }),
    // bin/berth, what a user types (it drops NODE_EXTRA_CA_CERTS before starting node).
    berth: (args, o = {}) => run(join(REPO, 'bin/berth'), args, { env: benv, ...o }),
    // The CLI of the build this berthd runs from, started the way bin/berth starts it.
    berthOfDist: (args, o = {}) => run('env', ['-u', 'NODE_EXTRA_CA_CERTS', process.execPath, '--', join(dist, 'berth-launch.cjs'), ...args], { env: benv, ...o }),
  };
}

/** True when Debian's dockerd is installed. */
/** SIGKILL the pid in pidFile, only if its command line still mentions marker (no pid reuse). */
async function killByPidFile(pidFile, marker) {
  const pid = Number.parseInt(await readFile(pidFile, 'utf8').catch(() => ''), 10);
  if (!(pid > 1)) return;
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  if (cmdline.includes(marker)) {
    try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
  }
}

export const haveDockerd = () => existsSync('/usr/sbin/dockerd') || existsSync('/usr/bin/dockerd');

/**
 * A private dockerd (it starts its own containerd under the exec root). No
 * iptables, no bridge, no ip forwarding changes: the host's network is left alone.
 */
export async function startDockerd({ tar }) {
  const dir = await tempDir('bd-');
  const socket = join(dir, 'docker.sock');
  const execRoot = join(dir, 'x');
  await writeFile(join(dir, 'daemon.json'), '{}\n');
  const { child, log } = spawnLogged('dockerd', [
    '--data-root', join(dir, 'data'), '--exec-root', execRoot, '-H', `unix://${socket}`,
    '--pidfile', join(dir, 'docker.pid'), '--config-file', join(dir, 'daemon.json'),
    '--iptables=false', '--ip6tables=false', '--bridge=none', '--ip-forward=false', '--ip-masq=false',
  ], process.env);
  onCleanup(async () => {
    if (child.exitCode === null) await removeAllContainers(socket);
    await stopProcess(child, 20_000);
    // dockerd stops the containerd it started; if it did not, end that one process by its pid file.
    await killByPidFile(join(execRoot, 'containerd', 'containerd.pid'), execRoot);
  });
  await waitPing(socket, child, 'dockerd', log);
  const env = dockerEnv(dir, socket);
  await must('docker', ['import', '-c', BUSYBOX_CMD, '-', 'busybox:latest'], { env, input: tar });
  return { name: 'dockerd', dir, socket, execRoot, log, docker: (args, o = {}) => run('docker', args, { env, ...o }) };
}

export const havePodman = () => existsSync('/usr/bin/podman');

/** podman with its own root, runroot and tmpdir, runc as runtime, cgroupfs, file events. */
export async function startPodman({ tar }) {
  const dir = await tempDir('bp-');
  await mkdir(join(dir, 'tmp'));
  await writeFile(join(dir, 'containers.conf'), '[engine]\nevents_logger = "file"\n');
  const base = ['--root', join(dir, 'root'), '--runroot', join(dir, 'run'), '--tmpdir', join(dir, 'tmp'),
    '--runtime', 'runc', '--cgroup-manager', 'cgroupfs', '--storage-driver', 'overlay', '--events-backend', 'file'];
  const env = { ...process.env, CONTAINERS_CONF: join(dir, 'containers.conf') };
  const podman = (args, o = {}) => run('podman', [...base, ...args], { env, ...o });
  onCleanup(async () => {
    await podman(['rm', '-af', '-t', '0'], { timeoutMs: 60_000 }).catch(() => {});
    await podman(['rmi', '-af'], { timeoutMs: 60_000 }).catch(() => {});
  });
  await must('podman', [...base, 'import', '-c', BUSYBOX_CMD, '-', 'busybox:latest'], { env, input: tar });
  return { name: 'podman', dir, podman };
}

/** berthd's config.json for `busybox true` (read from a running container's bundle, then removed). */
export async function engineSpec(b) {
  const r = await b.docker(['run', '-d', '--network', 'none', 'busybox', 'sleep', '1000']);
  if (r.code !== 0) throw new Error(`cannot start a container to read its spec: ${r.stderr}`);
  const id = r.stdout.trim();
  try {
    return JSON.parse(await readFile(join(b.execRoot, 'c', id, 'config.json'), 'utf8'));
  } finally {
    await b.docker(['rm', '-f', id]);
  }
}
