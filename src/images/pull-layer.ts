/**
 * One layer of a pull: download it (digest and size verified while streaming) into
 * the content store and unpack it into a new snapshot as the bytes arrive. The layers
 * of an image download and unpack side by side (an overlay layer dir never reads its
 * parent); each commits once its parent has (layers commit bottom-up). A failure
 * leaves neither a partial blob nor a partial snapshot.
 */
import { Readable } from 'node:stream';
import type { BlobWriter, ContentStore } from '../content/index.js';
import type { LayerSnapshotter } from '../snapshots/index.js';
import { applyLayer, decompress } from '../diff/index.js';
import type { RepoSession } from '../registry-client/index.js';
import type { Descriptor } from '../oci/image-spec.js';
import { BerthError, errorMessage, invalidArgument, isBerthError } from '../common/errors.js';
import type { Limiter, ProgressMessage } from './pull-progress.js';
import { progressBar, shortDigest } from './pull-progress.js';

export interface LayerTask {
  desc: Descriptor;
  diffId: string;
  chainId: string;
  parent: string | undefined;
  /** Resolves once the parent snapshot is committed. */
  parentReady: Promise<unknown>;
  session: RepoSession;
}

export interface LayerDeps {
  content: ContentStore;
  snapshots: LayerSnapshotter;
  downloads: Limiter;
  /** Attempts for a layer whose download broke off (default 3). */
  attempts?: number;
  retryDelayMs?: number;
}

type Emit = (m: ProgressMessage) => void;

const THROTTLE_MS = 100;

function progressEmitter(emit: Emit, id: string, status: string, total: number) {
  let last = 0;
  return (current: number) => {
    const now = Date.now();
    if (now - last < THROTTLE_MS && current !== total) return;
    last = now;
    emit({ status, id, progressDetail: { current, total }, progress: progressBar(current, total) });
  };
}

/** Bytes from the registry into the writer, checked against the descriptor's size as they come. */
async function* teeVerified(src: Readable, writer: BlobWriter, desc: Descriptor, onBytes: (n: number) => void): AsyncGenerator<Buffer> {
  let n = 0;
  for await (const chunk of src) {
    const b = chunk as Buffer;
    n += b.length;
    if (n > desc.size) {
      src.destroy();
      throw invalidArgument(`layer ${desc.digest}: the registry sent more than the ${desc.size} bytes the manifest declares; refused`);
    }
    await writer.write(b);
    onBytes(n);
    yield b;
  }
}

/** Runs one layer; resolves with the layer's content size (docker's layer size). */
export async function pullLayer(deps: LayerDeps, t: LayerTask, emit: Emit, signal: AbortSignal): Promise<number> {
  const id = shortDigest(t.desc.digest);
  const attempts = deps.attempts ?? 3;
  for (let attempt = 1; ; attempt++) {
    try {
      return await once(deps, t, emit, signal, id);
    } catch (err) {
      // Only a broken-off transfer is worth another try; bad content never is.
      if (!isBerthError(err, 'UNAVAILABLE') || attempt >= attempts || signal.aborted) throw err;
      const delay = (deps.retryDelayMs ?? 1000) * attempt;
      emit({ status: `Retrying in ${Math.ceil(delay / 1000)} second${delay > 1000 ? 's' : ''}`, id });
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

async function once(deps: LayerDeps, t: LayerTask, emit: Emit, signal: AbortSignal, id: string): Promise<number> {
  const { content, snapshots } = deps;
  const unpacked = (await snapshots.stat(t.chainId)) !== undefined;
  const haveBlob = (await content.stat(t.desc.digest)) !== undefined;
  if (unpacked && haveBlob) {
    emit({ status: 'Already exists', id });
    return snapshots.usage(t.chainId);
  }
  let size: number | undefined;
  if (!unpacked) {
    // Unpacked as the bytes arrive (or from the stored blob) whether or not the parent
    // is done: the snapshot commits only after it (commitLayer's parentReady).
    size = haveBlob ? await unpackStored(deps, t, emit, id) : await streamAndUnpack(deps, t, emit, signal, id);
  } else {
    await deps.downloads.run(() => download(deps, t, emit, signal, id));
    emit({ status: 'Download complete', id });
  }
  if (signal.aborted) throw new BerthError('CANCELED', 'pull canceled');
  emit({ status: 'Pull complete', id });
  return size ?? snapshots.usage(t.chainId);
}

/** The parent's commit to wait for, when there is a parent. */
const parentReady = (t: LayerTask) => (t.parent === undefined ? undefined : {
  // The parent's failure is reported by the parent's own job; here it must not look
  // like a broken transfer, or this layer would be downloaded again for nothing.
  parentReady: t.parentReady.catch((err: unknown) => {
    throw new BerthError('CANCELED', `layer ${shortDigest(t.desc.digest)} not committed: its parent layer failed (${errorMessage(err)})`, { cause: err });
  }),
});

async function streamAndUnpack(deps: LayerDeps, t: LayerTask, emit: Emit, signal: AbortSignal, id: string): Promise<number> {
  const { content, snapshots } = deps;
  let contentSize = 0;
  await snapshots.commitLayer(t.parent, async (dir) => {
    // The download slot covers the transfer and the unpack, not the wait for the
    // parent's commit: a layer waiting on its parent must not hold the parent's slot.
    await deps.downloads.run(async () => {
      const blob = await t.session.getBlob(t.desc.digest, signal, { size: t.desc.size });
      const writer = await content.writer();
      const downloading = progressEmitter(emit, id, 'Downloading', t.desc.size);
      try {
        const { stream } = await decompress(Readable.from(teeVerified(blob.stream, writer, t.desc, downloading)));
        const applied = await applyLayer(stream, dir);
        emit({ status: 'Verifying Checksum', id });
        await writer.commit({ digest: t.desc.digest, size: t.desc.size });
        checkDiffId(t, applied.diffId);
        contentSize = applied.contentSize;
      } catch (err) {
        blob.stream.destroy();
        await writer.abort();
        throw err;
      }
    });
    emit({ status: 'Download complete', id });
    emit({ status: 'Extracting', id, progressDetail: { current: t.desc.size, total: t.desc.size }, progress: progressBar(t.desc.size, t.desc.size) });
    return t.chainId;
  }, parentReady(t));
  return contentSize;
}

async function download(deps: LayerDeps, t: LayerTask, emit: Emit, signal: AbortSignal, id: string): Promise<void> {
  const blob = await t.session.getBlob(t.desc.digest, signal, { size: t.desc.size });
  const writer = await deps.content.writer();
  const downloading = progressEmitter(emit, id, 'Downloading', t.desc.size);
  try {
    for await (const _ of teeVerified(blob.stream, writer, t.desc, downloading)) { /* teeVerified writes */ }
    emit({ status: 'Verifying Checksum', id });
    await writer.commit({ digest: t.desc.digest, size: t.desc.size });
  } catch (err) {
    blob.stream.destroy();
    await writer.abort();
    throw err;
  }
}

async function unpackStored(deps: LayerDeps, t: LayerTask, emit: Emit, id: string): Promise<number> {
  const extracting = progressEmitter(emit, id, 'Extracting', t.desc.size);
  let contentSize = 0;
  await deps.snapshots.commitLayer(t.parent, async (dir) => {
    const src = await deps.content.read(t.desc.digest);
    async function* counted(): AsyncGenerator<Buffer> {
      let n = 0;
      for await (const b of src) {
        n += (b as Buffer).length;
        extracting(n);
        yield b as Buffer;
      }
    }
    const { stream } = await decompress(Readable.from(counted()));
    const applied = await applyLayer(stream, dir);
    checkDiffId(t, applied.diffId);
    contentSize = applied.contentSize;
    return t.chainId;
  }, parentReady(t));
  return contentSize;
}

function checkDiffId(t: LayerTask, got: string): void {
  if (got !== t.diffId) {
    throw invalidArgument(`layer ${t.desc.digest} unpacks to ${got}, but the image config says ${t.diffId}; the image is inconsistent and was refused`);
  }
}
