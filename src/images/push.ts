/**
 * Push: send an image's blobs (skipping what the registry has, mounting from another
 * repository of the same registry when one is known to hold the blob, uploading
 * monolithically or in chunks otherwise) and then its manifest. Layers stored
 * uncompressed (import, commit) go out gzip-compressed, through DistributionCache so
 * every push of them agrees on the digest. The stream ends with docker's
 * "<tag>: digest: sha256:… size: N" line, the digest being the registry's.
 */
import type { Readable } from 'node:stream';
import { BerthError, notFound } from '../common/errors.js';
import type { ContentStore } from '../content/index.js';
import type { EventBus } from '../events/index.js';
import { decodeAuthHeader, type RegistryClient, type RepoSession } from '../registry-client/index.js';
import { MediaType, type Descriptor } from '../oci/image-spec.js';
import type { ImageRecord } from './types.js';
import type { NewImage } from './service.js';
import { familiarName, familiarString, fullName, parseReference, type Reference } from './reference.js';
import { Limiter, ProgressQueue, shortDigest, type ProgressMessage } from './pull-progress.js';
import type { DistributionCache } from './push-cache.js';

export interface PushDeps {
  content: ContentStore;
  registry: RegistryClient;
  cache: DistributionCache;
  images: { get(ref: string): Promise<ImageRecord>; list(): Promise<ImageRecord[]>; register(img: NewImage): Promise<ImageRecord> };
  events?: EventBus;
  /** Blobs up to this size go in one PUT; bigger ones in PATCH chunks of this size (default 16 MiB). */
  chunkSize?: number;
}

export interface PushOptions {
  /** Tag to push; empty pushes every tag of the repository. */
  tag?: string;
  auth?: string;
  signal?: AbortSignal;
}

const UNCOMPRESSED = new Set<string>([MediaType.OciLayer, MediaType.DockerLayer]);
const DOCKER_LAYER: Record<string, string> = {
  [MediaType.OciLayerGzip]: MediaType.DockerLayerGzip,
  [MediaType.DockerLayerGzip]: MediaType.DockerLayerGzip,
  'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip': 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
};

type StoredLike = ImageRecord & { layers?: Descriptor[] };

export class Pusher {
  #uploads = new Limiter(5);
  constructor(private deps: PushDeps) {}

  push(name: string, opts: PushOptions = {}): AsyncIterable<ProgressMessage> {
    return this.#push(name, opts);
  }

  async *#push(name: string, opts: PushOptions): AsyncGenerator<ProgressMessage> {
    const parsed = parseReference(name);
    if (parsed.digest) throw new BerthError('INVALID_ARGUMENT', `cannot push a digest reference (${name}); push a tag`);
    const repo: Reference = { domain: parsed.domain, path: parsed.path };
    const tags = opts.tag ? [opts.tag] : parsed.tag ? [parsed.tag] : await this.#allTags(repo);
    const targets: Array<{ tag: string; image: StoredLike }> = [];
    for (const tag of tags) {
      const ref = familiarString({ ...repo, tag });
      const image = (await this.deps.images.get(ref).catch(() => undefined)) as StoredLike | undefined;
      if (!image) throw notFound(`An image does not exist locally with the tag: ${familiarName(repo)}`);
      targets.push({ tag, image });
    }
    if (targets.length === 0) throw notFound(`An image does not exist locally with the tag: ${familiarName(repo)}`);
    const creds = decodeAuthHeader(opts.auth);
    const signal = opts.signal ?? new AbortController().signal;
    yield { status: `The push refers to repository [${fullName(repo)}]` };
    for (const { tag, image } of targets) yield* this.#pushOne(repo, tag, image, creds, signal);
  }

  async #allTags(repo: Reference): Promise<string[]> {
    const want = fullName(repo);
    const tags = new Set<string>();
    for (const img of await this.deps.images.list()) {
      for (const t of img.repoTags) {
        const r = parseReference(t);
        if (fullName(r) === want && r.tag) tags.add(r.tag);
      }
    }
    return [...tags].sort();
  }

  async *#pushOne(repo: Reference, tag: string, image: StoredLike, creds: ReturnType<typeof decodeAuthHeader>, signal: AbortSignal): AsyncGenerator<ProgressMessage> {
    const layers = image.layers ?? [];
    if (layers.length !== image.config.rootfs.diff_ids.length) throw new BerthError('FAILED_PRECONDITION', `image ${shortDigest(image.id)} has no layer blobs recorded; it cannot be pushed`);
    // Blobs as they will be sent: uncompressed ones get their gzip twin.
    const out: Descriptor[] = [];
    for (const l of layers) {
      if (UNCOMPRESSED.has(l.mediaType)) {
        const gz = await this.deps.cache.gzipOf(l.digest);
        out.push({ mediaType: MediaType.OciLayerGzip, digest: gz.digest, size: gz.size });
      } else out.push({ mediaType: l.mediaType, digest: l.digest, size: l.size });
    }
    const here = fullName(repo);
    const mountFrom = new Set<string>();
    const candidates = new Map<string, string[]>();
    for (const d of out) {
      const same = (await this.deps.cache.sources(d.digest)).filter((s) => s.startsWith(repo.domain + '/') && s !== here).map((s) => s.slice(repo.domain.length + 1));
      for (const rd of image.repoDigests) {
        const r = parseReference(rd);
        if (r.domain === repo.domain && r.path !== repo.path && !same.includes(r.path)) same.push(r.path);
      }
      candidates.set(d.digest, same.slice(0, 3));
      same.slice(0, 3).forEach((s) => mountFrom.add(s));
    }
    const session = this.deps.registry.session({ domain: repo.domain, path: repo.path }, creds, 'push', [...mountFrom]);

    const q = new ProgressQueue();
    for (const d of [...out].reverse()) q.push({ status: 'Preparing', id: shortDigest(d.digest) });
    const work = Promise.all([...out].reverse().map((d) => this.#uploads.run(() => this.#pushBlob(session, d, candidates.get(d.digest) ?? [], q, signal))));
    work.then(() => q.close(), (err) => q.fail(err));
    yield* q;
    await work;

    const configBytes = await this.deps.content.readBuffer(image.id);
    const configDesc: Descriptor = { mediaType: MediaType.DockerConfig, digest: image.id, size: configBytes.length };
    if (!(await session.hasBlob(image.id, signal))) await this.#upload(session, configDesc, () => undefined, signal);

    const manifest = buildManifest(configDesc, out);
    const bytes = Buffer.from(JSON.stringify(manifest.doc, null, 3));
    const digest = await session.putManifest(tag, manifest.mediaType, bytes, signal);
    await this.deps.cache.addSource([...out.map((d) => d.digest), image.id], here);
    await this.deps.images.register({ config: configBytes, layers, layerSizes: (image as { layerSizes?: number[] }).layerSizes ?? layers.map(() => 0), repoDigests: [`${familiarName(repo)}@${digest}`] });
    this.deps.events?.publish('image', 'push', familiarString({ ...repo, tag }), { name: familiarName(repo) });
    yield { status: `${tag}: digest: ${digest} size: ${bytes.length}` };
    yield { progressDetail: {}, aux: { Tag: tag, Digest: digest, Size: bytes.length } };
  }

  async #pushBlob(session: RepoSession, d: Descriptor, from: string[], q: ProgressQueue, signal: AbortSignal): Promise<void> {
    const id = shortDigest(d.digest);
    if (await session.hasBlob(d.digest, signal)) {
      q.push({ status: 'Layer already exists', id });
      return;
    }
    let location: string | undefined;
    for (const src of from) {
      const r = await session.mountBlob(d.digest, src, signal).catch(() => undefined);
      if (r?.mounted) {
        q.push({ status: `Mounted from ${src}`, id });
        return;
      }
      location ??= r?.location;
    }
    await this.#upload(session, d, (n) => q.progress(id, 'Pushing', n, d.size), signal, location);
    q.push({ status: 'Pushed', id });
  }

  /** Monolithic PUT for small blobs, PATCH chunks then PUT for big ones. */
  async #upload(session: RepoSession, d: Descriptor, onBytes: (n: number) => void, signal: AbortSignal, location?: string): Promise<void> {
    const chunkSize = this.deps.chunkSize ?? 16 << 20;
    let loc = location ?? (await session.startUpload(signal));
    const src = await this.deps.content.read(d.digest);
    if (d.size <= chunkSize) {
      const body = await readAll(src, d.size);
      await session.finishUpload(loc, d.digest, body, signal);
      onBytes(d.size);
      return;
    }
    let offset = 0;
    for await (const chunk of chunks(src, chunkSize)) {
      loc = await session.uploadChunk(loc, chunk, offset, signal);
      offset += chunk.length;
      onBytes(offset);
    }
    await session.finishUpload(loc, d.digest, undefined, signal);
  }
}

function buildManifest(config: Descriptor, layers: Descriptor[]): { mediaType: string; doc: object } {
  // Docker schema 2 when every layer has a Docker media type (what docker itself pushes), OCI otherwise.
  if (layers.every((l) => DOCKER_LAYER[l.mediaType])) {
    return {
      mediaType: MediaType.DockerManifest,
      doc: {
        schemaVersion: 2,
        mediaType: MediaType.DockerManifest,
        config: { mediaType: MediaType.DockerConfig, size: config.size, digest: config.digest },
        layers: layers.map((l) => ({ mediaType: DOCKER_LAYER[l.mediaType], size: l.size, digest: l.digest })),
      },
    };
  }
  return {
    mediaType: MediaType.OciManifest,
    doc: {
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      config: { mediaType: MediaType.OciConfig, size: config.size, digest: config.digest },
      layers: layers.map((l) => ({ mediaType: l.mediaType, size: l.size, digest: l.digest })),
    },
  };
}

async function readAll(src: Readable, size: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of src) parts.push(c as Buffer);
  const b = Buffer.concat(parts);
  if (b.length !== size) throw new BerthError('INTERNAL', `blob is ${b.length} bytes in the content store, ${size} expected`);
  return b;
}

/** Re-chunk a stream into pieces of exactly n bytes (the last one shorter). */
async function* chunks(src: Readable, n: number): AsyncGenerator<Buffer> {
  let buf: Buffer[] = [];
  let have = 0;
  for await (const c of src) {
    buf.push(c as Buffer);
    have += (c as Buffer).length;
    while (have >= n) {
      const all = Buffer.concat(buf);
      yield all.subarray(0, n);
      buf = [all.subarray(n)];
      have -= n;
    }
  }
  if (have > 0) yield Buffer.concat(buf);
}

