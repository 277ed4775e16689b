/**
 * A container's files through the copy helper: stat, copy out, copy in (docker cp's
 * archive API) and export. Every path is resolved by the kernel inside a chroot of the
 * container's view (archive-helper.ts), never by berthd on the host.
 *
 * The view: a running container's merged rootfs (bind-mounted), a stopped one's
 * overlay (mounted), each with the container's volumes and bind mounts placed on it,
 * all inside the helper's private mount namespace. So `docker cp f c:/data/x` reaches
 * the volume at /data, running or not, as docker does; tmpfs mounts are not in the
 * view (their contents live only in the container's namespace). For a stopped
 * container the container lock is held while the helper works, so a start cannot mount
 * the same overlay at the same time.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { BerthError, invalidArgument, isBerthError } from '../common/errors.js';
import type { ContainerManager } from './manager.js';
import type { ArchivePutOptions, ContainerRecord } from './types.js';
import { helperGet, helperJson, startHelper, type HelperJob, type PathStat } from './archive-run.js';
import { decompress } from '../diff/index.js';

export interface CopyOut {
  stat: PathStat;
  tar: Readable;
  /** Settles when the helper is done (the tar fully written, or it failed). */
  done: Promise<void>;
}

export class ContainerArchive {
  constructor(private m: ContainerManager) {}

  /** Run `work` with the job base for c's view, under the container lock when it is stopped. */
  async #withView<T>(ref: string, withBinds: boolean, work: (base: HelperJob, c: ContainerRecord) => Promise<{ value: T; done: Promise<void> }>): Promise<T> {
    try {
      return await this.#inView(ref, withBinds, work);
    } catch (err) {
      // The helper knows paths, not containers: dockerd names the container as it was asked for.
      if (isBerthError(err, 'NOT_FOUND') && err.message.endsWith(' in container')) throw new BerthError('NOT_FOUND', `${err.message} ${ref}`);
      throw err;
    }
  }

  async #inView<T>(ref: string, withBinds: boolean, work: (base: HelperJob, c: ContainerRecord) => Promise<{ value: T; done: Promise<void> }>): Promise<T> {
    const c = this.m.get(ref);
    const view = join(this.m.store.dir(c.Id), 'cpview');
    await mkdir(view, { recursive: true, mode: 0o700 });
    const binds = withBinds ? bindsOf(c) : [];
    if (c.State.Running) {
      const base: HelperJob = { op: 'stat', root: view, liveRoot: this.m.rootfsDir(c.Id), binds };
      return (await work(base, c)).value;
    }
    // Stopped: the lock is held until the helper has finished, not just until it started.
    return new Promise<T>((resolve, reject) => {
      this.m.lock.run(c.Id, async () => {
        const cur = this.m.get(c.Id);
        // A runtime prepared for the start has the overlay mounted: it goes first.
        await this.m.prepared.discard(cur);
        if (cur.State.Running) {
          // It started while we waited: use the live view after all.
          const base: HelperJob = { op: 'stat', root: view, liveRoot: this.m.rootfsDir(c.Id), binds };
          const r = await work(base, cur);
          resolve(r.value);
          return;
        }
        const base: HelperJob = { op: 'stat', root: view, mounts: await this.m.deps.snapshots.mounts(c.Id), binds };
        let r;
        try {
          r = await work(base, cur);
        } catch (err) {
          reject(err);
          return;
        }
        resolve(r.value);
        await r.done.catch(() => {});
      }).catch(reject);
    });
  }

  /** HEAD /containers/{id}/archive. */
  statPath(ref: string, path: string): Promise<PathStat> {
    checkPath(path);
    return this.#withView(ref, true, async (base) => {
      const value = await helperJson<PathStat>({ ...base, op: 'stat', path });
      return { value, done: Promise.resolve() };
    });
  }

  /** GET /containers/{id}/archive: the stat and a tar of the path. */
  copyOut(ref: string, path: string): Promise<CopyOut> {
    checkPath(path);
    return this.#withView(ref, true, async (base) => {
      const r = await helperGet({ ...base, op: 'get', path });
      return { value: r, done: r.done };
    });
  }

  /** GET /containers/{id}/export: the root file system alone, no volumes (docker). */
  export(ref: string): Promise<CopyOut> {
    return this.#withView(ref, false, async (base) => {
      const r = await helperGet({ ...base, op: 'get', path: '/', rebase: '' });
      return { value: r, done: r.done };
    });
  }

  /**
   * PUT /containers/{id}/archive: extract a tar into the directory at path. Whether the
   * destination is writable (--read-only rootfs, read-only volumes) is decided in the
   * helper: only there is the path resolved as the container sees it.
   */
  copyIn(ref: string, path: string, input: Readable, opts: ArchivePutOptions): Promise<void> {
    checkPath(path);
    return this.#withView(ref, true, async (base, c) => {
      // dockerd accepts a compressed tar here too (gzip, zstd): clients send .tar.gz as is.
      const tar = (await decompress(input)).stream;
      const run = startHelper({ ...base, op: 'put', path, readonlyRootfs: !!c.HostConfig.ReadonlyRootfs, noOverwriteDirNonDir: !!opts.noOverwriteDirNonDir, copyUIDGID: !!opts.copyUIDGID, devices: !!opts.devices, user: c.Config.User ?? '' }, { stdin: true });
      const stdin = run.child.stdin!;
      stdin.on('error', () => { /* the helper stopped reading: its exit status says why */ });
      tar.on('error', () => stdin.destroy());
      tar.pipe(stdin);
      run.stdout.resume();
      try {
        await run.done;
      } finally {
        tar.unpipe(stdin);
        tar.resume();
      }
      return { value: undefined, done: Promise.resolve() };
    });
  }
}

function checkPath(path: string): void {
  if (!path) throw invalidArgument('path is required: give a path inside the container');
  if (path.includes('\0')) throw invalidArgument('path contains a NUL byte');
}

/** The container's volumes and bind mounts, parents before children. */
/**
 * What the container sees mounted over its root: its volumes and bind mounts, and the
 * /etc files berthd writes for it (dockerd's NetworkMounts: `docker cp c:/etc/hosts .`
 * gives the file the container reads, not the empty placeholder in its layer). Those
 * exist once it has been started, and a mount of the user's own at the path wins.
 */
function bindsOf(c: ContainerRecord): Array<{ source: string; destination: string; readonly: boolean }> {
  const binds = (c.OciMounts ?? [])
    .filter((m) => (m.type === 'bind' || (m.options ?? []).some((o) => o === 'bind' || o === 'rbind')) && m.source?.startsWith('/'))
    .map((m) => ({ source: m.source!, destination: m.destination, readonly: (m.options ?? []).includes('ro') }));
  const taken = new Set((c.OciMounts ?? []).map((m) => m.destination));
  for (const [destination, source] of [['/etc/resolv.conf', c.ResolvConfPath], ['/etc/hostname', c.HostnamePath], ['/etc/hosts', c.HostsPath]] as const) {
    if (source && !taken.has(destination) && existsSync(source)) binds.push({ source, destination, readonly: !!c.HostConfig.ReadonlyRootfs });
  }
  return binds.sort((a, b) => a.destination.split('/').length - b.destination.split('/').length);
}

export { BerthError };
