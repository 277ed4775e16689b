/**
 * Layers of one image download and unpack side by side and commit bottom-up: with
 * the bottom layer held back by the registry, the upper layers are unpacked before
 * it arrives, yet every snapshot ends on the right parent with its own files. A
 * corrupt middle layer fails the pull and leaves no snapshot and no partial blob.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, readdir, readFile } from 'node:fs/promises';
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

async function threeLayerRegistry(o: { holdBottomMs: number; corruptMiddle?: boolean }) {
  const raws = await Promise.all([0, 1, 2].map((i) => makeTar([
    { name: 'etc/', type: 'directory', mode: 0o755 },
    { name: `etc/layer${i}`, content: `layer ${i}` },
    { name: 'shared', content: `top is ${i}` },
  ])));
  const gz = raws.map((r) => gzipSync(r));
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: raws.map(sha) } }));
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha(config), size: config.length },
    layers: gz.map((g) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha(g), size: g.length })),
  }));
  const served: number[] = [];
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url!, 'http://x').pathname;
    if (path === '/v2/t/img/manifests/v1') {
      res.writeHead(200, { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json', 'Docker-Content-Digest': sha(manifest) });
      res.end(manifest);
      return;
    }
    if (path === `/v2/t/img/blobs/${sha(config)}`) { res.end(config); return; }
    const i = gz.findIndex((g) => path === `/v2/t/img/blobs/${sha(g)}`);
    if (i < 0) { res.writeHead(404, { 'Content-Type': 'application/json' }); res.end('{"errors":[{"code":"BLOB_UNKNOWN","message":"unknown"}]}'); return; }
    const body = o.corruptMiddle && i === 1 ? Buffer.from(gz[i]!).fill(0, 20, 30) : gz[i]!;
    res.writeHead(200, { 'Content-Length': body.length });
    setTimeout(() => { served.push(i); res.end(body); }, i === 0 ? o.holdBottomMs : 0);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return { server, served, ref: `127.0.0.1:${port}/t/img:v1` };
}

async function withPuller(fn: (p: Puller, root: string, deps: { snapshots: ReturnType<typeof createOverlaySnapshotter>; images: ReturnType<typeof createImageService> }) => Promise<void>): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'berth-pullpar-'));
  try {
    const content = createContentStore(root);
    const snapshots = createOverlaySnapshotter(root);
    const images = createImageService({ root, content, snapshots });
    const registry = createRegistryClient({ idleTimeoutMs: 5000, backoffMs: 20, attempts: 2 });
    await fn(new Puller({ content, snapshots, registry, images }), root, { snapshots, images });
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

async function drain(it: AsyncIterable<{ status?: string }>): Promise<void> {
  for await (const _ of it) { /* progress */ }
}

test('upper layers unpack before the bottom one arrives and still commit on the right parents', { timeout: 20_000 }, async () => {
  const f = await threeLayerRegistry({ holdBottomMs: 300 });
  try {
    await withPuller(async (p, _root, { snapshots, images }) => {
      await drain(p.pull(f.ref));
      assert.equal(f.served.at(-1), 0, 'the bottom layer came last');
      const img = await images.get(f.ref);
      assert.equal(img.chainIds.length, 3);
      for (let i = 0; i < 3; i++) {
        const st = await snapshots.stat(img.chainIds[i]!);
        assert.equal(st?.kind, 'committed');
        assert.equal(st?.parent, i === 0 ? undefined : img.chainIds[i - 1]);
        const dir = await snapshots.committedDir(img.chainIds[i]!);
        assert.deepEqual(await readdir(join(dir, 'etc')), [`layer${i}`]);
        assert.equal(await readFile(join(dir, 'shared'), 'utf8'), `top is ${i}`);
      }
    });
  } finally { f.server.close(); }
});

test('a corrupt middle layer fails the pull and leaves no snapshot and no partial blob', { timeout: 20_000 }, async () => {
  const f = await threeLayerRegistry({ holdBottomMs: 100, corruptMiddle: true });
  try {
    await withPuller(async (p, root) => {
      await assert.rejects(drain(p.pull(f.ref)), /digest mismatch|invalid layer archive|corrupt/);
      // The pull answers at the first failure; the other layers' jobs stop and clean up
      // right after (they are shared with other pulls, so they end on their own).
      const leftovers = async () => [
        ...(await readdir(join(root, 'overlay'))).filter((n) => /^\d+$/.test(n)),
        ...(await readdir(join(root, 'content', 'ingest'))),
      ];
      const deadline = Date.now() + 3000;
      while ((await leftovers()).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(await leftovers(), []);
    });
  } finally { f.server.close(); }
});
