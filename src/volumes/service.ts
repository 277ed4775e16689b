import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { conflict, invalidArgument, isErrno, notFound } from '../common/errors.js';
import { readJsonIfExists, sweepAtomicTemps, writeJsonAtomic, fsyncDir } from '../common/fs.js';
import { KeyedMutex } from '../common/lock.js';
import type { EventBus } from '../events/index.js';
import type { VolumeRecord, VolumeService } from './types.js';
import { diskUsage } from './usage.js';
import { validateLocalOpts } from './local-opts.js';

/**
 * The local volume driver: `<root>/volumes/<name>/_data` plus a crash-safe meta.json.
 * Records are cached in memory after one scan at first use; every mutation of a name
 * runs under that name's lock, and the disk is written before the cache changes.
 */

export const VOLUME_NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
const MAX_NAME = 230;

interface VolumeMeta {
  Name: string;
  CreatedAt: string;
  Labels: Record<string, string>;
  Options: Record<string, string>;
  anonymous: boolean;
}

export interface VolumeServiceOptions {
  /** The daemon's data root; volumes live in <root>/volumes. */
  root: string;
  events?: EventBus;
}

/** docker's CreatedAt: RFC 3339 with the local offset, seconds precision. */
function createdAtNow(): string {
  const d = new Date();
  const off = -d.getTimezoneOffset();
  const sign = off >= 0 ? '+' : '-';
  const pad = (n: number) => String(Math.floor(Math.abs(n))).padStart(2, '0');
  const local = new Date(d.getTime() + off * 60_000).toISOString().slice(0, 19);
  // Go's RFC 3339 writes a zero offset as "Z".
  return off === 0 ? `${local}Z` : `${local}${sign}${pad(off / 60)}:${pad(off % 60)}`;
}

/** Parse docker's label filter terms: "key" or "key=value". */
function labelMatches(labels: Record<string, string>, term: string): boolean {
  const eq = term.indexOf('=');
  if (eq < 0) return Object.hasOwn(labels, term);
  return labels[term.slice(0, eq)] === term.slice(eq + 1);
}

/** prune also takes "label!=key" / "label!=key=value" (docker's negated label filter). */
function pruneLabelMatches(labels: Record<string, string>, terms: string[] = [], negated: string[] = []): boolean {
  return terms.every((t) => labelMatches(labels, t)) && negated.every((t) => !labelMatches(labels, t));
}

/** The local driver; its prune also takes docker's negated label filter (label!=). */
export class LocalVolumeService implements VolumeService {
  readonly #dir: string;
  readonly #events?: EventBus;
  readonly #lock = new KeyedMutex();
  #cache?: Promise<Map<string, VolumeMeta>>;

  constructor(o: VolumeServiceOptions) {
    this.#dir = join(o.root, 'volumes');
    this.#events = o.events;
  }

  #record(m: VolumeMeta): VolumeRecord {
    return {
      Name: m.Name,
      Driver: 'local',
      Mountpoint: join(this.#dir, m.Name, '_data'),
      CreatedAt: m.CreatedAt,
      Labels: { ...m.Labels },
      Options: { ...m.Options },
      Scope: 'local',
      anonymous: m.anonymous,
    };
  }

  /** Scan once: adopt every <name>/ dir, finish interrupted removals, rebuild missing meta. */
  #load(): Promise<Map<string, VolumeMeta>> {
    this.#cache ??= (async () => {
      await mkdir(this.#dir, { recursive: true, mode: 0o701 });
      const map = new Map<string, VolumeMeta>();
      for (const e of await readdir(this.#dir, { withFileTypes: true })) {
        if (!e.isDirectory()) continue;
        const p = join(this.#dir, e.name);
        if (e.name.startsWith('.trash-')) {
          await rm(p, { recursive: true, force: true });
          continue;
        }
        if (!VOLUME_NAME_RE.test(e.name)) continue;
        await sweepAtomicTemps(join(p, 'meta.json'));
        let meta = await readJsonIfExists<VolumeMeta>(join(p, 'meta.json')).catch(() => undefined);
        if (!meta) {
          // A crash between mkdir and meta write, or a dir someone made by hand:
          // docker adopts such directories; keep them, with what can be inferred.
          const st = await stat(p);
          meta = { Name: e.name, CreatedAt: st.mtime.toISOString().replace(/\.\d+Z$/, 'Z'), Labels: {}, Options: {}, anonymous: /^[0-9a-f]{64}$/.test(e.name) };
          await mkdir(join(p, '_data'), { recursive: true, mode: 0o755 });
          await writeJsonAtomic(join(p, 'meta.json'), meta, 0o600);
        }
        meta.Name = e.name;
        map.set(e.name, meta);
      }
      return map;
    })();
    this.#cache.catch(() => (this.#cache = undefined));
    return this.#cache;
  }

  async create(opts: { name?: string; labels?: Record<string, string>; driverOpts?: Record<string, string>; anonymous?: boolean }): Promise<VolumeRecord> {
    const anonymous = opts.anonymous ?? !opts.name;
    const name = opts.name || randomBytes(32).toString('hex');
    if (!VOLUME_NAME_RE.test(name)) {
      throw invalidArgument(`create ${name}: "${name}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`);
    }
    // The name is a directory name (NAME_MAX 255), and removal renames it to .trash-<name>-<8 hex>.
    if (name.length > MAX_NAME) throw invalidArgument(`create ${name.slice(0, 32)}…: volume name longer than ${MAX_NAME} characters`);
    validateLocalOpts(name, opts.driverOpts ?? {});
    const map = await this.#load();
    return this.#lock.run(name, async () => {
      const existing = map.get(name);
      // docker returns the existing volume for a repeated create (compose relies on it).
      if (existing) return this.#record(existing);
      const meta: VolumeMeta = { Name: name, CreatedAt: createdAtNow(), Labels: { ...(opts.labels ?? {}) }, Options: { ...(opts.driverOpts ?? {}) }, anonymous };
      const p = join(this.#dir, name);
      await mkdir(join(p, '_data'), { recursive: true, mode: 0o755 });
      await writeJsonAtomic(join(p, 'meta.json'), meta, 0o600);
      await fsyncDir(this.#dir);
      map.set(name, meta);
      this.#events?.publish('volume', 'create', name, { driver: 'local' });
      return this.#record(meta);
    });
  }

  async get(name: string): Promise<VolumeRecord> {
    const m = (await this.#load()).get(name);
    if (!m) throw notFound(`get ${name}: no such volume`);
    return this.#record(m);
  }

  async list(filters: { name?: string[]; label?: string[]; dangling?: boolean } = {}, isInUse?: (name: string) => boolean): Promise<VolumeRecord[]> {
    const out: VolumeRecord[] = [];
    for (const m of (await this.#load()).values()) {
      // docker's name filter is a substring (regexp) match; any of the given names.
      if (filters.name?.length && !filters.name.some((n) => m.Name.includes(n))) continue;
      if (filters.label?.length && !filters.label.every((t) => labelMatches(m.Labels, t))) continue;
      if (filters.dangling !== undefined && isInUse && isInUse(m.Name) === filters.dangling) continue;
      out.push(this.#record(m));
    }
    return out.sort((a, b) => a.Name.localeCompare(b.Name));
  }

  async remove(name: string, opts: { force?: boolean }, isInUse: (name: string) => boolean): Promise<void> {
    const map = await this.#load();
    await this.#lock.run(name, async () => {
      if (!map.has(name)) {
        // `volume rm -f` of a missing volume succeeds, as in docker.
        if (opts.force) return;
        throw notFound(`get ${name}: no such volume`);
      }
      if (!opts.force && isInUse(name)) throw conflict(`remove ${name}: volume is in use`);
      await this.#destroy(map, name);
    });
  }

  /** Rename to a trash name first (atomic: the volume is gone at once, even after a crash), then delete. */
  async #destroy(map: Map<string, VolumeMeta>, name: string): Promise<void> {
    const p = join(this.#dir, name);
    const trash = join(this.#dir, `.trash-${name}-${randomBytes(4).toString('hex')}`);
    try {
      await rename(p, trash);
    } catch (err) {
      if (!isErrno(err, 'ENOENT')) throw err;
    }
    map.delete(name);
    await fsyncDir(this.#dir);
    this.#events?.publish('volume', 'destroy', name, { driver: 'local' });
    await rm(trash, { recursive: true, force: true });
  }

  async prune(filters: { label?: string[]; all?: boolean; labelNot?: string[] }, isInUse: (name: string) => boolean): Promise<{ VolumesDeleted: string[]; SpaceReclaimed: number }> {
    const map = await this.#load();
    const VolumesDeleted: string[] = [];
    let SpaceReclaimed = 0;
    for (const name of [...map.keys()]) {
      await this.#lock.run(name, async () => {
        const m = map.get(name);
        if (!m) return;
        // Since docker 23 prune keeps named volumes unless all=true.
        if (!filters.all && !m.anonymous) return;
        if (!pruneLabelMatches(m.Labels, filters.label, filters.labelNot)) return;
        if (isInUse(name)) return;
        const size = await diskUsage(join(this.#dir, name, '_data')).catch(() => 0);
        await this.#destroy(map, name);
        VolumesDeleted.push(name);
        SpaceReclaimed += size;
      });
    }
    if (VolumesDeleted.length) this.#events?.publish('volume', 'prune', '', { reclaimed: String(SpaceReclaimed) });
    return { VolumesDeleted, SpaceReclaimed };
  }

  async usage(name: string): Promise<number> {
    const r = await this.get(name);
    return diskUsage(r.Mountpoint);
  }
}

export function createVolumeService(o: VolumeServiceOptions): LocalVolumeService {
  return new LocalVolumeService(o);
}
