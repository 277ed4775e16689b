/**
 * berth build: docker's classic `docker build`. The context directory goes to berthd as
 * a tar, filtered by its .dockerignore here as docker's CLI does (the Dockerfile and
 * .dockerignore always go: the daemon reads them, then drops them when ignored); the
 * daemon's JSON stream is printed as docker prints it.
 */
import { createReadStream } from 'node:fs';
import { lstat, readdir, readFile, readlink, writeFile } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import tar from 'tar-stream';
import dockerignore from '@balena/dockerignore';
import type { Act, Ctx } from '../context.js';
import { collect } from '../context.js';
import { CliError } from '../errors.js';
import { writeTarEntry } from '../../common/tar-entry.js';
import { displayJSONStream } from '../progress.js';

// CommonJS module whose types declare a default export.
const ignore = ((dockerignore as unknown as { default?: unknown }).default ?? dockerignore) as unknown as typeof dockerignore.default;

interface BuildFlags {
  tag?: string[];
  file?: string;
  buildArg?: string[];
  label?: string[];
  target?: string;
  cache?: boolean;
  quiet?: boolean;
  pull?: boolean;
  rm?: boolean;
  forceRm?: boolean;
  network?: string;
  addHost?: string[];
  shmSize?: string;
  platform?: string;
  iidfile?: string;
}

export function registerBuild(parent: Command, ctx: Ctx, act: Act): void {
  parent.command('build').description('Build an image from a Dockerfile')
    .usage('[OPTIONS] PATH | -').argument('<path>')
    .option('-t, --tag <name>', 'Name and optionally a tag in the "name:tag" format', collect)
    .option('-f, --file <string>', "Name of the Dockerfile (Default is 'PATH/Dockerfile')")
    .option('--build-arg <list>', 'Set build-time variables', collect)
    .option('--label <list>', 'Set metadata for an image', collect)
    .option('--target <string>', 'Set the target build stage to build.')
    .option('--no-cache', 'Do not use cache when building the image')
    .option('-q, --quiet', 'Suppress the build output and print image ID on success')
    .option('--pull', 'Always attempt to pull a newer version of the image')
    .option('--rm', 'Remove intermediate containers after a successful build (default true)')
    .option('--force-rm', 'Always remove intermediate containers')
    .option('--network <string>', 'Set the networking mode for the RUN instructions during build')
    .option('--add-host <list>', 'Add a custom host-to-IP mapping (host:ip)', collect)
    .option('--shm-size <bytes>', 'Size of /dev/shm')
    .option('--platform <string>', 'Set platform if server is multi-platform capable')
    .option('--iidfile <string>', 'Write the image ID to the file')
    .action(act(1, (path: string, o: BuildFlags) => build(ctx, path, o)));
}

async function build(ctx: Ctx, path: string, o: BuildFlags): Promise<void> {
  const { body, dockerfile } = path === '-' ? await stdinContext() : await dirContext(path, o.file);
  const res = await ctx.client().stream('POST', '/build', {
    query: {
      t: o.tag ?? [],
      dockerfile,
      buildargs: JSON.stringify(buildArgs(o.buildArg ?? [])),
      labels: JSON.stringify(labels(o.label ?? [])),
      target: o.target,
      nocache: o.cache === false ? 1 : undefined,
      q: o.quiet ? 1 : undefined,
      pull: o.pull ? 1 : undefined,
      rm: 1,
      forcerm: o.forceRm ? 1 : undefined,
      networkmode: o.network,
      extrahosts: o.addHost?.join(','),
      shmsize: o.shmSize ? String(bytes(o.shmSize)) : undefined,
      platform: o.platform,
    },
    body,
    headers: { 'Content-Type': 'application/x-tar' },
  });
  const seen = await displayJSONStream(res, o.quiet ? ({ write: () => true } as unknown as NodeJS.WritableStream) : ctx.out, { exitWithErrorCode: true });
  const id = seen.map((m) => (m as { aux?: { ID?: string } }).aux?.ID).find(Boolean);
  if (!id) throw new CliError('the daemon ended the build without an image id', 1);
  if (o.quiet) ctx.out.write(id + '\n');
  if (o.iidfile) await writeFile(o.iidfile, id);
}

function buildArgs(list: string[]): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const a of list) {
    const i = a.indexOf('=');
    // docker: "--build-arg NAME" takes NAME from the environment; unset there, it is
    // sent as null (declared, no value: the ARG's default applies, no unused warning).
    if (i < 0) out[a] = process.env[a] ?? null;
    else out[a.slice(0, i)] = a.slice(i + 1);
  }
  return out;
}

function labels(list: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of list) {
    const i = l.indexOf('=');
    out[i < 0 ? l : l.slice(0, i)] = i < 0 ? '' : l.slice(i + 1);
  }
  return out;
}

function bytes(s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?$/i.exec(s.trim());
  if (!m) throw new CliError(`invalid argument "${s}" for "--shm-size" flag: invalid size: '${s}'`, 125);
  return Math.round(Number(m[1]) * 1024 ** ' kmgt'.indexOf((m[2] || ' ').toLowerCase()));
}

/** `berth build -`: a tar (maybe gzip) or a bare Dockerfile on stdin; berthd tells them apart. */
async function stdinContext(): Promise<{ body: Readable; dockerfile?: string }> {
  return { body: process.stdin };
}

async function dirContext(path: string, file: string | undefined): Promise<{ body: Readable; dockerfile: string }> {
  const root = resolve(path);
  const st = await lstat(root).catch(() => undefined);
  if (!st?.isDirectory()) throw new CliError(`unable to prepare context: path "${path}" not found`, 1);
  const dfAbs = file ? resolve(file) : join(root, 'Dockerfile');
  const dfStat = await lstat(dfAbs).catch(() => undefined);
  if (!dfStat?.isFile()) throw new CliError(`unable to prepare context: unable to evaluate symlinks in Dockerfile path: lstat ${dfAbs}: no such file or directory`, 1);
  const inside = dfAbs.startsWith(root + sep);
  // A Dockerfile outside the context travels in the tar under a name of its own, as docker's CLI does.
  const dockerfile = inside ? relative(root, dfAbs).split(sep).join('/') : `.dockerfile.${randomBytes(10).toString('hex')}`;
  const patterns = (await readFile(join(root, '.dockerignore'), 'utf8').catch(() => '')).split(/\r?\n/);
  const ig = ignore().add(patterns);
  const canPrune = !patterns.some((p) => p.trim().startsWith('!'));
  const pack = tar.pack();
  const out = new PassThrough();
  pack.on('error', () => {});
  pack.pipe(out);
  // writeTarEntry: an upload berthd cuts short (an early error answer) fails the build, not the CLI.
  const add = (header: Partial<tar.Header> & { name: string }, body?: Readable) => writeTarEntry(pack, header, body);
  const always = new Set([dockerfile, '.dockerignore']);
  const walk = async (rel: string): Promise<void> => {
    for (const name of (await readdir(join(root, rel))).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      const abs = join(root, r);
      const s = await lstat(abs);
      const ignored = !always.has(r) && ig.ignores(r);
      if (s.isDirectory()) {
        if (ignored && canPrune) continue;
        if (!ignored) await add({ name: r + '/', type: 'directory', mode: s.mode & 0o7777, mtime: s.mtime });
        await walk(r);
      } else if (ignored) {
        continue;
      } else if (s.isFile()) {
        await add({ name: r, type: 'file', size: s.size, mode: s.mode & 0o7777, mtime: s.mtime }, createReadStream(abs));
      } else if (s.isSymbolicLink()) {
        await add({ name: r, type: 'symlink', linkname: await readlink(abs), mode: 0o777, mtime: s.mtime });
      }
    }
  };
  (async () => {
    await walk('');
    if (!inside) await add({ name: dockerfile, type: 'file', size: dfStat.size, mode: 0o644, mtime: dfStat.mtime }, createReadStream(dfAbs));
    pack.finalize();
  })().catch((e) => out.destroy(e as Error));
  return { body: out, dockerfile };
}
