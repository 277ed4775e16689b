/**
 * berthd SIGKILLed in the middle of create, start and rm (BERTH_TEST_CRASH_AT, see
 * daemon/crash-hook.ts): after a restart nothing is lost and nothing half-done stays:
 * no stray monitor, bundle, mount, snapshot, volume or directory, and the container
 * can be started or is gone as the interrupted operation intended.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { TestDaemon } from '../testing/daemon.js';

const execFileP = promisify(execFile);

let d: TestDaemon;
before(async () => { d = await TestDaemon.start(); });
after(async () => { await d?.stop(); });

/** Restart berthd so that it kills itself at `phase`; run `op`; restart it normally. */
async function crashAt(phase: string, op: () => Promise<unknown>): Promise<void> {
  await d.kill('SIGTERM');
  process.env['BERTH_TEST_CRASH_AT'] = phase;
  try {
    await d.launch();
  } finally {
    delete process.env['BERTH_TEST_CRASH_AT'];
  }
  await op().then(() => assert.fail(`berthd survived phase ${phase}`), () => {});
  await d.kill('SIGTERM'); // waits for the SIGKILLed process to be reaped
  await d.launch();
}

async function mountsUnder(dir: string): Promise<string[]> {
  const info = await readFile('/proc/self/mountinfo', 'utf8');
  return info.split('\n').map((l) => l.split(' ')[4] ?? '').filter((p) => p.startsWith(dir + '/'));
}

async function conmonsUnder(dir: string): Promise<number> {
  let n = 0;
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmd.startsWith('conmon') || cmd.includes('/conmon\0')) if (cmd.includes(dir)) n++;
  }
  return n;
}

const volumes = async () => ((await d.api('GET', '/volumes')).json().Volumes ?? []).map((v: { Name: string }) => v.Name);
const activeSnapshots = async () => {
  const state = JSON.parse(await readFile(join(d.dir, 'data', 'overlay', 'metadata.json'), 'utf8'));
  return Object.entries(state.snapshots as Record<string, { kind: string }>).filter(([, e]) => e.kind === 'active').map(([k]) => k);
};
const containerDirs = async () => (await readdir(join(d.dir, 'data', 'containers'))).filter((n) => /^[0-9a-f]{64}$/.test(n));

test('killed between runc create and the running record: the container starts again, no monitor or bundle stays', async () => {
  const id = (await d.api('POST', '/containers/create', { Image: 'busybox', Cmd: ['sleep', '300'] })).json().Id;
  await crashAt('created', () => d.api('POST', `/containers/${id}/start`));
  assert.equal((await d.api('GET', `/containers/${id}/json`)).json().State.Status, 'created');
  assert.equal(await conmonsUnder(d.dir), 0, 'no monitor left of the lost start');
  assert.deepEqual(await mountsUnder(d.dir), []);
  const s = await d.api('POST', `/containers/${id}/start`);
  assert.equal(s.status, 204, s.body.toString());
  assert.equal((await d.api('DELETE', `/containers/${id}?force=1`)).status, 204);
});

test('killed while a create copies image data into a new volume: berthd comes back, nothing of the create stays', async () => {
  const before = await volumes();
  await crashAt('volumes populating', () => d.api('POST', '/containers/create?name=half', { Image: 'busybox', Volumes: { '/etc': {} } }));
  assert.equal((await d.api('GET', '/containers/half/json')).status, 404);
  assert.deepEqual(await volumes(), before, 'the anonymous volume made for the lost create is gone');
  assert.deepEqual(await mountsUnder(d.dir), []);
  assert.deepEqual(await containerDirs(), []);
  // The name is free again.
  const r = await d.api('POST', '/containers/create?name=half', { Image: 'busybox' });
  assert.equal(r.status, 201, r.body.toString());
  await d.api('DELETE', '/containers/half');
});

test('killed during rm -v: the removal finishes at start-up, anonymous volumes included', async () => {
  const id = (await d.api('POST', '/containers/create', { Image: 'busybox', Cmd: ['sleep', '300'], Volumes: { '/data': {} } })).json().Id;
  assert.equal((await d.api('POST', `/containers/${id}/start`)).status, 204);
  const vol = (await d.api('GET', `/containers/${id}/json`)).json().Mounts[0].Name;
  await crashAt('removing saved', () => d.api('DELETE', `/containers/${id}?force=1&v=1`));
  assert.equal((await d.api('GET', `/containers/${id}/json`)).status, 404);
  assert.ok(!(await volumes()).includes(vol), 'rm -v removes the anonymous volume even across a crash');
  assert.equal(await conmonsUnder(d.dir), 0);
  assert.deepEqual(await mountsUnder(d.dir), []);
});

test('killed on an --rm container\'s exit path (runtime released, record not yet removed): the removal finishes at start-up', async () => {
  for (const phase of ['exit seen', 'runtime deleted', 'snapshot removed']) {
    const id = (await d.api('POST', '/containers/create', { Image: 'busybox', Cmd: ['true'], HostConfig: { AutoRemove: true } })).json().Id;
    await crashAt(phase, async () => {
      const waited = d.api('POST', `/containers/${id}/wait?condition=removed`);
      // The crash may come before start's answer: the wait then fails unobserved.
      waited.catch(() => {});
      await d.api('POST', `/containers/${id}/start`);
      return waited;
    });
    assert.equal((await d.api('GET', `/containers/${id}/json`)).status, 404, `gone after a crash at ${phase}`);
    assert.equal(await conmonsUnder(d.dir), 0);
    assert.deepEqual(await mountsUnder(d.dir), []);
    assert.deepEqual(await containerDirs(), []);
    assert.deepEqual((await readdir(join(d.dir, 'run', 'runc')).catch(() => [])), [], 'no runc state left');
    assert.deepEqual(await activeSnapshots(), [], `no container snapshot left after a crash at ${phase}`);
  }
});

test('an active snapshot that no container records (a removal a power loss undid) goes at start-up', async () => {
  await d.kill('SIGTERM');
  const meta = join(d.dir, 'data', 'overlay', 'metadata.json');
  const state = JSON.parse(await readFile(meta, 'utf8'));
  const ids = Object.values(state.snapshots as Record<string, { id: number }>).map((e) => e.id);
  const id = Math.max(0, ...ids) + 100;
  const key = 'e'.repeat(64);
  state.snapshots[key] = { id, kind: 'active', parent: Object.keys(state.snapshots)[0], created: new Date().toISOString() };
  await mkdir(join(d.dir, 'data', 'overlay', String(id), 'fs'), { recursive: true });
  await mkdir(join(d.dir, 'data', 'overlay', String(id), 'work'));
  await writeFile(meta, JSON.stringify(state));
  await d.launch();
  assert.deepEqual(await activeSnapshots(), []);
  for (let i = 0; i < 100 && existsSync(join(d.dir, 'data', 'overlay', String(id))); i++) await new Promise((r) => setTimeout(r, 20));
  assert.ok(!existsSync(join(d.dir, 'data', 'overlay', String(id))), 'its directory is deleted');
});

test('killed right after a stop or kill signalled an unless-stopped or on-failure container: it stays stopped after the restart', { timeout: 60_000 }, async () => {
  // TERM ends it with 3 (a failure, for on-failure) within a tenth of a second.
  const Cmd = ['sh', '-c', 'trap "exit 3" TERM; while :; do sleep 0.1; done'];
  const cases: Array<[string, string, (id: string) => Promise<unknown>]> = [
    ['unless-stopped', 'stop signalled', (id) => d.api('POST', `/containers/${id}/stop?t=10`)],
    ['on-failure', 'stop signalled', (id) => d.api('POST', `/containers/${id}/stop?t=10`)],
    ['unless-stopped', 'kill signalled', (id) => d.api('POST', `/containers/${id}/kill`)],
    ['on-failure', 'kill signalled', (id) => d.api('POST', `/containers/${id}/kill?signal=TERM`)],
  ];
  for (const [policy, phase, op] of cases) {
    const id = (await d.api('POST', '/containers/create', { Image: 'busybox', Cmd, HostConfig: { RestartPolicy: { Name: policy } } })).json().Id;
    assert.equal((await d.api('POST', `/containers/${id}/start`)).status, 204);
    await crashAt(phase, () => op(id));
    // The policy's first restart would come 100 ms after the exit is recorded (or at once at start-up).
    await new Promise((r) => setTimeout(r, 1500));
    const st = (await d.api('GET', `/containers/${id}/json`)).json();
    assert.equal(st.State.Running, false, `${policy} container ${phase.split(' ')[0]}ped before a crash is not started again`);
    assert.equal(st.RestartCount, 0, `${policy}, ${phase}`);
    assert.equal((await d.api('DELETE', `/containers/${id}?force=1`)).status, 204);
  }
});

test('a container paused or thawed behind berthd\'s back (a crash between runc and the record) shows runc\'s state after the restart', { timeout: 60_000 }, async () => {
  const runc = (op: string, id: string) => execFileP('runc', ['--root', join(d.dir, 'run', 'runc'), op, id]);
  const id = (await d.api('POST', '/containers/create', { Image: 'busybox', Cmd: ['sleep', '1000'] })).json().Id;
  assert.equal((await d.api('POST', `/containers/${id}/start`)).status, 204);
  const state = async () => (await d.api('GET', `/containers/${id}/json`)).json().State;
  let down = false;
  try {
    // runc paused, the record running.
    down = true;
    await d.kill('SIGKILL');
    await runc('pause', id);
    await d.launch();
    down = false;
    assert.deepEqual([(await state()).Status, (await state()).Paused], ['paused', true]);
    const unpaused = await d.api('POST', `/containers/${id}/unpause`);
    assert.equal(unpaused.status, 204, unpaused.body.toString());
    assert.deepEqual([(await state()).Status, (await state()).Paused], ['running', false]);
    // The record paused, runc running.
    assert.equal((await d.api('POST', `/containers/${id}/pause`)).status, 204);
    down = true;
    await d.kill('SIGKILL');
    await runc('resume', id);
    await d.launch();
    down = false;
    assert.deepEqual([(await state()).Status, (await state()).Paused], ['running', false]);
    const paused = await d.api('POST', `/containers/${id}/pause`);
    assert.equal(paused.status, 204, paused.body.toString());
  } finally {
    // Whatever failed, the container goes: thawed (a frozen one may not die) and removed.
    await runc('resume', id).catch(() => {});
    if (down) await d.launch();
    await d.api('DELETE', `/containers/${id}?force=1`);
  }
});

test('temp files of atomic writes a crash left (snapshots, containers, images, volumes, networks, events) go at start-up; nothing else does', { timeout: 60_000 }, async () => {
  const id = (await d.api('POST', '/containers/create?name=tmps', { Image: 'busybox', Cmd: ['true'] })).json().Id;
  assert.equal((await d.api('POST', '/volumes/create', { Name: 'tmpsvol' })).status, 201);
  try {
    const data = join(d.dir, 'data');
    const left = [
      ['overlay', 'metadata.json'], ['containers/' + id, 'container.json'], ['containers/' + id, 'hosts'], ['images', 'images.json'],
      ['volumes/tmpsvol', 'meta.json'], ['network', 'state.json'], ['.', 'events.jsonl'],
    ].map(([dir, name]) => join(data, dir!, `.${name}.0badf00d.tmp`));
    // Not a temp of a file berthd writes atomically there, or not of that pattern: kept.
    const kept = [join(data, 'containers', id, '.ctr.log.0badf00d.tmp'), join(data, 'volumes', 'tmpsvol', '_data', '.meta.json.0badf00d.tmp'), join(data, 'overlay', 'metadata.json.tmp')];
    await d.kill('SIGKILL');
    for (const f of [...left, ...kept]) await writeFile(f, '{"half":');
    await d.launch();
    await d.api('GET', '/volumes'); // the volume service loads (and sweeps) at first use
    assert.deepEqual(left.filter((f) => existsSync(f)), [], 'every crash-left temp is gone');
    assert.deepEqual(kept.filter((f) => !existsSync(f)), [], 'nothing else is touched');
    assert.equal((await d.api('GET', `/containers/${id}/json`)).status, 200);
  } finally {
    await d.api('DELETE', `/containers/${id}`);
    await d.api('DELETE', '/volumes/tmpsvol');
  }
});
