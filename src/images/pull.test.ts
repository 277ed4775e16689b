/**
 * Pull against a scripted registry on 127.0.0.1: the bearer-token flow, a registry
 * that sends the wrong bytes (refused, nothing stored), one that stops answering
 * (bounded, clear error), and two concurrent pulls sharing one download.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { createContentStore } from '../content/index.js';
import { createOverlaySnapshotter } from '../snapshots/index.js';
import { createRegistryClient } from '../registry-client/index.js';
import { createImageService } from './service.js';
import { Puller } from './pull.js';
import { makeTar } from '../diff/test-tar.js';

const sha = (b: Buffer) => 'sha256:' + createHash('sha256').update(b).digest('hex');

interface Fake { server: Server; port: number; blobGets: number; tokenGets: number }

async function fakeRegistry(o: { corrupt?: boolean; stall?: boolean; bearer?: boolean; slowMs?: number }): Promise<Fake & { ref: string }> {
  const raw = await makeTar([{ name: 'hello.txt', type: 'file', content: 'hello' }]);
  const layer = gzipSync(raw);
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha(raw)] } }));
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha(config), size: config.length },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha(layer), size: layer.length }],
  }));
  const f = { blobGets: 0, tokenGets: 0 } as Fake;
  f.server = createServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    if (url.pathname === '/token') {
      f.tokenGets++;
      const ok = req.headers.authorization === 'Basic ' + Buffer.from('bob:pw').toString('base64');
      assert.equal(url.searchParams.get('scope'), 'repository:t/img:pull');
      res.writeHead(ok ? 200 : 401, { 'Content-Type': 'application/json' });
      res.end(ok ? JSON.stringify({ token: 'tok' }) : JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'bad password' }] }));
      return;
    }
    if (o.bearer && req.headers.authorization !== 'Bearer tok') {
      res.writeHead(401, { 'WWW-Authenticate': `Bearer realm="http://127.0.0.1:${f.port}/token",service="fake",scope="repository:t/img:pull"`, 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }));
      return;
    }
    if (url.pathname === '/v2/t/img/manifests/v1') {
      res.writeHead(200, { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json', 'Docker-Content-Digest': sha(manifest) });
      res.end(manifest);
    } else if (url.pathname === `/v2/t/img/blobs/${sha(config)}`) {
      res.end(config);
    } else if (url.pathname === `/v2/t/img/blobs/${sha(layer)}`) {
      f.blobGets++;
      res.writeHead(200, { 'Content-Length': layer.length });
      if (o.stall) { res.write(layer.subarray(0, 10)); return; } // and then silence
      const body = o.corrupt ? Buffer.from(layer).fill(0, 20, 30) : layer;
      setTimeout(() => res.end(body), o.slowMs ?? 0);
    } else {
      res.writeHead(404, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }] }));
    }
  });
  await new Promise<void>((r) => f.server.listen(0, '127.0.0.1', r));
  f.port = (f.server.address() as { port: number }).port;
  return { ...f, get blobGets() { return f.blobGets; }, get tokenGets() { return f.tokenGets; }, ref: `127.0.0.1:${f.port}/t/img:v1` } as Fake & { ref: string };
}

async function withPuller(fn: (p: Puller, root: string) => Promise<void>, timeoutMs = 5000): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'berth-pull-'));
  try {
    const content = createContentStore(root);
    const snapshots = createOverlaySnapshotter(root);
    const images = createImageService({ root, content, snapshots });
    const registry = createRegistryClient({ idleTimeoutMs: timeoutMs, backoffMs: 20, attempts: 2 });
    await fn(new Puller({ content, snapshots, registry, images }), root);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

async function drain(it: AsyncIterable<{ status?: string }>): Promise<string[]> {
  const out: string[] = [];
  for await (const m of it) out.push(m.status ?? '');
  return out;
}

const auth = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');

test('bearer token flow: challenge, token with scope and basic credentials, retry', { timeout: 20_000 }, async () => {
  const f = await fakeRegistry({ bearer: true });
  try {
    await withPuller(async (p) => {
      await assert.rejects(drain(p.pull(f.ref, { auth: auth({ username: 'bob', password: 'nope' }) })), (e: Error & { code?: string }) => e.code === 'UNAUTHORIZED' && /bad password/.test(e.message));
      const s = await drain(p.pull(f.ref, { auth: auth({ username: 'bob', password: 'pw' }) }));
      assert.ok(s.includes('Pull complete'), s.join());
      assert.ok(f.tokenGets >= 2);
    });
  } finally { f.server.close(); }
});

test('a blob that does not match its digest is refused and nothing is stored', { timeout: 20_000 }, async () => {
  const f = await fakeRegistry({ corrupt: true });
  try {
    await withPuller(async (p, root) => {
      await assert.rejects(drain(p.pull(f.ref)), /digest mismatch|invalid layer archive|corrupt/);
      assert.deepEqual((await readdir(join(root, 'content', 'blobs', 'sha256'))), []);
      assert.deepEqual((await readdir(join(root, 'content', 'ingest'))), []);
      const snaps = (await readdir(join(root, 'overlay'))).filter((n) => /^\d+$/.test(n));
      assert.deepEqual(snaps, []);
    });
  } finally { f.server.close(); }
});

test('a registry that stops sending fails the pull after bounded retries', { timeout: 20_000 }, async () => {
  const f = await fakeRegistry({ stall: true });
  try {
    await withPuller(async (p) => {
      const t0 = Date.now();
      await assert.rejects(drain(p.pull(f.ref)), /stopped sending: no answer for 0.3s/);
      assert.ok(Date.now() - t0 < 10_000);
      // Three attempts; each resumes once (its first connection brought 10 bytes), and a
      // resumed connection that brings nothing new is not resumed again.
      assert.equal(f.blobGets, 6, 'three attempts at the layer, each resumed once');
    }, 300);
  } finally { f.server.close(); f.server.closeAllConnections(); }
});

test('two concurrent pulls of one image share the download', { timeout: 20_000 }, async () => {
  const f = await fakeRegistry({ slowMs: 300 });
  try {
    await withPuller(async (p) => {
      const [a, b] = await Promise.all([drain(p.pull(f.ref)), drain(p.pull(f.ref))]);
      assert.equal(f.blobGets, 1);
      assert.ok(a.at(-1)!.startsWith('Status:') && b.at(-1)!.startsWith('Status:'));
    });
  } finally { f.server.close(); }
});
