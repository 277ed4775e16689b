import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lstat, mkdir, mkdtemp, readFile, readdir, readlink, rm, stat, symlink, writeFile, chown, chmod, link } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventBus } from '../events/index.js';
import { createVolumeService } from './service.js';
import { copyImageDataIntoVolume } from './copy-up.js';
import { diskUsage } from './usage.js';

async function tmp(t: { after(fn: () => unknown): void }): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'berth-vol-'));
  t.after(() => rm(d, { recursive: true, force: true }));
  return d;
}

test('create, get, list, remove', async (t) => {
  const root = await tmp(t);
  const events = new EventBus();
  const seen: string[] = [];
  events.subscribe((e) => seen.push(`${e.Type}:${e.Action}:${e.Actor.ID}`));
  const vs = createVolumeService({ root, events });
  const v = await vs.create({ name: 'data', labels: { app: 'web' }, driverOpts: { type: 'tmpfs', device: 'tmpfs' } });
  assert.equal(v.Mountpoint, join(root, 'volumes', 'data', '_data'));
  assert.equal(v.Driver, 'local');
  assert.equal(v.anonymous, false);
  // Go's RFC 3339: the local offset, written "Z" when it is zero.
  assert.match(v.CreatedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$/);
  if (new Date().getTimezoneOffset() === 0) assert.ok(v.CreatedAt.endsWith('Z'), v.CreatedAt);
  assert.ok((await stat(v.Mountpoint)).isDirectory());
  const meta = JSON.parse(await readFile(join(root, 'volumes', 'data', 'meta.json'), 'utf8'));
  assert.deepEqual(meta.Labels, { app: 'web' });
  // Repeated create returns the existing volume unchanged.
  const again = await vs.create({ name: 'data', labels: { other: 'x' } });
  assert.deepEqual(again.Labels, { app: 'web' });
  const anon = await vs.create({});
  assert.match(anon.Name, /^[0-9a-f]{64}$/);
  assert.equal(anon.anonymous, true);
  await assert.rejects(vs.create({ name: 'a' }), { code: 'INVALID_ARGUMENT' });
  await assert.rejects(vs.create({ name: '/etc' }), { code: 'INVALID_ARGUMENT' });
  await assert.rejects(vs.create({ name: 'x1', driverOpts: { bogus: '1' } }), { code: 'INVALID_ARGUMENT' });
  await assert.rejects(vs.get('nope'), { code: 'NOT_FOUND', message: 'get nope: no such volume' });

  assert.deepEqual((await vs.list()).map((x) => x.Name).sort(), [anon.Name, 'data'].sort());
  assert.deepEqual((await vs.list({ label: ['app=web'] })).map((x) => x.Name), ['data']);
  assert.deepEqual((await vs.list({ label: ['app'] })).map((x) => x.Name), ['data']);
  assert.deepEqual((await vs.list({ label: ['app=db'] })).map((x) => x.Name), []);
  assert.deepEqual((await vs.list({ name: ['dat'] })).map((x) => x.Name), ['data']);
  const inUse = (n: string) => n === 'data';
  assert.deepEqual((await vs.list({ dangling: true }, inUse)).map((x) => x.Name), [anon.Name]);
  assert.deepEqual((await vs.list({ dangling: false }, inUse)).map((x) => x.Name), ['data']);

  await assert.rejects(vs.remove('data', {}, inUse), { code: 'CONFLICT', message: 'remove data: volume is in use' });
  await assert.rejects(vs.remove('ghost', {}, inUse), { code: 'NOT_FOUND' });
  await vs.remove('ghost', { force: true }, inUse);
  await vs.remove('data', {}, () => false);
  await assert.rejects(stat(join(root, 'volumes', 'data')), { code: 'ENOENT' });
  assert.ok(seen.includes('volume:create:data') && seen.includes('volume:destroy:data'));

  // A fresh service (daemon restart) sees what is on disk.
  const vs2 = createVolumeService({ root });
  assert.deepEqual((await vs2.list()).map((x) => x.Name), [anon.Name]);
  assert.equal((await vs2.get(anon.Name)).anonymous, true);
});

test('crash leftovers: trash is cleaned, meta-less dirs adopted', async (t) => {
  const root = await tmp(t);
  await mkdir(join(root, 'volumes', '.trash-old-1234', '_data'), { recursive: true });
  await mkdir(join(root, 'volumes', 'handmade', '_data'), { recursive: true });
  const vs = createVolumeService({ root });
  assert.deepEqual((await vs.list()).map((x) => x.Name), ['handmade']);
  assert.deepEqual((await readdir(join(root, 'volumes'))).sort(), ['handmade']);
});

test('prune: anonymous by default, all with all, label filters, space reclaimed', async (t) => {
  const root = await tmp(t);
  const vs = createVolumeService({ root });
  const a1 = await vs.create({ labels: { keep: '1' } });
  const a2 = await vs.create({});
  const a3 = await vs.create({});
  await vs.create({ name: 'named' });
  await vs.create({ name: 'named-used' });
  await writeFile(join(a2.Mountpoint, 'blob'), Buffer.alloc(100_000, 1));
  const inUse = (n: string) => n === a3.Name || n === 'named-used';
  const r = await vs.prune({ labelNot: ['keep'] }, inUse);
  assert.deepEqual(r.VolumesDeleted, [a2.Name]);
  assert.ok(r.SpaceReclaimed >= 100_000, String(r.SpaceReclaimed));
  const r2 = await vs.prune({ all: true }, inUse);
  assert.deepEqual(r2.VolumesDeleted.sort(), [a1.Name, 'named'].sort());
  assert.deepEqual((await vs.list()).map((x) => x.Name).sort(), [a3.Name, 'named-used'].sort());
  const u = await vs.create({ name: 'sized' });
  await writeFile(join(u.Mountpoint, 'f'), Buffer.alloc(50_000, 1));
  await link(join(u.Mountpoint, 'f'), join(u.Mountpoint, 'hardlink'));
  const usage = await vs.usage('sized');
  assert.ok(usage >= 50_000 && usage < 100_000, String(usage));
  assert.equal(await diskUsage(join(root, 'missing')), 0);
});

test('copyImageDataIntoVolume keeps modes, owners, links and never follows symlinks', async (t) => {
  const d = await tmp(t);
  const src = join(d, 'rootfs', 'var', 'lib', 'app');
  const vol = join(d, 'vol');
  await mkdir(join(src, 'sub'), { recursive: true });
  await mkdir(vol);
  await writeFile(join(src, 'file'), 'hello');
  await chown(join(src, 'file'), 1234, 5678);
  await chmod(join(src, 'file'), 0o4750);
  await chown(join(src, 'sub'), 42, 43);
  await chmod(join(src, 'sub'), 0o1777);
  await link(join(src, 'file'), join(src, 'sub', 'hard'));
  await writeFile(join(d, 'host-secret'), 'secret');
  await symlink(join(d, 'host-secret'), join(src, 'abs-link'));
  await symlink('../../../../host-secret', join(src, 'rel-link'));
  execFileSync('mkfifo', [join(src, 'fifo')]);
  await chown(src, 99, 98);
  await chmod(src, 0o700);

  assert.equal(await copyImageDataIntoVolume(src, vol), true);
  const f = await stat(join(vol, 'file'));
  assert.equal(f.mode & 0o7777, 0o4750);
  assert.equal(f.uid, 1234);
  assert.equal(f.gid, 5678);
  assert.equal(await readFile(join(vol, 'file'), 'utf8'), 'hello');
  assert.equal((await stat(join(vol, 'sub', 'hard'))).ino, f.ino);
  const sub = await stat(join(vol, 'sub'));
  assert.equal(sub.mode & 0o7777, 0o1777);
  assert.equal(sub.uid, 42);
  assert.equal(await readlink(join(vol, 'abs-link')), join(d, 'host-secret'));
  assert.ok((await lstat(join(vol, 'rel-link'))).isSymbolicLink());
  assert.ok((await lstat(join(vol, 'fifo'))).isFIFO());
  const root = await stat(vol);
  assert.equal(root.uid, 99);
  assert.equal(root.mode & 0o7777, 0o700);
  // A volume with content is not overwritten; a symlinked or missing source copies nothing.
  assert.equal(await copyImageDataIntoVolume(src, vol), false);
  const vol2 = join(d, 'vol2');
  await mkdir(vol2);
  await symlink(src, join(d, 'src-link'));
  assert.equal(await copyImageDataIntoVolume(join(d, 'src-link'), vol2), false);
  assert.equal(await copyImageDataIntoVolume(join(d, 'nope'), vol2), false);
  assert.deepEqual(await readdir(vol2), []);
});
