/**
 * The copy helper: a short-lived child of berthd that does every file operation on a
 * container's filesystem for docker cp, export, diff and commit.
 *
 * Why a process: berthd spawns it under `unshare --mount --propagation private`, so it
 * can build a view of the container (its rootfs plus its volumes and bind mounts) in a
 * mount namespace that vanishes with it (nothing to unmount, nothing leaked on a
 * crash), and then chroot(2) into that view. After the chroot the kernel resolves
 * every path, symlinks and ".." included, inside the container: a symlink the
 * container swaps in mid-copy (CVE-2018-15664) can only ever point at another file of
 * the container. Docker and podman do the same ("chrootarchive"). The view never has
 * the container's /proc, so /proc/<pid>/root magic links are out of reach too.
 *
 * Protocol: argv[2] is a JSON Job. Output on stdout (a tar, or JSON); the stat of a
 * `get` on fd 3; a failure is one JSON line {code, message} on stderr and exit 1.
 */
import { access, chmod, lchown, link, lstat, lutimes, mkdir, open, readlink, realpath, rm, stat, symlink } from 'node:fs/promises';
import { constants, createWriteStream, type Stats } from 'node:fs';
import tar from 'tar-stream';
import { mountOne, type Mount } from '../mount/mount.js';
import { listUpper, packTree } from './archive-walk.js';
import { makedev, mknod, S_IFBLK, S_IFCHR, S_IFIFO } from '../diff/index.js';
import { parseGroup, parsePasswd, resolveUserFrom } from './support/user.js';
import { populateVolume } from './volume-populate.js';
import { chrootInto } from './support/chroot.js';

export interface HelperJob {
  op: 'stat' | 'get' | 'put' | 'changes' | 'layer' | 'populate';
  /** An empty dir the view is mounted on, or (no mounts) the dir to chroot into as is. */
  root: string;
  /** Mounted on root first: a stopped container's overlay. */
  mounts?: Mount[];
  /** Bind-mounted (recursively) on root: a running container's merged rootfs. */
  liveRoot?: string;
  /** The container's volumes and bind mounts, placed on the view before the chroot. */
  binds?: Array<{ source: string; destination: string; readonly: boolean }>;
  /**
   * put: the container was created with --read-only. The view's root is remounted
   * read-only (the container's own mount is read-only only in its namespace), so the
   * kernel itself refuses a write that lands on the rootfs, however the path got there.
   */
  readonlyRootfs?: boolean;
  /** The path inside the container (stat, get, put). */
  path?: string;
  /** get: the name of the top entry in the tar ("" for export: contents unprefixed). */
  rebase?: string;
  noOverwriteDirNonDir?: boolean;
  /**
   * put: dockerd keeps the tar's owners by default; with copyUIDGID every entry goes
   * to the container's user (Config.User, resolved in the container's /etc/passwd and
   * /etc/group), or keeps the tar's owners when the container sets no user.
   */
  copyUIDGID?: boolean;
  /** put: device nodes and FIFOs are created (the builder's ADD and COPY), not refused (docker cp). */
  devices?: boolean;
  /** put with copyUIDGID: the container's Config.User ("" = none). */
  user?: string;
  /** layer: paths left out when they are empty files (bind-mount targets). */
  skipEmpty?: string[];
  /** populate (volume-populate.ts; `path` is the mount path in the container): the volume's host dir. */
  volume?: string;
}

export interface PathStat {
  name: string;
  size: number;
  mode: number;
  mtime: string;
  linkTarget: string;
}

class HelperError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

function fail(code: string, message: string): never {
  throw new HelperError(code, message);
}

async function setup(job: HelperJob): Promise<void> {
  if (job.mounts?.length) {
    for (const m of job.mounts) await mountOne(m, job.root);
  } else if (job.liveRoot) {
    await mountOne({ type: 'bind', source: job.liveRoot, options: ['rbind'] }, job.root);
  }
  if (job.readonlyRootfs) {
    // Only a mount point can be made read-only: a bare dir becomes one first.
    if (!job.mounts?.length && !job.liveRoot) await mountOne({ type: 'bind', source: job.root, options: ['bind'] }, job.root);
    // Before the binds: they keep their own flags (a writable volume stays writable).
    await mountOne({ type: 'none', source: 'none', options: ['bind', 'remount', 'ro'] }, job.root);
  }
  for (const b of job.binds ?? []) {
    // Resolved lexically under the view: even if the container raced a symlink into
    // this path, the mount lands in this private namespace only, and the chroot below
    // keeps every later file operation inside the view.
    const target = job.root + '/' + b.destination.split('/').filter((c) => c && c !== '.' && c !== '..').join('/');
    const st = await lstat(target).catch(() => undefined);
    if (!st || st.isSymbolicLink()) continue;
    await mountOne({ type: 'bind', source: b.source, options: ['rbind', ...(b.readonly ? ['ro'] : [])] }, target);
  }
  chrootInto(job.root);
}

/** Go's os.FileMode bits, which docker's stat header carries. */
function goMode(st: Stats): number {
  let m = st.mode & 0o777;
  const t = st.mode & 0o170000;
  if (t === 0o040000) m += 2 ** 31;
  else if (t === 0o120000) m += 2 ** 27;
  else if (t === 0o010000) m += 2 ** 25;
  else if (t === 0o140000) m += 2 ** 24;
  else if (t === 0o020000) m += 2 ** 26 + 2 ** 21;
  else if (t === 0o060000) m += 2 ** 26;
  if (st.mode & 0o4000) m += 2 ** 23;
  if (st.mode & 0o2000) m += 2 ** 22;
  if (st.mode & 0o1000) m += 2 ** 20;
  return m;
}

function clean(path: string): string {
  const parts: string[] = [];
  for (const c of path.split('/')) {
    if (c === '' || c === '.') continue;
    if (c === '..') parts.pop();
    else parts.push(c);
  }
  return '/' + parts.join('/');
}

async function statPath(path: string): Promise<PathStat> {
  const p = clean(path);
  const st = await lstat(p).catch(() => fail('NOT_FOUND', `Could not find the file ${path} in container`));
  let linkTarget = '';
  if (st.isSymbolicLink()) {
    // In the chroot, realpath answers in the container's own terms.
    linkTarget = await realpath(p).catch(async () => {
      const t = await readlink(p);
      return t.startsWith('/') ? clean(t) : clean(p.slice(0, p.lastIndexOf('/')) + '/' + t);
    });
  }
  // "dir/." names the directory's contents: its stat and its tar's top entry are ".", so
  // that clients copy what is inside (dockerd keeps a trailing "/." the same way).
  const name = contentsOf(path) ? '.' : p === '/' ? '/' : p.slice(p.lastIndexOf('/') + 1);
  return { name, size: st.size, mode: goMode(st), mtime: st.mtime.toISOString(), linkTarget };
}

function contentsOf(path: string): boolean {
  return path === '.' || path.endsWith('/.');
}

async function get(job: HelperJob): Promise<void> {
  const st = await statPath(job.path ?? '/');
  const fd3 = createWriteStream('', { fd: 3 });
  await new Promise<void>((resolve, reject) => fd3.end(JSON.stringify(st) + '\n', (e?: Error | null) => (e ? reject(e) : resolve())));
  let p = clean(job.path ?? '/');
  // "dir/." asks for the contents; a trailing "/" follows a symlinked directory.
  if (/\/\.?$/.test(job.path ?? '') && (await lstat(p)).isSymbolicLink()) p = await realpath(p);
  await packTree(p, job.rebase ?? (p === '/' || contentsOf(job.path ?? '') ? '.' : p.slice(p.lastIndexOf('/') + 1)), process.stdout, { mode: 'copy' });
}

/** Entry name to components below the extraction dir; ".." above it is refused. */
function components(name: string): string[] {
  if (name.includes('\0')) fail('INVALID_ARGUMENT', `archive entry "${name}" contains a NUL byte`);
  const out: string[] = [];
  for (const c of name.split('/')) {
    if (c === '' || c === '.') continue;
    if (c === '..') {
      if (out.length === 0) fail('INVALID_ARGUMENT', `archive entry "${name}" climbs above the destination; refusing the copy`);
      out.pop();
    } else out.push(c);
  }
  return out;
}

/** The parent dir of an entry, created as needed, never through a symlink. */
async function parentOf(dest: string, parts: string[], name: string): Promise<string> {
  let dir = dest;
  for (const c of parts) {
    dir = dir === '/' ? `/${c}` : `${dir}/${c}`;
    const st = await lstat(dir).catch(() => undefined);
    if (!st) await mkdir(dir, { mode: 0o755 });
    else if (st.isSymbolicLink()) fail('INVALID_ARGUMENT', `archive entry "${name}" goes through the symlink "${c}"; refusing the copy`);
    else if (!st.isDirectory()) fail('INVALID_ARGUMENT', `archive entry "${name}" has the non-directory "${c}" in its path`);
  }
  return dir;
}

/**
 * Refuse a put whose destination, resolved inside the container (symlinks and ".."
 * followed by the kernel), is on a read-only mount: the rootfs of a --read-only
 * container (remounted read-only in setup) or a read-only volume or bind. The kernel
 * answers from the mounts really in the view, so a path that only looks like it is in
 * a writable volume cannot pass. dockerd refuses these with 400 and the same words.
 */
async function checkWritable(real: string, job: HelperJob): Promise<void> {
  try {
    await access(real, constants.W_OK);
    return;
  } catch (err) {
    // Anything but a read-only file system is for the extraction itself to report.
    if ((err as NodeJS.ErrnoException).code !== 'EROFS') return;
  }
  const mount = (job.binds ?? [])
    .filter((b) => real === clean(b.destination) || real.startsWith(clean(b.destination) + '/'))
    .sort((a, b) => b.destination.length - a.destination.length)[0];
  const why = mount?.readonly ? 'mounted volume is marked read-only' : 'container rootfs is marked read-only';
  fail('INVALID_ARGUMENT', `cannot copy into ${job.path} (${real} in the container): ${why}; copy into a writable volume or bind mount instead`);
}

/** After the chroot: the container's own passwd and group files name the owner. */
async function containerUser(spec: string): Promise<{ uid: number; gid: number }> {
  const read = async (f: string) => {
    const st = await lstat(f).catch(() => undefined);
    // A symlinked or special /etc/passwd is not read (nothing outside regular files).
    if (!st?.isFile()) return undefined;
    const fh = await open(f, constants.O_RDONLY | constants.O_NOFOLLOW);
    try { return (await fh.readFile()).toString('utf8'); } finally { await fh.close(); }
  };
  const [p, g] = [await read('/etc/passwd'), await read('/etc/group')];
  try {
    return resolveUserFrom({ passwd: p === undefined ? undefined : parsePasswd(p), group: g === undefined ? undefined : parseGroup(g) }, spec.trim());
  } catch (err) {
    return fail('INVALID_ARGUMENT', `copyUIDGID: ${err instanceof Error ? err.message : String(err)}`);
  }
}

async function put(job: HelperJob): Promise<void> {
  const dest = clean(job.path ?? '/');
  const dst = await stat(dest).catch(() => fail('NOT_FOUND', `Could not find the file ${job.path} in container`));
  if (!dst.isDirectory()) fail('INVALID_ARGUMENT', `extraction point is not a directory: ${job.path}`);
  const destReal = await realpath(dest);
  await checkWritable(destReal, job);
  const owner = job.copyUIDGID && job.user ? await containerUser(job.user) : undefined;
  const extract = tar.extract();
  process.stdin.pipe(extract);
  process.stdin.on('error', (e) => extract.destroy(e));
  const dirTimes: Array<[string, Date]> = [];
  for await (const e of extract) {
    const h = e.header;
    const parts = components(h.name);
    if (parts.length === 0) { e.resume(); continue; }
    const parent = await parentOf(destReal, parts.slice(0, -1), h.name);
    const path = `${parent === '/' ? '' : parent}/${parts.at(-1)}`;
    const existing = await lstat(path).catch(() => undefined);
    const isDir = h.type === 'directory';
    if (existing && job.noOverwriteDirNonDir) {
      if (existing.isDirectory() && !isDir) fail('INVALID_ARGUMENT', `cannot overwrite directory "${path}" with non-directory "${h.name}"`);
      if (!existing.isDirectory() && isDir) fail('INVALID_ARGUMENT', `cannot overwrite non-directory "${path}" with directory "${h.name}"`);
    }
    if (existing && !(existing.isDirectory() && isDir)) await rm(path, { recursive: true, force: true });
    switch (h.type) {
      case 'file':
      case 'contiguous-file': {
        const fh = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
        try {
          for await (const chunk of e) await fh.write(chunk as Buffer);
        } finally {
          await fh.close();
        }
        break;
      }
      case 'directory':
        if (!existing?.isDirectory()) await mkdir(path, { mode: 0o700 });
        break;
      case 'symlink':
        await symlink(h.linkname ?? '', path);
        break;
      case 'link': {
        const target = components(h.linkname ?? '');
        const tparent = await parentOf(destReal, target.slice(0, -1), h.name);
        const t = `${tparent === '/' ? '' : tparent}/${target.at(-1) ?? ''}`;
        const tst = await lstat(t).catch(() => fail('INVALID_ARGUMENT', `archive entry "${h.name}" links to "${h.linkname}", which is not in the archive`));
        if (tst.isDirectory()) fail('INVALID_ARGUMENT', `archive entry "${h.name}" hard-links a directory`);
        await link(t, path);
        e.resume();
        continue;
      }
      case 'character-device':
      case 'block-device':
      case 'fifo':
        // The builder makes them, as docker's does; berth's docker cp keeps refusing them.
        if (!job.devices) fail('INVALID_ARGUMENT', `archive entry "${h.name}" has the unsupported type "${h.type}"`);
        // A 0/0 character device is an overlay whiteout: in the upper dir it would delete the path.
        if (h.type === 'character-device' && !h.devmajor && !h.devminor) fail('INVALID_ARGUMENT', `archive entry "${h.name}" is a 0/0 character device, which overlayfs takes for a deletion; remove it from the archive`);
        mknod(path, (h.type === 'fifo' ? S_IFIFO : h.type === 'block-device' ? S_IFBLK : S_IFCHR) | 0o600, makedev(h.devmajor ?? 0, h.devminor ?? 0));
        break;
      default:
        fail('INVALID_ARGUMENT', `archive entry "${h.name}" has the unsupported type "${h.type}"`);
    }
    e.resume();
    await lchown(path, owner?.uid ?? h.uid ?? 0, owner?.gid ?? h.gid ?? 0);
    if (h.type !== 'symlink') await chmod(path, (h.mode ?? 0o644) & 0o7777);
    const mtime = h.mtime ?? new Date();
    if (isDir) dirTimes.push([path, mtime]);
    else await lutimes(path, mtime, mtime);
  }
  for (const [p, t] of dirTimes.reverse()) await lutimes(p, t, t).catch(() => {});
}

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2] ?? '{}') as HelperJob;
  // Touch what Node loads lazily before the chroot hides the host's files.
  void process.stdout;
  void process.stdin;
  if (job.op === 'populate') {
    // Its own view (a tmpfs holding the rootfs and the volume), not the container's.
    const r = await populateVolume({ root: job.root, mounts: job.mounts ?? [], target: job.path ?? '/', volume: job.volume ?? fail('INVALID_ARGUMENT', 'populate: no volume') });
    process.stdout.write(JSON.stringify(r) + '\n');
    return;
  }
  await setup(job);
  switch (job.op) {
    case 'stat':
      process.stdout.write(JSON.stringify(await statPath(job.path ?? '/')) + '\n');
      return;
    case 'get':
      return get(job);
    case 'put':
      return put(job);
    case 'changes':
      process.stdout.write(JSON.stringify(await listUpper()) + '\n');
      return;
    case 'layer':
      return packTree('/', '', process.stdout, { mode: 'layer', skipEmpty: job.skipEmpty });
    default:
      fail('INVALID_ARGUMENT', `copy helper: unknown job ${String(job.op)}`);
  }
}

// An operation that never settles (a stream nobody ends) must not pass for success.
process.exitCode = 3;
process.on('beforeExit', () => {
  if (process.exitCode === 3) {
    process.stderr.write(JSON.stringify({ code: 'INTERNAL', message: 'copy helper stalled before finishing its work' }) + '\n');
  }
});

main().then(
  () => { process.exitCode = 0; },
  (err: unknown) => {
    let code = err instanceof HelperError ? err.code : 'INTERNAL';
    let message = err instanceof Error ? err.message : String(err);
    const e = err as NodeJS.ErrnoException;
    if (e?.code === 'EROFS') {
      // An entry of the tar that reaches a read-only mount below a writable destination.
      code = 'INVALID_ARGUMENT';
      message = `cannot write ${e.path ?? 'a file'} in the container: it is on a read-only mount (read-only rootfs or volume); copy into a writable volume instead`;
    }
    process.stderr.write(JSON.stringify({ code, message }) + '\n');
    process.exit(1);
  },
);
