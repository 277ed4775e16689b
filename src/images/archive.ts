/**
 * Image archives: save, load and commit, on top of the local image service.
 *
 * The daemon adds these methods to its LocalImageService object with attachArchives()
 * (the api and the containers service find them on `images`, as they find `pull`),
 * so the image service's own file stays about names and records.
 */
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { invalidArgument } from '../common/errors.js';
import type { ContentStore } from '../content/index.js';
import type { LayerSnapshotter } from '../snapshots/index.js';
import type { ImageConfigFile, ImageRuntimeConfig } from '../oci/image-spec.js';
import type { LocalImageService } from './service.js';
import type { ImageRecord } from './types.js';
import { addLayer } from './archive-layer.js';
import { applyChanges } from './changes.js';
import { loadImages } from './load.js';
import { pickImages, writeImageArchive } from './save.js';
import { parseTagReference, familiarString } from './reference.js';

export interface CommitOptions {
  /** The image id the container was created from. */
  imageId: string;
  /** The container's changes as an OCI layer tar (whiteouts as `.wh.` entries). */
  layer: Readable;
  /** The container's config: the new image's defaults (Env, Cmd, Labels, ...). */
  containerConfig: ImageRuntimeConfig;
  /** The request body's config, over the container's (docker merges the two). */
  overrides?: ImageRuntimeConfig;
  /** Dockerfile instructions (`--change`). */
  changes?: string[];
  reference?: string;
  comment?: string;
  author?: string;
  /** The container's command, for the history entry. */
  createdBy: string;
}

export interface ImageArchiver {
  /** Check every name; the returned writer streams the archive. */
  save(names: string[]): Promise<(out: Writable) => Promise<void>>;
  load(input: Readable, onLoaded: (line: string) => void): Promise<void>;
  commit(opts: CommitOptions): Promise<ImageRecord>;
}

export function attachArchives<T extends LocalImageService>(images: T, s: { root: string; content: ContentStore; snapshots: LayerSnapshotter }): T & ImageArchiver {
  const stores = { content: s.content, snapshots: s.snapshots };
  const archiver: ImageArchiver = {
    async save(names) {
      const src = { get: (r: string) => images.get(r), list: () => images.list(), content: s.content };
      const picked = await pickImages(src, names);
      return (out) => writeImageArchive(src, picked, out);
    },
    load(input, onLoaded) {
      return loadImages({ ...stores, register: (img) => images.register(img), tmpRoot: join(s.root, 'tmp') }, input, onLoaded);
    },
    async commit(o) {
      const ref = o.reference ? familiarString(parseTagReference(o.reference)) : undefined;
      const base = await images.get(o.imageId);
      const runtime = applyChanges(mergeConfig(o.containerConfig, o.overrides), o.changes ?? []);
      const below = base.config.rootfs?.diff_ids ?? [];
      const layer = await addLayer(stores, o.layer, below);
      try {
        const now = new Date().toISOString();
        const config: ImageConfigFile = {
          ...base.config,
          created: now,
          author: o.author ?? '',
          comment: o.comment ?? '',
          config: runtime,
          rootfs: { type: 'layers', diff_ids: [...below, layer.diffId] },
          history: [...(base.config.history ?? []), { created: now, created_by: o.createdBy, ...(o.author ? { author: o.author } : {}), ...(o.comment ? { comment: o.comment } : {}) }],
        };
        if (!config.comment) delete config.comment;
        const stored = base as ImageRecord & { layers?: Array<{ mediaType: string; digest: string; size: number }>; layerSizes?: number[] };
        if (!stored.layers || !stored.layerSizes) throw invalidArgument(`image ${base.id} has no layer records; it cannot be committed on`);
        return await images.register({
          config: Buffer.from(JSON.stringify(config)),
          layers: [...stored.layers, layer.descriptor],
          layerSizes: [...stored.layerSizes, layer.contentSize],
          reference: ref,
        });
      } catch (err) {
        await layer.undo();
        throw err;
      }
    },
  };
  return Object.assign(images, archiver);
}

const RUNTIME_KEYS = ['User', 'ExposedPorts', 'Env', 'Entrypoint', 'Cmd', 'Volumes', 'WorkingDir', 'Labels', 'StopSignal', 'Healthcheck', 'OnBuild', 'Shell'] as const;

/** docker's commit merge: fields set in the request body win over the container's. */
function mergeConfig(container: ImageRuntimeConfig, overrides: ImageRuntimeConfig | undefined): ImageRuntimeConfig {
  const out: Record<string, unknown> = {};
  for (const k of RUNTIME_KEYS) {
    const o = overrides?.[k];
    const v = o !== undefined && o !== null && !(Array.isArray(o) && o.length === 0) ? o : container[k];
    if (v !== undefined && v !== null) out[k] = structuredClone(v);
  }
  if (overrides?.Env?.length) {
    // Env merges by name, the body's entries last.
    const env = new Map((container.Env ?? []).map((e) => [e.split('=')[0], e]));
    for (const e of overrides.Env) env.set(e.split('=')[0], e);
    out.Env = [...env.values()];
  }
  return out as ImageRuntimeConfig;
}
