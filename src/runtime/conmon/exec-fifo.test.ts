/**
 * The start path without `runc start` (root only): runc's view after the FIFO start,
 * a second start refused, and an init that died before start reported, not hung.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createConmonRuntime, type ConmonRuntime } from '../conmon-runtime.js';
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
