/**
 * The containers a build steps through: RUN runs in one, COPY/ADD/WORKDIR write into
 * one through the copy helper (which chroots into the container's view, so image
 * symlinks resolve inside the image and nothing reaches the host), and each one's
 * changes become the step's layer via the containers service's commit.
 */
import { PassThrough, type Readable } from 'node:stream';
import tar from 'tar-stream';
import { BerthError, internal, isBerthError } from '../common/errors.js';
import type { ContainerService } from '../containers/index.js';
import type { CreateContainerRequest } from '../oci/docker-config.js';
import type { Descriptor } from '../oci/image-spec.js';
import type { ImageRecord } from '../images/index.js';

export interface RunOptions {
  image: string;
  cmd: string[];
  env: string[];
  workdir?: string;
  user?: string;
  networkMode?: string;
  extraHosts?: string[];
  shmSize?: number;
  /** It will be started (a RUN step): berthd may prepare its start at the create. */
  start?: boolean;
}

export interface Layer {
  descriptor: Descriptor;
  diffId: string;
  size: number;
}

type Containers = Required<Pick<ContainerService, 'create' | 'start' | 'wait' | 'attach' | 'remove'>> &
  Pick<ContainerService, 'commit' | 'archivePut' | 'archiveStat' | 'archiveGet'>;

export interface ImageAccess {
  get(ref: string): Promise<ImageRecord>;
  removeImage(id: string): Promise<void>;
}

const GO_DIR = 0x80000000;

export class WorkContainers {
  constructor(private containers: Containers, private images: ImageAccess) {}

  async create(o: RunOptions): Promise<string> {
    const req: CreateContainerRequest = {
      Image: o.image,
      // An empty entrypoint: the step's argv is the whole command, as docker's builder does.
      Entrypoint: [],
      Cmd: o.cmd,
      Env: o.env,
      WorkingDir: o.workdir || undefined,
      User: o.user ?? '',
      AttachStdout: true,
      AttachStderr: true,
      HostConfig: {
        NetworkMode: o.networkMode || 'default',
        ...(o.extraHosts?.length ? { ExtraHosts: o.extraHosts } : {}),
        ...(o.shmSize ? { ShmSize: o.shmSize } : {}),
      },
    } as CreateContainerRequest;
    return (await this.containers.create(req, undefined, { prepareStart: !!o.start })).Id;
  }

  /** Start it, hand its output to `out` as it comes, and give its exit code. */
  async run(id: string, out: (text: string) => void, signal?: AbortSignal): Promise<number> {
    const session = await this.containers.attach(id, { stdout: true, stderr: true, stream: true });
    const ac = new AbortController();
    const onAbort = () => ac.abort();
    signal?.addEventListener('abort', onAbort);
    try {
      const waiting = this.containers.wait(id, 'next-exit', ac.signal);
      waiting.catch(() => {});
      session.start?.();
      await this.containers.start(id);
      const decoder = new TextDecoder();
      for await (const chunk of session.output) out(decoder.decode(chunk.data, { stream: true }));
      const tail = decoder.decode();
      if (tail) out(tail);
      const r = await waiting;
      return r.StatusCode;
    } finally {
      signal?.removeEventListener('abort', onAbort);
      session.close();
    }
  }

  /** The container's changes as a layer; the image commit made for it is dropped once `keep` holds the layer. */
  async commitLayer(id: string): Promise<{ layer: Layer; release: () => Promise<void> }> {
    if (!this.containers.commit) throw internal('this berthd cannot commit containers, so it cannot build');
    const imageId = await this.containers.commit(id, { pause: false });
    const img = (await this.images.get(imageId)) as ImageRecord & { layers?: Descriptor[]; layerSizes?: number[] };
    const descriptor = img.layers?.at(-1);
    const diffId = img.config.rootfs?.diff_ids?.at(-1);
    if (!descriptor || !diffId) throw internal(`the commit of build container ${id} has no layer`);
    return {
      layer: { descriptor, diffId, size: img.layerSizes?.at(-1) ?? 0 },
      release: () => this.images.removeImage(imageId).catch(() => {}),
    };
  }

  async remove(id: string): Promise<void> {
    await this.containers.remove(id, { force: true, volumes: true }).catch(() => {});
  }

  /** Stat a path in the container: 'dir', 'other', or undefined when absent; symlinks followed. */
  async kind(id: string, path: string): Promise<{ kind: 'dir' | 'other'; path: string } | undefined> {
    let p = path;
    for (let hops = 0; hops < 40; hops++) {
      let st;
      try {
        st = await this.containers.archiveStat!(id, p);
      } catch (err) {
        if (isBerthError(err, 'NOT_FOUND')) return undefined;
        throw err;
      }
      if (!st.linkTarget) return { kind: st.mode >= GO_DIR ? 'dir' : 'other', path: p };
      p = st.linkTarget;
    }
    throw new BerthError('INVALID_ARGUMENT', `too many levels of symbolic links at ${path} in the image`);
  }

  /**
   * mkdir -p inside the container, following the image's symlinks (inside the image);
   * gives the resolved directory. New directories are root's, 0755, as docker makes them.
   */
  async ensureDir(id: string, path: string): Promise<{ dir: string; created: boolean }> {
    const parts = path.split('/').filter((c) => c && c !== '.');
    let cur = '/';
    let created = false;
    for (const c of parts) {
      if (c === '..') {
        cur = cur === '/' ? '/' : cur.slice(0, cur.lastIndexOf('/')) || '/';
        continue;
      }
      const next = cur === '/' ? `/${c}` : `${cur}/${c}`;
      const k = await this.kind(id, next);
      if (k?.kind === 'dir') {
        cur = k.path;
        continue;
      }
      if (k) throw new BerthError('INVALID_ARGUMENT', `cannot create directory ${path}: ${next} exists in the image and is not a directory`);
      await this.put(id, cur, dirTar(c));
      cur = next;
      created = true;
    }
    return { dir: cur, created };
  }

  async put(id: string, dir: string, tarStream: Readable): Promise<void> {
    // devices: ADD of a tar keeps its device nodes and FIFOs, as docker's builder does.
    await this.containers.archivePut!(id, dir, tarStream, { copyUIDGID: true, devices: true });
  }

  /** A tar of `path` in the container (docker cp's shape: the top entry named after it). */
  async get(id: string, path: string): Promise<{ tar: Readable; done: Promise<void>; isDir: boolean }> {
    const r = await this.containers.archiveGet!(id, path);
    return { tar: r.tar, done: r.done, isDir: r.stat.mode >= GO_DIR };
  }

  /** One small file of the container (/etc/passwd), or undefined. */
  async readFile(id: string, path: string): Promise<string | undefined> {
    let r;
    try {
      r = await this.containers.archiveGet!(id, path);
    } catch (err) {
      if (isBerthError(err)) return undefined;
      throw err;
    }
    const ex = tar.extract();
    r.tar.pipe(ex);
    let text: string | undefined;
    for await (const e of ex) {
      const chunks: Buffer[] = [];
      for await (const c of e) chunks.push(c as Buffer);
      if (text === undefined && e.header.type === 'file') text = Buffer.concat(chunks).toString('utf8');
    }
    await r.done.catch(() => {});
    return text;
  }
}

function dirTar(name: string): Readable {
  const p = tar.pack();
  p.entry({ name: name + '/', type: 'directory', mode: 0o755, uid: 0, gid: 0, mtime: new Date() });
  p.finalize();
  // A Node stream: the copy helper pipes and unpipes it (tar-stream's Pack is a streamx stream).
  const out = new PassThrough();
  p.pipe(out);
  return out;
}
