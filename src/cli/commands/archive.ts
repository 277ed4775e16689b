/**
 * Archive commands: save, load, export, commit, diff, cp. Each is a thin client of the
 * archive endpoints; cp does docker's client-side part (stat the destination, rename
 * the top entry, pack or unpack the local side).
 */
import type { Command } from 'commander';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { lstat, mkdir, open, readdir, readlink, realpath, rm, symlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { type Act, type Ctx, collect, enc } from '../context.js';
import { CliError } from '../errors.js';
import { writeTarEntry } from '../../common/tar-entry.js';
import { ApiError } from '../client.js';

interface PathStat { name: string; size: number; mode: number; mtime: string; linkTarget: string }
const isDirMode = (m: number) => m >= 2 ** 31;

/** A tar for stdout, but stdout is a terminal: refused before any request, as docker does. */
function refuseTerminal(file: string | undefined): void {
  if (!file && (process.stdout as { isTTY?: boolean }).isTTY) {
    throw new CliError('cowardly refusing to save to a terminal. Use the -o flag or redirect', 1);
  }
}

async function toFileOrStdout(ctx: Ctx, res: Readable, file: string | undefined): Promise<void> {
  await pipeline(res, file ? createWriteStream(file) : (ctx.out as Writable), { end: !!file });
}

/** docker's "c:/path" split; a path with a slash before the colon is local. */
function splitCpArg(arg: string): { container?: string; path: string } {
  const i = arg.indexOf(':');
  if (i <= 0 || arg.slice(0, i).includes('/')) return { path: arg };
  return { container: arg.slice(0, i), path: arg.slice(i + 1) };
}

async function statRemote(ctx: Ctx, c: string, path: string): Promise<PathStat | undefined> {
  const res = await ctx.client().call('HEAD', `/containers/${enc(c)}/archive`, { query: { path } });
  res.resume();
  if (res.statusCode === 404) return undefined;
  if ((res.statusCode ?? 500) >= 400) throw new ApiError(res.statusCode ?? 500, `Could not stat ${path} in container ${c} (status ${res.statusCode})`);
  const h = res.headers['x-docker-container-path-stat'];
  return JSON.parse(Buffer.from(String(h), 'base64').toString('utf8')) as PathStat;
}

/** Pack a local path with its top entry named `top`. */
async function packLocal(src: string, top: string): Promise<Readable> {
  const pack = tar.pack();
  const walk = async (p: string, name: string): Promise<void> => {
    const st = await lstat(p);
    const base = { name, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: st.mtime };
    // writeTarEntry: an upload the daemon cuts short fails this copy, not the whole CLI.
    if (st.isDirectory()) {
      await writeTarEntry(pack, { ...base, name: name + '/', type: 'directory' });
      for (const n of (await readdir(p)).sort()) await walk(join(p, n), `${name}/${n}`);
    } else if (st.isSymbolicLink()) {
      await writeTarEntry(pack, { ...base, type: 'symlink', linkname: await readlink(p) });
    } else if (st.isFile()) {
      await writeTarEntry(pack, { ...base, type: 'file', size: st.size }, createReadStream(p));
    }
  };
  void (async () => {
    try {
      await walk(src, top);
      pack.finalize();
    } catch (e) {
      pack.destroy(e as Error);
    }
  })();
  return pack as unknown as Readable;
}

/**
 * Unpack a container's tar locally with its top entry at `root`. The top entry is the
 * path's own name ("d/…"), or "." when the path asked for a directory's contents ("/d/."):
 * then every entry is relative to root.
 */
async function unpackLocal(src: Readable, root: string, dotted: boolean): Promise<void> {
  const extract = tar.extract();
  src.pipe(extract);
  for await (const e of extract) {
    const parts = e.header.name.split('/').filter((p) => p && p !== '.');
    if (parts.includes('..') || (!dotted && parts.length === 0)) { e.resume(); continue; }
    const path = join(root, ...(dotted ? parts : parts.slice(1)));
    await mkdir(dirname(path), { recursive: true });
    const h = e.header;
    if (h.type === 'directory') await mkdir(path, { recursive: true, mode: h.mode ?? 0o755 });
    else if (h.type === 'symlink') { await rm(path, { force: true }); await symlink(h.linkname ?? '', path); }
    else if (h.type === 'file') {
      await rm(path, { force: true, recursive: true });
      const fh = await open(path, 'wx', (h.mode ?? 0o644) & 0o777);
      try { for await (const c of e) await fh.write(c as Buffer); } finally { await fh.close(); }
      continue;
    }
    e.resume();
  }
}

/** Go's os.ModeSymlink in a stat header's mode. */
const isSymlinkMode = (m: number) => Math.floor(m / 2 ** 27) % 2 === 1;

async function cp(ctx: Ctx, srcArg: string, dstArg: string, o: { followLink?: boolean } = {}): Promise<void> {
  const src = splitCpArg(srcArg);
  const dst = splitCpArg(dstArg);
  if (src.container && dst.container) throw new CliError('copying between containers is not supported', 1);
  if (!src.container && !dst.container) throw new CliError('must specify at least one container source', 1);
  if (src.container) {
    // -L: a symlink's target is copied, under the link's own name (docker's followLink).
    let path = src.path;
    let name: string | undefined;
    if (o.followLink) {
      const st = await statRemote(ctx, src.container, path);
      if (st && isSymlinkMode(st.mode) && st.linkTarget) {
        name = basename(path.replace(/\/+$/, ''));
        path = st.linkTarget;
      }
    }
    const res = await ctx.client().stream('GET', `/containers/${enc(src.container)}/archive`, { query: { path } });
    if (dst.path === '-') { await pipeline(res, ctx.out as Writable, { end: false }); return; }
    const stat = JSON.parse(Buffer.from(String(res.headers['x-docker-container-path-stat'] ?? ''), 'base64').toString('utf8') || '{}') as PathStat;
    const local = resolve(dst.path);
    const into = existsSync(local) && (await lstat(local)).isDirectory();
    const dotted = stat.name === '.';
    // Into an existing directory: under the source's name, or its contents for "dir/.".
    await unpackLocal(res, into && !dotted ? join(local, name ?? stat.name) : local, dotted);
    return;
  }
  const c = dst.container!;
  if (src.path === '-') {
    await ctx.client().json('PUT', `/containers/${enc(c)}/archive`, { query: { path: dst.path }, body: process.stdin, headers: { 'Content-Type': 'application/x-tar' } });
    return;
  }
  let local = resolve(src.path);
  if (!existsSync(local)) throw new CliError(`lstat ${local}: no such file or directory`, 1);
  const st = await statRemote(ctx, c, dst.path);
  let dir = dst.path;
  let top = basename(local);
  if (o.followLink && (await lstat(local)).isSymbolicLink()) local = await realpath(local);
  if (!st || !isDirMode(st.mode)) {
    if (dst.path.endsWith('/')) throw new CliError(`destination directory ${dst.path} does not exist in the container`, 1);
    dir = dst.path.slice(0, dst.path.lastIndexOf('/')) || '/';
    top = dst.path.slice(dst.path.lastIndexOf('/') + 1);
  }
  const body = await packLocal(local, top);
  await ctx.client().json('PUT', `/containers/${enc(c)}/archive`, { query: { path: dir, noOverwriteDirNonDir: true }, body, headers: { 'Content-Type': 'text/plain' } });
}

export function registerArchive(parent: Command, ctx: Ctx, act: Act, which: Array<'save' | 'load' | 'export' | 'commit' | 'diff' | 'cp'>): void {
  const client = () => ctx.client();
  const has = (n: (typeof which)[number]) => which.includes(n);
  if (has('save')) parent.command('save').description('Save one or more images to a tar archive (streamed to STDOUT by default)')
    .usage('[OPTIONS] IMAGE [IMAGE...]').argument('<image...>')
    .option('-o, --output <string>', 'Write to a file, instead of STDOUT')
    .action(act(1, async (names: string[], o: { output?: string }) => {
      refuseTerminal(o.output);
      const res = await client().stream('GET', '/images/get', { query: { names } });
      await toFileOrStdout(ctx, res, o.output);
    }));
  if (has('load')) parent.command('load').description('Load an image from a tar archive or STDIN')
    .usage('[OPTIONS]')
    .option('-i, --input <string>', 'Read from tar archive file, instead of STDIN')
    .option('-q, --quiet', 'Suppress the load output')
    .action(act(1, async (o: { input?: string; quiet?: boolean }) => {
      if (o.input && !existsSync(o.input)) throw new CliError(`open ${o.input}: no such file or directory`, 1);
      const body = o.input ? createReadStream(o.input) : process.stdin;
      const res = await client().stream('POST', '/images/load', { query: { quiet: true }, body, headers: { 'Content-Type': 'application/x-tar' } });
      let text = '';
      for await (const c of res) text += (c as Buffer).toString();
      for (const line of text.split('\n').filter(Boolean)) {
        const j = JSON.parse(line) as { stream?: string; error?: string };
        if (j.error) throw new CliError(j.error, 1);
        // -q drops progress only: docker still prints "Loaded image: …" (the API is asked quiet).
        if (j.stream) ctx.out.write(j.stream);
      }
    }));
  if (has('export')) parent.command('export').description("Export a container's filesystem as a tar archive")
    .usage('[OPTIONS] CONTAINER').argument('<container>')
    .option('-o, --output <string>', 'Write to a file, instead of STDOUT')
    .action(act(1, async (name: string, o: { output?: string }) => {
      refuseTerminal(o.output);
      const res = await client().stream('GET', `/containers/${enc(name)}/export`);
      await toFileOrStdout(ctx, res, o.output);
    }));
  if (has('commit')) parent.command('commit').description("Create a new image from a container's changes")
    .usage('[OPTIONS] CONTAINER [REPOSITORY[:TAG]]').argument('<container>').argument('[reference]')
    .option('-a, --author <string>', 'Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")')
    .option('-c, --change <list>', 'Apply Dockerfile instruction to the created image', collect)
    .option('-m, --message <string>', 'Commit message')
    .option('-p, --pause', 'Pause container during commit (default true)')
    .option('--no-pause', 'Do not pause the container during commit')
    .action(act(1, async (name: string, ref: string | undefined, o: { author?: string; change?: string[]; message?: string; pause?: boolean }) => {
      let repo: string | undefined;
      let tag: string | undefined;
      if (ref) {
        const at = ref.lastIndexOf(':');
        if (at > ref.lastIndexOf('/')) { repo = ref.slice(0, at); tag = ref.slice(at + 1); } else repo = ref;
      }
      const r = await client().json<{ Id: string }>('POST', '/commit', {
        query: { container: name, repo, tag, comment: o.message, author: o.author, changes: o.change, pause: o.pause !== false },
        body: {},
      });
      ctx.out.write(r.Id + '\n');
    }));
  if (has('diff')) parent.command('diff').description("Inspect changes to files or directories on a container's filesystem")
    .usage('CONTAINER').argument('<container>')
    .action(act(1, async (name: string) => {
      const changes = await client().json<Array<{ Path: string; Kind: number }> | null>('GET', `/containers/${enc(name)}/changes`);
      for (const c of changes ?? []) ctx.out.write(`${'CAD'[c.Kind] ?? '?'} ${c.Path}\n`);
    }));
  if (has('cp')) parent.command('cp').description('Copy files/folders between a container and the local filesystem')
    .usage('[OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n\tberth cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH')
    .argument('<src>').argument('<dest>')
    .option('-a, --archive', 'Archive mode (copy all uid/gid information)')
    .option('-L, --follow-link', 'Always follow symbol link in SRC_PATH')
    .option('-q, --quiet', 'Suppress progress output during copy')
    .action(act(1, (s: string, dst: string, o: { followLink?: boolean }) => cp(ctx, s, dst, o)));
}
