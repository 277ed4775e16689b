/**
 * Image management against a private berthd, driven by the docker CLI and the raw API:
 * rmi semantics after a push/pull, image prune, list filters, history, system df
 * against du, a zstd layer from a real registry, start-up garbage collection, and the
 * argument handling of scripts/debian-image.sh (the debootstrap itself is too slow here).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, writeFile, readdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import tar from 'tar-stream';
import { TestDaemon, REPO } from '../testing/daemon.js';
import { TestRegistry } from './registry-fixture.js';

const sha = (b: Buffer | string) => 'sha256:' + createHash('sha256').update(b).digest('hex');
let d: TestDaemon;
let reg: TestRegistry;

before(async () => {
  [d, reg] = await Promise.all([TestDaemon.start(), TestRegistry.start()]);
});
after(async () => {
  await Promise.allSettled([d?.stop(), reg?.stop()]);
});

const ok = (r: { code: number; stdout: string; stderr: string }) => {
  assert.equal(r.code, 0, r.stderr + r.stdout);
  return r.stdout;
};

test('rmi of a pulled image untags its digest too and deletes it; conflicts like docker', { timeout: 90_000 }, async () => {
  // An image of its own (busybox:latest would keep the same id tagged).
  const rootfs = execFileSync(process.execPath, [join(REPO, 'scripts/busybox-rootfs.mjs')], { maxBuffer: 64 << 20 });
  const ref = `${reg.host}/rmi/bb:v1`;
  const imported = await d.api('POST', `/images/create?fromSrc=-&repo=${reg.host}/rmi/bb&tag=v1&changes=${encodeURIComponent('LABEL rmi=1')}`, rootfs, { 'Content-Type': 'application/x-tar' });
  assert.equal(imported.status, 200);
  ok(await d.docker(['push', ref]));
  ok(await d.docker(['rmi', ref]));
  ok(await d.docker(['pull', ref]));
  const img = (await d.api('GET', `/images/${ref}/json`)).json();
  assert.equal(img.RepoDigests.length, 1);
  const digestRef = img.RepoDigests[0] as string;
  // Its only tag: untag the tag and the same repository's digest, then delete.
  const out = ok(await d.docker(['rmi', ref]));
  assert.ok(out.includes(`Untagged: ${ref}\n`) && out.includes(`Untagged: ${digestRef}\n`), out);
  assert.match(out, /^Deleted: sha256:/m);
  assert.equal((await d.api('GET', `/images/${img.Id}/json`)).status, 404);

  // By id with two tags: must force; forced untags both and deletes.
  ok(await d.docker(['pull', ref]));
  ok(await d.docker(['tag', ref, 'second:tag']));
  const byId = await d.docker(['rmi', img.Id.slice(7, 19)]);
  assert.equal(byId.code, 1);
  assert.match(byId.stderr, /unable to delete [0-9a-f]{12} \(must be forced\) - image is referenced in multiple repositories/);
  const forced = ok(await d.docker(['rmi', '-f', img.Id.slice(7, 19)]));
  assert.match(forced, /Untagged: second:tag/);
  assert.match(forced, /Deleted: sha256:/);

  // In use by a stopped container: 409 without -f.
  ok(await d.docker(['pull', ref]));
  const cid = ok(await d.docker(['create', ref, 'true'])).trim();
  const res = await d.api('DELETE', `/images/${encodeURIComponent(ref)}`);
  assert.equal(res.status, 409);
  assert.match(res.json().message, /container [0-9a-f]{12} is using its referenced image/);
  // Running: even -f by id is refused ("cannot be forced"); -f by name only untags.
  ok(await d.docker(['start', cid]));
  ok(await d.docker(['rm', '-f', cid]));
  const runId = ok(await d.docker(['run', '-d', ref, 'sleep', '30'])).trim();
  const hard = await d.api('DELETE', `/images/${img.Id}?force=1`);
  assert.equal(hard.status, 409);
  assert.match(hard.json().message, /\(cannot be forced\) - image is being used by running container/);
  const untagOnly = await d.api('DELETE', `/images/${encodeURIComponent(ref)}?force=1`);
  assert.equal(untagOnly.status, 200);
  assert.ok(untagOnly.json().every((r: { Untagged?: string }) => r.Untagged), JSON.stringify(untagOnly.json()));
  assert.equal((await d.api('GET', `/images/${img.Id}/json`)).json().RepoTags.length, 0);
  ok(await d.docker(['rm', '-f', runId]));
  // --no-prune is accepted (berth has no parent images to keep).
  ok(await d.docker(['rmi', '--no-prune', img.Id]));
});

test('image prune (dangling, -a, label filter), images filters, --digests, history', { timeout: 60_000 }, async () => {
  const rootfs = execFileSync(process.execPath, [join(REPO, 'scripts/busybox-rootfs.mjs')], { maxBuffer: 64 << 20 });
  const importAs = async (query: string) => {
    const r = await d.api('POST', `/images/create?fromSrc=-&${query}`, rootfs, { 'Content-Type': 'application/x-tar' });
    assert.equal(r.status, 200);
    return JSON.parse(r.body.toString()).status as string;
  };
  const dangling = await importAs(`changes=${encodeURIComponent('LABEL tier=scratch')}`);
  const keep = await importAs(`repo=keep&tag=1&changes=${encodeURIComponent('LABEL tier=gold')}`);
  const unused = await importAs(`repo=unused&tag=1&changes=${encodeURIComponent('LABEL tier=lead')}`);
  const q = async (...f: string[]) => ok(await d.docker(['images', '-q', '--no-trunc', ...f.flatMap((x) => ['--filter', x])])).split('\n').filter(Boolean);
  assert.deepEqual(await q('dangling=true'), [dangling]);
  assert.deepEqual(await q('label=tier=gold'), [keep]);
  assert.deepEqual(await q('reference=kee*'), [keep]);
  assert.ok((await q(`since=keep:1`)).includes(unused));
  assert.ok(!(await q(`before=keep:1`)).includes(unused));
  assert.match(ok(await d.docker(['images', '--digests', 'keep'])), /^REPOSITORY\s+TAG\s+DIGEST\s+IMAGE ID/);
  assert.match(ok(await d.docker(['history', 'keep:1'])), /^IMAGE\s+CREATED\s+CREATED BY\s+SIZE\s+COMMENT\n[0-9a-f]{12}\s/);

  const pruned = ok(await d.docker(['image', 'prune', '-f']));
  assert.match(pruned, new RegExp(`deleted: ${dangling}`));
  assert.match(pruned, /Total reclaimed space: /);
  assert.equal((await d.api('GET', `/images/${dangling}/json`)).status, 404);
  // -a with a label filter: only unused images with that label.
  const cid = ok(await d.docker(['create', 'keep:1', 'true'])).trim();
  ok(await d.docker(['image', 'prune', '-a', '-f', '--filter', 'label=tier=gold']));
  assert.equal((await d.api('GET', '/images/keep:1/json')).status, 200, 'used by a container');
  // label!= keeps what matches: busybox (no tier label at all) is spared only by label=tier.
  const all = ok(await d.docker(['image', 'prune', '-a', '-f', '--filter', 'label=tier', '--filter', 'label!=tier=gold']));
  assert.match(all, /untagged: unused:1/);
  assert.equal((await d.api('GET', '/images/busybox/json')).status, 200, 'busybox has no tier label');
  ok(await d.docker(['rm', cid]));
  const bad = await d.api('POST', `/images/prune?filters=${encodeURIComponent('{"bogus":{"x":true}}')}`);
  assert.equal(bad.status, 400);
  ok(await d.docker(['rmi', 'keep:1']));
});

test('system df lists images, containers and volumes, and adds up to du', { timeout: 60_000 }, async () => {
  const cid = ok(await d.docker(['run', '-v', 'dfvol:/v', 'busybox', 'sh', '-c', 'head -c 300000 /dev/urandom > /big; echo x > /v/f'])).trim() || (await d.api('GET', '/containers/json?all=1')).json()[0].Id;
  void cid;
  const df = (await d.api('GET', '/system/df')).json();
  assert.ok(df.LayersSize > 0);
  assert.deepEqual(df.BuildCache, []);
  const bb = df.Images.find((i: { RepoTags: string[] }) => i.RepoTags.includes('busybox:latest'));
  assert.equal(bb.Containers, 1);
  const c = df.Containers[0];
  assert.ok(c.SizeRw >= 300000, `SizeRw ${c.SizeRw}`);
  const v = df.Volumes.find((x: { Name: string }) => x.Name === 'dfvol');
  assert.equal(v.UsageData.RefCount, 1);
  const du = Number(execFileSync('du', ['-s', '-B1', join(d.dir, 'data')]).toString().split('\t')[0]);
  const sum = df.LayersSize + df.Containers.reduce((s: number, x: { SizeRw: number }) => s + x.SizeRw, 0) + df.Volumes.reduce((s: number, x: { UsageData: { Size: number } }) => s + Math.max(0, x.UsageData.Size), 0);
  // The rest is small bookkeeping (container configs, network state, dirs).
  assert.ok(sum <= du && du - sum < 512 * 1024, `df says ${sum}, du says ${du}`);
  const text = ok(await d.docker(['system', 'df']));
  assert.match(text, /^TYPE\s+TOTAL\s+ACTIVE\s+SIZE\s+RECLAIMABLE\nImages\s+\d+\s+\d+\s+\S+\s+\S+/);
  assert.match(ok(await d.docker(['system', 'df', '-v'])), /Local Volumes space usage:[\s\S]*dfvol\s+1\s+/);
  assert.match(ok(await d.berth(['system', 'df'])), /^TYPE\s+TOTAL\s+ACTIVE\s+SIZE\s+RECLAIMABLE\nImages/);
  for (const x of df.Containers) ok(await d.docker(['rm', '-f', x.Id]));
  ok(await d.docker(['volume', 'rm', 'dfvol']));
});

/** A one-layer image whose layer is zstd-compressed, pushed by hand. */
test('a zstd layer from a registry is pulled, unpacked and run', { timeout: 60_000 }, async () => {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c) => { chunks.push(c as Buffer); });
  const ended = new Promise<void>((r) => pack.on('end', () => r()));
  pack.entry({ name: 'zstd/', type: 'directory', mode: 0o755 });
  pack.entry({ name: 'zstd/hello', mode: 0o644 }, 'from zstd\n');
  pack.finalize();
  await ended;
  const raw = Buffer.concat(chunks);
  const blob = execFileSync('zstd', ['-q', '-c'], { input: raw });
  const bb = (await d.api('GET', '/images/busybox/json')).json();
  // busybox's own layer first (pushed by docker push), then the zstd one on top.
  const base = `${reg.host}/zbase:1`;
  ok(await d.docker(['tag', 'busybox', base]));
  ok(await d.docker(['push', base]));
  const baseManifest = await (await reg.api('GET', '/v2/zbase/manifests/1', { headers: { Accept: 'application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json' } })).json() as { layers: Array<{ digest: string; size: number; mediaType: string }> };
  const put = async (repo: string, body: Buffer) => {
    const start = await reg.api('POST', `/v2/${repo}/blobs/uploads/?mount=${baseManifest.layers[0]!.digest}&from=zbase`);
    if (start.status !== 201) assert.equal(start.status, 202);
    const s2 = await reg.api('POST', `/v2/${repo}/blobs/uploads/`);
    const loc = new URL(s2.headers.get('location')!, `http://${reg.host}`);
    loc.searchParams.set('digest', sha(body));
    assert.equal((await reg.api('PUT', loc.pathname + loc.search, { body, headers: { 'Content-Type': 'application/octet-stream' } })).status, 201);
  };
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Cmd: ['sh'] }, rootfs: { type: 'layers', diff_ids: [...bb.RootFS.Layers, sha(raw)] } }));
  await put('z', blob);
  await put('z', config);
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha(config), size: config.length },
    layers: [...baseManifest.layers, { mediaType: 'application/vnd.oci.image.layer.v1.tar+zstd', digest: sha(blob), size: blob.length }],
  }));
  assert.equal((await reg.api('PUT', '/v2/z/manifests/v1', { body: manifest, headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' } })).status, 201);
  ok(await d.docker(['pull', `${reg.host}/z:v1`]));
  assert.equal(ok(await d.docker(['run', '--rm', `${reg.host}/z:v1`, 'cat', '/zstd/hello'])), 'from zstd\n');
  ok(await d.docker(['rmi', `${reg.host}/z:v1`, base]));
});

test('start-up collects what a crash left: ingest files, orphan blobs, unknown snapshot dirs', { timeout: 60_000 }, async () => {
  const data = join(d.dir, 'data');
  await d.kill('SIGKILL');
  const orphan = Buffer.from('an orphan blob');
  await writeFile(join(data, 'content/blobs/sha256', sha(orphan).slice(7)), orphan);
  await mkdir(join(data, 'content/ingest'), { recursive: true });
  await writeFile(join(data, 'content/ingest/deadbeef'), 'half a layer');
  await mkdir(join(data, 'overlay/987654/fs'), { recursive: true });
  await d.launch();
  assert.equal(existsSync(join(data, 'content/blobs/sha256', sha(orphan).slice(7))), false);
  assert.deepEqual(await readdir(join(data, 'content/ingest')), []);
  assert.equal(existsSync(join(data, 'overlay/987654')), false);
  assert.equal(ok(await d.docker(['run', '--rm', 'busybox', 'echo', 'still here'])), 'still here\n');
});

test('debian-image.sh checks its arguments (the debootstrap itself is run by hand)', { timeout: 10_000 }, () => {
  const script = join(REPO, 'scripts/debian-image.sh');
  const run = (...args: string[]) => spawnSync('bash', [script, ...args], { encoding: 'utf8' });
  const dry = run('--dry-run', '--suite', 'trixie', '--mirror', 'http://deb.example.org/debian', 'my/debian:13');
  assert.equal(dry.status, 0, dry.stderr);
  assert.match(dry.stdout, /^debootstrap --variant=minbase trixie <tmp> http:\/\/deb\.example\.org\/debian$/m);
  assert.match(dry.stdout, /import --change CMD \["bash"\] - my\/debian:13$/m);
  assert.match(run('--dry-run', 'debian').stdout, /^mirror: https?:\/\//m, 'a default mirror from apt sources');
  for (const bad of [['--mirror', 'file:///etc', 'x'], ['--mirror', 'http://x/$(id)', 'x'], ['--suite', '../x', 'x'], ['Debian:UPPER'], ['a', 'b'], [], ['--bogus', 'x']]) {
    const r = run('--dry-run', ...bad);
    assert.notEqual(r.status, 0, `accepted ${bad.join(' ')}`);
    assert.ok(r.stderr.length > 0);
  }
});
