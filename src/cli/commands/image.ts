/**
 * Image commands: images/image ls, rmi, tag, history, import, pull, rendered with docker's
 * image and history formatters.
 */
import type { Command } from 'commander';
import { createReadStream, existsSync } from 'node:fs';
import { ApiError } from '../client.js';
import { type Act, type Ctx, collect, enc, filtersJSON, filterArg } from '../context.js';
import { CliError } from '../errors.js';
import { ago, ellipsis, goTimeString, humanSize } from '../format/human.js';
import { formatRows } from '../format/table.js';
import { displayJSONStream, splitReference } from '../progress.js';
import { registerPull } from './pull.js';
import { referenceError } from './reference-check.js';
import { registerPush } from './push.js';
import type { HistoryItem, ImageSummary } from '../wire.js';

export const IMAGE_HEADERS: Record<string, string> = {
  Repository: 'REPOSITORY', Tag: 'TAG', Digest: 'DIGEST', ID: 'IMAGE ID', CreatedSince: 'CREATED', CreatedAt: 'CREATED AT',
  Size: 'SIZE', Containers: 'CONTAINERS', SharedSize: 'SHARED SIZE', UniqueSize: 'UNIQUE SIZE', VirtualSize: 'VIRTUAL SIZE',
};
export const IMAGE_TABLE = 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}';
const IMAGE_TABLE_DIGESTS = 'table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}';

export const shortImageId = (id: string) => id.replace(/^sha256:/, '').slice(0, 12);

/** One row per tag (or per digest-only repo, or one <none> row), as docker's image formatter. */
export function imageRows(images: ImageSummary[], trunc: boolean, now = Date.now()): Array<Record<string, unknown>> {
  const rows: Array<Record<string, unknown>> = [];
  for (const img of images) {
    const base = (repo: string, tag: string, digest: string) => ({
      Containers: img.Containers === undefined || img.Containers < 0 ? 'N/A' : String(img.Containers),
      CreatedAt: goTimeString(img.Created ?? 0),
      CreatedSince: ago(img.Created ?? 0, now),
      Digest: digest,
      ID: trunc ? shortImageId(img.Id) : img.Id,
      Repository: repo,
      // Shared, unique and virtual sizes use go-units' default 4 significant digits (Size has 3).
      SharedSize: img.SharedSize === undefined || img.SharedSize < 0 ? 'N/A' : humanSize(img.SharedSize, 4),
      Size: humanSize(img.Size ?? 0),
      Tag: tag,
      UniqueSize: img.SharedSize === undefined || img.SharedSize < 0 ? 'N/A' : humanSize((img.Size ?? 0) - img.SharedSize, 4),
      VirtualSize: humanSize(img.VirtualSize ?? img.Size ?? 0, 4),
    });
    const digests = new Map<string, string>();
    for (const d of img.RepoDigests ?? []) {
      const at = d.indexOf('@');
      if (at > 0 && d.slice(0, at) !== '<none>') digests.set(d.slice(0, at), d.slice(at + 1));
    }
    const tags = (img.RepoTags ?? []).filter((t) => t !== '<none>:<none>');
    const seenRepos = new Set<string>();
    for (const t of tags) {
      const { repo, tag } = splitReference(t);
      seenRepos.add(repo);
      rows.push(base(repo, tag, digests.get(repo) ?? '<none>'));
    }
    for (const [repo, digest] of digests) if (!seenRepos.has(repo)) rows.push(base(repo, '<none>', digest));
    if (!tags.length && !digests.size) rows.push(base('<none>', '<none>', '<none>'));
  }
  return rows;
}

interface ImagesOpts { all?: boolean; quiet?: boolean; digests?: boolean; filter?: string[]; format?: string; trunc?: boolean }

async function images(ctx: Ctx, ref: string | undefined, o: ImagesOpts): Promise<void> {
  const filters = [...(o.filter ?? []), ...(ref ? [`reference=${ref}`] : [])];
  const list = await ctx.client().json<ImageSummary[]>('GET', '/images/json', {
    query: { all: o.all ? 1 : undefined, filters: filtersJSON(filters), digests: o.digests ? 1 : undefined },
  });
  const rows = imageRows(list, o.trunc !== false);
  let format = o.format;
  if (o.quiet) format = '{{.ID}}';
  else if ((!format || format === 'table') && o.digests) format = IMAGE_TABLE_DIGESTS;
  ctx.out.write(formatRows(format, rows, { defaultTable: IMAGE_TABLE, headers: IMAGE_HEADERS, typeName: '*formatter.imageContext' }));
}

const HISTORY_HEADERS = { ID: 'IMAGE', CreatedSince: 'CREATED', CreatedAt: 'CREATED AT', CreatedBy: 'CREATED BY', Size: 'SIZE', Comment: 'COMMENT' };
const HISTORY_TABLE = 'table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}';

export function historyRows(items: HistoryItem[], trunc: boolean, human: boolean, now = Date.now()): Array<Record<string, unknown>> {
  return items.map((h) => {
    const createdAt = new Date(h.Created * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const createdBy = h.CreatedBy.replace(/\t/g, ' ');
    // Keys in Go's map order (sorted): what `--format json` prints.
    return {
      Comment: h.Comment ?? '',
      CreatedAt: createdAt,
      CreatedBy: trunc ? ellipsis(createdBy, 45) : createdBy,
      CreatedSince: human ? ago(h.Created, now) : createdAt,
      ID: trunc && h.Id !== '<missing>' ? shortImageId(h.Id) : h.Id,
      Size: human ? humanSize(h.Size) : String(h.Size),
    };
  });
}

export function registerImage(parent: Command, ctx: Ctx, act: Act, inGroup: boolean): void {
  const client = () => ctx.client();
  const ls = parent.command(inGroup ? 'ls' : 'images').description('List images')
    .usage('[OPTIONS] [REPOSITORY[:TAG]]').argument('[repository]')
    .option('-a, --all', 'Show all images (default hides intermediate images)')
    .option('--digests', 'Show digests')
    .option('-f, --filter <filter>', 'Filter output based on conditions provided', filterArg('-f, --filter'))
    .option('--format <string>', "Format output using a custom template:\n'table':            Print output in table format with column headers (default)\n'table TEMPLATE':   Print output in table format using the given Go template\n'json':             Print in JSON format\n'TEMPLATE':         Print output using the given Go template")
    .option('--no-trunc', "Don't truncate output")
    .option('-q, --quiet', 'Only show image IDs')
    .action(act(1, (ref: string | undefined, o: ImagesOpts) => images(ctx, ref, o)));
  if (inGroup) ls.alias('list');

  const rm = parent.command(inGroup ? 'rm' : 'rmi').description('Remove one or more images')
    .usage('[OPTIONS] IMAGE [IMAGE...]').argument('<image...>')
    .option('-f, --force', 'Force removal of the image')
    .option('--no-prune', 'Do not delete untagged parents')
    .action(act(1, async (names: string[], o: { force?: boolean; prune?: boolean }) => {
      let failed = false;
      for (const n of names) {
        try {
          const r = await client().json<Array<{ Untagged?: string; Deleted?: string }>>('DELETE', `/images/${enc(n)}`, {
            query: { force: o.force ? 1 : undefined, noprune: o.prune === false ? 1 : undefined },
          });
          for (const d of r ?? []) ctx.out.write(d.Untagged ? `Untagged: ${d.Untagged}\n` : `Deleted: ${d.Deleted}\n`);
        } catch (e) {
          if (!(e instanceof ApiError)) throw e;
          ctx.err.write(`Error response from daemon: ${e.message}\n`);
          // docker: with --force a missing image is reported but is not a failure.
          if (!(o.force && e.status === 404)) failed = true;
        }
      }
      if (failed) throw new CliError('', 1);
    }));
  if (inGroup) rm.alias('remove').alias('rmi');

  parent.command('tag').description('Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE')
    .usage('SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]').argument('<source>').argument('<target>')
    .action(act(1, async (src: string, target: string) => {
      for (const r of [src, target]) {
        const bad = referenceError(r);
        if (bad) throw new CliError(`Error parsing reference: "${r}" is not a valid repository/tag: ${bad}`, 1);
      }
      const { repo, tag } = splitReference(target);
      await client().json('POST', `/images/${enc(src)}/tag`, { query: { repo, tag } });
    }));

  parent.command('history').description('Show the history of an image')
    .usage('[OPTIONS] IMAGE').argument('<image>')
    .option('--format <string>', 'Format output using a custom template')
    .option('-H, --human', 'Print sizes and dates in human readable format (default true)')
    .option('--no-human', 'Print sizes and dates as raw values')
    .option('--no-trunc', "Don't truncate output")
    .option('-q, --quiet', 'Only show image IDs')
    .action(act(1, async (name: string, o: { format?: string; human?: boolean; trunc?: boolean; quiet?: boolean }) => {
      const items = await client().json<HistoryItem[]>('GET', `/images/${enc(name)}/history`);
      const rows = historyRows(items, o.trunc !== false, o.human !== false);
      const format = o.quiet ? '{{.ID}}' : o.format;
      // --human=false shows the raw date under docker's "CREATED AT" heading.
      const headers = o.human !== false ? HISTORY_HEADERS : { ...HISTORY_HEADERS, CreatedSince: 'CREATED AT' };
      ctx.out.write(formatRows(format, rows, { defaultTable: HISTORY_TABLE, headers }));
    }));

  parent.command('import').description('Import the contents from a tarball to create a filesystem image')
    .usage('[OPTIONS] file|URL|- [REPOSITORY[:TAG]]').argument('<source>').argument('[reference]')
    .option('-c, --change <list>', 'Apply Dockerfile instruction to the created image', collect)
    .option('-m, --message <string>', 'Set commit message for imported image')
    .option('--platform <string>', 'Set platform if server is multi-platform capable')
    .action(act(1, async (source: string, ref: string | undefined, o: { change?: string[]; message?: string; platform?: string }) => {
      const bad = ref ? referenceError(ref) : undefined;
      if (bad) throw new CliError(bad, 1);
      const isUrl = /^https?:\/\//.test(source);
      const r = ref ? splitReference(ref) : undefined;
      if (!isUrl && source !== '-' && !existsSync(source)) throw new CliError(`open ${source}: no such file or directory`, 1);
      const body = isUrl ? undefined : source === '-' ? process.stdin : createReadStream(source);
      const res = await client().stream('POST', '/images/create', {
        query: { fromSrc: isUrl ? source : '-', repo: r?.repo, tag: r && r.display === ref ? r.tag : undefined, message: o.message, changes: o.change, platform: o.platform },
        body,
        headers: body ? { 'Content-Type': 'text/plain' } : undefined,
      });
      await displayJSONStream(res, ctx.out);
    }));

  // Registry commands live in their own files; `image pull/push` and top-level ones alike.
  registerPull(parent, ctx, act);
  registerPush(parent, ctx, act);
}
