/** `system df [-v] [--format]`: docker's disk usage summary and verbose tables, from GET /system/df. */
import type { Command } from 'commander';
import type { Act, Ctx } from '../context.js';
import { ago, humanSize } from '../format/human.js';
import { formatRows } from '../format/table.js';
import { tabwrite } from '../format/tabwriter.js';
import type { ContainerSummary, ImageSummary, Volume } from '../wire.js';
import { IMAGE_HEADERS, imageRows } from './image.js';

interface DfResponse {
  LayersSize?: number;
  Images?: ImageSummary[] | null;
  Containers?: Array<ContainerSummary & { SizeRw?: number }> | null;
  Volumes?: Array<Volume & { UsageData?: { Size: number; RefCount: number } }> | null;
  BuildCache?: unknown[] | null;
}

const withPercent = (reclaimable: number, total: number) => (total > 0 ? `${humanSize(reclaimable, 4)} (${Math.floor((reclaimable * 100) / total)}%)` : humanSize(reclaimable, 4));
const isActive = (state: string | undefined) => state === 'running' || state === 'paused' || state === 'restarting';

/** The four summary rows, computed as docker's formatter does. */
export function dfSummary(r: DfResponse): Array<Record<string, string | number | boolean>> {
  const images = r.Images ?? [];
  const containers = r.Containers ?? [];
  const volumes = r.Volumes ?? [];
  const layers = r.LayersSize ?? 0;
  const usedByContainers = images.filter((i) => (i.Containers ?? 0) > 0).reduce((s, i) => s + ((i.Size ?? 0) - Math.max(0, i.SharedSize ?? 0)), 0);
  const cSize = containers.reduce((s, c) => s + (c.SizeRw ?? 0), 0);
  const cFree = containers.filter((c) => !isActive(c.State)).reduce((s, c) => s + (c.SizeRw ?? 0), 0);
  const vSize = volumes.reduce((s, v) => s + Math.max(0, v.UsageData?.Size ?? 0), 0);
  const vFree = volumes.filter((v) => (v.UsageData?.RefCount ?? 0) === 0).reduce((s, v) => s + Math.max(0, v.UsageData?.Size ?? 0), 0);
  // Go's map order (sorted keys) and string values: what `--format json` prints.
  const row = (Type: string, total: number, active: number, Size: string, Reclaimable: string) => ({ Active: String(active), Reclaimable, Size, TotalCount: String(total), Type });
  return [
    row('Images', images.length, images.filter((i) => (i.Containers ?? 0) > 0).length, humanSize(layers, 4), withPercent(Math.max(0, layers - usedByContainers), layers)),
    row('Containers', containers.length, containers.filter((c) => isActive(c.State)).length, humanSize(cSize, 4), withPercent(cFree, cSize)),
    row('Local Volumes', volumes.length, volumes.filter((v) => (v.UsageData?.RefCount ?? 0) > 0).length, humanSize(vSize, 4), withPercent(vFree, vSize)),
    row('Build Cache', 0, 0, '0B', '0B'),
  ];
}

const SUMMARY_TABLE = 'table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}';
const SUMMARY_HEADERS = { Type: 'TYPE', TotalCount: 'TOTAL', Active: 'ACTIVE', Size: 'SIZE', Reclaimable: 'RECLAIMABLE' };

function verbose(r: DfResponse): string {
  const now = Date.now();
  let out = 'Images space usage:\n\n';
  // One row per image, under its first tag only (docker's df, unlike `images`).
  const firstTag = (r.Images ?? []).map((i) => ({ ...i, RepoTags: i.RepoTags?.slice(0, 1) ?? [], RepoDigests: [] }));
  out += formatRows(undefined, imageRows(firstTag, true, now), {
    defaultTable: 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}\t{{.SharedSize}}\t{{.UniqueSize}}\t{{.Containers}}', headers: IMAGE_HEADERS,
  }) || 'REPOSITORY   TAG   IMAGE ID   CREATED   SIZE   SHARED SIZE   UNIQUE SIZE   CONTAINERS\n';
  out += '\nContainers space usage:\n\n';
  const crow = (c: ContainerSummary & { SizeRw?: number }) => ({
    ID: c.Id.slice(0, 12), Image: c.Image, Command: JSON.stringify(c.Command ?? ''), LocalVolumes: String((c.Mounts ?? []).filter((m) => (m as { Type?: string }).Type === 'volume').length),
    Size: humanSize(c.SizeRw ?? 0), RunningFor: ago(c.Created ?? 0, now), Status: c.Status ?? '', Names: (c.Names ?? []).map((n) => n.replace(/^\//, '')).join(','),
  });
  const cTable = 'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.LocalVolumes}}\t{{.Size}}\t{{.RunningFor}}\t{{.Status}}\t{{.Names}}';
  const cHeaders = { ID: 'CONTAINER ID', Image: 'IMAGE', Command: 'COMMAND', LocalVolumes: 'LOCAL VOLUMES', Size: 'SIZE', RunningFor: 'CREATED', Status: 'STATUS', Names: 'NAMES' };
  out += formatRows(undefined, (r.Containers ?? []).map(crow), { defaultTable: cTable, headers: cHeaders })
    || 'CONTAINER ID   IMAGE   COMMAND   LOCAL VOLUMES   SIZE   CREATED   STATUS   NAMES\n';
  out += '\nLocal Volumes space usage:\n\n';
  const vrow = (v: Volume & { UsageData?: { Size: number; RefCount: number } }) => ({ Name: v.Name, Links: String(v.UsageData?.RefCount ?? 0), Size: (v.UsageData?.Size ?? -1) < 0 ? 'N/A' : humanSize(v.UsageData!.Size, 4) });
  out += formatRows(undefined, (r.Volumes ?? []).map(vrow), { defaultTable: 'table {{.Name}}\t{{.Links}}\t{{.Size}}', headers: { Name: 'VOLUME NAME', Links: 'LINKS', Size: 'SIZE' } })
    || 'VOLUME NAME   LINKS   SIZE\n';
  out += '\nBuild cache usage: 0B\n\n' + tabwrite('CACHE ID\tCACHE TYPE\tSIZE\tCREATED\tLAST USED\tUSAGE\tSHARED\n');
  return out;
}

export function registerSystemDf(program: Command, ctx: Ctx, act: Act): void {
  const system = program.commands.find((c) => c.name() === 'system') ?? program.command('system').description('Manage berth').usage('COMMAND');
  system.command('df').description('Show berth disk usage').usage('[OPTIONS]')
    .option('--format <string>', "Format output using a custom template:\n'table':            Print output in table format with column headers (default)\n'json':             Print in JSON format\n'TEMPLATE':         Print output using the given Go template")
    .option('-v, --verbose', 'Show detailed information on space usage')
    .action(act(1, async (o: { format?: string; verbose?: boolean }) => {
      const r = await ctx.client().json<DfResponse>('GET', '/system/df');
      if (o.verbose && !o.format) {
        ctx.out.write(verbose(r));
        return;
      }
      ctx.out.write(formatRows(o.format, dfSummary(r), { defaultTable: SUMMARY_TABLE, headers: SUMMARY_HEADERS }));
    }));
}
