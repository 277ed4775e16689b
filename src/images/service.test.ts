import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { createImageService, type LocalImageService } from './index.js';
import { createContentStore, type ContentStore } from '../content/index.js';
import { createOverlaySnapshotter, type LayerSnapshotter } from '../snapshots/index.js';
import { makeTar } from '../diff/test-tar.js';
import { sha256Digest } from '../common/ids.js';
import { isBerthError } from '../common/errors.js';

interface Env { root: string; images: LocalImageService; content: ContentStore; snapshots: LayerSnapshotter }

async function withEnv(fn: (e: Env) => Promise<void>) {
  const root = await mkdtemp(join(tmpdir(), 'berth-img-'));
  try {
    const content = createContentStore(root);
    const snapshots = createOverlaySnapshotter(root);
    await fn({ root, content, snapshots, images: createImageService({ root, content, snapshots }) });
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

const rootfs = (tag: string) => makeTar([{ name: 'etc/', type: 'directory' }, { name: 'etc/os-release', content: `ID=${tag}\n` }]);
const notInUse = () => false;

test('import plain and gzip tarballs with changes', { timeout: 20_000 }, () => withEnv(async ({ images, content, snapshots }) => {
  const plain = await rootfs('one');
  const a = await images.import(Readable.from([plain]), {
    reference: 'busybox',
    changes: ['CMD ["sh"]', 'ENV A=1 B="two words"', 'ENTRYPOINT /bin/echo hi', 'WORKDIR /srv', 'USER nobody', 'EXPOSE 80 53/udp', 'LABEL k=v', 'VOLUME /data', 'STOPSIGNAL SIGINT'],
    platform: { architecture: 'amd64' },
  });
  assert.deepEqual(a.repoTags, ['busybox:latest']);
  assert.equal(a.config.architecture, 'amd64');
  assert.equal(a.config.os, 'linux');
  assert.deepEqual(a.config.rootfs.diff_ids, [sha256Digest(plain)]);
  assert.equal(a.config.history?.[0]?.comment, 'Imported from -');
  const c = a.config.config!;
  assert.deepEqual(c.Cmd, ['sh']);
  assert.deepEqual(c.Entrypoint, ['/bin/sh', '-c', '/bin/echo hi']);
  assert.deepEqual(c.Env, ['A=1', 'B=two words']);
  assert.equal(c.WorkingDir, '/srv');
  assert.equal(c.User, 'nobody');
  assert.deepEqual(c.ExposedPorts, { '80/tcp': {}, '53/udp': {} });
  assert.deepEqual(c.Labels, { k: 'v' });
  assert.deepEqual(c.Volumes, { '/data': {} });
  assert.equal(c.StopSignal, 'SIGINT');
  // id = digest of the stored config blob; the layer blob is the uncompressed tar.
  assert.equal(sha256Digest(await content.readBuffer(a.id)), a.id);
  assert.deepEqual(await content.readBuffer(sha256Digest(plain)), plain);
  const parent = await images.rootfsParent('busybox:latest');
  assert.equal(parent, a.chainIds.at(-1));
  assert.equal(await readFile(join(await snapshots.committedDir(parent!), 'etc/os-release'), 'utf8'), 'ID=one\n');

  const gz = gzipSync(await rootfs('two'));
  const b = await images.import(Readable.from([gz]), { reference: 'localhost:5000/ns/x:1', message: 'from gz' });
  assert.deepEqual(b.repoTags, ['localhost:5000/ns/x:1']);
  assert.equal(b.config.comment, 'from gz');
  assert.equal(b.config.rootfs.diff_ids[0], sha256Digest(await rootfs('two')));
  assert.equal(b.size, 7);

  await assert.rejects(images.import(Readable.from([plain]), { changes: ['FROM x'] }), /not a valid change command/);
  await assert.rejects(images.import(Readable.from([plain]), { reference: 'UPPER' }), /invalid reference format/);
}));

test('a corrupt or truncated tarball leaves the store unchanged', { timeout: 20_000 }, () => withEnv(async ({ root, images, content, snapshots }) => {
  const good = await makeTar([{ name: 'big', content: Buffer.alloc(20_000, 7) }]);
  const gz = gzipSync(good);
  for (const bad of [good.subarray(0, 5000), gz.subarray(0, gz.length / 2), Buffer.from('not a tarball at all, just text'.repeat(40))]) {
    await assert.rejects(images.import(Readable.from([bad]), { reference: 'broken' }), (e) => isBerthError(e, 'INVALID_ARGUMENT'));
  }
  assert.deepEqual(await content.list(), []);
  assert.deepEqual(await snapshots.list(), []);
  assert.deepEqual(await images.list(), []);
  assert.deepEqual((await readdir(join(root, 'overlay'))).filter((n) => /^\d+$/.test(n)), []);
}));

test('lookup by name, id, prefix; list filters', { timeout: 20_000 }, () => withEnv(async ({ images }) => {
  const a = await images.import(Readable.from([await rootfs('a')]), { reference: 'busybox:latest', changes: ['LABEL tier=base'] });
  await new Promise((r) => setTimeout(r, 5));
  const b = await images.import(Readable.from([await rootfs('b')]), { reference: 'alpine:3' });
  await new Promise((r) => setTimeout(r, 5));
  const c = await images.import(Readable.from([await rootfs('c')]), {});
  for (const ref of ['busybox', 'busybox:latest', 'docker.io/library/busybox', 'index.docker.io/library/busybox:latest', a.id, a.id.slice(7), a.id.slice(0, 15), a.id.slice(7, 19)]) {
    assert.equal((await images.get(ref)).id, a.id, ref);
  }
  await assert.rejects(images.get('busybox:nope'), (e) => isBerthError(e, 'NOT_FOUND') && e.message === 'No such image: busybox:nope');
  // With three random ids some one-digit prefix is shared or absent; check both outcomes are clean.
  for (const d of '0123456789abcdef') {
    const hits = [a, b, c].filter((i) => i.id.startsWith('sha256:' + d));
    if (hits.length === 1) assert.equal((await images.get(d)).id, hits[0]!.id);
    else await assert.rejects(images.get(d), hits.length ? /ambiguous/ : /No such image/);
  }
  const ids = async (f: Parameters<LocalImageService['list']>[0]) => (await images.list(f)).map((i) => i.id);
  assert.deepEqual(await ids({}), [c.id, b.id, a.id]);
  assert.deepEqual(await ids({ dangling: true }), [c.id]);
  assert.deepEqual(await ids({ dangling: false }), [b.id, a.id]);
  assert.deepEqual(await ids({ reference: ['busy*'] }), [a.id]);
  assert.deepEqual(await ids({ reference: ['alpine:3'] }), [b.id]);
  assert.deepEqual(await ids({ label: ['tier=base'] }), [a.id]);
  assert.deepEqual(await ids({ label: ['tier'] }), [a.id]);
  assert.deepEqual(await ids({ before: 'alpine:3' }), [a.id]);
  assert.deepEqual(await ids({ since: 'busybox' }), [c.id, b.id]);
}));

test('tag and rmi follow docker semantics', { timeout: 20_000 }, () => withEnv(async ({ images, content, snapshots }) => {
  const a = await images.import(Readable.from([await rootfs('a')]), { reference: 'busybox' });
  await images.tag('busybox', 'mine:v1');
  await images.tag(a.id.slice(7, 15), 'localhost:5000/x:1');
  assert.deepEqual((await images.get('mine:v1')).repoTags, ['busybox:latest', 'mine:v1', 'localhost:5000/x:1']);
  await assert.rejects(images.tag('busybox', 'x@sha256:' + 'a'.repeat(64)), /digest/);

  // By id with several tags: must force.
  await assert.rejects(images.remove(a.id, {}, notInUse), (e) => isBerthError(e, 'CONFLICT') && /referenced in multiple repositories/.test(e.message));
  // By tag with other tags left: untag only.
  assert.deepEqual(await images.remove('mine:v1', {}, notInUse), [{ Untagged: 'mine:v1' }]);
  assert.deepEqual(await images.remove('localhost:5000/x:1', {}, notInUse), [{ Untagged: 'localhost:5000/x:1' }]);
  // Last tag, used by a container: conflict unless forced.
  const cid = 'c'.repeat(64);
  await assert.rejects(images.remove('busybox', {}, () => cid), (e) => isBerthError(e, 'CONFLICT') &&
    e.message === `conflict: unable to remove repository reference "busybox" (must force) - container cccccccccccc is using its referenced image ${a.id.slice(7, 19)}`);

  // A container's snapshot on the image: a forced rmi keeps the layer it sits on.
  await snapshots.prepare(cid, a.chainIds.at(-1));
  const forced = await images.remove('busybox', { force: true }, () => cid);
  assert.deepEqual(forced, [{ Untagged: 'busybox:latest' }, { Deleted: a.id }]);
  assert.ok(await snapshots.stat(a.chainIds[0]!));
  await snapshots.remove(cid);
  assert.deepEqual(await images.prune(), [a.chainIds[0]]);
  assert.deepEqual(await content.list(), []);

  // A plain rmi deletes the image, its layer and its blobs; a shared layer stays.
  const b = await images.import(Readable.from([await rootfs('b')]), { reference: 'b1' });
  const b2 = await images.import(Readable.from([await rootfs('b')]), { reference: 'b2', changes: ['CMD ["x"]'] });
  assert.deepEqual(b.chainIds, b2.chainIds);
  assert.deepEqual(await images.remove('b1', {}, notInUse), [{ Untagged: 'b1:latest' }, { Deleted: b.id }]);
  assert.ok(await snapshots.stat(b.chainIds[0]!));
  assert.deepEqual(await images.remove(b2.id.slice(7, 12), {}, notInUse), [{ Untagged: 'b2:latest' }, { Deleted: b2.id }, { Deleted: b2.chainIds[0] }]);
  assert.deepEqual(await snapshots.list(), []);
  assert.deepEqual(await content.list(), []);
  await assert.rejects(images.remove('b1', {}, notInUse), (e) => isBerthError(e, 'NOT_FOUND'));
}));

test('history has docker\'s shape; records survive a restart', { timeout: 20_000 }, () => withEnv(async ({ root, images, content, snapshots }) => {
  const a = await images.import(Readable.from([await rootfs('a')]), { reference: 'busybox' });
  const h = await images.history('busybox');
  assert.equal(h.length, 1);
  assert.equal(h[0]!.Id, a.id);
  assert.deepEqual(h[0]!.Tags, ['busybox:latest']);
  assert.equal(h[0]!.CreatedBy, '');
  assert.equal(h[0]!.Comment, 'Imported from -');
  assert.equal(h[0]!.Size, 5);
  assert.equal(typeof h[0]!.Created, 'number');
  const again = createImageService({ root, content, snapshots });
  assert.equal((await again.get('busybox')).id, a.id);
}));

test('concurrent tags of one name end with exactly one owner', { timeout: 20_000 }, () => withEnv(async ({ images }) => {
  const a = await images.import(Readable.from([await rootfs('a')]), {});
  const b = await images.import(Readable.from([await rootfs('b')]), {});
  await Promise.all([images.tag(a.id, 'race'), images.tag(b.id, 'race'), images.tag(a.id, 'race')]);
  const owners = (await images.list()).filter((i) => i.repoTags.includes('race:latest'));
  assert.equal(owners.length, 1);
  assert.equal(owners[0]!.id, a.id);
}));
