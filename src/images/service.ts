import { Readable } from 'node:stream';
import type { ContentStore, BlobInfo } from '../content/index.js';
import type { LayerSnapshotter } from '../snapshots/index.js';
import { applyLayer, decompress, type ApplyResult } from '../diff/index.js';
import { MediaType, type Descriptor, type ImageConfigFile } from '../oci/image-spec.js';
import { conflict, invalidArgument } from '../common/errors.js';
import { sha256Digest, shortId } from '../common/ids.js';
import { KeyedMutex } from '../common/lock.js';
import type { EventBus } from '../events/index.js';
import type { ImageFilters, ImageRecord, ImageService, ImportOptions, RemoveResult } from './types.js';
import { ImageRecords, type StoredImage } from './store.js';
import { applyChanges } from './changes.js';
import { chainIds, hostArchitecture } from './layers.js';
import { familiarName, familiarString, fullName, globMatch, parseReference, parseTagReference, withDefaultTag, normalizedString } from './reference.js';

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
}

export function createImageService(opts: ImageServiceOptions): LocalImageService {
  return new LocalImages(opts);
}

type InUse = (imageId: string) => boolean | string | undefined;

/**
 * Every change to names and records runs under one lock key, so a tag move, an
 * import and a removal's garbage collection never interleave. Reads are lock-free.
 */
class LocalImages implements LocalImageService {
  #records: ImageRecords;
  #lock = new KeyedMutex();

  constructor(private opts: ImageServiceOptions) {
    this.#records = new ImageRecords(opts.root);
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
    const out: ImageRecord[] = [];
    for (const img of this.#records.all()) {
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
    return this.#lock.run('images', async () => {
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
          blobExisted = (await content.stat(applied.diffId)) !== undefined;
          blob = await writer.commit({ digest: applied.diffId });
          return chainIds([applied.diffId])[0]!;
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
        const rec = await this.#register({ config: Buffer.from(JSON.stringify(config)), layers: [layer], layerSizes: [applied!.contentSize], reference: ref && familiarString(ref) });
        this.#event('import', rec.id, rec.repoTags[0]);
        return rec;
      } catch (err) {
        // Leave the store as it was: no record, and no blob or snapshot we added.
        if (snap.created) await snapshots.removeIfUnused(snap.key).catch(() => {});
        if (!blobExisted && blob) await content.delete(blob.digest).catch(() => {});
        throw err;
      }
    });
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
      const user = inUseBy(isInUse, id);
      const refs = [...image.repoTags, ...image.repoDigests];
      const out: RemoveResult[] = [];
      const next = this.#records.draft();
      const rec = next.get(id)!;
      if (!byId) {
        // A name: untag it; the image itself goes only with its last reference.
        if (!opts.force && user && isSingleReference(refs)) {
          throw conflict(`conflict: unable to remove repository reference "${ref}" (must force) - container ${shortId(user)} is using its referenced image ${shortId(id)}`);
        }
        const parsed = withDefaultTag(parseReference(ref));
        const want = normalizedString(parsed);
        const field = parsed.digest ? 'repoDigests' : 'repoTags';
        rec[field] = rec[field].filter((r) => normalizedString(withDefaultTag(parseReference(r))) !== want);
        out.push({ Untagged: familiarString(parsed) });
        if (rec.repoTags.length + rec.repoDigests.length > 0) {
          await this.#records.commit(next);
          this.#event('untag', id, familiarString(parsed));
          return out;
        }
      } else if (!opts.force) {
        if (!isSingleReference(refs)) throw conflict(`conflict: unable to delete ${shortId(id)} (must be forced) - image is referenced in multiple repositories`);
        if (user) throw conflict(`conflict: unable to delete ${shortId(id)} (must be forced) - image is being used by container ${shortId(user)}`);
      }
      for (const r of [...rec.repoTags, ...rec.repoDigests]) out.push({ Untagged: r });
      next.delete(id);
      await this.#records.commit(next);
      out.push({ Deleted: id });
      for (const r of out) if (r.Untagged) this.#event('untag', id, r.Untagged);
      this.#event('delete', id);
      for (const key of await this.#collect(image)) out.push({ Deleted: key });
      return out;
    });
  }

  /** Drop the removed image's snapshots and blobs that no remaining image uses. */
  async #collect(gone: StoredImage): Promise<string[]> {
    const remaining = this.#records.all();
    const usedChains = new Set(remaining.flatMap((i) => i.chainIds));
    const usedBlobs = new Set(remaining.flatMap((i) => [i.id, ...i.layers.map((l) => l.digest)]));
    const deleted: string[] = [];
    // Top-down, so each parent is free once its child is gone. A snapshot an active
    // one (a container) sits on stays: removeIfUnused refuses it.
    for (const key of [...gone.chainIds].reverse()) {
      if (usedChains.has(key)) continue;
      if (await this.opts.snapshots.removeIfUnused(key)) deleted.push(key);
      else break;
    }
    for (const d of [gone.id, ...gone.layers.map((l) => l.digest)]) {
      if (!usedBlobs.has(d)) await this.opts.content.delete(d);
    }
    return deleted;
  }

  async prune(): Promise<string[]> {
    await this.#records.load();
    return this.#lock.run('images', async () => {
      const remaining = this.#records.all();
      const used = new Set(remaining.flatMap((i) => i.chainIds));
      const removed: string[] = [];
      // Repeat until stable: removing a top layer frees its parent.
      for (let again = true; again;) {
        again = false;
        for (const s of await this.opts.snapshots.list()) {
          if (s.kind === 'committed' && !used.has(s.key) && (await this.opts.snapshots.removeIfUnused(s.key))) {
            removed.push(s.key);
            again = true;
          }
        }
      }
      const blobs = new Set(remaining.flatMap((i) => [i.id, ...i.layers.map((l) => l.digest)]));
      for (const b of await this.opts.content.list()) {
        if (!blobs.has(b.digest) && (await this.opts.content.delete(b.digest))) removed.push(b.digest);
      }
      return removed;
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

/** docker's isSingleReference: at most one tag, and every reference in one repository. */
function isSingleReference(refs: string[]): boolean {
  const parsed = refs.map((r) => parseReference(r));
  if (parsed.filter((r) => !r.digest).length > 1) return false;
  return new Set(parsed.map((r) => fullName(r))).size <= 1;
}

function inUseBy(isInUse: InUse, id: string): string | undefined {
  const r = isInUse(id);
  if (!r) return undefined;
  return typeof r === 'string' ? r : 'unknown';
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
