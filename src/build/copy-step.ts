/**
 * COPY and ADD: sources from the context (or, with --from, from a stage or an image)
 * into the build container under the destination, as one layer.
 *
 * Destination rules are docker's: relative to WORKDIR; a directory when it ends with
 * "/", when it already is one in the image, or when several sources (or a glob) are
 * copied (then it must end with "/" or be one); a source directory's contents (not
 * the directory itself) land in it.
 */
import { lstat, rm } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import tar from 'tar-stream';
import { invalidArgument } from '../common/errors.js';
import { writeTarEntry } from '../common/tar-entry.js';
import type { Instruction } from './dockerfile-parse.js';
import { expandWord, splitWords, type Lookup } from './shell-words.js';
import { expandSources, hashItems, itemsOf, packItems, type CopyItem, type Owner } from './copy-source.js';
import { download, isRemoteUrl, parseChecksum, type Download } from './remote-source.js';
import type { WorkContainers } from './work-container.js';

export interface CopyArgs {
  sources: string[];
  dest: string;
  chown?: string;
  chmod?: number;
  from?: string;
  /** ADD --checksum of URL sources. */
  checksum?: { algo: string; hex: string };
}

/** Where ADD puts its downloads, and how it reports progress. */
export interface RemoteOptions {
  tmpRoot: string;
  signal?: AbortSignal;
  progress?: (current: number, total: number) => void;
}

const GLOB = /[*?[]/;

export function parseCopy(inst: Instruction, lookup: Lookup, escape: string, workdir: string): CopyArgs {
  const words = inst.json ? inst.json.map((w) => expandWord(w, lookup, escape)) : splitWords(inst.args, escape).map((w) => expandWord(w, lookup, escape));
  if (words.length < 2) throw invalidArgument(`${inst.cmd} requires at least two arguments, but only ${words.length} provided (line ${inst.line})`);
  for (const f of Object.keys(inst.flags)) {
    if (!['chown', 'from', 'chmod', 'checksum'].includes(f) || (inst.cmd === 'ADD' && f === 'from') || (inst.cmd === 'COPY' && f === 'checksum')) throw invalidArgument(`unknown flag: --${f} (line ${inst.line})`);
  }
  if (inst.cmd === 'COPY' && words.slice(0, -1).some(isRemoteUrl)) throw invalidArgument(`COPY: a source cannot be a URL; use ADD for downloads (line ${inst.line})`);
  const checksum = parseChecksum(inst.flags.checksum !== undefined ? expandWord(inst.flags.checksum, lookup, escape) : undefined);
  if (checksum && !words.slice(0, -1).every(isRemoteUrl)) throw invalidArgument(`ADD --checksum applies to http(s) sources only (line ${inst.line})`);
  let dest = words.at(-1)!;
  const trailing = dest.endsWith('/') || dest.endsWith('/.') || dest === '.';
  dest = posix.normalize(dest.startsWith('/') ? dest : posix.join(workdir || '/', dest));
  if (trailing && !dest.endsWith('/')) dest += '/';
  let chmod: number | undefined;
  if (inst.flags.chmod !== undefined) {
    if (!/^[0-7]{3,4}$/.test(inst.flags.chmod)) throw invalidArgument(`invalid --chmod=${inst.flags.chmod}: give an octal mode such as 0755`);
    chmod = parseInt(inst.flags.chmod, 8);
  }
  return {
    sources: words.slice(0, -1),
    dest,
    chown: inst.flags.chown !== undefined ? expandWord(inst.flags.chown, lookup, escape) : undefined,
    chmod,
    from: inst.flags.from !== undefined ? expandWord(inst.flags.from, lookup, escape) : undefined,
    checksum,
  };
}

interface Source {
  rel: string;
  isDir: boolean;
  /** An ADD download (rel is then its URL). */
  remote?: Download;
}

export interface ContextCopyPlan {
  hash: string;
  kind: string;
  place: (destIsDir: boolean) => Promise<{ root: string; items: CopyItem[] }>;
  /** Drops the downloads. */
  cleanup: () => Promise<void>;
}

/**
 * Context sources (and ADD's URLs, downloaded first: their digests are part of the
 * cache key), listed and hashed before anything is written.
 */
export async function planContextCopy(ctxDir: string, a: CopyArgs, isAdd: boolean, remote?: RemoteOptions): Promise<ContextCopyPlan> {
  const dirs: string[] = [];
  const cleanup = async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true }).catch(() => {});
  };
  try {
    const perSource: Source[] = [];
    for (const src of a.sources) {
      if (isAdd && isRemoteUrl(src)) {
        if (!remote) throw invalidArgument(`ADD ${src}: downloads are not available here`);
        const got = await download(src, remote.tmpRoot, { checksum: a.checksum, signal: remote.signal, progress: remote.progress });
        dirs.push(got.dir);
        perSource.push({ rel: src, isDir: false, remote: got.file });
        continue;
      }
      for (const p of await expandSources(ctxDir, [src])) perSource.push({ rel: p, isDir: (await lstat(join(ctxDir, p))).isDirectory() });
    }
    const many = perSource.length > 1 || a.sources.some((s) => !isRemoteUrl(s) && GLOB.test(s));
    const place = async (destIsDir: boolean) => {
      if (many && !destIsDir) throw invalidArgument(`When using ${isAdd ? 'ADD' : 'COPY'} with more than one source file, the destination must be a directory and end with a /`);
      const dir = destIsDir || perSource.every((s) => s.isDir) ? a.dest.replace(/\/+$/, '') || '/' : posix.dirname(a.dest);
      const items: CopyItem[] = [];
      for (const s of perSource) {
        if (s.remote) {
          if (destIsDir && !s.remote.fileName) throw invalidArgument(`ADD: cannot determine a file name from ${s.rel}; give a destination file name instead of a directory`);
          items.push(remoteItem(s.remote, destIsDir ? s.remote.fileName : posix.basename(a.dest)));
          continue;
        }
        const base = posix.basename(s.rel) || 'root';
        const fileName = destIsDir || s.isDir ? base : posix.basename(a.dest);
        items.push(...(await itemsOf(ctxDir, s.rel, { fileName, dirPrefix: '' }, isAdd)));
      }
      return { root: dir, items };
    };
    // The hash covers every source as if copied into a directory: names are the sources'.
    const all: CopyItem[] = [];
    for (const s of perSource) {
      if (s.remote) all.push(remoteItem(s.remote, s.remote.fileName || '__unnamed__'));
      else all.push(...(await itemsOf(ctxDir, s.rel, { fileName: posix.basename(s.rel), dirPrefix: s.isDir ? s.rel : '' }, isAdd)));
    }
    const hash = await hashItems(all, JSON.stringify({ dest: a.dest, chown: a.chown, chmod: a.chmod, add: isAdd }));
    const kind = perSource.length === 1 && !perSource[0]!.isDir ? 'file' : perSource.length === 1 ? 'dir' : 'multi';
    return { hash, kind, place, cleanup };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

/** A download as docker places it: mode 0600, never unpacked. */
function remoteItem(d: Download, name: string): CopyItem {
  return { abs: d.abs, name, type: 'file', mode: 0o600, mtime: d.mtime, size: d.size };
}

/** --chown=user[:group]: numbers as is, names from the image's /etc/passwd and /etc/group. */
export async function resolveOwner(work: WorkContainers, cid: string, chown: string | undefined): Promise<Owner | undefined> {
  if (!chown) return undefined;
  const [user, group] = chown.split(':', 2) as [string, string | undefined];
  const lookup = async (file: string, name: string, what: string): Promise<number> => {
    if (/^\d+$/.test(name)) return Number(name);
    const text = (await work.readFile(cid, file)) ?? '';
    for (const line of text.split('\n')) {
      const f = line.split(':');
      if (f[0] === name && f[2] !== undefined && /^\d+$/.test(f[2])) return Number(f[2]);
    }
    throw invalidArgument(`unable to convert ${what} "${name}" of --chown=${chown}: no such ${what} in the image's ${file}`);
  };
  const uid = await lookup('/etc/passwd', user, 'user');
  let gid: number;
  if (group !== undefined && group !== '') gid = await lookup('/etc/group', group, 'group');
  else if (/^\d+$/.test(user)) gid = uid;
  else {
    // The user's primary group from /etc/passwd.
    const text = (await work.readFile(cid, '/etc/passwd')) ?? '';
    const f = text.split('\n').map((l) => l.split(':')).find((x) => x[0] === user);
    gid = f && /^\d+$/.test(f[3] ?? '') ? Number(f[3]) : uid;
  }
  return { uid, gid };
}

/**
 * A docker-cp tar from another container (top entry named after the source) renamed
 * for the destination: a directory's contents under it, a file as `fileName`.
 */
export function retar(src: Readable, top: string, fileName: string, owner: Owner | undefined, chmod: number | undefined): Readable {
  const ex = tar.extract();
  const pack = tar.pack();
  const out = new PassThrough();
  ex.on('error', () => {});
  pack.on('error', () => {});
  pack.pipe(out);
  src.on('error', (e) => ex.destroy(e));
  src.pipe(ex);
  (async () => {
    for await (const e of ex) {
      const h = e.header;
      const name = h.name.replace(/\/+$/, '');
      let rel: string | undefined;
      if (name === top) rel = h.type === 'directory' ? undefined : fileName;
      else if (name.startsWith(top + '/')) rel = name.slice(top.length + 1);
      if (!rel) {
        e.resume();
        continue;
      }
      const header: tar.Header = { ...h, name: rel, uid: owner?.uid ?? 0, gid: owner?.gid ?? 0, ...(chmod !== undefined && h.type !== 'symlink' ? { mode: chmod } : {}) };
      if (h.type === 'link' && h.linkname) {
        const ln = h.linkname.replace(/\/+$/, '');
        header.linkname = ln === top ? fileName : ln.startsWith(top + '/') ? ln.slice(top.length + 1) : ln;
      }
      if (h.type === 'file' || h.type === 'contiguous-file') await writeTarEntry(pack, header, e);
      else {
        e.resume();
        await writeTarEntry(pack, header);
      }
    }
    pack.finalize();
  })().catch((err) => {
    pack.destroy(err as Error);
    out.destroy(err as Error);
  });
  return out;
}

export { packItems };
