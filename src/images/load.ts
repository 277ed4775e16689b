/**
 * `docker load`: a docker archive (manifest.json) or an OCI image layout (index.json)
 * tarball, gzip or not. The outer tar is untrusted: its entry names are never used as
 * paths. Each regular file goes to <tmp>/<n> and a map from its cleaned name finds it;
 * symlinks (docker 25+ links legacy layer paths to blobs/) are followed in that map,
 * never on disk. The whole tar is read before the store is touched, so a truncated or
 * corrupt one changes nothing; a layer that fails later undoes every layer added.
 */
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import tar from 'tar-stream';
import { BerthError, errorMessage, invalidArgument, isBerthError } from '../common/errors.js';
import { decompress } from '../diff/index.js';
import type { Descriptor, ImageConfigFile } from '../oci/image-spec.js';
import { MediaType } from '../oci/image-spec.js';
import { addLayer, type AddedLayer, type LayerStores } from './archive-layer.js';
import { hostArchitecture } from './layers.js';
import type { NewImage } from './service.js';
import type { ImageRecord } from './types.js';
import { familiarString, parseReference } from './reference.js';

const MAX_JSON = 8 << 20;
const MAX_LINKS = 16;

interface Archive {
  dir: string;
  files: Map<string, string>;
  links: Map<string, string>;
}

interface Planned {
  config: Buffer;
  parsed: ImageConfigFile;
  layerFiles: string[];
  tags: string[];
}

export interface LoadDeps extends LayerStores {
  register(img: NewImage): Promise<ImageRecord>;
  /** Where the temp dir goes (the data root, so big layers stay on its disk). */
  tmpRoot: string;
}

/** Load; onLoaded gets docker's lines ("Loaded image: busybox:latest"). */
export async function loadImages(deps: LoadDeps, input: Readable, onLoaded: (line: string) => void): Promise<void> {
  await mkdir(deps.tmpRoot, { recursive: true, mode: 0o700 });
  const dir = await mkdtemp(join(deps.tmpRoot, 'load-'));
  try {
    const ar = await unpackOuter(input, dir);
    const plans = ar.files.has('manifest.json') ? await planDocker(ar) : ar.files.has('index.json') ? await planOci(ar) : undefined;
    if (!plans) throw invalidArgument('invalid image archive: it has neither manifest.json (docker) nor index.json (OCI layout)');
    const added: AddedLayer[] = [];
    const images: NewImage[][] = [];
    try {
      for (const p of plans) {
        const diffIds = p.parsed.rootfs.diff_ids;
        const layers: AddedLayer[] = [];
        for (let i = 0; i < p.layerFiles.length; i++) {
          const l = await addLayer(deps, createReadStream(p.layerFiles[i]!), diffIds.slice(0, i), diffIds[i]);
          added.push(l);
          layers.push(l);
        }
        const base = { config: p.config, layers: layers.map((l) => l.descriptor), layerSizes: layers.map((l) => l.contentSize) };
        images.push(p.tags.length ? p.tags.map((t) => ({ ...base, reference: t })) : [base]);
      }
    } catch (err) {
      for (const l of added.reverse()) await l.undo();
      throw err;
    }
    for (const group of images) {
      for (const img of group) {
        const rec = await deps.register(img);
        onLoaded(img.reference ? `Loaded image: ${familiarString(parseReference(img.reference))}` : `Loaded image ID: ${rec.id}`);
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A tar name, cleaned lexically inside the archive; ".." cannot climb out of it. */
function cleanName(name: string): string {
  const out: string[] = [];
  for (const c of name.split('/')) {
    if (c === '' || c === '.') continue;
    if (c === '..') out.pop();
    else out.push(c);
  }
  return out.join('/');
}

async function unpackOuter(input: Readable, dir: string): Promise<Archive> {
  const ar: Archive = { dir, files: new Map(), links: new Map() };
  let n = 0;
  try {
    const { stream } = await decompress(input);
    const extract = tar.extract();
    stream.on('error', (e) => extract.destroy(e));
    stream.pipe(extract);
    for await (const e of extract) {
      const h = e.header;
      const name = cleanName(h.name);
      if (h.type === 'file' || h.type === 'contiguous-file') {
        const path = join(dir, String(n++));
        const fh = await open(path, 'wx', 0o600);
        try {
          for await (const chunk of e) await fh.write(chunk as Buffer);
        } finally {
          await fh.close();
        }
        ar.files.set(name, path);
        ar.links.delete(name);
      } else if (h.type === 'symlink' || h.type === 'link') {
        const t = h.linkname ?? '';
        // A symlink is relative to its own dir; a hard link names an archive path.
        const target = h.type === 'link' || t.startsWith('/') ? cleanName(t) : cleanName(name.split('/').slice(0, -1).join('/') + '/' + t);
        ar.links.set(name, target);
        e.resume();
      } else {
        e.resume();
      }
    }
  } catch (err) {
    if (isBerthError(err)) throw err;
    throw invalidArgument(`invalid image archive: ${errorMessage(err)}; the tarball is corrupt or truncated`, err);
  }
  return ar;
}

function fileOf(ar: Archive, name: string, what: string): string {
  let cur = cleanName(name);
  for (let i = 0; i <= MAX_LINKS; i++) {
    const f = ar.files.get(cur);
    if (f) return f;
    const next = ar.links.get(cur);
    if (next === undefined) break;
    cur = next;
  }
  throw invalidArgument(`invalid image archive: ${what} "${name}" is missing from it`);
}

/**
 * A JSON file of the archive (manifest.json, index.json, a config, an OCI manifest or
 * index), its size checked before a byte is read: an archive could make any of them
 * gigabytes long, and reading first would take that much of berthd's memory. At most
 * one byte past the limit is ever read, even from a file that grew after the check.
 */
async function readSmall(ar: Archive, name: string, what: string): Promise<Buffer> {
  const tooLarge = () => invalidArgument(`invalid image archive: ${what} "${name}" is larger than ${MAX_JSON} bytes; no image has metadata that large, so the archive is not a valid image`);
  const fh = await open(fileOf(ar, name, what), 'r');
  try {
    const { size } = await fh.stat();
    if (size > MAX_JSON) throw tooLarge();
    const buf = Buffer.alloc(size + 1);
    let n = 0;
    while (n < buf.length) {
      const { bytesRead } = await fh.read(buf, n, buf.length - n, n);
      if (bytesRead === 0) break;
      n += bytesRead;
    }
    if (n > MAX_JSON) throw tooLarge();
    return buf.subarray(0, n);
  } finally {
    await fh.close();
  }
}

function parseJson<T>(buf: Buffer, what: string): T {
  try {
    return JSON.parse(buf.toString('utf8')) as T;
  } catch (err) {
    throw invalidArgument(`invalid image archive: ${what} is not valid JSON: ${errorMessage(err)}`);
  }
}

function checkConfig(buf: Buffer, layers: number, what: string): ImageConfigFile {
  const cfg = parseJson<ImageConfigFile>(buf, what);
  const ids = cfg?.rootfs?.diff_ids;
  if (!Array.isArray(ids) || !ids.every((d) => typeof d === 'string' && /^sha256:[a-f0-9]{64}$/.test(d))) {
    throw invalidArgument(`invalid image archive: ${what} has no valid rootfs.diff_ids`);
  }
  if (ids.length !== layers) throw invalidArgument(`invalid image archive: ${what} lists ${ids.length} layers but the manifest has ${layers}`);
  return cfg;
}

function validTags(tags: unknown): string[] {
  if (tags == null) return [];
  if (!Array.isArray(tags)) throw invalidArgument('invalid image archive: RepoTags is not a list');
  return tags.map((t) => {
    if (typeof t !== 'string') throw invalidArgument('invalid image archive: a RepoTag is not a string');
    try {
      const r = parseReference(t);
      if (r.digest) throw new Error('digest');
    } catch {
      throw invalidArgument(`invalid image archive: invalid tag "${t}"`);
    }
    return t;
  });
}

async function planDocker(ar: Archive): Promise<Planned[]> {
  const m = parseJson<Array<{ Config?: string; RepoTags?: unknown; Layers?: unknown }>>(await readSmall(ar, 'manifest.json', 'file'), 'manifest.json');
  if (!Array.isArray(m) || m.length === 0) throw invalidArgument('invalid image archive: manifest.json lists no images');
  const out: Planned[] = [];
  for (const e of m) {
    if (typeof e?.Config !== 'string' || !Array.isArray(e.Layers) || !e.Layers.every((l) => typeof l === 'string')) {
      throw invalidArgument('invalid image archive: a manifest.json entry lacks Config or Layers');
    }
    const layers = e.Layers as string[];
    const config = await readSmall(ar, e.Config, 'config');
    out.push({ config, parsed: checkConfig(config, layers.length, `config ${e.Config}`), layerFiles: layers.map((l) => fileOf(ar, l, 'layer')), tags: validTags(e.RepoTags) });
  }
  return out;
}

function blobName(d: Descriptor, what: string): string {
  if (typeof d?.digest !== 'string' || !/^sha256:[a-f0-9]{64}$/.test(d.digest)) throw invalidArgument(`invalid image archive: ${what} has no valid sha256 digest`);
  return `blobs/sha256/${d.digest.slice(7)}`;
}

/** A blob whose bytes must hash to its descriptor's digest (manifests, configs). */
async function verifiedBlob(ar: Archive, d: Descriptor, what: string): Promise<Buffer> {
  const buf = await readSmall(ar, blobName(d, what), what);
  const got = 'sha256:' + createHash('sha256').update(buf).digest('hex');
  if (got !== d.digest) throw invalidArgument(`invalid image archive: ${what} ${d.digest} has digest ${got}; the archive is corrupt`);
  return buf;
}

async function planOci(ar: Archive): Promise<Planned[]> {
  const index = parseJson<{ manifests?: Descriptor[] }>(await readSmall(ar, 'index.json', 'file'), 'index.json');
  const out: Planned[] = [];
  for (const top of index.manifests ?? []) {
    let desc = top;
    for (let depth = 0; desc.mediaType === MediaType.OciIndex || desc.mediaType === MediaType.DockerManifestList; depth++) {
      if (depth > 4) throw invalidArgument('invalid image archive: indexes nested too deep');
      const nested = parseJson<{ manifests?: Descriptor[] }>(await verifiedBlob(ar, desc, 'index'), 'index');
      const list = nested.manifests ?? [];
      const pick = list.find((d) => d.platform?.os === 'linux' && d.platform?.architecture === hostArchitecture()) ?? list.find((d) => !d.platform);
      if (!pick) throw invalidArgument(`invalid image archive: no linux/${hostArchitecture()} image in index ${desc.digest}`);
      desc = pick;
    }
    const mani = parseJson<{ config?: Descriptor; layers?: Descriptor[] }>(await verifiedBlob(ar, desc, 'manifest'), 'manifest');
    if (!mani.config || !Array.isArray(mani.layers)) throw invalidArgument(`invalid image archive: manifest ${desc.digest} lacks config or layers`);
    const config = await verifiedBlob(ar, mani.config, 'config');
    const ann = (top.annotations ?? {}) as Record<string, string>;
    const name = ann['io.containerd.image.name'] ?? (ann['org.opencontainers.image.ref.name']?.includes(':') ? ann['org.opencontainers.image.ref.name'] : undefined);
    out.push({
      config,
      parsed: checkConfig(config, mani.layers.length, `config ${mani.config.digest}`),
      layerFiles: mani.layers.map((l) => fileOf(ar, blobName(l, 'layer'), 'layer')),
      tags: name ? validTags([name]) : [],
    });
  }
  if (out.length === 0) throw invalidArgument('invalid image archive: index.json lists no images');
  return out;
}

export { BerthError };
