/**
 * docker cp into read-only places: the destination is judged where it resolves inside
 * the container (".." and symlinks followed), not by its text, so a container cannot
 * steer a user's copy into its own --read-only rootfs or a read-only volume, and a
 * path that resolves into a writable volume is accepted (dockerd's checkWritablePath).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import tar from 'tar-stream';
import { TestDaemon } from '../testing/daemon.js';

let d: TestDaemon;
let tmp: string;
before(async () => {
  d = await TestDaemon.start();
  tmp = await mkdtemp('/tmp/bt-cpro-');
});
after(async () => {
  await d?.stop();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

async function ok(args: string[]): Promise<string> {
  const r = await d.docker(args, { timeout: 30000 });
  assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

async function refused(args: string[], why: RegExp): Promise<void> {
  const r = await d.docker(args, { timeout: 30000 });
  assert.notEqual(r.code, 0, `docker ${args.join(' ')} was accepted`);
  assert.match(r.stderr, why);
}

async function oneFileTar(name: string, data: string): Promise<Buffer> {
  const pack = tar.pack();
  pack.entry({ name, type: 'file' }, data);
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

test('cp into a --read-only container: ".." and symlinks out of a writable volume are refused, running and stopped', { timeout: 90000 }, async () => {
  const data = await mkdtemp(join(tmp, 'data-'));
  const rodata = await mkdtemp(join(tmp, 'ro-'));
  const hi = join(tmp, 'hi.txt');
  await writeFile(hi, 'hi\n');
  await ok(['run', '-d', '--name', 'ro', '--read-only', '-v', `${data}:/data`, '-v', `${rodata}:/rodata:ro`, 'busybox', 'sleep', '300']);
  // A symlink the container plants in its writable volume, pointing into its rootfs,
  // and one pointing from the rootfs... into the volume, resolved the other way.
  await ok(['exec', 'ro', 'ln', '-s', '/etc', '/data/etclink']);
  await ok(['exec', 'ro', 'ln', '-s', '/rodata', '/data/rolink']);
  for (const state of ['running', 'stopped']) {
    if (state === 'stopped') await ok(['stop', '-t', '0', 'ro']);
    const rootfs = /container rootfs is marked read-only/;
    await refused(['cp', hi, 'ro:/etc/'], rootfs);
    await refused(['cp', hi, 'ro:/data/../etc/'], rootfs);
    await refused(['cp', hi, 'ro:/data/etclink/hi2.txt'], rootfs);
    await refused(['cp', hi, 'ro:/data/rolink/'], /mounted volume is marked read-only/);
    await refused(['cp', hi, 'ro:/data/../rodata/'], /mounted volume is marked read-only/);
    // The API directly, with the symlink as the extraction point: dockerd's 400.
    const r = await d.api('PUT', '/containers/ro/archive?path=/data/etclink&noOverwriteDirNonDir=true', await oneFileTar('hi3.txt', 'x'), { 'Content-Type': 'application/x-tar' });
    assert.equal(r.status, 400, r.body.toString());
    assert.match(r.body.toString(), rootfs);
    // Into the volume, also reached through ".." from a read-only place: accepted.
    await ok(['cp', hi, `ro:/data/${state}.txt`]);
    await ok(['cp', hi, `ro:/rodata/../data/${state}-2.txt`]);
  }
  await ok(['start', 'ro']);
  assert.equal(await ok(['exec', 'ro', 'sh', '-c', 'ls /etc/hi.txt /etc/hi2.txt /etc/hi3.txt 2>/dev/null; echo end']), 'end\n');
  assert.deepEqual((await readdir(data)).sort(), ['etclink', 'rolink', 'running-2.txt', 'running.txt', 'stopped-2.txt', 'stopped.txt']);
  assert.deepEqual(await readdir(rodata), []);
  // noOverwriteDirNonDir is still applied in a writable volume.
  await ok(['exec', 'ro', 'mkdir', '/data/adir']);
  const clash = await d.api('PUT', '/containers/ro/archive?path=/data&noOverwriteDirNonDir=true', await oneFileTar('adir', 'x'), { 'Content-Type': 'application/x-tar' });
  assert.equal(clash.status, 400, clash.body.toString());
  assert.match(clash.body.toString(), /cannot overwrite directory/);
  await ok(['rm', '-f', 'ro']);
});

test('cp into a read-only bind reached through ".." or a symlink from a writable rootfs is refused', { timeout: 60000 }, async () => {
  const rodata = await mkdtemp(join(tmp, 'ro2-'));
  const hi = join(tmp, 'hi.txt');
  await writeFile(hi, 'hi\n');
  await ok(['run', '-d', '--name', 'rw', '-v', `${rodata}:/ro:ro`, 'busybox', 'sh', '-c', 'ln -s /ro /tmp/rolink && sleep 300']);
  await ok(['exec', 'rw', 'sh', '-c', 'while [ ! -L /tmp/rolink ]; do sleep 0.05; done']);
  await refused(['cp', hi, 'rw:/ro/'], /mounted volume is marked read-only/);
  await refused(['cp', hi, 'rw:/tmp/../ro/'], /mounted volume is marked read-only/);
  await refused(['cp', hi, 'rw:/tmp/rolink/x.txt'], /mounted volume is marked read-only/);
  assert.deepEqual(await readdir(rodata), []);
  // The writable rootfs itself still takes copies.
  await ok(['cp', hi, 'rw:/tmp/']);
  assert.equal(await ok(['exec', 'rw', 'cat', '/tmp/hi.txt']), 'hi\n');
  assert.equal(existsSync(join(rodata, 'hi.txt')), false);
  await ok(['rm', '-f', 'rw']);
});
