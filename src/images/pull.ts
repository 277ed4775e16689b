/**
 * Pull: resolve a reference on its registry (index → the wanted platform's
 * manifest), fetch the config, bring every missing layer in (3 downloads at a time,
 * shared with any concurrent pull of the same layer), then record the image. The
 * progress is docker's JSON message stream; everything that can fail on the name
 * (bad reference, unknown tag, auth) fails before the first message, so the API can
 * still answer with an HTTP error.
 */
import { BerthError, invalidArgument, notImplemented } from '../common/errors.js';
import { isDigest } from '../common/ids.js';
import type { ContentStore } from '../content/index.js';
import type { LayerSnapshotter } from '../snapshots/index.js';
import type { EventBus } from '../events/index.js';
import { decodeAuthHeader, type RegistryClient, type RepoSession } from '../registry-client/index.js';
import { MediaType, type Descriptor, type ImageConfigFile, type Index, type Manifest } from '../oci/image-spec.js';
import type { ImageRecord } from './types.js';
import type { NewImage } from './service.js';
import { chainIds } from './layers.js';
import { familiarName, familiarString, parseReference, withDefaultTag, type Reference } from './reference.js';
import { parsePlatform, platformString, selectManifest } from './pull-platform.js';
import { Limiter, ProgressQueue, shortDigest, type ProgressMessage } from './pull-progress.js';
import { pullLayer, type LayerTask } from './pull-layer.js';
import type { DistributionCache } from './push-cache.js';

export interface PullDeps {
  content: ContentStore;
  snapshots: LayerSnapshotter;
  registry: RegistryClient;
  /** lease keeps this pull's layers and blobs from rmi/prune until its image is registered (images/gc.ts). */
  images: { get(ref: string): Promise<ImageRecord>; register(img: NewImage): Promise<ImageRecord>; lease?(keys: Iterable<string>): Promise<{ release(): void }> };
  events?: EventBus;
  /** Remembers which repositories hold which blobs (for cross-repository mounts on push). */
  cache?: DistributionCache;
  /** Concurrent layer downloads for the whole daemon (docker: 3). */
  maxDownloads?: number;
}

export interface PullOptions {
  /** os/arch[/variant]; default the host's. */
  platform?: string;
  /** X-Registry-Auth as received. */
  auth?: string;
  /**
   * The API's fromImage without a tag (docker's `pull --all-tags`): a name with no tag
   * or digest then means every tag of the repository, as with docker; a reference with
   * a tag or digest is pulled as it is. Without it a bare name means :latest.
   */
  allTags?: boolean;
  signal?: AbortSignal;
}

const INDEX_TYPES = new Set<string>([MediaType.OciIndex, MediaType.DockerManifestList]);
const MANIFEST_TYPES = new Set<string>([MediaType.OciManifest, MediaType.DockerManifest]);
const LAYER_TYPES = new Set<string>([
  MediaType.DockerLayerGzip, MediaType.DockerLayer, MediaType.OciLayer, MediaType.OciLayerGzip, MediaType.OciLayerZstd,
  'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  'application/vnd.oci.image.layer.nondistributable.v1.tar', 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
]);
const MAX_CONFIG = 8 << 20;

interface SharedJob {
  promise: Promise<number>;
  listeners: Set<(m: ProgressMessage) => void>;
  refs: number;
  ac: AbortController;
}

export class Puller {
  #jobs = new Map<string, SharedJob>();
  #downloads: Limiter;

  constructor(private deps: PullDeps) {
    this.#downloads = new Limiter(deps.maxDownloads ?? 3);
  }

  pull(ref: string, opts: PullOptions = {}): AsyncIterable<ProgressMessage> {
    return this.#pull(ref, opts);
  }

  async *#pull(refStr: string, opts: PullOptions): AsyncGenerator<ProgressMessage> {
    // docker's API quirk: `pull -a` may send the name with a trailing ':'.
    const parsed = parseReference(opts.allTags ? refStr.replace(/:$/, '') : refStr);
    const creds = decodeAuthHeader(opts.auth);
    const want = parsePlatform(opts.platform);
    const signal = opts.signal ?? new AbortController().signal;
    const session = this.deps.registry.session({ domain: parsed.domain, path: parsed.path }, creds, 'pull');
    const platformGiven = opts.platform !== undefined;
    if (opts.allTags && !parsed.tag && !parsed.digest) {
      // Every tag in the registry's order, one after the other, then one status for the repository (docker's output).
      const tags = await session.listTags(signal);
      if (!tags.length) throw new BerthError('NOT_FOUND', `repository ${familiarName(parsed)} has no tags to pull`);
      let upToDate = true;
      for (const tag of tags) {
        const ref = { ...parsed, tag };
        const resolved = await resolveManifest(session, ref, want, platformGiven, signal);
        upToDate = (yield* this.#pullResolved(ref, resolved, session, signal)) && upToDate;
      }
      yield { status: `Status: ${upToDate ? 'Image is up to date' : 'Downloaded newer image'} for ${familiarName(parsed)}` };
      return;
    }
    const ref = withDefaultTag(parsed);
    const resolved = await resolveManifest(session, ref, want, platformGiven, signal);
    const upToDate = yield* this.#pullResolved(ref, resolved, session, signal);
    yield { status: `Status: ${upToDate ? 'Image is up to date' : 'Downloaded newer image'} for ${familiarString(ref)}` };
  }

  /** One resolved reference: its layers in, its image registered; returns whether it was up to date. */
  async *#pullResolved(ref: Reference, resolved: Resolved, session: RepoSession, signal: AbortSignal): AsyncGenerator<ProgressMessage, boolean> {
    yield { status: `Pulling from ${ref.path}`, id: ref.digest ?? ref.tag };
    const { manifest, config } = resolved;
    const chain = chainIds(config.rootfs.diff_ids);
    // Taken before looking at what exists: a layer seen as present stays present.
    const lease = await this.deps.images.lease?.([...chain, ...manifest.layers.map((l) => l.digest), manifest.config.digest]);
    try {
      return yield* this.#fetchAndRegister(ref, resolved, chain, session, signal);
    } finally {
      lease?.release();
    }
  }

  async *#fetchAndRegister(ref: Reference, resolved: Resolved, chain: string[], session: RepoSession, signal: AbortSignal): AsyncGenerator<ProgressMessage, boolean> {
    const { manifest, config, configBytes, topDigest } = resolved;
    const diffIds = config.rootfs.diff_ids;
    const display = familiarString(ref);
    const prior = await this.deps.images.get(display).catch(() => undefined);
    const present = await this.deps.images.get(manifest.config.digest).catch(() => undefined);
    let sizes: number[];
    if (present && (await this.#allUnpacked(chain, manifest.layers))) {
      sizes = await Promise.all(chain.map((c) => this.deps.snapshots.usage(c)));
    } else {
      const q = new ProgressQueue();
      const done = this.#layers(session, manifest.layers, diffIds, chain, q, signal);
      done.then(() => q.close(), (err) => q.fail(err));
      yield* q;
      sizes = await done;
    }
    const img: NewImage = {
      config: configBytes,
      layers: manifest.layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
      layerSizes: sizes,
      manifestDigest: topDigest,
      repoDigests: [`${familiarName(ref)}@${topDigest}`],
      reference: ref.digest ? undefined : display,
    };
    const rec = await this.deps.images.register(img);
    await this.deps.cache?.addSource([...img.layers.map((l) => l.digest), rec.id], `${ref.domain}/${ref.path}`).catch(() => {});
    this.deps.events?.publish('image', 'pull', display, { name: familiarName(ref) });
    yield { status: `Digest: ${topDigest}` };
    return prior?.id === rec.id || (ref.digest !== undefined && present !== undefined);
  }

  async #allUnpacked(chain: string[], layers: Descriptor[]): Promise<boolean> {
    for (let i = 0; i < chain.length; i++) {
      if (!(await this.deps.snapshots.stat(chain[i]!))) return false;
      if (!(await this.deps.content.stat(layers[i]!.digest))) return false;
    }
    return true;
  }

  /** All layers, bottom-up commits, progress into q; resolves with per-layer content sizes. */
  async #layers(session: RepoSession, layers: Descriptor[], diffIds: string[], chain: string[], q: ProgressQueue, signal: AbortSignal): Promise<number[]> {
    const ac = new AbortController();
    const onAbort = () => ac.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    const own: Array<Promise<number>> = [];
    let parentShared: Promise<unknown> = Promise.resolve();
    try {
      for (let i = 0; i < layers.length; i++) {
        const desc = layers[i]!;
        const id = shortDigest(desc.digest);
        const exists = (await this.deps.snapshots.stat(chain[i]!)) && (await this.deps.content.stat(desc.digest));
        if (exists) {
          q.push({ status: 'Already exists', id });
          own.push(this.deps.snapshots.usage(chain[i]!));
          parentShared = Promise.resolve();
          continue;
        }
        q.push({ status: 'Pulling fs layer', id });
        const task: LayerTask = { desc, diffId: diffIds[i]!, chainId: chain[i]!, parent: i === 0 ? undefined : chain[i - 1], parentReady: parentShared, session };
        const { mine, shared } = this.#join(task, (m) => q.push(m), ac.signal);
        own.push(mine);
        parentShared = shared;
      }
      return await Promise.all(own);
    } catch (err) {
      ac.abort();
      await Promise.allSettled(own);
      throw err;
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  /** Start the layer's job or join the one a concurrent pull started. */
  #join(task: LayerTask, emit: (m: ProgressMessage) => void, signal: AbortSignal): { mine: Promise<number>; shared: Promise<number> } {
    let job = this.#jobs.get(task.chainId);
    if (job) {
      emit({ status: 'Waiting', id: shortDigest(task.desc.digest) });
    } else {
      const ac = new AbortController();
      const listeners = new Set<(m: ProgressMessage) => void>();
      const promise = pullLayer({ content: this.deps.content, snapshots: this.deps.snapshots, downloads: this.#downloads }, task, (m) => listeners.forEach((l) => l(m)), ac.signal)
        .finally(() => this.#jobs.delete(task.chainId));
      promise.catch(() => {});
      job = { promise, listeners, refs: 0, ac };
      this.#jobs.set(task.chainId, job);
    }
    const j = job;
    j.listeners.add(emit);
    j.refs++;
    const mine = new Promise<number>((resolve, reject) => {
      const leave = () => {
        j.listeners.delete(emit);
        signal.removeEventListener('abort', onAbort);
      };
      // The job stops only when every pull waiting on it has gone.
      const onAbort = () => {
        leave();
        if (--j.refs === 0) j.ac.abort();
        reject(new BerthError('CANCELED', 'pull canceled'));
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      j.promise.then((v) => { leave(); resolve(v); }, (e) => { leave(); reject(e); });
    });
    mine.catch(() => {});
    return { mine, shared: j.promise };
  }
}

interface Resolved {
  topDigest: string;
  manifest: Manifest;
  config: ImageConfigFile;
  configBytes: Buffer;
}

async function resolveManifest(session: RepoSession, ref: Reference, want: ReturnType<typeof parsePlatform>, platformGiven: boolean, signal: AbortSignal): Promise<Resolved> {
  const top = await session.getManifest(ref.digest ?? ref.tag!, signal);
  let m = top;
  if (INDEX_TYPES.has(top.mediaType)) {
    const index = parseJson<Index>(top.bytes, 'manifest list');
    if (!Array.isArray(index.manifests)) throw invalidArgument(`manifest list ${top.digest} has no manifests array`);
    const desc = selectManifest(index.manifests.filter((d) => d && isDigest(d.digest) && MANIFEST_TYPES.has(d.mediaType)), want);
    m = await session.getManifest(desc.digest, signal);
  } else if (top.mediaType.startsWith('application/vnd.docker.distribution.manifest.v1')) {
    throw notImplemented(`${familiarString(ref)} uses a Docker schema 1 manifest, which is deprecated and not supported; rebuild and push it with a current tool`);
  }
  if (!MANIFEST_TYPES.has(m.mediaType)) throw notImplemented(`unsupported manifest media type "${m.mediaType}" for ${familiarString(ref)}`);
  const manifest = parseJson<Manifest>(m.bytes, 'manifest');
  validateManifest(manifest, m.digest);
  const configBytes = await session.getBlobBytes(manifest.config.digest, manifest.config.size, MAX_CONFIG, signal);
  const config = parseJson<ImageConfigFile>(configBytes, 'image config');
  const diffIds = config.rootfs?.diff_ids;
  if (!Array.isArray(diffIds) || !diffIds.every((d) => typeof d === 'string' && isDigest(d))) throw invalidArgument(`image config ${manifest.config.digest} has no valid rootfs.diff_ids`);
  if (diffIds.length !== manifest.layers.length) throw invalidArgument(`image config lists ${diffIds.length} layers but the manifest has ${manifest.layers.length}; refused`);
  if (platformGiven && (config.os !== want.os || config.architecture !== want.architecture)) {
    throw new BerthError('NOT_FOUND', `image with reference ${familiarString(ref)} was found but does not match the specified platform: wanted ${platformString(want)}, actual: ${config.os}/${config.architecture}`);
  }
  return { topDigest: top.digest, manifest, config, configBytes };
}

/** A registry document as a JSON object, or a one-line 400 naming it. */
export function parseJson<T>(bytes: Buffer, what: string): T {
  try {
    const v = JSON.parse(bytes.toString('utf8')) as unknown;
    if (!v || typeof v !== 'object') throw new Error('not an object');
    return v as T;
  } catch (err) {
    throw invalidArgument(`${what} is not valid JSON: ${(err as Error).message}`);
  }
}

function validDescriptor(d: Descriptor | undefined): d is Descriptor {
  return !!d && typeof d.digest === 'string' && isDigest(d.digest) && Number.isSafeInteger(d.size) && d.size >= 0 && typeof d.mediaType === 'string';
}

function validateManifest(m: Manifest, digest: string): void {
  if (m.schemaVersion !== 2) throw invalidArgument(`manifest ${digest}: unsupported schemaVersion ${String(m.schemaVersion)}`);
  if (!validDescriptor(m.config)) throw invalidArgument(`manifest ${digest}: invalid config descriptor`);
  if (!Array.isArray(m.layers) || !m.layers.every(validDescriptor)) throw invalidArgument(`manifest ${digest}: invalid layer descriptors`);
  for (const l of m.layers) {
    if (!LAYER_TYPES.has(l.mediaType)) throw notImplemented(`layer ${l.digest} has media type "${l.mediaType}", which is not an image layer berth can unpack`);
  }
}
