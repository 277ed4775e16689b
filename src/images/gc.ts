/**
 * Garbage collection of layers (committed snapshots) and blobs, by reference from the
 * image records, and the leases that keep in-progress work (a pull that has not
 * registered its image yet) out of its reach.
 *
 * Safety comes from three rules: the callers run collection and lease acquisition
 * under the image service's one lock (so a pull either takes its lease before a
 * sweep starts, or sees the sweep's result when it checks what exists); a snapshot
 * something sits on (a container's active snapshot, a layer being applied) is never
 * removed (removeIfUnused refuses it); and anything a lease names is skipped.
 */
import type { ContentStore } from '../content/index.js';
import type { LayerSnapshotter } from '../snapshots/index.js';
import type { StoredImage } from './store.js';

/** A hold on layers and blobs; release() when the work that needs them is done. */
export interface Lease {
  release(): void;
}

export interface Collected {
  /** Chain ids of removed snapshots. */
  snapshots: string[];
  /** Digests of removed blobs. */
  blobs: string[];
  /** Disk bytes given back. */
  bytes: number;
}

export class LayerCollector {
  #held = new Map<string, number>();

  constructor(private content: ContentStore, private snapshots: LayerSnapshotter) {}

  /** Callers hold the image lock; see the file comment. */
  lease(keys: Iterable<string>): Lease {
    const mine = [...new Set(keys)];
    for (const k of mine) this.#held.set(k, (this.#held.get(k) ?? 0) + 1);
    let done = false;
    return {
      release: () => {
        if (done) return;
        done = true;
        for (const k of mine) {
          const c = (this.#held.get(k) ?? 1) - 1;
          if (c <= 0) this.#held.delete(k);
          else this.#held.set(k, c);
        }
      },
    };
  }

  held(key: string): boolean {
    return this.#held.has(key);
  }

  /** Drop a removed image's snapshots and blobs that no remaining image (or lease) uses. */
  async collect(gone: StoredImage, remaining: StoredImage[]): Promise<Collected> {
    const usedChains = new Set(remaining.flatMap((i) => i.chainIds));
    const usedBlobs = blobsOf(remaining);
    const out: Collected = { snapshots: [], blobs: [], bytes: 0 };
    // Top-down, so each parent is free once its child is gone; stop at the first one
    // that stays (something sits on it, so everything below stays too).
    for (const key of [...gone.chainIds].reverse()) {
      if (usedChains.has(key) || this.held(key)) break;
      if (!(await this.#removeSnapshot(key, out))) break;
    }
    for (const d of [gone.id, ...gone.layers.map((l) => l.digest)]) {
      if (!usedBlobs.has(d) && !this.held(d)) await this.#removeBlob(d, out);
    }
    return out;
  }

  /**
   * Mark and sweep: every committed snapshot and blob that no image names and no
   * lease holds. Used after forced removals, by prune, and at start-up for what a
   * crash left between a layer's commit and its image's record.
   */
  async sweep(images: StoredImage[], keepBlobs: Set<string> = new Set()): Promise<Collected> {
    const usedChains = new Set(images.flatMap((i) => i.chainIds));
    const usedBlobs = blobsOf(images);
    const out: Collected = { snapshots: [], blobs: [], bytes: 0 };
    // Repeat until stable: removing a top layer frees its parent.
    for (let again = true; again;) {
      again = false;
      for (const s of await this.snapshots.list()) {
        if (s.kind !== 'committed' || usedChains.has(s.key) || this.held(s.key)) continue;
        if (await this.#removeSnapshot(s.key, out)) again = true;
      }
    }
    for (const b of await this.content.list()) {
      if (usedBlobs.has(b.digest) || keepBlobs.has(b.digest) || this.held(b.digest)) continue;
      await this.#removeBlob(b.digest, out);
    }
    return out;
  }

  async #removeSnapshot(key: string, out: Collected): Promise<boolean> {
    const size = await this.snapshots.usage(key).catch(() => 0);
    if (!(await this.snapshots.removeIfUnused(key))) return false;
    out.snapshots.push(key);
    out.bytes += size;
    return true;
  }

  async #removeBlob(digest: string, out: Collected): Promise<void> {
    const size = (await this.content.stat(digest))?.size ?? 0;
    if (await this.content.delete(digest)) {
      out.blobs.push(digest);
      out.bytes += size;
    }
  }
}

function blobsOf(images: StoredImage[]): Set<string> {
  return new Set(images.flatMap((i) => [i.id, ...i.layers.map((l) => l.digest)]));
}
