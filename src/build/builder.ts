/**
 * The classic (non-BuildKit) image builder service: receives the context, plans the
 * stages, runs the steps (build-run.ts), and registers the result under its tags.
 *
 * Images: a step's state is registered only when a container must be made from it
 * (RUN, COPY, WORKDIR); those intermediate records are removed when the build ends,
 * except each non-target stage's result (docker's classic builder leaves those as
 * <none> images too) and, after a failure, the last good state (so a fixed rebuild hits
 * the cache). Their layers stay as long as the final image holds them: the cache is
 * checked against that.
 */
import { join } from 'node:path';
import { invalidArgument, isBerthError } from '../common/errors.js';
import type { ContainerService } from '../containers/index.js';
import type { ContentStore } from '../content/index.js';
import type { Snapshotter } from '../snapshots/index.js';
import { chainIds, parseTagReference, familiarString, type LocalImageService, type ImageRecord } from '../images/index.js';
import { receiveContext } from './context.js';
import { parseDockerfile } from './dockerfile-parse.js';
import { planStages } from './stages.js';
import { BuildCache } from './cache.js';
import { stateBytes, stateId, type ImageState } from './image-state.js';
import { WorkContainers } from './work-container.js';
import { BuildRun } from './build-run.js';
import type { BuildMessage, BuildOptions, ImageBuilder } from './types.js';

type Puller = { pull?(ref: string, opts: { platform?: string; signal?: AbortSignal }): AsyncIterable<object> };

export interface BuilderDeps {
  dataRoot: string;
  containers: ContainerService;
  images: LocalImageService & Puller;
  snapshots: Pick<Snapshotter, 'stat'>;
  content: Pick<ContentStore, 'stat'>;
}

/** The registry of images this build made, and the holds on its layers. */
export class BuildImages {
  readonly mine = new Set<string>();
  readonly keep = new Set<string>();
  #leases: Array<{ release(): void }> = [];

  constructor(private images: LocalImageService) {}

  /** Register the state (if it is not stored yet) and give its id. */
  async ensure(s: ImageState, reference?: string): Promise<string> {
    const id = stateId(s);
    const exists = await this.images.get(id).then(() => true, () => false);
    if (exists && !reference) return id;
    const rec = await this.images.register({ config: stateBytes(s), layers: s.layers, layerSizes: s.layerSizes, reference });
    if (!exists) this.mine.add(rec.id);
    return rec.id;
  }

  /** Keep this state's layers from garbage collection until the build ends. */
  async hold(s: ImageState): Promise<void> {
    const keys = [...chainIds(s.config.rootfs?.diff_ids ?? []), ...s.layers.map((l) => l.digest)];
    this.#leases.push(await this.images.lease(keys));
  }

  async cleanup(): Promise<void> {
    for (const id of this.mine) {
      if (this.keep.has(id)) continue;
      await this.images.remove(id, { force: true }, () => false).catch(() => {});
    }
    for (const l of this.#leases) l.release();
    this.#leases = [];
  }
}

export class Builder implements ImageBuilder {
  readonly #cache: BuildCache;

  constructor(private deps: BuilderDeps) {
    this.#cache = new BuildCache(deps.dataRoot, {
      present: async (s) => {
        for (const c of chainIds(s.config.rootfs?.diff_ids ?? [])) if (!(await deps.snapshots.stat(c))) return false;
        for (const l of s.layers) if (!(await deps.content.stat(l.digest))) return false;
        return true;
      },
    });
  }

  async build(opts: BuildOptions, emit: (m: BuildMessage) => void): Promise<string> {
    checkPlatform(opts.platform);
    const tags = opts.tags.map((t) => familiarString(parseTagReference(t)));
    const ctx = await receiveContext(opts.context, join(this.deps.dataRoot, 'tmp'), opts.dockerfile ?? 'Dockerfile');
    const images = new BuildImages(this.deps.images);
    const work = new WorkContainers(this.deps.containers as never, {
      get: (r) => this.deps.images.get(r),
      removeImage: async (id) => {
        await this.deps.images.remove(id, { force: true }, () => false);
      },
    });
    try {
      const df = parseDockerfile(ctx.dockerfile);
      const plan = planStages(df, opts.target);
      const run = new BuildRun({
        plan, escape: df.escape, ctxDir: ctx.dir, opts, emit, images, work, cache: this.#cache,
        resolveImage: (ref) => this.#resolveImage(ref, emit, opts.signal),
      });
      const final = await run.execute();
      // The result, under its first tag (register moves a tag from any older image).
      const id = await images.ensure(final, tags[0]);
      images.keep.add(id);
      for (const t of tags.slice(1)) await this.deps.images.tag(id, t);
      emit({ aux: { ID: id } });
      emit({ stream: `Successfully built ${id.slice(7, 19)}\n` });
      for (const t of tags) emit({ stream: `Successfully tagged ${t}\n` });
      return id;
    } finally {
      await images.cleanup();
      await ctx.cleanup().catch(() => {});
    }
  }

  /** A FROM or COPY --from image: the local one, else pulled when this berthd can pull. */
  async #resolveImage(ref: string, emit: (m: BuildMessage) => void, signal?: AbortSignal): Promise<ImageRecord> {
    try {
      return await this.deps.images.get(ref);
    } catch (err) {
      if (!isBerthError(err, 'NOT_FOUND') || typeof this.deps.images.pull !== 'function') throw err;
    }
    for await (const p of this.deps.images.pull(ref, { signal })) emit(p as BuildMessage);
    return this.deps.images.get(ref);
  }
}

function checkPlatform(platform: string | undefined): void {
  if (!platform) return;
  const arch = process.arch === 'x64' ? 'amd64' : process.arch;
  const [os, a] = platform.toLowerCase().split('/');
  if (os !== 'linux' || (a && a !== arch)) throw invalidArgument(`platform ${platform} is not supported: this berthd builds linux/${arch} images only`);
}

export function createBuilder(deps: BuilderDeps): Builder {
  return new Builder(deps);
}
