/**
 * The build context: the request body (a tar, maybe gzip-compressed, or a bare
 * Dockerfile as `docker build - < Dockerfile` sends) unpacked into a private temp dir.
 *
 * The tar is hostile: names are normalised and must stay inside the context (no
 * absolute paths, no `..` out of it), nothing is written below a symlink the tar itself
 * created, and only files, directories, symlinks and hard links to files are kept.
 * Symlinks are stored as written; they are only ever resolved inside the context
 * (copy-source.ts).
 */
import { createWriteStream } from 'node:fs';
import { link, lstat, mkdir, mkdtemp, readFile, rm, symlink, utimes } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { TarTrailer } from '../common/tar-trailer.js';
import { createGunzip } from 'node:zlib';
import tar from 'tar-stream';
import dockerignore from '@balena/dockerignore';
import { BerthError, invalidArgument, isErrno, notFound } from '../common/errors.js';

export interface BuildContext {
  /** The unpacked context. */
  dir: string;
  /** The Dockerfile's text. */
  dockerfile: string;
  cleanup(): Promise<void>;
}

const DOCKERFILE_LIMIT = 4 << 20;

// The package is CommonJS (module.exports = factory) while its types declare a default export.
const ignore = ((dockerignore as unknown as { default?: unknown }).default ?? dockerignore) as unknown as typeof dockerignore.default;

/** Normalise a tar name to a relative path inside the context; throws on an escape. */
export function contextPath(name: string): string {
  if (name.includes('\0')) throw invalidArgument('the build context has an entry name with a NUL byte');
  // Absolute names are taken relative to the context, as tar does.
  const n = posix.normalize(name.replace(/^\/+/, '') || '.');
  if (n === '..' || n.startsWith('../')) {
    throw invalidArgument(`the build context has an entry "${name}" that points outside the context; rebuild the tar without it`);
  }
  return n === '.' || n === './' ? '' : n.replace(/\/+$/, '');
}

export async function receiveContext(body: Readable, tmpRoot: string, dockerfileName: string): Promise<BuildContext> {
  await mkdir(tmpRoot, { recursive: true, mode: 0o700 });
  const dir = await mkdtemp(join(tmpRoot, 'build-'));
  const cleanup = () => rm(dir, { recursive: true, force: true });
  try {
    const { kind, stream } = await sniff(body);
    let dockerfile: string;
    if (kind === 'dockerfile') {
      dockerfile = await readCapped(stream);
    } else {
      await extract(kind === 'gzip' ? stream.pipe(createGunzip()) : stream, dir);
      dockerfile = await readDockerfile(dir, dockerfileName);
      await dropIgnoredBuildFiles(dir, dockerfileName);
    }
    return { dir, dockerfile, cleanup };
  } catch (err) {
    await cleanup().catch(() => {});
    throw err;
  }
}

/** Peek at the first bytes: gzip, tar, or (neither) a bare Dockerfile. */
async function sniff(body: Readable): Promise<{ kind: 'gzip' | 'tar' | 'dockerfile'; stream: Readable }> {
  const chunks: Buffer[] = [];
  let size = 0;
  const it = body[Symbol.asyncIterator]();
  while (size < 512) {
    const r = await it.next();
    if (r.done) break;
    const b = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value as Uint8Array);
    chunks.push(b);
    size += b.length;
  }
  const head = Buffer.concat(chunks);
  const rest = Readable.from((async function* () {
    yield head;
    for (let r = await it.next(); !r.done; r = await it.next()) yield r.value as Buffer;
  })());
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return { kind: 'gzip', stream: rest };
  if (head.length >= 262 && head.subarray(257, 262).toString('latin1') === 'ustar') return { kind: 'tar', stream: rest };
  if (head.length >= 3 && (head.subarray(0, 3).toString('latin1') === 'BZh' || head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])))) {
    throw invalidArgument('the build context is bzip2 or xz compressed; send a plain or gzip-compressed tar');
  }
  return { kind: 'dockerfile', stream: rest };
}

async function readCapped(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of stream) {
    size += (c as Buffer).length;
    if (size > DOCKERFILE_LIMIT) throw invalidArgument('the Dockerfile sent as the build body is larger than 4 MiB');
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function extract(input: Readable, dir: string): Promise<void> {
  const ex = tar.extract();
  const links = new Set<string>();
  const ensureParent = async (rel: string) => {
    const parts = rel.split('/');
    for (let i = 1; i < parts.length; i++) {
      const prefix = parts.slice(0, i).join('/');
      if (links.has(prefix)) throw invalidArgument(`the build context has an entry "${rel}" below the symlink "${prefix}"; such a tar could write outside the context`);
    }
    await mkdir(join(dir, posix.dirname(rel)), { recursive: true, mode: 0o755 });
  };
  const clear = async (abs: string, keepDir: boolean) => {
    const st = await lstat(abs).catch(() => undefined);
    if (!st || (keepDir && st.isDirectory())) return;
    await rm(abs, { recursive: true, force: true });
  };
  const consume = (async () => {
    for await (const entry of ex) {
      const h = entry.header;
      const rel = contextPath(h.name);
      if (!rel) {
        entry.resume();
        continue;
      }
      const abs = join(dir, rel);
      await ensureParent(rel);
      links.delete(rel);
      const mode = (h.mode ?? 0o644) & 0o7777;
      if (h.type === 'file' || h.type === 'contiguous-file') {
        await clear(abs, false);
        await pipeline(entry, createWriteStream(abs, { mode, flags: 'wx' }));
      } else if (h.type === 'directory') {
        await clear(abs, true);
        await mkdir(abs, { recursive: true, mode: mode | 0o700 });
        entry.resume();
      } else if (h.type === 'symlink') {
        await clear(abs, false);
        await symlink(h.linkname ?? '', abs);
        links.add(rel);
        entry.resume();
      } else if (h.type === 'link') {
        const target = contextPath(h.linkname ?? '');
        const st = await lstat(join(dir, target)).catch(() => undefined);
        if (!st?.isFile() || [...links].some((l) => target === l || target.startsWith(l + '/'))) {
          throw invalidArgument(`the build context has a hard link "${rel}" to "${h.linkname}", which is not a file of the context`);
        }
        await clear(abs, false);
        await link(join(dir, target), abs);
        entry.resume();
      } else {
        // Devices, fifos and the like have no place in a build context.
        entry.resume();
        continue;
      }
      if (h.mtime && h.type !== 'symlink') await utimes(abs, h.mtime, h.mtime).catch(() => {});
    }
  })();
  try {
    // TarTrailer: the docker CLI's context for `build -f <file outside it>` ends without its
    // tar's end blocks, which dockerd (Go's archive/tar) accepts.
    await Promise.all([pipeline(input, new TarTrailer(), ex), consume]);
  } catch (err) {
    ex.destroy();
    if (err instanceof BerthError) throw err;
    throw invalidArgument(`reading the build context: ${(err as Error).message}`, err);
  }
}

async function readDockerfile(dir: string, name: string): Promise<string> {
  const rel = contextPath(name || 'Dockerfile');
  let st;
  try {
    st = await lstat(join(dir, rel));
  } catch (err) {
    if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR')) throw notFound(`Cannot locate specified Dockerfile: ${name || 'Dockerfile'}`);
    throw err;
  }
  if (!st.isFile()) throw invalidArgument(`the Dockerfile ${name} is not a regular file of the context`);
  if (st.size > DOCKERFILE_LIMIT) throw invalidArgument('the Dockerfile is larger than 4 MiB');
  return readFile(join(dir, rel), 'utf8');
}

/** docker: when .dockerignore lists the Dockerfile or itself, they leave the context once read. */
async function dropIgnoredBuildFiles(dir: string, dockerfileName: string): Promise<void> {
  const text = await readFile(join(dir, '.dockerignore'), 'utf8').catch(() => undefined);
  if (text === undefined) return;
  const ig = ignore().add(text.split(/\r?\n/));
  for (const f of [contextPath(dockerfileName || 'Dockerfile'), '.dockerignore']) {
    if (ig.ignores(f)) await rm(join(dir, f), { force: true });
  }
}
