import { join } from 'node:path';
import type { Descriptor } from '../oci/image-spec.js';
import { invalidArgument, notFound } from '../common/errors.js';
import { ensureDir, readJsonIfExists, sweepAtomicTemps, writeJsonAtomic } from '../common/fs.js';
import type { ImageRecord } from './types.js';
import { parseReference, withDefaultTag, normalizedString, fullName } from './reference.js';

/** What is persisted per image: the public record plus what save/push/GC need. */
export interface StoredImage extends ImageRecord {
  /** Layer blobs in the content store, bottom first (same order as chainIds). */
  layers: Descriptor[];
  /** Per-layer content size (docker's layer size), for history and Size. */
  layerSizes: number[];
}

interface StoreFile {
  version: 1;
  images: Record<string, StoredImage>;
}

/**
 * All image records in one JSON file, <root>/images/images.json, replaced
 * atomically on every change: a crash leaves either the old or the new set of
 * names, never half a tag move. Reads are served from memory.
 */
export class ImageRecords {
  #path: string;
  #images = new Map<string, StoredImage>();
  #ready: Promise<void> | undefined;

  constructor(root: string) {
    this.#path = join(root, 'images', 'images.json');
  }

  load(): Promise<void> {
    this.#ready ??= (async () => {
      await ensureDir(join(this.#path, '..'), 0o700);
      await sweepAtomicTemps(this.#path);
      const f = await readJsonIfExists<StoreFile>(this.#path);
      for (const img of Object.values(f?.images ?? {})) this.#images.set(img.id, img);
    })();
    return this.#ready;
  }

  all(): StoredImage[] {
    return [...this.#images.values()];
  }

  byId(id: string): StoredImage | undefined {
    return this.#images.get(id);
  }

  /** Replace the whole set: the callers build the next state, then commit it. */
  async commit(next: Map<string, StoredImage>): Promise<void> {
    const file: StoreFile = { version: 1, images: Object.fromEntries(next) };
    await writeJsonAtomic(this.#path, file, 0o600);
    this.#images = next;
  }

  /** A deep copy to mutate before commit. */
  draft(): Map<string, StoredImage> {
    return new Map([...this.#images].map(([k, v]) => [k, structuredClone(v)]));
  }

  /**
   * docker's lookup order: a name (tag or digest reference) first, then a full id,
   * then an id prefix ("sha256:" optional, at least one hex digit, unambiguous).
   */
  resolve(ref: string): { image: StoredImage; byId: boolean } {
    const hex = /^(?:sha256:)?([a-f0-9]{1,64})$/.exec(ref)?.[1];
    if (ref.startsWith('sha256:')) {
      if (!hex) throw notFound(`No such image: ${ref}`);
      return { image: this.#byPrefix(ref, hex), byId: true };
    }
    let parsed;
    try {
      parsed = withDefaultTag(parseReference(ref));
    } catch (err) {
      // dockerd (ParseAnyReference) answers a malformed name with its parse error (400),
      // e.g. "repository name (library/Bad) must be lowercase", not "No such image".
      if (!hex) throw err;
      parsed = undefined;
    }
    if (parsed) {
      const want = normalizedString(parsed);
      for (const img of this.#images.values()) {
        const refs = parsed.digest ? img.repoDigests : img.repoTags;
        if (refs.some((r) => normalizedString(withDefaultTag(parseReference(r))) === want)) return { image: img, byId: false };
        // name@<manifest digest> also finds an image pulled by tag from that repository.
        if (parsed.digest && img.manifestDigest === parsed.digest &&
            img.repoTags.some((r) => fullName(parseReference(r)) === fullName(parsed!))) {
          return { image: img, byId: false };
        }
      }
    }
    if (hex) return { image: this.#byPrefix(ref, hex), byId: true };
    throw notFound(`No such image: ${ref}`);
  }

  #byPrefix(ref: string, hex: string): StoredImage {
    const hits = this.all().filter((i) => i.id.slice(7).startsWith(hex));
    if (hits.length === 0) throw notFound(`No such image: ${ref}`);
    if (hits.length > 1) throw invalidArgument(`image id prefix "${ref}" is ambiguous: it matches ${hits.length} images; give more characters`);
    return hits[0]!;
  }
}
