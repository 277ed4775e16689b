/**
 * `COPY --from=<stage|image>`: sources read from a container of the source image (the
 * copy helper resolves them inside that image), written into the build container.
 *
 * Globs in sources match the source image's file list with Go's path.Match, as
 * docker's classic builder does (it walks the source root): `*` and `?` stop at `/`.
 * Only the directory above the first wildcard is listed (a tar of it, headers read,
 * contents skipped), not the whole image.
 */
import { posix } from 'node:path';
import tar from 'tar-stream';
import { invalidArgument, notFound } from '../common/errors.js';
import { globRegExp } from './copy-source.js';
import { retar, type CopyArgs } from './copy-step.js';
import type { Owner } from './copy-source.js';
import type { WorkContainers } from './work-container.js';

const GLOB = /[*?[]/;
/** A listing bigger than this is refused rather than held in memory. */
const MAX_LISTED = 500_000;

/** Every path of the source image a pattern matches, sorted (docker's walk order). */
export async function matchInImage(work: WorkContainers, src: string, pattern: string): Promise<string[]> {
  const parts = posix.normalize('/' + pattern).split('/').filter(Boolean);
  const first = parts.findIndex((p) => GLOB.test(p));
  const prefix = '/' + parts.slice(0, first).join('/');
  const re = globRegExp(parts.join('/'));
  const base = await work.kind(src, prefix);
  if (base?.kind !== 'dir') return [];
  const got = await work.get(src, base.path);
  const ex = tar.extract();
  got.tar.on('error', (e) => ex.destroy(e));
  got.tar.pipe(ex);
  const out: string[] = [];
  let listed = 0;
  const head = prefix === '/' ? '' : prefix.slice(1) + '/';
  for await (const e of ex) {
    e.resume();
    if (++listed > MAX_LISTED) {
      ex.destroy();
      got.tar.destroy();
      throw invalidArgument(`COPY --from: ${prefix} of the source image has more than ${MAX_LISTED} entries; name the sources more precisely`);
    }
    // Names are "<top>/<rel>": the top entry is the listed directory itself.
    const rel = e.header.name.replace(/\/+$/, '').split('/').slice(1).join('/');
    if (!rel) continue;
    const path = head + rel;
    if (path.split('/').length === parts.length && re.test(path)) out.push('/' + path);
  }
  await got.done;
  return out.sort();
}

export interface CopyFromJob {
  work: WorkContainers;
  /** The container of the source image. */
  src: string;
  /** The build container. */
  cid: string;
  args: CopyArgs;
  owner: Owner | undefined;
}

/** Copies every source (globs expanded) of a COPY --from into the build container. */
export async function copyFromImage(j: CopyFromJob): Promise<void> {
  const { work, src, cid, args: a } = j;
  const paths: string[] = [];
  for (const s of a.sources) {
    if (!GLOB.test(s)) {
      paths.push(posix.normalize('/' + s));
      continue;
    }
    const matched = await matchInImage(work, src, s);
    if (matched.length === 0) throw notFound(`COPY --from=${a.from}: no source files were specified (no match for ${s} in the source image)`);
    paths.push(...matched);
  }
  const many = paths.length > 1 || a.sources.some((s) => GLOB.test(s));
  const destKind = await work.kind(cid, a.dest);
  const destIsDir = a.dest.endsWith('/') || destKind?.kind === 'dir';
  if (many && !destIsDir) throw invalidArgument('When using COPY with more than one source file, the destination must be a directory and end with a /');
  for (const path of paths) {
    const srcKind = await work.kind(src, path);
    if (!srcKind) throw notFound(`COPY --from=${a.from}: ${path} not found in the source image`);
    // A symlink source is copied as what it points to, inside the source image.
    const real = srcKind.path;
    const top = real === '/' ? '.' : posix.basename(real);
    const root = destIsDir || srcKind.kind === 'dir' ? a.dest : posix.dirname(a.dest);
    const fileName = destIsDir ? posix.basename(path) : posix.basename(a.dest);
    // The destination exists before the source tar starts flowing: the tar is
    // streamed from a live copy helper and must be consumed as it comes.
    const { dir } = await work.ensureDir(cid, root);
    const got = await work.get(src, real);
    await work.put(cid, dir, retar(got.tar, top, fileName, j.owner, a.chmod));
    await got.done;
  }
}
