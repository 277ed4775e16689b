/**
 * One new layer from a tar stream, for load and commit: applied into a fresh committed
 * snapshot on `parent` and kept (uncompressed, so its digest is its diff id) in the
 * content store, with an undo that removes exactly what this call added.
 */
import { Readable } from 'node:stream';
import type { ContentStore } from '../content/index.js';
import type { LayerSnapshotter } from '../snapshots/index.js';
import { applyLayer, decompress } from '../diff/index.js';
import { MediaType, type Descriptor } from '../oci/image-spec.js';
import { invalidArgument } from '../common/errors.js';
import { chainIds } from './layers.js';

export interface AddedLayer {
  diffId: string;
  chainId: string;
  descriptor: Descriptor;
  /** Bytes of file content (docker's layer size). */
  contentSize: number;
  /** Remove what this call created (snapshot, blob); never what existed before. */
  undo(): Promise<void>;
}

export interface LayerStores {
  content: ContentStore;
  snapshots: LayerSnapshotter;
}

/**
 * `diffIdsBelow` are the diff ids of the layers under this one (chain ids need them).
 * `expectDiffId`, when given, must match the applied tar's digest or nothing is kept.
 */
export async function addLayer(s: LayerStores, input: Readable, diffIdsBelow: string[], expectDiffId?: string): Promise<AddedLayer> {
  const parent = diffIdsBelow.length ? chainIds(diffIdsBelow).at(-1) : undefined;
  const { stream } = await decompress(input);
  const writer = await s.content.writer();
  let diffId = '';
  let contentSize = 0;
  let blobExisted = false;
  let snap: { key: string; created: boolean };
  try {
    snap = await s.snapshots.commitLayer(parent, async (dir) => {
      const applied = await applyLayer(Readable.from(tee(stream, writer)), dir);
      diffId = applied.diffId;
      contentSize = applied.contentSize;
      if (expectDiffId && expectDiffId !== diffId) {
        throw invalidArgument(`layer content does not match the image config: diff id ${diffId}, config says ${expectDiffId}; the archive is corrupt`);
      }
      return chainIds([...diffIdsBelow, diffId]).at(-1)!;
    });
  } catch (err) {
    await writer.abort();
    throw err;
  }
  let blob;
  try {
    blobExisted = (await s.content.stat(diffId)) !== undefined;
    blob = await writer.commit({ digest: diffId });
  } catch (err) {
    if (snap.created) await s.snapshots.removeIfUnused(snap.key).catch(() => {});
    throw err;
  }
  return {
    diffId,
    chainId: snap.key,
    descriptor: { mediaType: MediaType.OciLayer, digest: blob.digest, size: blob.size },
    contentSize,
    async undo() {
      if (snap.created) await s.snapshots.removeIfUnused(snap.key).catch(() => {});
      if (!blobExisted) await s.content.delete(diffId).catch(() => {});
    },
  };
}

async function* tee(src: Readable, writer: { write(b: Buffer): Promise<void> }): AsyncGenerator<Buffer> {
  for await (const chunk of src) {
    const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
    await writer.write(b);
    yield b;
  }
}
