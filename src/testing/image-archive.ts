/**
 * `docker load` archives made in memory, for tests that need images no registry has:
 * very deep ones, or ones whose config carries values a build would never write.
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import tar from 'tar-stream';
import { REPO } from './daemon.js';

async function pack(entries: Array<{ name: string; data: Buffer | string }>): Promise<Buffer> {
  const p = tar.pack();
  for (const e of entries) p.entry({ name: e.name, type: 'file', mode: 0o644, mtime: new Date(0) }, e.data);
  p.finalize();
  const chunks: Buffer[] = [];
  for await (const c of p) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** A layer of one file; the same name and content always give the same layer (shared chains). */
export function fileLayer(name: string, content = name): Promise<Buffer> {
  return pack([{ name, data: content }]);
}

/** The busybox root file system (scripts/busybox-rootfs.mjs) as one layer. */
export function busyboxLayer(): Buffer {
  return execFileSync(process.execPath, [join(REPO, 'scripts/busybox-rootfs.mjs')], { maxBuffer: 64 << 20 });
}

/** A docker-archive tar (manifest.json) of one image tagged `tag`, with `config` as its runtime config. */
export async function imageArchive(o: { tag: string; layers: Buffer[]; config?: Record<string, unknown> }): Promise<Buffer> {
  const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
  const cfg = Buffer.from(JSON.stringify({
    architecture: process.arch === 'x64' ? 'amd64' : process.arch,
    os: 'linux',
    created: '2024-01-01T00:00:00Z',
    config: o.config ?? {},
    rootfs: { type: 'layers', diff_ids: o.layers.map((l) => `sha256:${sha(l)}`) },
    history: [],
  }));
  const layerNames = o.layers.map((_, i) => `${i}/layer.tar`);
  return pack([
    { name: 'manifest.json', data: JSON.stringify([{ Config: 'config.json', RepoTags: [o.tag], Layers: layerNames }]) },
    { name: 'config.json', data: cfg },
    ...o.layers.map((l, i) => ({ name: layerNames[i]!, data: l })),
  ]);
}
