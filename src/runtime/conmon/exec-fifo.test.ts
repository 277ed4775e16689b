/**
 * The start path without `runc start` (root only): runc's view after the FIFO start,
 * a second start refused, and an init that died before start reported, not hung.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createConmonRuntime, type ConmonRuntime } from '../conmon-runtime.js';
import { startViaExecFifo } from './exec-fifo.js';
import { makeBusyboxRootfs, rootfsMounts, testSpec, removeCgroupParent, rmTree } from '../test-support.js';

const root = process.getuid?.() === 0;
const T = { timeout: 30_000, skip: root ? false : 'needs root' };

let execRoot = '';
let rootfs = '';
let rt: ConmonRuntime;
let n = 0;
const newId = () => `f${process.pid}-${++n}`;

before(async () => {
  if (!root) return;
  execRoot = await mkdtemp('/tmp/brf-');
  rootfs = await makeBusyboxRootfs();
  rt = createConmonRuntime({ execRoot });
});

after(async () => {
  if (!root) return;
  for (const id of await rt.list()) await rt.delete(id);
  await rt.close();
  await rmTree(execRoot);
  await rmTree(rootfs);
  await removeCgroupParent();
});

async function created(args: string[]): Promise<{ id: string; pid: number }> {
  const id = newId();
  const spec = await testSpec(id, { args });
  const { pid } = await rt.create({ id, spec, rootfs: rootfsMounts(rootfs), logPath: join(execRoot, `${id}.log`), terminal: false, stdin: false });
  return { id, pid };
}

test('start releases init through exec.fifo: runc sees running, the FIFO is gone, a second start is refused', T, async () => {
  const { id } = await created(['sleep', '30']);
  const fifo = join(execRoot, 'runc', id, 'exec.fifo');
  assert.equal(existsSync(fifo), true, 'runc create leaves the exec FIFO');
  assert.equal((await rt.state(id))?.status, 'created');
  await rt.start(id);
  assert.equal(existsSync(fifo), false);
  assert.equal((await rt.state(id))?.status, 'running');
  // No FIFO: the fallback `runc start` gives runc's own refusal.
  await assert.rejects(rt.start(id), (e: any) => e.code === 'FAILED_PRECONDITION' || e.code === 'INTERNAL');
  await rt.kill(id, 9);
  assert.equal((await rt.waitExit(id)).exitCode, 137);
  await rt.delete(id);
});

test('start of a container whose init was killed after create fails quickly, it does not hang', T, async () => {
  const { id, pid } = await created(['true']);
  process.kill(pid, 'SIGKILL');
  const t0 = Date.now();
  await assert.rejects(rt.start(id), (e: any) => /dead|cannot start|stopped/i.test(e.message));
  assert.ok(Date.now() - t0 < 5_000, 'start returned promptly');
  await rt.waitExit(id);
  await rt.delete(id);
});

test('the process runs: its exit code is recorded after a FIFO start', T, async () => {
  const { id } = await created(['sh', '-c', 'exit 7']);
  await rt.start(id);
  assert.equal((await rt.waitExit(id)).exitCode, 7);
  await rt.delete(id);
});

test('a quick process whose byte is still unread when the liveness poll finds it dead counts as started', { timeout: 10_000 }, async () => {
  // The race a loaded berthd lost: init wrote its byte, exec'd, ended; the 100 ms poll ran
  // before the loop read the FIFO and answered "already dead" for a container that ran.
  const dir = await mkdtemp('/tmp/brf-race-');
  const fifo = join(dir, 'exec.fifo');
  try {
    execFileSync('mkfifo', [fifo]);
    const writer = spawn('sh', ['-c', `printf 0 > ${fifo}`], { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 100)); // the writer now blocks in open(2)
    // Go on from the loop's check phase, so that its next step is the timers, not the poll.
    await new Promise((r) => setImmediate(r));
    const started = startViaExecFifo(fifo, writer.pid!, 5_000);
    const until = Date.now() + 250;
    while (Date.now() < until) { /* a busy loop: the poll's timer comes due before the FIFO is read */ }
    assert.equal(await started, true);
  } finally {
    await rmTree(dir);
  }
});
