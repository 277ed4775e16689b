/**
 * Archives end to end against a private berthd: save/load, export, diff, commit and cp,
 * through the docker CLI and berth's own, including escape attempts on cp and load.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import tar from 'tar-stream';
import { TestDaemon } from '../testing/daemon.js';

let d: TestDaemon;
let tmp: string;
before(async () => {
  d = await TestDaemon.start();
  tmp = await mkdtemp('/tmp/bt-arch-');
});
after(async () => {
  await d?.stop();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

function tarList(file: string): string[] {
  return execFileSync('tar', ['-tf', file], { encoding: 'utf8' }).trim().split('\n');
}

async function ok(args: string[], input?: string): Promise<string> {
  const r = await d.docker(args, { input, timeout: 30000 });
  assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

async function makeTar(entries: Array<{ name: string; data?: string; type?: 'file' | 'symlink' | 'directory'; linkname?: string }>): Promise<Buffer> {
  const pack = tar.pack();
  for (const e of entries) {
    if (e.type === 'file' || !e.type) pack.entry({ name: e.name, type: 'file' }, e.data ?? '');
    else pack.entry({ name: e.name, type: e.type, linkname: e.linkname }, '');
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

test('docker save → rmi → docker load round trip; the archive is docker + OCI layout', { timeout: 60000 }, async () => {
  const file = join(tmp, 'bb.tar');
  await ok(['save', '-o', file, 'busybox']);
  const names = tarList(file);
  for (const n of ['manifest.json', 'index.json', 'oci-layout']) assert.ok(names.includes(n), names.join(' '));
  const manifest = JSON.parse(execFileSync('tar', ['-xOf', file, 'manifest.json'], { encoding: 'utf8' }));
  assert.deepEqual(manifest[0].RepoTags, ['busybox:latest']);
  await ok(['tag', 'busybox', 'other:1']);
  await ok(['rmi', 'busybox']);
  const out = await ok(['load', '-i', file]);
  assert.match(out, /Loaded image: busybox:latest/);
  assert.equal(await ok(['run', '--rm', 'busybox', 'echo', 'loaded']), 'loaded\n');
  // The same archive as a gzip-compressed pure OCI layout (no manifest.json).
  const oci = join(tmp, 'oci.tar');
  execFileSync('sh', ['-c', `mkdir ${oci}.d && tar -xf ${file} -C ${oci}.d && rm ${oci}.d/manifest.json && tar -czf ${oci}.gz -C ${oci}.d .`]);
  await ok(['rmi', 'busybox']);
  assert.match(await ok(['load', '-i', `${oci}.gz`]), /Loaded image: busybox:latest/);
  // Several images in one archive, through berth's CLI this time.
  const both = join(tmp, 'both.tar');
  const s = await d.berth(['save', '-o', both, 'busybox', 'other:1']);
  assert.equal(s.code, 0, s.stderr);
  const m2 = JSON.parse(execFileSync('tar', ['-xOf', both, 'manifest.json'], { encoding: 'utf8' }));
  assert.deepEqual(m2.flatMap((e: { RepoTags: string[] }) => e.RepoTags).sort(), ['busybox:latest', 'other:1']);
  await ok(['rmi', 'other:1']);
  const l = await d.berth(['load', '-i', both]);
  assert.equal(l.code, 0, l.stderr);
  assert.match(l.stdout, /Loaded image: other:1/);
});

test('load: corrupt, truncated and hostile tarballs are refused and change nothing', { timeout: 30000 }, async () => {
  const before = await ok(['images', '-q', '--no-trunc']);
  const file = join(tmp, 'bb2.tar');
  await ok(['save', '-o', file, 'busybox']);
  const whole = await readFile(file);
  await writeFile(join(tmp, 'trunc.tar'), whole.subarray(0, Math.floor(whole.length / 2)));
  const t = await d.docker(['load', '-i', join(tmp, 'trunc.tar')]);
  assert.notEqual(t.code, 0);
  assert.match(t.stderr, /corrupt|truncated|missing|invalid/i);
  const marker = `berth-escape-${process.pid}`;
  const evil = await makeTar([
    { name: `../../../../../../tmp/${marker}`, data: 'pwned' },
    { name: 'link', type: 'symlink', linkname: '/etc' },
    { name: 'link/passwd-evil', data: 'x' },
    { name: 'manifest.json', data: JSON.stringify([{ Config: '../../../../etc/passwd', RepoTags: ['evil:1'], Layers: [] }]) },
  ]);
  const r = await d.api('POST', '/images/load?quiet=1', evil, { 'Content-Type': 'application/x-tar' });
  assert.equal(r.status, 400, r.body.toString());
  assert.equal(existsSync(`/tmp/${marker}`), false);
  assert.equal(existsSync('/etc/passwd-evil'), false);
  assert.equal(await ok(['images', '-q', '--no-trunc']), before);
});

test('export, diff, commit: the new image keeps added files and deletions', { timeout: 60000 }, async () => {
  await ok(['run', '--name', 'chg', 'busybox', 'sh', '-c', 'echo hi > /hello && rm /etc/group && mkdir -p /var/new && echo x >> /etc/passwd']);
  const diff = (await ok(['diff', 'chg'])).trim().split('\n');
  for (const line of ['A /hello', 'D /etc/group', 'C /etc', 'C /etc/passwd', 'A /var/new', 'C /var']) assert.ok(diff.includes(line), diff.join('|'));
  const bdiff = await d.berth(['diff', 'chg']);
  assert.equal(bdiff.stdout.trim().split('\n').sort().join('|'), [...diff].sort().join('|'));
  const exp = join(tmp, 'exp.tar');
  await ok(['export', '-o', exp, 'chg']);
  const names = tarList(exp);
  assert.ok(names.includes('hello') && names.includes('bin/busybox') && !names.includes('etc/group'), names.slice(0, 20).join(' '));
  const id = (await ok(['commit', '-c', 'ENV FOO=bar', '-m', 'msg', '-a', 'me', 'chg', 'committed:v1'])).trim();
  assert.match(id, /^sha256:[a-f0-9]{64}$/);
  const run = await ok(['run', '--rm', 'committed:v1', 'sh', '-c', 'cat /hello; test -e /etc/group && echo present || echo gone; echo $FOO']);
  assert.equal(run, 'hi\ngone\nbar\n');
  const hist = await ok(['history', '--format', '{{.Comment}}', 'committed:v1']);
  assert.match(hist, /^msg$/m);
  await ok(['rm', 'chg']);
});

test('cp in and out of a running and of a stopped container, volumes included', { timeout: 60000 }, async () => {
  const local = join(tmp, 'in.txt');
  await writeFile(local, 'payload\n');
  await ok(['run', '-d', '--name', 'live', '-v', 'cpvol:/data', 'busybox', 'sleep', '300']);
  await ok(['cp', local, 'live:/tmp/f']);
  assert.equal(await ok(['exec', 'live', 'cat', '/tmp/f']), 'payload\n');
  await ok(['cp', local, 'live:/data/']);
  assert.equal(await ok(['exec', 'live', 'cat', '/data/in.txt']), 'payload\n');
  await ok(['exec', 'live', 'sh', '-c', 'mkdir -p /out/sub && echo deep > /out/sub/x']);
  await ok(['cp', 'live:/out', join(tmp, 'out')]);
  assert.equal(await readFile(join(tmp, 'out/sub/x'), 'utf8'), 'deep\n');
  await ok(['create', '--name', 'cold', '-v', 'cpvol:/data', 'busybox', 'cat', '/tmp/g', '/data/in.txt']);
  await ok(['cp', local, 'cold:/tmp/g']);
  await ok(['cp', 'cold:/tmp/g', join(tmp, 'back.txt')]);
  assert.equal(await readFile(join(tmp, 'back.txt'), 'utf8'), 'payload\n');
  await ok(['start', 'cold']);
  assert.equal(await ok(['logs', '-f', 'cold']), 'payload\npayload\n');
  const missing = await d.docker(['cp', 'cold:/nope', join(tmp, 'x')]);
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /Could not find the file \/nope in container cold\n/);
  // berth's CLI, with tar streams both ways.
  const b = await d.berth(['cp', 'live:/tmp/f', '-']);
  assert.equal(b.code, 0, b.stderr);
  assert.match(b.stdout, /payload/);
  await ok(['rm', '-f', 'live', 'cold']);
});

test('cp cannot be steered out of the container by symlinks (CVE-2018-15664 class)', { timeout: 60000 }, async () => {
  const host = await mkdtemp(join(tmp, 'host-'));
  await writeFile(join(host, 'secret'), 'host-secret\n');
  await ok(['run', '-d', '--name', 'esc', 'busybox', 'sh', '-c', `ln -s / /x && ln -s ${host} /h && mkdir -p ${host}c && ln -s ${host}c /hc && echo mine > /etc/shadow && sleep 300`]);
  await new Promise((r) => setTimeout(r, 300));
  const shadow = await d.docker(['cp', 'esc:/x/etc/shadow', '-']);
  assert.equal(shadow.code, 0, shadow.stderr);
  assert.match(shadow.stdout, /mine/, 'the container\'s own /etc/shadow');
  const secret = await d.docker(['cp', 'esc:/h/secret', join(tmp, 'stolen')]);
  assert.notEqual(secret.code, 0, 'the host path does not exist inside the container');
  assert.equal(existsSync(join(tmp, 'stolen')), false);
  const evil = join(tmp, 'evil');
  await writeFile(evil, 'evil\n');
  await ok(['cp', evil, 'esc:/hc/']);
  assert.equal(existsSync(`${host}c/evil`), false, 'nothing written on the host');
  assert.equal(await ok(['exec', 'esc', 'cat', `${host}c/evil`]), 'evil\n');
  await d.docker(['cp', evil, 'esc:/x/tmp/evil']);
  assert.equal(existsSync('/tmp/evil') && (await readFile('/tmp/evil', 'utf8')) === 'evil\n', false);
  const put = await makeTar([{ name: '../../../../../../tmp/berth-put-escape', data: 'x' }]);
  const r = await d.api('PUT', '/containers/esc/archive?path=/tmp', put, { 'Content-Type': 'text/plain' });
  assert.equal(r.status, 400, r.body.toString());
  assert.equal(existsSync('/tmp/berth-put-escape'), false);
  await ok(['rm', '-f', 'esc']);
});
