/**
 * ps / container ls: GET /containers/json rendered with docker's container formatter
 * (columns, truncation, "Up 3 seconds"-style status from the daemon, "5 seconds ago").
 */
import type { Command } from 'commander';
import { type Act, type Ctx, filtersJSON, filterArg } from '../context.js';
import { ago, ellipsis, goTimeString, humanSize } from '../format/human.js';
import { formatRows } from '../format/table.js';
import type { ContainerSummary, PortSummary } from '../wire.js';
import { parseIntFlag } from '../flag-values.js';

export const PS_HEADERS: Record<string, string> = {
  ID: 'CONTAINER ID', Image: 'IMAGE', Command: 'COMMAND', CreatedAt: 'CREATED AT', RunningFor: 'CREATED',
  Ports: 'PORTS', State: 'STATE', Status: 'STATUS', Size: 'SIZE', Names: 'NAMES', Labels: 'LABELS',
  Label: 'LABEL', Mounts: 'MOUNTS', Networks: 'NETWORKS', LocalVolumes: 'LOCAL VOLUMES',
};

export const PS_TABLE = 'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}';

export function displayPorts(ports: PortSummary[] | undefined): string {
  const items = [...(ports ?? [])].sort((a, b) => (a.PrivatePort - b.PrivatePort) || a.Type.localeCompare(b.Type));
  return items.map((p) => {
    if (p.PublicPort === undefined || p.PublicPort === 0) return `${p.PrivatePort}/${p.Type}`;
    const ip = p.IP?.includes(':') ? `[${p.IP}]` : p.IP ?? '';
    return `${ip}:${p.PublicPort}->${p.PrivatePort}/${p.Type}`;
  }).join(', ');
}

/** One row of docker's ContainerContext, values precomputed so {{json .}} shows them. */
export function containerRow(c: ContainerSummary, trunc: boolean, now = Date.now()): Record<string, unknown> {
  const names: string[] = [];
  for (const n of c.Names ?? []) {
    // Truncated output hides legacy link names (/other/alias).
    if (!trunc) names.push(n.replace(/^\//, ''));
    else if (n.split('/').length === 2) names.push(n.split('/')[1]!);
  }
  let image = c.Image ?? '';
  if (trunc && image.startsWith('sha256:')) image = image.slice(7, 19);
  const labels = c.Labels ?? {};
  const size = c.SizeRw !== undefined || c.SizeRootFs !== undefined
    ? humanSize(c.SizeRw ?? 0) + ((c.SizeRootFs ?? 0) > 0 ? ` (virtual ${humanSize(c.SizeRootFs!)})` : '')
    : '0B';
  const row: Record<string, unknown> = {
    Command: JSON.stringify(trunc ? ellipsis(c.Command ?? '', 20) : c.Command ?? ''),
    CreatedAt: goTimeString(c.Created ?? 0),
    ID: trunc ? c.Id.slice(0, 12) : c.Id,
    Image: image,
    Labels: Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(','),
    LocalVolumes: String((c.Mounts ?? []).filter((m) => m.Name).length),
    Mounts: (c.Mounts ?? []).map((m) => (m.Name ? (trunc ? ellipsis(m.Name, 15) : m.Name) : m.Source ?? '')).join(','),
    Names: names.join(','),
    Networks: Object.keys(c.NetworkSettings?.Networks ?? {}).sort().join(','),
    // docker ≥ 28 shows the image platform from API 1.48 on; berth speaks 1.47, so null.
    Platform: null,
    Ports: displayPorts(c.Ports),
    RunningFor: ago(c.Created ?? 0, now),
    Size: size,
    State: c.State ?? '',
    Status: c.Status ?? '',
  };
  Object.defineProperty(row, 'Label', { value: (k: string) => labels[k] ?? '', enumerable: false });
  return row;
}

interface PsOpts { all?: boolean; quiet?: boolean; last?: string; latest?: boolean; size?: boolean; filter?: string[]; format?: string; trunc?: boolean }

async function ps(ctx: Ctx, o: PsOpts): Promise<void> {
  const trunc = o.trunc !== false;
  const wantSize = o.size === true || (o.format?.includes('.Size') ?? false);
  const limit = o.latest ? 1 : o.last !== undefined ? parseIntFlag(o.last, '-n, --last') : undefined;
  const list = await ctx.client().json<ContainerSummary[]>('GET', '/containers/json', {
    query: { all: o.all ? 1 : undefined, limit: limit !== undefined && limit > 0 ? limit : undefined, size: wantSize ? 1 : undefined, filters: filtersJSON(o.filter) },
  });
  const rows = list.map((c) => containerRow(c, trunc));
  let format = o.format;
  if (o.quiet) format = '{{.ID}}';
  else if ((!format || format === 'table') && o.size) format = PS_TABLE + '\t{{.Size}}';
  ctx.out.write(formatRows(format, rows, {
    defaultTable: PS_TABLE, headers: PS_HEADERS, typeName: '*formatter.ContainerContext',
    errors: { parse: 'failed to parse template: ', exec: 'failed to execute template: ' },
  }));
}

export function registerPs(cmd: Command, ctx: Ctx, act: Act): Command {
  return cmd.description('List containers').usage('[OPTIONS]')
    .option('-a, --all', 'Show all containers (default shows just running)')
    .option('-f, --filter <filter>', 'Filter output based on conditions provided', filterArg('-f, --filter'))
    .option('--format <string>', "Format output using a custom template:\n'table':            Print output in table format with column headers (default)\n'table TEMPLATE':   Print output in table format using the given Go template\n'json':             Print in JSON format\n'TEMPLATE':         Print output using the given Go template")
    .option('-n, --last <int>', 'Show n last created containers (includes all states)')
    .option('-l, --latest', 'Show the latest created container (includes all states)')
    .option('--no-trunc', "Don't truncate output")
    .option('-q, --quiet', 'Only display container IDs')
    .option('-s, --size', 'Display total file sizes')
    .action(act(1, (o: PsOpts) => ps(ctx, o)));
}
