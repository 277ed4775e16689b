/**
 * The layer cache: (parent image id, instruction, content hashes) → the state the step
 * produced. An entry is only as good as its layers: a hit whose snapshots or blobs were
 * collected since (the image that held them was removed) is a miss.
 */
import { join } from 'node:path';
import { readJsonIfExists, sweepAtomicTemps, writeJsonAtomic, ensureDir } from '../common/fs.js';
import { sha256Hex } from '../common/ids.js';
import type { Descriptor } from '../oci/image-spec.js';
import type { ImageState } from './image-state.js';

interface Entry {
  config: string;
  layers: Descriptor[];
  layerSizes: number[];
  used: number;
}

const MAX_ENTRIES = 4000;

export interface LayerCheck {
  /** Are this state's layers still stored? */
  present(s: ImageState): Promise<boolean>;
}

export class BuildCache {
  #entries: Record<string, Entry> | undefined;
  #file: string;
  #saving: Promise<void> = Promise.resolve();

  constructor(root: string, private check: LayerCheck) {
    this.#file = join(root, 'build', 'cache.json');
  }

  static key(parentId: string, ...parts: string[]): string {
    return sha256Hex([parentId, ...parts].join('\0'));
  }

  async #load(): Promise<Record<string, Entry>> {
    if (!this.#entries) {
      await sweepAtomicTemps(this.#file);
      const raw = await readJsonIfExists<Record<string, Entry>>(this.#file).catch(() => undefined);
      this.#entries = raw && typeof raw === 'object' ? raw : {};
    }
    return this.#entries;
  }

  async get(key: string): Promise<ImageState | undefined> {
    const e = (await this.#load())[key];
    if (!e) return undefined;
    let state: ImageState;
    try {
      state = { config: JSON.parse(e.config), layers: e.layers, layerSizes: e.layerSizes };
    } catch {
      return undefined;
    }
    if (!(await this.check.present(state))) return undefined;
    e.used = Date.now();
    return state;
  }

  async put(key: string, s: ImageState): Promise<void> {
    const all = await this.#load();
    all[key] = { config: JSON.stringify(s.config), layers: s.layers, layerSizes: s.layerSizes, used: Date.now() };
    const keys = Object.keys(all);
    if (keys.length > MAX_ENTRIES) {
      for (const k of keys.sort((a, b) => all[a]!.used - all[b]!.used).slice(0, keys.length - MAX_ENTRIES)) delete all[k];
    }
    // Writes are serialised; a failed write loses cache entries only, never a build.
    this.#saving = this.#saving.then(async () => {
      await ensureDir(join(this.#file, '..'), 0o700);
      await writeJsonAtomic(this.#file, all, 0o600);
    }).catch(() => {});
    await this.#saving;
  }
}
