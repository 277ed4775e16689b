import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import type { ContentStore, BlobInfo } from '../content/index.js';
import type { LayerSnapshotter } from '../snapshots/index.js';
import { applyLayer, decompress, type ApplyResult } from '../diff/index.js';
import { MediaType, type Descriptor, type ImageConfigFile } from '../oci/image-spec.js';
import { BerthError, invalidArgument } from '../common/errors.js';
import { KeyedMutex } from '../common/lock.js';
import type { EventBus } from '../events/index.js';
import type { ImageFilters, ImageRecord, ImageService, ImportOptions, PruneOptions, RemoveResult } from './types.js';
import { ImageRecords, type StoredImage } from './store.js';
import { applyChanges } from './changes.js';
import { planRemove, usersOf, type InUse } from './remove.js';
import { LayerCollector, type Collected, type Lease } from './gc.js';
import { parseTimestamp, pruneCandidates } from './prune.js';
import { blockUsage, sharedSizes, type ImagesDiskUsage } from './disk-usage.js';
import { chainIds, hostArchitecture } from './layers.js';
import { familiarName, familiarString, globMatch, parseReference, parseTagReference, withDefaultTag, normalizedString } from './reference.js';

export interface ImageServiceOptions {
  /** The data root; records live in <root>/images/images.json. */
  root: string;
  content: ContentStore;
  snapshots: LayerSnapshotter;
  /** When given, image events (import, tag, untag, delete) are published as docker does. */
  events?: EventBus;
}

/** What pull and load hand over once config and layers are in place. */
export interface NewImage {
  config: Buffer;
  layers: Descriptor[];
  layerSizes: number[];
  manifestDigest?: string;
  repoDigests?: string[];
  reference?: string;
}

/** ImageService plus what the containers service and later pull/load/save need. */
export interface LocalImageService extends ImageService {
  /** The committed snapshot a container's rootfs is prepared on; undefined for an image with no layers. */
  rootfsParent(ref: string): Promise<string | undefined>;
  /** Record an image whose config blob and layer snapshots already exist (pull, load). */
  register(img: NewImage): Promise<ImageRecord>;
  /** Remove committed snapshots and blobs no image uses (after a forced rmi left some). */
  prune(): Promise<string[]>;
  /** The same sweep with the bytes given back; the daemon runs it at start-up for a crash's leftovers. */
  collectGarbage(): Promise<Collected>;
  /**
   * Keep these chain ids and blob digests from every collection until released: a
   * pull takes one before it looks at what exists and releases it once its image is
   * registered, so a concurrent rmi or prune cannot take a layer from under it.
   */
  lease(keys: Iterable<string>): Promise<Lease>;
  pruneImages(o: PruneOptions, isInUse: (imageId: string) => boolean): Promise<{ ImagesDeleted: RemoveResult[] | null; SpaceReclaimed: number }>;
}

export function createImageService(opts: ImageServiceOptions): LocalImageService {
  return new LocalImages(opts);
}

/**
 * Every change to names and records runs under one lock key, so a tag move, an
 * import and a removal's garbage collection never interleave. Reads are lock-free.
 */
class LocalImages implements LocalImageService {
  #records: ImageRecords;
  #lock = new KeyedMutex();
  #gc: LayerCollector;

  constructor(private opts: ImageServiceOptions) {
    this.#records = new ImageRecords(opts.root);
    this.#gc = new LayerCollector(opts.content, opts.snapshots);
  }

  #event(action: string, id: string, name?: string): void {
    this.opts.events?.publish('image', action, id, name ? { name } : {});
  }

  async get(ref: string): Promise<ImageRecord> {
    await this.#records.load();
    return this.#records.resolve(ref).image;
  }

  async rootfsParent(ref: string): Promise<string | undefined> {
    return (await this.get(ref)).chainIds.at(-1);
  }

  async list(filters: ImageFilters = {}): Promise<ImageRecord[]> {
    await this.#records.load();
    const createdOf = (i: ImageRecord) => Date.parse(i.config.created ?? i.loadedAt);
    const before = filters.before !== undefined ? createdOf(this.#records.resolve(filters.before).image) : undefined;
    const since = filters.since !== undefined ? createdOf(this.#records.resolve(filters.since).image) : undefined;
    const until = filters.until !== undefined ? parseTimestamp(filters.until) : undefined;
    const out: ImageRecord[] = [];
    for (const img of this.#records.all()) {
      if (until !== undefined && !(createdOf(img) < until)) continue;
      if (filters.dangling === true && img.repoTags.length > 0) continue;
      if (filters.dangling === false && img.repoTags.length === 0) continue;
      if (before !== undefined && !(createdOf(img) < before)) continue;
      if (since !== undefined && !(createdOf(img) > since)) continue;
      if (filters.label?.length && !filters.label.every((l) => matchLabel(img.config.config?.Labels ?? {}, l))) continue;
      let shown: ImageRecord = img;
      if (filters.reference?.length) {
        // docker shows only the tags that matched the pattern.
        const tags = img.repoTags.filter((t) => filters.reference!.some((p) => matchReference(p, t)));
        if (tags.length === 0) continue;
        shown = { ...img, repoTags: tags };
      }
      out.push(shown);
    }
    return out.sort((a, b) => createdOf(b) - createdOf(a));
  }

  async import(tar: Readable, o: ImportOptions): Promise<ImageRecord> {
    // Validate everything before consuming the stream, so a bad option changes nothing.
    const ref = o.reference ? parseTagReference(o.reference) : undefined;
    const runtime = applyChanges({}, o.changes ?? []);
    await this.#records.load();
    // The upload is read outside the image lock (a slow or stalled client must not
    // block pulls, removals and other imports); a lease, taken once the layer's digest
    // is known, keeps a concurrent prune off it until the record is written.
    let lease: Lease | undefined;
    try {
      const { content, snapshots } = this.opts;
      const { stream } = await decompress(tar);
      const writer = await content.writer();
      let applied: ApplyResult | undefined;
      let blob: BlobInfo | undefined;
      let blobExisted = false;
      let snap: { key: string; created: boolean } | undefined;
      try {
        snap = await snapshots.commitLayer(undefined, async (dir) => {
          // The uncompressed tar is kept as the layer blob (digest = diff id), teed
          // while it is applied; save/push can compress it when they need to.
          applied = await applyLayer(Readable.from(tee(stream, writer)), dir);
          const chain = chainIds([applied.diffId])[0]!;
          lease = await this.lease([applied.diffId, chain]);
          blobExisted = (await content.stat(applied.diffId)) !== undefined;
          blob = await writer.commit({ digest: applied.diffId });
          return chain;
        });
      } catch (err) {
        await writer.abort();
        throw err;
      }
      try {
        const now = new Date().toISOString();
        const comment = o.message || 'Imported from -';
        const config: ImageConfigFile = {
          architecture: o.platform?.architecture ?? hostArchitecture(),
          os: o.platform?.os ?? 'linux',
          created: now,
          comment,
          config: runtime,
          rootfs: { type: 'layers', diff_ids: [applied!.diffId] },
          history: [{ created: now, comment }],
        };
        const layer: Descriptor = { mediaType: MediaType.OciLayer, digest: blob!.digest, size: blob!.size };
        const rec = await this.register({ config: Buffer.from(JSON.stringify(config)), layers: [layer], layerSizes: [applied!.contentSize], reference: ref && familiarString(ref) });
        this.#event('import', rec.id, rec.repoTags[0]);
        return rec;
      } catch (err) {
        // Leave the store as it was: no record, and no blob or snapshot we added (under
        // the lock: a concurrent import of the same layer may have registered it since).
        await this.#lock.run('images', async () => {
          const used = this.#records.all();
          if (snap!.created && !used.some((i) => i.chainIds.includes(snap!.key))) await snapshots.removeIfUnused(snap!.key).catch(() => {});
          if (!blobExisted && blob && !used.some((i) => i.layers.some((l) => l.digest === blob!.digest))) await content.delete(blob.digest).catch(() => {});
        });
        throw err;
      }
    } finally {
      lease?.release();
    }
  }

  async register(img: NewImage): Promise<ImageRecord> {
    await this.#records.load();
    return this.#lock.run('images', () => this.#register(img));
  }

  async #register(img: NewImage): Promise<StoredImage> {
    const config = JSON.parse(img.config.toString('utf8')) as ImageConfigFile;
    const diffIds = config.rootfs?.diff_ids ?? [];
    if (diffIds.length !== img.layers.length) throw invalidArgument(`image config lists ${diffIds.length} layers but ${img.layers.length} were given`);
    const chain = chainIds(diffIds);
    for (const c of chain) {
      if (!(await this.opts.snapshots.stat(c))) throw invalidArgument(`layer ${c} of the image is not unpacked`);
    }
    const configInfo = await this.opts.content.ingest(img.config);
    const id = configInfo.digest;
    const next = this.#records.draft();
    const tag = img.reference ? familiarString(parseTagReference(img.reference)) : undefined;
    if (tag) untagEverywhere(next, tag);
    const existing = next.get(id);
    const rec: StoredImage = existing ?? {
      id,
      repoTags: [],
      repoDigests: [],
      config,
      manifestDigest: img.manifestDigest,
      chainIds: chain,
      size: img.layerSizes.reduce((a, b) => a + b, 0),
      loadedAt: new Date().toISOString(),
      layers: img.layers,
      layerSizes: img.layerSizes,
    };
    if (tag && !rec.repoTags.includes(tag)) rec.repoTags.push(tag);
    for (const d of img.repoDigests ?? []) if (!rec.repoDigests.includes(d)) rec.repoDigests.push(d);
    next.set(id, rec);
    await this.#records.commit(next);
    return rec;
  }

  async tag(source: string, reference: string): Promise<void> {
    const tag = familiarString(parseTagReference(reference));
    await this.#records.load();
    await this.#lock.run('images', async () => {
      const id = this.#records.resolve(source).image.id;
      const next = this.#records.draft();
      untagEverywhere(next, tag);
      next.get(id)!.repoTags.push(tag);
      await this.#records.commit(next);
      this.#event('tag', id, tag);
    });
  }

  async remove(ref: string, opts: { force?: boolean; noprune?: boolean }, isInUse: InUse): Promise<RemoveResult[]> {
    await this.#records.load();
    return this.#lock.run('images', async () => {
      const { image, byId } = this.#records.resolve(ref);
      const id = image.id;
      const next = this.#records.draft();
      // noprune keeps untagged *parent images*; berth records no parent chain, so there is none to keep.
      const plan = planRemove(next.get(id)!, ref, byId, opts.force === true, usersOf(isInUse, id));
      if (plan.deleteImage) next.delete(id);
      await this.#records.commit(next);
      for (const name of plan.untagged) this.#event('untag', id, name);
      if (!plan.deleteImage) return plan.out;
      this.#event('delete', id);
      for (const key of await this.#collect(image)) plan.out.push({ Deleted: key });
      return plan.out;
    });
  }

  async #collect(gone: StoredImage): Promise<string[]> {
    // docker lists the removed layers (chain ids) after the image; blobs are berth's own business.
    return (await this.#gc.collect(gone, this.#records.all())).snapshots;
  }

  async lease(keys: Iterable<string>): Promise<Lease> {
    await this.#records.load();
    return this.#lock.run('images', async () => this.#gc.lease(keys));
  }

  async prune(): Promise<string[]> {
    const c = await this.collectGarbage();
    return [...c.snapshots, ...c.blobs];
  }

  async collectGarbage(): Promise<Collected> {
    await this.#records.load();
    return this.#lock.run('images', () => this.#gc.sweep(this.#records.all()));
  }

  async pruneImages(o: PruneOptions, isInUse: (imageId: string) => boolean): Promise<{ ImagesDeleted: RemoveResult[] | null; SpaceReclaimed: number }> {
    await this.#records.load();
    return this.#lock.run('images', async () => {
      const deleted: RemoveResult[] = [];
      const doomed = pruneCandidates(this.#records.all(), o, isInUse);
      if (doomed.length === 0) return { ImagesDeleted: null, SpaceReclaimed: 0 };
      const next = this.#records.draft();
      for (const img of doomed) {
        for (const r of [...img.repoTags, ...img.repoDigests]) deleted.push({ Untagged: r });
        deleted.push({ Deleted: img.id });
        next.delete(img.id);
      }
      await this.#records.commit(next);
      for (const img of doomed) {
        for (const r of [...img.repoTags, ...img.repoDigests]) this.#event('untag', img.id, r);
        this.#event('delete', img.id);
      }
      let bytes = 0;
      for (const img of doomed) {
        const c = await this.#gc.collect(img, this.#records.all());
        bytes += c.bytes;
        for (const k of c.snapshots) deleted.push({ Deleted: k });
      }
      this.opts.events?.publish('image', 'prune', '', { reclaimed: String(bytes) });
      return { ImagesDeleted: deleted, SpaceReclaimed: bytes };
    });
  }

  async diskUsage(): Promise<ImagesDiskUsage> {
    await this.#records.load();
    const { root, snapshots } = this.opts;
    // Active snapshots live under overlay/ too but are the containers' bytes (SizeRw).
    let active = 0;
    for (const snap of await snapshots.list()) if (snap.kind === 'active') active += await this.snapshotUsage(snap.key);
    let total = 0;
    for (const d of ['content', 'images', 'overlay']) total += await blockUsage(join(root, d));
    return { layersSize: Math.max(0, total - active), images: sharedSizes(this.#records.all()) };
  }

  async snapshotUsage(key: string): Promise<number> {
    const upper = await this.opts.snapshots.upperDir(key).catch(() => undefined);
    return upper ? blockUsage(dirname(upper)) : 0;
  }

  async upperSize(key: string): Promise<number> {
    return this.opts.snapshots.usage(key).catch((err: unknown) => {
      if (err instanceof BerthError && err.code === 'NOT_FOUND') return 0;
      throw err;
    });
  }

  async history(ref: string): Promise<Array<{ Id: string; Created: number; CreatedBy: string; Tags: string[] | null; Size: number; Comment: string }>> {
    const img = (await this.get(ref)) as StoredImage;
    const hist = img.config.history ?? [];
    let layer = 0;
    const rows = hist.map((h) => ({
      Id: '<missing>',
      Created: h.created ? Math.floor(Date.parse(h.created) / 1000) : 0,
      CreatedBy: h.created_by ?? '',
      Tags: null as string[] | null,
      Size: h.empty_layer ? 0 : (img.layerSizes?.[layer++] ?? 0),
      Comment: h.comment ?? '',
    }));
    if (rows.length > 0) {
      const top = rows[rows.length - 1]!;
      top.Id = img.id;
      top.Tags = img.repoTags.length ? [...img.repoTags] : null;
    }
    return rows.reverse();
  }
}

async function* tee(src: Readable, writer: { write(b: Buffer): Promise<void> }): AsyncGenerator<Buffer> {
  for await (const chunk of src) {
    const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
    await writer.write(b);
    yield b;
  }
}

function untagEverywhere(images: Map<string, StoredImage>, tag: string): void {
  const want = normalizedString(withDefaultTag(parseReference(tag)));
  for (const img of images.values()) {
    img.repoTags = img.repoTags.filter((t) => normalizedString(withDefaultTag(parseReference(t))) !== want);
  }
}

function matchLabel(labels: Record<string, string>, filter: string): boolean {
  const i = filter.indexOf('=');
  if (i === -1) return filter in labels;
  return labels[filter.slice(0, i)] === filter.slice(i + 1);
}

/** docker's reference filter: the pattern against "name:tag" and against "name". */
function matchReference(pattern: string, tag: string): boolean {
  const r = parseReference(tag);
  return globMatch(pattern, familiarString(r)) || globMatch(pattern, familiarName(r));
}
