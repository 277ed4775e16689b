/**
 * Pull and push against a real registry (Debian's docker-registry on 127.0.0.1), driven
 * through berthd by the docker CLI, berth's CLI and the raw API.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { TestDaemon, REPO } from '../testing/daemon.js';
import { TestRegistry } from './registry-fixture.js';

const sha = (b: Buffer | string) => 'sha256:' + createHash('sha256').update(b).digest('hex');
const authHeader = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');

let d: TestDaemon;
let reg: TestRegistry;
let secure: TestRegistry;
let cfgDir: string;

before(async () => {
  // Short retries so the "registry down" case stays fast.
  process.env.BERTH_REGISTRY_BACKOFF_MS = '100';
  process.env.BERTH_REGISTRY_TIMEOUT_MS = '5000';
  cfgDir = await mkdtemp('/tmp/berth-cfg-');
  process.env.BERTH_CONFIG = cfgDir;
  process.env.DOCKER_CONFIG = cfgDir;
  [d, reg, secure] = await Promise.all([TestDaemon.start(), TestRegistry.start(), TestRegistry.start({ user: 'alice', password: 's3cret' })]);
});
after(async () => {
  await Promise.allSettled([d?.stop(), reg?.stop(), secure?.stop()]);
  await rm(cfgDir, { recursive: true, force: true });
});

function digestOf(pushOut: string, tag: string): { digest: string; size: number } {
  const m = new RegExp(`^${tag}: digest: (sha256:[a-f0-9]{64}) size: (\\d+)$`, 'm').exec(pushOut);
  assert.ok(m, `no digest line in: ${pushOut}`);
  return { digest: m[1]!, size: Number(m[2]) };
}

async function registryDigest(r: TestRegistry, repo: string, tag: string): Promise<string> {
  const res = await r.api('HEAD', `/v2/${repo}/manifests/${tag}`, { headers: { Accept: 'application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json' } });
  assert.equal(res.status, 200);
  return res.headers.get('docker-content-digest')!;
}

test('docker push then pull round-trips busybox with identical digests and runs it', { timeout: 90_000 }, async () => {
  const id = (await d.api('GET', '/images/busybox/json')).json().Id;
  const ref = `${reg.host}/bb:v1`;
  assert.equal((await d.docker(['tag', 'busybox', ref])).code, 0);
  const push = await d.docker(['push', ref]);
  assert.equal(push.code, 0, push.stderr);
  assert.match(push.stdout, new RegExp(`The push refers to repository \\[${reg.host}/bb\\]`));
  assert.match(push.stdout, /: Pushed$/m);
  const pushed = digestOf(push.stdout, 'v1');
  assert.equal(await registryDigest(reg, 'bb', 'v1'), pushed.digest, 'the printed digest is the registry\'s');

  const again = await d.docker(['push', ref]);
  assert.match(again.stdout, /Layer already exists/);
  assert.equal(digestOf(again.stdout, 'v1').digest, pushed.digest, 'a repeated push gives the same digest');

  // Remove every local copy, then pull it back.
  const rmi = await d.docker(['rmi', '-f', id]);
  assert.equal(rmi.code, 0, rmi.stderr);
  assert.deepEqual((await d.api('GET', '/images/json')).json(), []);
  const pull = await d.docker(['pull', ref]);
  assert.equal(pull.code, 0, pull.stderr);
  assert.match(pull.stdout, /v1: Pulling from bb/);
  assert.match(pull.stdout, /: Pull complete$/m);
  assert.match(pull.stdout, new RegExp(`Digest: ${pushed.digest}`));
  assert.match(pull.stdout, new RegExp(`Status: Downloaded newer image for ${ref}`));
  const img = (await d.api('GET', `/images/${ref}/json`)).json();
  assert.equal(img.Id, id, 'same image id after the round trip');
  assert.deepEqual(img.RepoDigests, [`${reg.host}/bb@${pushed.digest}`]);
  const run = await d.docker(['run', '--rm', ref, 'echo', 'pulled-ok']);
  assert.equal(run.stdout, 'pulled-ok\n', run.stderr);
  const up = await d.docker(['pull', ref]);
  assert.match(up.stdout, /Status: Image is up to date/);
  // Put busybox back for the other tests.
  assert.equal((await d.docker(['tag', ref, 'busybox'])).code, 0);
});

test('berth push mounts across repositories; berth pull by digest; run --pull always', { timeout: 60_000 }, async () => {
  const src = await d.docker(['push', `${reg.host}/bb:v1`]);
  const { digest } = digestOf(src.stdout, 'v1');
  assert.equal((await d.berth(['tag', 'busybox', `${reg.host}/other/bb:x`])).code, 0);
  const push = await d.berth(['push', `${reg.host}/other/bb:x`]);
  assert.equal(push.code, 0, push.stderr);
  assert.match(push.stdout, /Mounted from bb/);
  assert.equal(digestOf(push.stdout, 'x').digest, digest, 'same content, same manifest digest');
  const pull = await d.berth(['pull', `${reg.host}/other/bb@${digest}`]);
  assert.equal(pull.code, 0, pull.stderr);
  assert.match(pull.stdout, new RegExp(`Digest: ${digest}`));
  const run = await d.berth(['run', '--rm', '--pull', 'always', `${reg.host}/other/bb:x`, 'echo', 'again']);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /again/);
  assert.match(run.stderr, /Pulling from other\/bb/);
});

test('the pull stream carries docker\'s per-layer progress messages', { timeout: 60_000 }, async () => {
  const id = (await d.api('GET', '/images/busybox/json')).json().Id;
  assert.equal((await d.api('DELETE', `/images/${id}?force=1`)).status, 200);
  const r = await d.api('POST', `/images/create?fromImage=${reg.host}/bb&tag=v1`, undefined, { 'X-Registry-Auth': 'e30=' });
  assert.equal(r.status, 200);
  const msgs = r.body.toString().trim().split('\n').map((l) => JSON.parse(l));
  const statuses = msgs.map((m) => m.status);
  for (const s of ['Pulling fs layer', 'Downloading', 'Verifying Checksum', 'Download complete', 'Extracting', 'Pull complete']) assert.ok(statuses.includes(s), `${s} in ${statuses}`);
  const dl = msgs.find((m) => m.status === 'Downloading');
  assert.ok(dl.progressDetail.total > 0 && dl.progress.includes('['), JSON.stringify(dl));
  await d.docker(['tag', `${reg.host}/bb:v1`, 'busybox']);
});

test('bad input: invalid reference 400, unknown tag 404, registry down', { timeout: 60_000 }, async () => {
  const bad = await d.api('POST', `/images/create?fromImage=${encodeURIComponent('Bad//Name')}&tag=latest`);
  assert.equal(bad.status, 400);
  assert.match(bad.json().message, /invalid reference format/);
  const missing = await d.api('POST', `/images/create?fromImage=${reg.host}/bb&tag=nope`);
  assert.equal(missing.status, 404);
  assert.match(missing.json().message, new RegExp(`manifest for ${reg.host}/bb:nope not found: manifest unknown`));
  const cli = await d.docker(['pull', `${reg.host}/bb:nope`]);
  assert.equal(cli.code, 1);
  assert.match(cli.stderr, /manifest unknown/);
  const down = await d.api('POST', `/images/create?fromImage=127.0.0.1:1/bb&tag=v1`);
  assert.equal(down.status, 503);
  assert.match(down.json().message, /registry 127\.0\.0\.1:1 is not answering.*after 3 attempts/);
  const pushMissing = await d.api('POST', `/images/${reg.host}/nothing/push?tag=v1`);
  assert.equal(pushMissing.status, 404);
});

test('basic auth: 401 with the registry\'s message, X-Registry-Auth, berth login', { timeout: 60_000 }, async () => {
  const ref = `${secure.host}/priv/bb`;
  assert.equal((await d.docker(['tag', 'busybox', `${ref}:v1`])).code, 0);
  const anon = await d.api('POST', `/images/create?fromImage=${ref}&tag=v1`);
  assert.equal(anon.status, 401);
  assert.match(anon.json().message, /unauthorized: authentication required/);
  const wrong = await d.api('POST', `/images/create?fromImage=${ref}&tag=v1`, undefined, { 'X-Registry-Auth': authHeader({ username: 'alice', password: 'nope' }) });
  assert.equal(wrong.status, 401);
  const push = await d.api('POST', `/images/${ref}/push?tag=v1`, undefined, { 'X-Registry-Auth': authHeader({ username: 'alice', password: 's3cret' }) });
  assert.equal(push.status, 200);
  assert.match(push.body.toString(), /"v1: digest: sha256:[a-f0-9]{64} size: \d+"/);

  const badLogin = await d.berth(['login', '-u', 'alice', '--password-stdin', secure.host], { input: 'wrong\n' });
  assert.equal(badLogin.code, 1);
  assert.match(badLogin.stderr, /unauthorized/);
  const login = await d.berth(['login', '-u', 'alice', '--password-stdin', secure.host], { input: 's3cret\n' });
  assert.equal(login.code, 0, login.stderr);
  assert.match(login.stdout, /Login Succeeded/);
  const saved = JSON.parse(await readFile(join(cfgDir, 'config.json'), 'utf8'));
  assert.equal(saved.auths[secure.host].auth, Buffer.from('alice:s3cret').toString('base64'));
  assert.equal((await stat(join(cfgDir, 'config.json'))).mode & 0o777, 0o600);
  await d.api('DELETE', `/images/${ref}:v1`);
  const pull = await d.berth(['pull', `${ref}:v1`]);
  assert.equal(pull.code, 0, pull.stderr);
  const dpull = await d.docker(['pull', `${ref}:v1`]);
  assert.equal(dpull.code, 0, dpull.stderr);
  assert.equal((await d.berth(['logout', secure.host])).code, 0);
});

/** A gzip layer from entries; returns blob, digest and diff id. */
async function layer(entries: Array<{ name: string; type?: 'file' | 'directory'; body?: string; mode?: number }>): Promise<{ blob: Buffer; digest: string; diffId: string }> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c) => { chunks.push(c as Buffer); });
  const ended = new Promise<void>((r) => pack.on('end', () => r()));
  for (const e of entries) {
    const type = e.type ?? 'file';
    const h = { name: e.name, type, mode: e.mode ?? (type === 'directory' ? 0o755 : 0o644), mtime: new Date(0) };
    if (type === 'file') pack.entry(h, e.body ?? '');
    else pack.entry(h);
  }
  pack.finalize();
  await ended;
  const raw = Buffer.concat(chunks);
  const blob = gzipSync(raw);
  return { blob, digest: sha(blob), diffId: sha(raw) };
}

async function putBlob(r: TestRegistry, repo: string, blob: Buffer, digest: string): Promise<void> {
  const start = await r.api('POST', `/v2/${repo}/blobs/uploads/`);
  assert.equal(start.status, 202);
  const loc = new URL(start.headers.get('location')!, `http://${r.host}`);
  loc.searchParams.set('digest', digest);
  const put = await r.api('PUT', loc.pathname + loc.search, { body: blob, headers: { 'Content-Type': 'application/octet-stream' } });
  assert.equal(put.status, 201, await put.text());
}

test('a crafted three-layer image with a whiteout and an opaque dir shows the right files', { timeout: 60_000 }, async () => {
  const bbTar = execFileSync(process.execPath, [join(REPO, 'scripts/busybox-rootfs.mjs')], { maxBuffer: 64 << 20 });
  const base = { blob: gzipSync(bbTar), digest: '', diffId: sha(bbTar) };
  base.digest = sha(base.blob);
  const l1 = await layer([
    { name: 'data/', type: 'directory' }, { name: 'data/keep', body: 'keep\n' }, { name: 'data/gone', body: 'gone\n' },
    { name: 'opq/', type: 'directory' }, { name: 'opq/old1', body: 'old\n' }, { name: 'opq/old2', body: 'old\n' },
  ]);
  const l2 = await layer([
    { name: 'data/.wh.gone' }, { name: 'opq/', type: 'directory' }, { name: 'opq/.wh..wh..opq' }, { name: 'opq/new', body: 'new\n' },
  ]);
  const layers = [base, l1, l2];
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Cmd: ['sh'] }, rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) }, history: layers.map(() => ({ created_by: 'test' })) }));
  for (const l of layers) await putBlob(reg, 'multi', l.blob, l.digest);
  await putBlob(reg, 'multi', config, sha(config));
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha(config), size: config.length },
    layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: l.digest, size: l.blob.length })),
  }));
  const index = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [
      { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha(manifest), size: manifest.length, platform: { os: 'linux', architecture: 'amd64' } },
      { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: 'sha256:' + 'e'.repeat(64), size: 10, platform: { os: 'linux', architecture: 'arm64' } },
    ],
  }));
  const putM = await reg.api('PUT', `/v2/multi/manifests/${sha(manifest)}`, { body: manifest, headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' } });
  assert.equal(putM.status, 201, await putM.text());
  const putI = await reg.api('PUT', '/v2/multi/manifests/v1', { body: index, headers: { 'Content-Type': 'application/vnd.oci.image.index.v1+json' } });
  // distribution 2.8 refuses an index whose children are missing; fall back to the manifest itself.
  const tagged = putI.status === 201 ? 'index' : 'manifest';
  if (tagged === 'manifest') {
    const put = await reg.api('PUT', '/v2/multi/manifests/v1', { body: manifest, headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' } });
    assert.equal(put.status, 201);
  }
  const pull = await d.docker(['pull', `${reg.host}/multi:v1`]);
  assert.equal(pull.code, 0, pull.stderr);
  assert.equal(pull.stdout.match(/Pull complete/g)?.length ?? 0, 2, `busybox's layer already exists: ${pull.stdout}`);
  assert.match(pull.stdout, /Already exists/);
  const run = await d.docker(['run', '--rm', `${reg.host}/multi:v1`, 'sh', '-c', 'ls /data; echo --; ls /opq; cat /data/keep']);
  assert.equal(run.stdout, 'keep\n--\nnew\nkeep\n', run.stderr);
  const wrongPlatform = await d.api('POST', `/images/create?fromImage=${reg.host}/multi&tag=v1&platform=linux/s390x`);
  assert.equal(wrongPlatform.status, 404);
});
