import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ContainerStore } from './store.js';
import type { ContainerRecord } from './types.js';

const settle = async (dir: string, want: string[]) => {
  for (let i = 0; i < 100 && (await readdir(dir)).sort().join() !== want.join(); i++) await new Promise((r) => setTimeout(r, 10));
  return (await readdir(dir)).sort();
};

test('delete takes the record at once, its files in the background; load sweeps what a crash left', async () => {
  const root = await mkdtemp(join(tmpdir(), 'berth-store-'));
  try {
    const store = new ContainerStore(root);
    await store.load();
    const id = 'a'.repeat(64);
    await store.add({ Id: id, Name: 'one' } as ContainerRecord);
    await writeFile(join(store.dir(id), 'ctr.log'), 'x\n');
    await store.delete(id);
    assert.equal(store.tryGet(id), undefined);
    assert.equal(store.nameTaken('one'), false);
    assert.ok(!(await readdir(store.root)).includes(id), 'the record is gone when delete resolves');
    assert.deepEqual(await settle(store.root, []), []);
    // A crash between the rename and the background delete: the next load removes it.
    await mkdir(join(store.root, '.trash-aaaaaaaaaaaa-01020304', 'x'), { recursive: true });
    const again = new ContainerStore(root);
    assert.deepEqual(await again.load(), []);
    assert.deepEqual(again.abandoned, []);
    assert.deepEqual(await readdir(store.root), []);
    await store.delete('b'.repeat(64)); // nothing there: no error
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('a record removed (or a stale copy of one) is never saved again: no directory, no index entry, no name', async () => {
  const root = await mkdtemp(join(tmpdir(), 'berth-store-'));
  try {
    const store = new ContainerStore(root);
    await store.load();
    const id = 'c'.repeat(64);
    const rec = { Id: id, Name: 'gone' } as ContainerRecord;
    await store.add(rec);
    // A save under way when the removal moves the directory away fails, it does not land in a new one.
    const racing = store.save(rec);
    await store.delete(id);
    await racing.catch(() => {});
    await assert.rejects(store.save(rec), /No such container/);
    await assert.rejects(store.save({ ...rec }), /No such container/);
    assert.equal(store.tryGet(id), undefined);
    assert.equal(store.nameTaken('gone'), false);
    assert.ok(!(await readdir(store.root)).includes(id), 'the directory is not re-created');
    assert.deepEqual(await new ContainerStore(root).load(), []);
    // A copy of a live record is stale too: only the store's own object is written.
    const live = { Id: 'd'.repeat(64), Name: 'live' } as ContainerRecord;
    await store.add(live);
    await assert.rejects(store.save({ ...live, Name: 'other' }), /No such container/);
    assert.equal((await new ContainerStore(root).load())[0]?.Name, 'live');
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
