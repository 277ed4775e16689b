/** In-memory ImageService and VolumeService fakes. */
import type { Readable } from 'node:stream';
import type { ImageFilters, ImageRecord, ImageService, ImportOptions, RemoveResult } from '../../images/types.js';
import type { VolumeRecord, VolumeService } from '../../volumes/types.js';
import { conflict, invalidArgument, notFound } from '../../common/errors.js';

export class FakeImages implements ImageService {
  readonly images: ImageRecord[] = [];
  lastImport?: { bytes: number; opts: ImportOptions };

  add(ref: string, id = 'sha256:' + 'b'.repeat(64)): ImageRecord {
    const img: ImageRecord = {
      id, repoTags: [ref], repoDigests: [], chainIds: [], size: 1234, loadedAt: new Date().toISOString(),
      config: { architecture: 'amd64', os: 'linux', created: '2024-01-01T00:00:00Z', config: { Cmd: ['sh'], Labels: { a: 'b' } }, rootfs: { type: 'layers', diff_ids: ['sha256:' + 'c'.repeat(64)] } },
    };
    this.images.push(img);
    return img;
  }

  async get(ref: string): Promise<ImageRecord> {
    const full = ref.includes(':') || ref.includes('@') ? ref : `${ref}:latest`;
    const img = this.images.find((i) => i.repoTags.includes(full) || i.repoTags.includes(ref) || i.id === ref || i.id.startsWith(`sha256:${ref}`));
    if (!img) throw notFound(`No such image: ${ref}`);
    return img;
  }

  async list(_filters?: ImageFilters): Promise<ImageRecord[]> {
    return [...this.images];
  }

  async import(tar: Readable, opts: ImportOptions): Promise<ImageRecord> {
    let bytes = 0;
    for await (const c of tar) bytes += (c as Buffer).length;
    if (bytes === 0) throw invalidArgument('archive/tar: invalid tar header');
    this.lastImport = { bytes, opts };
    return this.add(opts.reference ?? '<none>:<none>', 'sha256:' + 'd'.repeat(64));
  }

  async tag(source: string, reference: string): Promise<void> {
    const img = await this.get(source);
    img.repoTags.push(reference.includes(':') ? reference : `${reference}:latest`);
  }

  async remove(ref: string): Promise<RemoveResult[]> {
    const img = await this.get(ref);
    this.images.splice(this.images.indexOf(img), 1);
    return [{ Untagged: ref }, { Deleted: img.id }];
  }

  async history(ref: string): Promise<Array<{ Id: string; Created: number; CreatedBy: string; Tags: string[] | null; Size: number; Comment: string }>> {
    const img = await this.get(ref);
    return [{ Id: img.id, Created: 1704067200, CreatedBy: '/bin/sh -c #(nop) CMD ["sh"]', Tags: img.repoTags, Size: 0, Comment: '' }];
  }
}

export class FakeVolumes implements VolumeService {
  readonly vols = new Map<string, VolumeRecord>();

  async create(opts: { name?: string; labels?: Record<string, string>; driverOpts?: Record<string, string> }): Promise<VolumeRecord> {
    const name = opts.name ?? 'anon' + this.vols.size;
    const existing = this.vols.get(name);
    if (existing) return existing;
    const v: VolumeRecord = { Name: name, Driver: 'local', Mountpoint: `/var/lib/berth/volumes/${name}/_data`, CreatedAt: '2024-01-01T00:00:00Z', Labels: opts.labels ?? {}, Options: opts.driverOpts ?? {}, Scope: 'local', anonymous: !opts.name };
    this.vols.set(name, v);
    return v;
  }

  async get(name: string): Promise<VolumeRecord> {
    const v = this.vols.get(name);
    if (!v) throw notFound(`get ${name}: no such volume`);
    return v;
  }

  async list(): Promise<VolumeRecord[]> {
    return [...this.vols.values()];
  }

  async remove(name: string, opts: { force?: boolean }, isInUse: (n: string) => boolean): Promise<void> {
    await this.get(name);
    if (isInUse(name) && !opts.force) throw conflict(`remove ${name}: volume is in use`);
    this.vols.delete(name);
  }

  async prune(): Promise<{ VolumesDeleted: string[]; SpaceReclaimed: number }> {
    const names = [...this.vols.keys()];
    this.vols.clear();
    return { VolumesDeleted: names, SpaceReclaimed: 0 };
  }

  async usage(): Promise<number> {
    return 0;
  }
}
