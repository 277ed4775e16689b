import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, readFile, lstat, readlink, stat, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { applyLayer, decompress, lgetxattr } from './index.js';
import { makeTar, paxRecord } from './test-tar.js';
import { sha256Digest } from '../common/ids.js';
import { isBerthError } from '../common/errors.js';

async function withDir(fn: (dir: string) => Promise<void>) {
  const dir = await mkdtemp(join(tmpdir(), 'berth-apply-'));
  try { await fn(dir); } finally { await rm(dir, { recursive: true, force: true }); }
}

test('applies files, dirs, modes, owners, times, links, devices, xattrs and whiteouts', { timeout: 20_000 }, () => withDir(async (dir) => {
  // security.capability with bytes >= 0x80 (CAP_SETUID is bit 7) must survive.
  const cap = Buffer.from([0x01, 0x00, 0x00, 0x02, 0x80, 0x04, 0x00, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  const pax = paxRecord('SCHILY.xattr.security.capability', cap);
  const mtime = new Date(1_500_000_000_000);
  const data = await makeTar([
    { name: './', type: 'directory', mode: 0o755 },
    { name: 'etc/', type: 'directory', mode: 0o750, uid: 1, gid: 2, mtime },
    { name: 'etc/passwd', content: 'root:x:0:0::/root:/bin/sh\n', mode: 0o640, uid: 0, gid: 42, mtime },
    { name: 'bin/', type: 'directory' },
    { name: 'PaxHeaders/ping', type: 'pax-header', content: pax },
    { name: 'bin/ping', content: 'ELF', mode: 0o4755 },
    { name: 'bin/sh', type: 'symlink', linkname: '/bin/busybox' },
    { name: 'bin/hl', type: 'link', linkname: 'bin/ping' },
    { name: 'dev/', type: 'directory' },
    { name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666 },
    { name: 'dev/fifo', type: 'fifo', mode: 0o600 },
    { name: 'gone/.wh.file', content: '' },
    { name: 'opq/', type: 'directory' },
    { name: 'opq/.wh..wh..opq', content: '' },
    { name: 'opq/kept', content: 'k' },
    { name: 'twice', content: 'one' },
    { name: 'twice', content: 'two' },
  ]);
  const res = await applyLayer(Readable.from([data]), dir);
  assert.equal(res.diffId, sha256Digest(data));
  assert.equal(res.size, data.length);
  assert.equal(res.contentSize, 26 + 3 + 1 + 3 + 3);

  assert.equal(await readFile(join(dir, 'etc/passwd'), 'utf8'), 'root:x:0:0::/root:/bin/sh\n');
  const pw = await stat(join(dir, 'etc/passwd'));
  assert.equal(pw.mode & 0o7777, 0o640);
  assert.equal(pw.gid, 42);
  assert.equal(pw.mtime.getTime(), mtime.getTime());
  const etc = await stat(join(dir, 'etc'));
  assert.equal(etc.mode & 0o7777, 0o750);
  assert.equal(etc.uid, 1);
  assert.equal(etc.mtime.getTime(), mtime.getTime(), 'dir mtime set after its children');
  assert.equal((await stat(join(dir, 'bin/ping'))).mode & 0o7777, 0o4755);
  assert.deepEqual(lgetxattr(join(dir, 'bin/ping'), 'security.capability'), cap);
  assert.equal(await readlink(join(dir, 'bin/sh')), '/bin/busybox');
  assert.equal((await stat(join(dir, 'bin/hl'))).ino, (await stat(join(dir, 'bin/ping'))).ino);
  const dn = await lstat(join(dir, 'dev/null'));
  assert.ok(dn.isCharacterDevice());
  assert.equal(dn.rdev, 0x103);
  assert.ok((await lstat(join(dir, 'dev/fifo'))).isFIFO());
  const wh = await lstat(join(dir, 'gone/file'));
  assert.ok(wh.isCharacterDevice());
  assert.equal(wh.rdev, 0);
  assert.deepEqual(lgetxattr(join(dir, 'opq'), 'trusted.overlay.opaque'), Buffer.from('y'));
  assert.deepEqual((await readdir(join(dir, 'opq'))).sort(), ['kept']);
  assert.equal(await readFile(join(dir, 'twice'), 'utf8'), 'two');
}));

test('decompress detects gzip and passes plain through; a broken zstd frame is a clear error', { timeout: 10_000 }, async () => {
  const data = await makeTar([{ name: 'a', content: 'x' }]);
  for (const input of [data, gzipSync(data)]) {
    const { stream } = await decompress(Readable.from([input]));
    const out: Buffer[] = [];
    for await (const c of stream) out.push(c as Buffer);
    assert.deepEqual(Buffer.concat(out), data);
  }
  const zstd = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0, 0]);
  // zstd itself is covered in decompress.test.ts; a frame this short is corrupt.
  const { stream } = await decompress(Readable.from([zstd]));
  await assert.rejects((async () => { for await (const _ of stream) { /* drain */ } })(), (e) => isBerthError(e, 'INVALID_ARGUMENT') && /zstd/.test(e.message));
});

test('truncated or garbage archives are refused with INVALID_ARGUMENT', { timeout: 10_000 }, () => withDir(async (dir) => {
  const data = await makeTar([{ name: 'big', content: Buffer.alloc(5000, 1) }]);
  await assert.rejects(applyLayer(Readable.from([data.subarray(0, 2000)]), join(dir)), (e) => isBerthError(e, 'INVALID_ARGUMENT'));
  await assert.rejects(applyLayer(Readable.from([Buffer.alloc(1024, 0x41)]), dir), (e) => isBerthError(e, 'INVALID_ARGUMENT'));
  const gz = gzipSync(data);
  const { stream } = await decompress(Readable.from([gz.subarray(0, gz.length - 20)]));
  await assert.rejects(applyLayer(stream, dir), (e) => isBerthError(e, 'INVALID_ARGUMENT'));
}));
