import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, mkdir, readdir, readFile, writeFile, access } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createOverlaySnapshotter } from './index.js';
import { overlayVolatile } from './overlay.js';
import { applyLayer } from '../diff/index.js';
import { makeTar, type TestEntry } from '../diff/test-tar.js';
import { mountAll, unmountAll } from '../mount/mount.js';
import { isBerthError } from '../common/errors.js';

async function withRoot(fn: (root: string) => Promise<void>) {
  const root = await mkdtemp(join(tmpdir(), 'berth-snap-'));
  try { await fn(root); } finally { await rm(root, { recursive: true, force: true }); }
}

const layer = (entries: TestEntry[]) => async (dir: string) => {
  const r = await applyLayer(Readable.from([await makeTar(entries)]), dir);
  return r.diffId; // tests key by diff id; the image service keys by chain id
};

test('three layers with a whiteout and an opaque dir mount as one tree', { timeout: 30_000 }, () => withRoot(async (root) => {
  const sn = createOverlaySnapshotter(root);
  const l1 = await sn.commitLayer(undefined, layer([
    { name: 'a', content: 'A' },
    { name: 'dir/', type: 'directory' },
    { name: 'dir/x', content: 'X' },
    { name: 'dir/y', content: 'Y' },
    { name: 'opq/', type: 'directory' },
    { name: 'opq/old', content: 'old' },
  ]));
  const l2 = await sn.commitLayer(l1.key, layer([
    { name: 'dir/.wh.x', content: '' },
    { name: 'opq/', type: 'directory' },
    { name: 'opq/.wh..wh..opq', content: '' },
    { name: 'opq/new', content: 'new' },
  ]));
  const l3 = await sn.commitLayer(l2.key, layer([{ name: 'c', content: 'C' }, { name: 'a', content: 'A3' }]));
  assert.ok(l1.created && l2.created && l3.created);

  const mounts = await sn.prepare('ctr1', l3.key);
  assert.equal(mounts[0]!.type, 'overlay');
  const target = join(root, 'mnt');
  await mkdir(target);
  await mountAll(mounts, target);
  try {
    assert.deepEqual((await readdir(target)).sort(), ['a', 'c', 'dir', 'opq']);
    assert.equal(await readFile(join(target, 'a'), 'utf8'), 'A3');
    assert.deepEqual(await readdir(join(target, 'dir')), ['y']);
    assert.deepEqual(await readdir(join(target, 'opq')), ['new']);
    await writeFile(join(target, 'written'), 'w');
  } finally {
    await unmountAll(target);
  }
  assert.equal(await readFile(join(await sn.upperDir('ctr1'), 'written'), 'utf8'), 'w');

  // GC: nothing under an active snapshot goes; after it, the chain goes top-down.
  assert.equal(await sn.removeIfUnused(l3.key), false);
  assert.equal(await sn.removeIfUnused(l1.key), false);
  await assert.rejects(sn.remove(l2.key), (e) => isBerthError(e, 'FAILED_PRECONDITION'));
  await sn.remove('ctr1');
  assert.equal(await sn.removeIfUnused(l1.key), false);
  assert.equal(await sn.removeIfUnused(l3.key), true);
  assert.equal(await sn.removeIfUnused(l2.key), true);
  assert.equal(await sn.removeIfUnused(l1.key), true);
  assert.deepEqual(await sn.list(), []);
  // Removed directories are moved aside at once and deleted in the background.
  assert.deepEqual((await readdir(join(root, 'overlay'))).filter((n) => !n.startsWith('.trash-')).sort(), ['empty', 'l', 'metadata.json']);
  for (let i = 0; i < 200 && (await readdir(join(root, 'overlay'))).length > 3; i++) await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual((await readdir(join(root, 'overlay'))).sort(), ['empty', 'l', 'metadata.json']);
  assert.deepEqual(await readdir(join(root, 'overlay', 'l')), []);
}));

test('a snapshot with no parent mounts; state survives a restart; crash leftovers go', { timeout: 20_000 }, () => withRoot(async (root) => {
  const sn = createOverlaySnapshotter(root);
  const target = join(root, 'mnt');
  await mkdir(target);
  await mountAll(await sn.prepare('scratch', undefined), target);
  try {
    await writeFile(join(target, 'f'), '1');
  } finally {
    await unmountAll(target);
  }
  const base = await sn.commitLayer(undefined, layer([{ name: 'f', content: 'x' }]));
  // Same content again: deduplicated, nothing new on disk.
  const again = await sn.commitLayer(undefined, layer([{ name: 'f', content: 'x' }]));
  assert.equal(again.key, base.key);
  assert.equal(again.created, false);
  // A failing apply leaves nothing.
  await assert.rejects(sn.commitLayer(undefined, async () => { throw new Error('boom'); }), /boom/);
  await mkdir(join(root, 'overlay', '999', 'fs'), { recursive: true }); // as if a crash mid-apply
  await mkdir(join(root, 'overlay', '.trash-7-0a0b0c0d', 'fs'), { recursive: true }); // a crash mid-removal

  const sn2 = createOverlaySnapshotter(root);
  assert.equal((await sn2.stat('scratch'))?.kind, 'active');
  assert.equal((await sn2.stat(base.key))?.kind, 'committed');
  assert.equal(await readFile(join(await sn2.committedDir(base.key), 'f'), 'utf8'), 'x');
  await assert.rejects(access(join(root, 'overlay', '999')));
  await assert.rejects(access(join(root, 'overlay', '.trash-7-0a0b0c0d')));
  assert.equal((await readdir(join(root, 'overlay'))).filter((n) => /^\d+$/.test(n)).length, 2);
  await assert.rejects(sn2.prepare('scratch', undefined), (e) => isBerthError(e, 'ALREADY_EXISTS'));
  await assert.rejects(sn2.prepare('x', 'nope'), (e) => isBerthError(e, 'NOT_FOUND'));
  assert.equal(await sn2.usage(base.key), 1);
}));

test('a 90-layer chain stays under the page-size limit and mounts; too many is a clear error', { timeout: 60_000 }, () => withRoot(async (root) => {
  const sn = createOverlaySnapshotter(root);
  let parent: string | undefined;
  for (let i = 0; i < 90; i++) {
    const r = await sn.commitLayer(parent, async (dir) => {
      await writeFile(join(dir, `f${i}`), String(i));
      return `layer-${i}`;
    });
    parent = r.key;
  }
  const mounts = await sn.prepare('deep', parent);
  assert.ok(mounts[0]!.options.join(',').length < 4096);
  const target = join(root, 'mnt');
  await mkdir(target);
  await mountAll(mounts, target);
  try {
    assert.equal((await readdir(target)).length, 90);
    assert.equal(await readFile(join(target, 'f0'), 'utf8'), '0');
  } finally {
    await unmountAll(target);
  }
  for (let i = 90; i < 140; i++) parent = (await sn.commitLayer(parent, async () => `layer-${i}`)).key;
  const snapDirs = async () => (await readdir(join(root, 'overlay'))).filter((n) => /^\d+$/.test(n)).sort();
  const dirsBefore = await snapDirs();
  const tooDeep = (e: unknown) => isBerthError(e, 'INVALID_ARGUMENT') && /^max depth exceeded: the image has 140 layers and overlay can mount at most \d+ here .*page.*flatten the image/.test(e.message);
  await assert.rejects(sn.prepare('too-deep', parent), tooDeep);
  // prepareEarly (a container create) must settle too: it used to wait forever, the entry kept.
  let timer!: NodeJS.Timeout;
  const hung = new Promise((_, rej) => { timer = setTimeout(() => rej(new Error('prepareEarly never settled')), 5000); });
  await assert.rejects(Promise.race([sn.prepareEarly('too-deep', parent), hung]).finally(() => clearTimeout(timer)), tooDeep);
  assert.equal(await sn.stat('too-deep'), undefined);
  assert.deepEqual(await snapDirs(), dirsBefore);
  assert.equal((await createOverlaySnapshotter(root).stat('too-deep')), undefined, 'not on disk either');
  // The store still works: the 90-layer snapshot goes, a shallow one comes.
  await sn.remove('deep');
  await sn.prepareEarly('shallow', 'layer-3').then((r) => r.durable);
  assert.equal((await sn.stat('shallow'))?.kind, 'active');
}));

test('layers apply side by side and commit bottom-up (parentReady); a failed parent drops the child', { timeout: 20_000 }, () => withRoot(async (root) => {
  const sn = createOverlaySnapshotter(root);
  let releaseParent!: () => void;
  const parentApplied = new Promise<void>((r) => { releaseParent = r; });
  let parentCommitted!: () => void;
  const parentReady = new Promise<void>((r) => { parentCommitted = r; });
  const order: string[] = [];
  // The child applies (and finishes) while the parent is still applying.
  const child = sn.commitLayer('p', async (dir) => {
    await writeFile(join(dir, 'c'), 'c');
    order.push('child applied');
    releaseParent();
    return 'c';
  }, { parentReady });
  const parent = sn.commitLayer(undefined, async (dir) => {
    await parentApplied;
    await writeFile(join(dir, 'p'), 'p');
    order.push('parent applied');
    return 'p';
  }).then((r) => { order.push('parent committed'); parentCommitted(); return r; });
  assert.equal((await parent).key, 'p');
  assert.equal((await child).key, 'c');
  assert.deepEqual(order, ['child applied', 'parent applied', 'parent committed']);
  assert.equal((await sn.stat('c'))?.parent, 'p');
  // The parent can no longer go: the child sits on it.
  assert.equal(await sn.removeIfUnused('p'), false);

  // A parent that fails: the child's dir is dropped and nothing is recorded.
  const before = (await readdir(join(root, 'overlay'))).sort();
  await assert.rejects(sn.commitLayer('q', async (dir) => {
    await writeFile(join(dir, 'x'), 'x');
    return 'x';
  }, { parentReady: Promise.reject(new Error('parent broke')) }), /parent broke/);
  assert.equal(await sn.stat('x'), undefined);
  assert.deepEqual((await readdir(join(root, 'overlay'))).sort(), before);
  // A parent that "succeeds" without committing the key: refused at commit, dir dropped.
  await assert.rejects(sn.commitLayer('never', async () => 'y', { parentReady: Promise.resolve() }), (e) => isBerthError(e, 'NOT_FOUND'));
  assert.deepEqual((await readdir(join(root, 'overlay'))).sort(), before);
}));

test('prepareEarly: mountable before its metadata is durable; durable survives a restart; same key twice is refused', { timeout: 20_000 }, () => withRoot(async (root) => {
  const sn = createOverlaySnapshotter(root);
  const base = await sn.commitLayer(undefined, layer([{ name: 'f', content: 'x' }]));
  const { mounts, durable } = await sn.prepareEarly('early', base.key);
  assert.deepEqual(await sn.mounts('early'), mounts, 'visible in this process at once');
  const target = join(root, 'mnt');
  await mkdir(target);
  await mountAll(mounts, target);
  try {
    assert.equal(await readFile(join(target, 'f'), 'utf8'), 'x');
  } finally {
    await unmountAll(target);
  }
  await durable;
  await assert.rejects(sn.prepareEarly('early', base.key), (e) => isBerthError(e, 'ALREADY_EXISTS'));
  const again = createOverlaySnapshotter(root);
  assert.equal((await again.stat('early'))?.kind, 'active');
  await again.remove('early');
}));

test('volatile mounts: the overlay takes the option, and the snapshot mounts again after (the kernel marker is cleared)', { timeout: 20_000 }, () => withRoot(async (root) => {
  const sn = createOverlaySnapshotter(root);
  const target = join(root, 'mnt');
  await mkdir(target);
  await sn.prepare('c1', undefined);
  const vol = await sn.mounts('c1', { volatile: true });
  assert.ok(vol[0]!.options.includes('volatile'), vol[0]!.options.join(','));
  assert.ok(!(await sn.mounts('c1'))[0]!.options.includes('volatile'));
  await mountAll(vol, target);
  try {
    await writeFile(join(target, 'f'), 'kept');
    // The kernel marks the work dir of a volatile overlay (and refuses another mount while the marker is there).
    assert.ok((await readdir(join(root, 'overlay'), { recursive: true })).some((p) => p.endsWith(join('incompat', 'volatile'))));
  } finally {
    await unmountAll(target);
  }
  // A restart of the container: mounted again (volatile, then not), its writes intact.
  for (const volatile of [true, false]) {
    await mountAll(await sn.mounts('c1', { volatile }), target);
    try {
      assert.equal(await readFile(join(target, 'f'), 'utf8'), 'kept');
    } finally {
      await unmountAll(target);
    }
  }
}));

test('overlayVolatile: Linux 5.10 and later', () => {
  assert.equal(overlayVolatile('6.18.44-fc'), true);
  assert.equal(overlayVolatile('5.10.0-28-amd64'), true);
  assert.equal(overlayVolatile('5.4.0-150-generic'), false);
  assert.equal(overlayVolatile('4.19.0'), false);
});

test('remove with durable: false: gone at once for this process, from the metadata file a few ms later', { timeout: 20_000 }, () => withRoot(async (root) => {
  const sn = createOverlaySnapshotter(root);
  await sn.prepare('a', undefined);
  await sn.prepare('b', undefined);
  await sn.remove('a', { durable: false });
  await sn.remove('b', { durable: false });
  assert.equal(await sn.stat('a'), undefined);
  assert.equal(await sn.stat('b'), undefined);
  const onDisk = async () => Object.keys(JSON.parse(await readFile(join(root, 'overlay', 'metadata.json'), 'utf8')).snapshots);
  for (let i = 0; i < 100 && (await onDisk()).length > 0; i++) await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(await onDisk(), []);
  assert.equal(await createOverlaySnapshotter(root).stat('a'), undefined);
  // A durable change after a lazy one writes both.
  await sn.prepare('c', undefined);
  await sn.remove('c', { durable: false });
  await sn.prepare('d', undefined);
  assert.deepEqual(await onDisk(), ['d']);
}));
