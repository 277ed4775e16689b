/**
 * The floor of berth's design: conmon + runc driven directly, with no daemon, no
 * API, no image store. A prepared busybox bundle (runc spec, edited), a private
 * runc --root, the same conmon flags berth uses. Also a plain `runc run`.
 */
import { spawn } from 'node:child_process';
import { openSync, closeSync, watch } from 'node:fs';
import { mkdir, readdir, readFile, rmdir, writeFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { must, run, now } from './proc.mjs';

/** Extracts busybox into <dir>/rootfs and writes a base spec (runc spec, then edited). */
export async function prepareFloor(dir, tar) {
  const rootfs = join(dir, 'rootfs');
  await mkdir(rootfs);
  await must('tar', ['-x', '-C', rootfs, '-f', '-'], { input: tar });
  const specDir = join(dir, 'spec');
  await mkdir(specDir);
  await must('runc', ['spec'], { cwd: specDir });
  const spec = JSON.parse(await readFile(join(specDir, 'config.json'), 'utf8'));
  spec.process.terminal = false;
  spec.process.args = ['true'];
  spec.root = { path: rootfs, readonly: true };
  for (const d of ['runc', 'exits', 'persist', 'b']) await mkdir(join(dir, d));
  return { dir, spec, runcRoot: join(dir, 'runc'), exitDir: join(dir, 'exits'), persistRoot: join(dir, 'persist'), seq: 0 };
}

/**
 * The floor again, but with the spec berthd itself wrote for a busybox container
 * (seccomp profile, masked paths, cgroup namespace, /etc binds): the runtime cost
 * of berth's defaults, apart from the cost of the engine around them.
 */
export async function withEngineSpec(f, config) {
  const spec = structuredClone(config);
  spec.root = { path: f.spec.root.path, readonly: true };
  spec.process = { ...spec.process, args: ['true'], terminal: false };
  for (const m of spec.mounts ?? []) {
    if (!m.destination.startsWith('/etc/')) continue;
    m.source = join(f.dir, `etc-${m.destination.slice(5)}`);
    await writeFile(m.source, 'bench\n');
  }
  return { ...f, spec, phases: undefined };
}

async function writeBundle(f, id) {
  const bundle = join(f.dir, 'b', id);
  await mkdir(bundle);
  // Own cgroup per container, as an engine gives it.
  const spec = { ...f.spec, linux: { ...f.spec.linux, cgroupsPath: `/berth-bench/${id}` } };
  await writeFile(join(bundle, 'config.json'), JSON.stringify(spec));
  return bundle;
}

function waitFile(dir, name, timeoutMs) {
  return new Promise((resolve, reject) => {
    const file = join(dir, name);
    let done = false;
    const finish = (err) => {
      if (done) return;
      done = true;
      w.close();
      clearTimeout(t);
      if (err) reject(err); else resolve();
    };
    const w = watch(dir, (_e, n) => { if (n?.toString() === name) finish(); });
    const t = setTimeout(() => finish(new Error(`no exit file ${file} within ${timeoutMs} ms`)), timeoutMs);
    // Registered first, checked second: an exit in between is not missed.
    stat(file).then(() => finish(), () => {});
  });
}

/** Reads conmon's sync pipe until the first JSON line ({"data": pid} or an error). */
function firstLine(sock, timeoutMs) {
  return new Promise((resolve, reject) => {
    let buf = '';
    const t = setTimeout(() => reject(new Error('conmon sent no sync message in time')), timeoutMs);
    sock.on('data', (b) => {
      buf += b;
      const i = buf.indexOf('\n');
      if (i >= 0) { clearTimeout(t); resolve(JSON.parse(buf.slice(0, i))); }
    });
    sock.on('close', () => { clearTimeout(t); reject(new Error(`conmon closed its sync pipe: ${buf}`)); });
  });
}

/** One container through conmon: create (by conmon), start, wait for exit file, delete. Returns ms. */
export async function conmonRun(f, timeoutMs = 30_000) {
  const id = `fc${process.pid}-${f.seq++}`;
  const t0 = now();
  const bundle = await writeBundle(f, id);
  const persist = join(f.persistRoot, id);
  await mkdir(persist);
  const out = openSync(join(bundle, 'conmon.log'), 'a');
  const child = spawn('conmon', [
    '--api-version', '1', '-c', id, '-u', id, '-n', id, '-r', '/usr/sbin/runc', '-b', bundle,
    '-p', join(bundle, 'pidfile'), '--exit-dir', f.exitDir, '--persist-dir', persist, '--full-attach',
    '-l', `k8s-file:${join(bundle, 'ctr.log')}`, '--log-level', 'info', '--conmon-pidfile', join(bundle, 'conmon.pid'),
    `--runtime-arg=--root=${f.runcRoot}`,
  ], { cwd: bundle, detached: true, stdio: ['ignore', out, out, 'pipe', 'pipe'], env: { PATH: process.env.PATH, _OCI_SYNCPIPE: '3', _OCI_STARTPIPE: '4' } });
  closeSync(out);
  child.unref();
  try {
    const line = firstLine(child.stdio[3], timeoutMs);
    child.stdio[4].write(Buffer.from([0]));
    const msg = await line;
    const tCreated = now();
    if (!(msg.data > 0)) throw new Error(`conmon create failed: ${msg.message ?? JSON.stringify(msg)}`);
    const exited = waitFile(f.exitDir, id, timeoutMs);
    await must('runc', ['--root', f.runcRoot, 'start', id], { timeoutMs });
    const tStarted = now();
    await exited;
    const tExited = now();
    await must('runc', ['--root', f.runcRoot, 'delete', '--force', id], { timeoutMs });
    const t1 = now();
    // Phase split, for profile.mjs and the README: where the floor itself spends its time.
    f.phases?.push({ create: tCreated - t0, start: tStarted - tCreated, exit: tExited - tStarted, delete: t1 - tExited });
    return t1 - t0;
  } finally {
    for (const s of child.stdio.slice(3)) s?.destroy();
    await run('runc', ['--root', f.runcRoot, 'delete', '--force', id]).catch(() => {});
    await rm(bundle, { recursive: true, force: true });
    await rm(persist, { recursive: true, force: true });
    await rm(join(f.exitDir, id), { force: true });
  }
}

/** `runc run` in the foreground: create + start + wait + delete in one runc process. Returns ms. */
export async function runcRun(f, timeoutMs = 30_000) {
  const id = `fr${process.pid}-${f.seq++}`;
  const t0 = now();
  const bundle = await writeBundle(f, id);
  try {
    await must('runc', ['--root', f.runcRoot, 'run', '--bundle', bundle, id], { timeoutMs });
    return now() - t0;
  } finally {
    await rm(bundle, { recursive: true, force: true });
  }
}

/** Removes any leftover runc state and the bench's cgroups. */
export async function floorCleanup(f) {
  const r = await run('runc', ['--root', f.runcRoot, 'list', '-q']).catch(() => ({ stdout: '' }));
  for (const id of r.stdout.split('\n').filter(Boolean)) await run('runc', ['--root', f.runcRoot, 'delete', '--force', id]);
  // runc removes each container's cgroup, not the shared parent the bench made.
  const controllers = await readdir('/sys/fs/cgroup').catch(() => []);
  for (const c of controllers) await rmdir(join('/sys/fs/cgroup', c, 'berth-bench')).catch(() => {});
}
