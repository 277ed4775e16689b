/**
 * `docker save`: images as one tarball in docker's archive format, which is also an
 * OCI image layout (docker 25+ writes both): blobs/sha256/<hex> for configs, layers
 * and manifests, manifest.json for `docker load` of every version, index.json and
 * oci-layout for OCI tools. Layer blobs go out as stored (loaders detect gzip).
 */
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { writeTarEntry } from '../common/tar-entry.js';
import tar from 'tar-stream';
import { createHash } from 'node:crypto';
import { invalidArgument } from '../common/errors.js';
import { MediaType, type Descriptor } from '../oci/image-spec.js';
import type { ContentStore } from '../content/index.js';
import type { ImageRecord } from './types.js';
import { normalizedString, parseReference, withDefaultTag } from './reference.js';

/** What save needs of the image service: lookups, and each image's layer blobs. */
export interface SaveSource {
  get(ref: string): Promise<ImageRecord & { layers?: Descriptor[] }>;
  /** Every image (for a name without a tag: all of that repository's tags go, as docker's). */
  list(): Promise<ImageRecord[]>;
  content: ContentStore;
}

/** A repository name given without tag or digest ("busybox"): every tag of it, or none. */
async function tagsOfRepository(src: SaveSource, name: string): Promise<string[]> {
  let ref;
  try { ref = parseReference(name); } catch { return []; }
  if (ref.tag !== undefined || ref.digest !== undefined) return [];
  const repo = normalizedString(ref);
  const out: string[] = [];
  for (const img of await src.list()) {
    for (const t of img.repoTags) {
      const r = parseReference(t);
      if (normalizedString({ ...r, tag: undefined, digest: undefined }) === repo) out.push(t);
    }
  }
  return out;
}

interface Picked {
  image: ImageRecord & { layers?: Descriptor[] };
  tags: string[];
}

/** Resolve every name first, so an unknown one fails before a byte is written. */
export async function pickImages(src: SaveSource, names: string[]): Promise<Picked[]> {
  if (names.length === 0) throw invalidArgument('no image names given to save');
  const byId = new Map<string, Picked>();
  const expanded: string[] = [];
  for (const name of names) {
    const tags = await tagsOfRepository(src, name);
    expanded.push(...(tags.length ? tags : [name]));
  }
  for (const name of expanded) {
    const image = await src.get(name);
    const p = byId.get(image.id) ?? { image, tags: [] };
    byId.set(image.id, p);
    // A name that is a tag of the image travels with it; an id carries no tag (docker).
    let want: string | undefined;
    try {
      want = normalizedString(withDefaultTag(parseReference(name)));
    } catch { /* an id prefix */ }
    const tag = image.repoTags.find((t) => normalizedString(withDefaultTag(parseReference(t))) === want);
    if (tag && !p.tags.includes(tag)) p.tags.push(tag);
  }
  for (const p of byId.values()) {
    if (!p.image.layers || p.image.layers.length !== (p.image.config.rootfs?.diff_ids ?? []).length) {
      throw invalidArgument(`image ${p.image.id} has no layer blobs recorded; it cannot be saved`);
    }
  }
  return [...byId.values()];
}

export async function writeImageArchive(src: SaveSource, picked: Picked[], out: Writable): Promise<void> {
  const pack = tar.pack();
  const piping = pipeline(pack, out);
  piping.catch(() => {});
  const written = new Set<string>();
  const mtime = new Date(0);
  // A client that stops reading (`docker save … | head`) destroys the pack: the entry being
  // written then fails, and the save with it (writeTarEntry keeps that error handled).
  const put = (name: string, data: Buffer) => writeTarEntry(pack, { name, size: data.length, mode: 0o644, mtime }, data);
  const putBlob = async (digest: string) => {
    if (written.has(digest)) return;
    written.add(digest);
    const info = await src.content.stat(digest);
    if (!info) throw invalidArgument(`blob ${digest} is missing from the content store; the image cannot be saved`);
    await writeTarEntry(pack, { name: blobPath(digest), size: info.size, mode: 0o644, mtime }, await src.content.read(digest));
  };
  const manifestJson: Array<{ Config: string; RepoTags: string[] | null; Layers: string[] }> = [];
  const index: Descriptor[] = [];
  try {
    for (const { image, tags } of picked) {
      const config = await src.content.readBuffer(image.id);
      await putBlob(image.id);
      for (const l of image.layers!) await putBlob(l.digest);
      const manifest = Buffer.from(JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaType.OciManifest,
        config: { mediaType: MediaType.OciConfig, digest: image.id, size: config.length },
        layers: image.layers!.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
      }));
      const mdigest = 'sha256:' + createHash('sha256').update(manifest).digest('hex');
      if (!written.has(mdigest)) {
        written.add(mdigest);
        await put(blobPath(mdigest), manifest);
      }
      manifestJson.push({ Config: blobPath(image.id), RepoTags: tags.length ? tags : null, Layers: image.layers!.map((l) => blobPath(l.digest)) });
      const desc = { mediaType: MediaType.OciManifest, digest: mdigest, size: manifest.length };
      if (tags.length === 0) index.push(desc);
      for (const t of tags) {
        const full = normalizedString(withDefaultTag(parseReference(t)));
        index.push({ ...desc, annotations: { 'io.containerd.image.name': full, 'org.opencontainers.image.ref.name': full.slice(full.lastIndexOf(':') + 1) } } as Descriptor);
      }
    }
    await put('index.json', Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: index })));
    await put('manifest.json', Buffer.from(JSON.stringify(manifestJson)));
    await put('oci-layout', Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' })));
    pack.finalize();
  } catch (err) {
    pack.destroy(err as Error);
    throw err;
  }
  await piping;
}

function blobPath(digest: string): string {
  return `blobs/${digest.replace(':', '/')}`;
}
