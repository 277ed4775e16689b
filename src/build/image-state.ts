/**
 * The image a build step works on: a config and its layers, not yet (or not
 * necessarily) registered. Its id is the digest of the config bytes, so a step can
 * print docker's ` ---> <id>` whether or not the image is ever stored.
 */
import { sha256Digest } from '../common/ids.js';
import { invalidArgument } from '../common/errors.js';
import type { Descriptor, ImageConfigFile, HistoryEntry } from '../oci/image-spec.js';
import type { ImageRecord } from '../images/index.js';

export interface ImageState {
  config: ImageConfigFile;
  layers: Descriptor[];
  layerSizes: number[];
}

export const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export function stateBytes(s: ImageState): Buffer {
  return Buffer.from(JSON.stringify(s.config));
}

export function stateId(s: ImageState): string {
  return sha256Digest(stateBytes(s));
}

/** A stored image as a state (the records keep layer descriptors next to the config). */
export function stateOfImage(img: ImageRecord): ImageState {
  const stored = img as ImageRecord & { layers?: Descriptor[]; layerSizes?: number[] };
  if (!stored.layers || !stored.layerSizes) throw invalidArgument(`image ${img.id} has no layer records; it cannot be built on`);
  return { config: structuredClone(img.config), layers: [...stored.layers], layerSizes: [...stored.layerSizes] };
}

export function scratchState(architecture: string): ImageState {
  return {
    config: { architecture, os: 'linux', config: { Env: [DEFAULT_PATH] }, rootfs: { type: 'layers', diff_ids: [] }, history: [] },
    layers: [],
    layerSizes: [],
  };
}

/** s with the default PATH in its config's Env when it has none (s itself when it has one). */
export function withDefaultPath(s: ImageState): ImageState {
  if (envMap(s.config.config?.Env).has('PATH')) return s;
  const config = structuredClone(s.config);
  config.config = { ...(config.config ?? {}), Env: [...(config.config?.Env ?? []), DEFAULT_PATH] };
  return { ...s, config };
}

/** A metadata-only step: the config changed, no layer (docker's empty_layer history entry). */
export function withMeta(s: ImageState, createdBy: string, change: (c: ImageState['config']) => void): ImageState {
  const config = structuredClone(s.config);
  config.config = config.config ?? {};
  change(config);
  return { ...s, config: stamp(config, { created_by: createdBy, empty_layer: true }) };
}

/** A step that added a layer. */
export function withLayer(s: ImageState, createdBy: string, layer: { descriptor: Descriptor; diffId: string; size: number }): ImageState {
  const config = structuredClone(s.config);
  config.rootfs = { type: 'layers', diff_ids: [...(config.rootfs?.diff_ids ?? []), layer.diffId] };
  return { config: stamp(config, { created_by: createdBy }), layers: [...s.layers, layer.descriptor], layerSizes: [...s.layerSizes, layer.size] };
}

function stamp(config: ImageConfigFile, h: HistoryEntry): ImageConfigFile {
  // A built image is a new image: the base's comment ("Imported from -") is not its own
  // (dockerd's NewChildImage starts without one).
  delete config.comment;
  const now = new Date().toISOString();
  config.created = now;
  config.history = [...(config.history ?? []), { created: now, ...h }];
  return config;
}

/** Env as a lookup map (later entries win). */
export function envMap(env: string[] | undefined): Map<string, string> {
  const m = new Map<string, string>();
  for (const e of env ?? []) {
    const i = e.indexOf('=');
    if (i < 0) m.set(e, '');
    else m.set(e.slice(0, i), e.slice(i + 1));
  }
  return m;
}

export function setEnv(env: string[] | undefined, key: string, value: string): string[] {
  const out = (env ?? []).filter((e) => (e.indexOf('=') < 0 ? e : e.slice(0, e.indexOf('='))) !== key);
  out.push(`${key}=${value}`);
  return out;
}
