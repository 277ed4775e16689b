/**
 * Registry pulls across trouble and over whole repositories, against Debian's
 * docker-registry on 127.0.0.1: a layer download cut mid-blob resumes with a Range
 * request (or re-reads from the start when the registry ignores Range), and
 * `pull --all-tags` brings every tag of a repository.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createServer, request, type Server } from 'node:http';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { TestDaemon } from '../testing/daemon.js';
import { TestRegistry } from './registry-fixture.js';

const sha = (b: Buffer | string) => 'sha256:' + createHash('sha256').update(b).digest('hex');

let d: TestDaemon;
let reg: TestRegistry;

before(async () => {
  process.env.BERTH_REGISTRY_BACKOFF_MS = '100';
  process.env.BERTH_REGISTRY_TIMEOUT_MS = '5000';
  [d, reg] = await Promise.all([TestDaemon.start({ busybox: false }), TestRegistry.start()]);
});
after(async () => {
  await Promise.allSettled([d?.stop(), reg?.stop()]);
});

async function tarOf(name: string, body: Buffer): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c) => { chunks.push(c as Buffer); });
  const ended = new Promise<void>((r) => pack.on('end', () => r()));
  pack.entry({ name, mode: 0o644, mtime: new Date(0) }, body);
  pack.finalize();
  await ended;
  return Buffer.concat(chunks);
}

async function putBlob(repo: string, blob: Buffer): Promise<string> {
  const digest = sha(blob);
  const start = await reg.api('POST', `/v2/${repo}/blobs/uploads/`);
  assert.equal(start.status, 202);
  const loc = new URL(start.headers.get('location')!, `http://${reg.host}`);
  loc.searchParams.set('digest', digest);
  const put = await reg.api('PUT', loc.pathname + loc.search, { body: blob, headers: { 'Content-Type': 'application/octet-stream' } });
  assert.equal(put.status, 201, await put.text());
  return digest;
}

/** A one-layer image of `bytes` random (incompressible) bytes, pushed as repo:tags. */
async function pushImage(repo: string, tags: string[], bytes: number): Promise<{ layer: string; size: number; diffId: string; id: string }> {
  const raw = await tarOf('blob', randomBytes(bytes));
  const blob = gzipSync(raw, { level: 1 });
  const layer = await putBlob(repo, blob);
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [sha(raw)] } }));
  await putBlob(repo, config);
  const manifest = JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha(config), size: config.length },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: layer, size: blob.length }],
  });
  for (const t of tags) {
    const r = await reg.api('PUT', `/v2/${repo}/manifests/${t}`, { body: manifest, headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' } });
    assert.equal(r.status, 201, await r.text());
  }
  return { layer, size: blob.length, diffId: sha(raw), id: sha(config) };
}

interface BlobRequest { range: string | undefined; status: number; served: number }

/**
 * An HTTP proxy in front of the registry that ends the connection of a GET of `digest`
 * once the blob's absolute byte `cuts[0]` has been sent (then the next cut, on the next
 * response), and can strip Range headers (a registry that ignores them).
 */
async function cuttingProxy(o: { digest: string; cuts: number[]; stripRange: boolean }): Promise<{ server: Server; port: number; log: BlobRequest[] }> {
  const log: BlobRequest[] = [];
  const cuts = [...o.cuts];
  const server = createServer((req, res) => {
    const isBlob = req.method === 'GET' && req.url!.endsWith(`/blobs/${o.digest}`);
    const headers = { ...req.headers, host: reg.host };
    if (isBlob && o.stripRange) delete headers.range;
    const up = request({ host: '127.0.0.1', port: reg.port, path: req.url, method: req.method, headers }, (ur) => {
      res.writeHead(ur.statusCode!, ur.headers);
      if (!isBlob) { ur.pipe(res); return; }
      const entry: BlobRequest = { range: req.headers.range, status: ur.statusCode!, served: 0 };
      log.push(entry);
      const start = ur.statusCode === 206 ? Number(/bytes (\d+)-/.exec(String(ur.headers['content-range']))?.[1]) : 0;
      const cut = cuts.shift();
      ur.on('data', (c: Buffer) => {
        if (res.destroyed) return;
        const pos = start + entry.served;
        if (cut !== undefined && pos + c.length >= cut) {
          res.write(c.subarray(0, cut - pos));
          entry.served += cut - pos;
          // A clean FIN after the bytes: the client sees a body shorter than Content-Length.
          res.socket?.end();
          ur.destroy();
          return;
        }
        entry.served += c.length;
        res.write(c);
      });
      ur.on('end', () => res.end());
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as { port: number }).port, log };
}

test('a layer download cut twice mid-blob resumes with Range requests and verifies the whole blob', { timeout: 60_000 }, async () => {
  const img = await pushImage('resume', ['v1'], 3 << 20);
  const c1 = Math.floor(img.size / 3);
  const c2 = Math.floor((img.size * 2) / 3);
  const p = await cuttingProxy({ digest: img.layer, cuts: [c1, c2], stripRange: false });
  try {
    const ref = `127.0.0.1:${p.port}/resume:v1`;
    const pull = await d.docker(['pull', ref], { timeout: 30_000 });
    assert.equal(pull.code, 0, pull.stdout + pull.stderr);
    assert.deepEqual(p.log.map((r) => r.status), [200, 206, 206]);
    // Resumed from the bytes already received (a few kB still in flight when the
    // connection ended may be asked for again), never from the start.
    const from = p.log.map((r) => Number(/^bytes=(\d+)-$/.exec(r.range ?? 'bytes=0-')?.[1]));
    assert.ok(from[1]! > c1 - 65536 && from[1]! <= c1, `first resume at ${from[1]}, cut at ${c1}`);
    assert.ok(from[2]! > c2 - 65536 && from[2]! <= c2, `second resume at ${from[2]}, cut at ${c2}`);
    assert.ok(p.log.reduce((n, r) => n + r.served, 0) < img.size + 2 * 65536, 'not downloaded again from the start');
    const inspect = JSON.parse((await d.docker(['image', 'inspect', ref])).stdout)[0];
    assert.equal(inspect.Id, img.id);
    assert.deepEqual(inspect.RootFS.Layers, [img.diffId]);
  } finally {
    p.server.close();
    p.server.closeAllConnections();
  }
});

test('a registry that ignores Range (200) is read again from the start; the blob still verifies', { timeout: 60_000 }, async () => {
  const img = await pushImage('norange', ['v1'], 2 << 20);
  const cut = Math.floor(img.size / 2);
  const p = await cuttingProxy({ digest: img.layer, cuts: [cut], stripRange: true });
  try {
    const ref = `127.0.0.1:${p.port}/norange:v1`;
    const pull = await d.docker(['pull', ref], { timeout: 30_000 });
    assert.equal(pull.code, 0, pull.stdout + pull.stderr);
    assert.deepEqual(p.log.map((r) => r.status), [200, 200]);
    assert.match(p.log[1]!.range ?? '', /^bytes=\d+-$/, 'a Range request was tried first');
    assert.equal(p.log[1]!.served, img.size, 'the whole blob was sent again');
    assert.deepEqual(JSON.parse((await d.docker(['image', 'inspect', ref])).stdout)[0].RootFS.Layers, [img.diffId]);
  } finally {
    p.server.close();
    p.server.closeAllConnections();
  }
});

test('pull --all-tags brings every tag of a repository (docker and berth CLIs); a tag with -a is refused', { timeout: 60_000 }, async () => {
  const one = await pushImage('alltags', ['a', 'b'], 64 << 10);
  const two = await pushImage('alltags', ['c'], 64 << 10);
  const repo = `${reg.host}/alltags`;
  const pull = await d.docker(['pull', '-a', repo], { timeout: 30_000 });
  assert.equal(pull.code, 0, pull.stdout + pull.stderr);
  const lines = pull.stdout.trim().split('\n');
  for (const t of ['a', 'b', 'c']) assert.ok(lines.includes(`${t}: Pulling from alltags`), pull.stdout);
  assert.equal(lines.filter((l) => l.startsWith('Digest: sha256:')).length, 3, pull.stdout);
  assert.equal(lines.at(-2), `Status: Downloaded newer image for ${repo}`);
  assert.equal(lines.at(-1), repo);
  const images = (await d.docker(['images', repo, '--format', '{{.Tag}} {{.ID}}'])).stdout.trim().split('\n').sort();
  const short = (id: string) => id.slice(7, 19);
  assert.deepEqual(images, [`a ${short(one.id)}`, `b ${short(one.id)}`, `c ${short(two.id)}`]);
  // Again with berth's CLI: everything is there already.
  const again = await d.berth(['pull', '-a', repo], { timeout: 30_000 });
  assert.equal(again.code, 0, again.stdout + again.stderr);
  assert.match(again.stdout, new RegExp(`^Status: Image is up to date for ${repo.replace(/\./g, '\\.')}\\n${repo.replace(/\./g, '\\.')}\\n$`, 'm'));
  const withTag = await d.berth(['pull', '-a', `${repo}:a`]);
  assert.equal(withTag.code, 1);
  assert.match(withTag.stderr, /tag can't be used with --all-tags\/-a/);
  // The API: a tag inside fromImage is pulled alone even without the tag parameter.
  await d.docker(['rmi', `${repo}:c`]);
  const api = await d.api('POST', `/images/create?fromImage=${encodeURIComponent(`${repo}:c`)}`);
  assert.equal(api.status, 200);
  assert.equal((await d.docker(['images', '-q', `${repo}:c`])).stdout.trim(), short(two.id));
  assert.equal((await d.docker(['pull', '-a', `${reg.host}/nosuchrepo`])).code, 1);
});

test('a loopback registry over HTTPS with a self-signed certificate: push and pull (HTTPS unverified first, as docker)', { timeout: 60_000 }, async () => {
  const tlsReg = await TestRegistry.start({ tls: true });
  try {
    const img = await pushImage('tlssrc', ['v1'], 32 << 10);
    const src = `${reg.host}/tlssrc:v1`;
    assert.equal((await d.docker(['pull', src])).code, 0);
    const ref = `${tlsReg.host}/tls:v1`;
    assert.equal((await d.docker(['tag', src, ref])).code, 0);
    const push = await d.docker(['push', ref], { timeout: 30_000 });
    assert.equal(push.code, 0, push.stdout + push.stderr);
    await d.docker(['rmi', ref, src]);
    const pull = await d.docker(['pull', ref], { timeout: 30_000 });
    assert.equal(pull.code, 0, pull.stdout + pull.stderr);
    assert.equal(JSON.parse((await d.docker(['image', 'inspect', ref])).stdout)[0].Id, img.id);
  } finally {
    await tlsReg.stop();
  }
});
