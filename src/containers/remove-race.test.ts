/**
 * Operations queued behind an rm on the container's lock (restart, start, rename, stop,
 * network connect/disconnect, update): once the rm has removed the container they fail
 * with No such container and nothing of it comes back, on disk or in the index. The rm
 * is held inside its destroy (the snapshot removal waits for a gate) while the other
 * operation is queued, so the order is fixed, not left to timing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { isBerthError, notFound } from '../common/errors.js';
import { ContainerManager } from './manager.js';
import { Lifecycle } from './lifecycle.js';
import { ContainerStore } from './store.js';
import { connectNetwork, disconnectNetwork } from './network-hooks.js';
import { updateContainer } from './update.js';
import { initialState } from './rules.js';
import type { ContainerDeps } from './deps.js';
import type { ContainerRecord } from './types.js';

function fakeDeps(dataRoot: string, snapshotRemoved: () => Promise<void>): ContainerDeps {
  const net = { Name: 'nn', Id: 'e'.repeat(64), Driver: 'bridge' };
  return {
    dataRoot,
    runtime: { name: 'runc', delete: async () => {}, kill: async () => {}, state: async () => undefined },
    images: {},
    volumes: {},
    snapshots: {
      remove: snapshotRemoved,
      // What a start finds once the rm took the snapshot away.
      mounts: async (key: string) => { throw notFound(`snapshot ${key}: not found`); },
    },
    events: { publish: () => {}, subscribe: () => () => {} },
    network: { get: () => net, tearDown: async () => [], sandbox: () => undefined },
    logMaxSize: 0,
    logMaxFiles: 1,
  } as unknown as ContainerDeps;
}

function record(m: ContainerManager, n: number): ContainerRecord {
  const id = n.toString(16).padStart(64, 'a');
  const dir = m.store.dir(id);
  return {
    Id: id, Name: `race${n}`, Created: new Date().toISOString(), Path: 'true', Args: [], ImageRef: 'busybox', Image: 'sha256:' + 'b'.repeat(64),
    Config: {}, HostConfig: {}, NetworkingConfig: { EndpointsConfig: { nn: {} } },
    State: { ...initialState(), Status: 'exited', StartedAt: new Date().toISOString() },
    RestartCount: 0, LogPath: join(dir, 'ctr.log'), ResolvConfPath: join(dir, 'resolv.conf'), HostnamePath: join(dir, 'hostname'), HostsPath: join(dir, 'hosts'),
    Driver: 'overlay2', Mounts: [], OciMounts: [],
  } as unknown as ContainerRecord;
}

test('an operation queued behind an rm fails with No such container and brings nothing back', async () => {
  const root = await mkdtemp('/tmp/berth-rmrace-');
  let gate: Promise<void> = Promise.resolve();
  const m = new ContainerManager(fakeDeps(root, () => gate));
  const life = new Lifecycle(m);
  await m.store.load();
  const ops: Array<[string, (c: ContainerRecord) => Promise<unknown>]> = [
    ['restart', (c) => life.restart(c.Id, { timeout: 1 })],
    ['start', (c) => life.start(c.Id)],
    ['rename', (c) => m.rename(c.Id, `${c.Name}-renamed`)],
    ['stop', (c) => life.stop(c.Id)],
    ['network connect', (c) => connectNetwork(m, c.Id, { network: 'nn2' })],
    ['network disconnect', (c) => disconnectNetwork(m, c.Id, 'nn')],
    ['update', (c) => updateContainer(m, c.Id, { RestartPolicy: { Name: 'always' } } as never)],
  ];
  try {
    for (const [i, [name, op]] of ops.entries()) {
      const c = record(m, i + 1);
      await m.store.add(c);
      let open!: () => void;
      gate = new Promise((r) => (open = r));
      const removed = m.remove(c.Id, { force: true });
      const raced = op(c).then(() => undefined, (e: unknown) => e);
      open();
      await removed;
      const err = await raced;
      assert.ok(isBerthError(err, 'NOT_FOUND'), `${name} after rm: ${String(err)}`);
      assert.equal(m.store.tryGet(c.Id), undefined, `${name}: not back in the index`);
      assert.equal(m.store.nameTaken(c.Name) || m.store.nameTaken(`${c.Name}-renamed`), false, `${name}: the name is free`);
      assert.ok(!existsSync(m.store.dir(c.Id)), `${name}: no directory came back`);
      const reloaded = await new ContainerStore(root).load();
      assert.ok(!reloaded.some((x) => x.Id === c.Id), `${name}: no record on disk`);
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
