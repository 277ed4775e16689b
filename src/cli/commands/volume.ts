/**
 * volume create/ls/inspect/rm/prune over /volumes.
 */
import type { Command } from 'commander';
import { ApiError } from '../client.js';
import { type Act, type Ctx, collect, confirm, enc, filtersJSON, filterArg } from '../context.js';
import { CliError } from '../errors.js';
import { goTimeOf, humanSize } from '../format/human.js';
import { formatRows } from '../format/table.js';
import type { Volume } from '../wire.js';
import { inspect } from './system.js';

const VOLUME_HEADERS = { Name: 'VOLUME NAME', Driver: 'DRIVER', Scope: 'SCOPE', Mountpoint: 'MOUNTPOINT', Labels: 'LABELS', Links: 'LINKS', Size: 'SIZE', CreatedAt: 'CREATED AT' };
const VOLUME_TABLE = 'table {{.Driver}}\t{{.Name}}';

function volumeRow(v: Volume): Record<string, unknown> {
  const labels = v.Labels ?? {};
  const row: Record<string, unknown> = {
    Availability: 'N/A',
    Driver: v.Driver ?? 'local',
    Group: 'N/A',
    Labels: Object.entries(labels).map(([k, val]) => `${k}=${val}`).join(','),
    Links: v.UsageData && v.UsageData.RefCount !== undefined && v.UsageData.RefCount >= 0 ? String(v.UsageData.RefCount) : 'N/A',
    Mountpoint: v.Mountpoint ?? '',
    Name: v.Name,
    Scope: v.Scope ?? 'local',
    Size: v.UsageData && v.UsageData.Size !== undefined && v.UsageData.Size >= 0 ? humanSize(v.UsageData.Size, 4) : 'N/A',
    Status: 'N/A',
  };
  // {{.CreatedAt}} works, but docker's volume rows have no such field in {{json .}}.
  Object.defineProperty(row, 'CreatedAt', { value: v.CreatedAt ? goTimeOf(v.CreatedAt) : '', enumerable: false });
  Object.defineProperty(row, 'Label', { value: (k: string) => labels[k] ?? '', enumerable: false });
  return row;
}

function kvMap(list: string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of list) {
    const i = l.indexOf('=');
    out[i < 0 ? l : l.slice(0, i)] = i < 0 ? '' : l.slice(i + 1);
  }
  return out;
}

export function registerVolume(program: Command, ctx: Ctx, act: Act): void {
  const client = () => ctx.client();
  const vol = program.command('volume').description('Manage volumes').usage('COMMAND');

  vol.command('create').description('Create a volume').usage('[OPTIONS] [VOLUME]').argument('[name]')
    .option('-d, --driver <string>', 'Specify volume driver name', 'local')
    .option('--label <list>', 'Set metadata for a volume', collect)
    .option('-o, --opt <map>', 'Set driver specific options', collect)
    .option('--name <string>', 'Specify volume name')
    .action(act(1, async (name: string | undefined, o: { driver: string; label?: string[]; opt?: string[]; name?: string }) => {
      if (name && o.name && name !== o.name) throw new CliError(`conflicting options: cannot specify a volume-name through both --name and as a positional arg`, 1);
      const v = await client().json<Volume>('POST', '/volumes/create', {
        body: { Name: name ?? o.name ?? '', Driver: o.driver, DriverOpts: kvMap(o.opt), Labels: kvMap(o.label) },
      });
      ctx.out.write(v.Name + '\n');
    }));

  vol.command('ls').alias('list').description('List volumes').usage('[OPTIONS]')
    .option('-f, --filter <filter>', 'Provide filter values (e.g. "dangling=true")', filterArg('-f, --filter'))
    .option('--format <string>', 'Format output using a custom template')
    .option('-q, --quiet', 'Only display volume names')
    .action(act(1, async (o: { filter?: string[]; format?: string; quiet?: boolean }) => {
      const r = await client().json<{ Volumes?: Volume[] | null; Warnings?: string[] | null }>('GET', '/volumes', { query: { filters: filtersJSON(o.filter) } });
      const rows = (r.Volumes ?? []).sort((a, b) => a.Name.localeCompare(b.Name)).map(volumeRow);
      ctx.out.write(formatRows(o.quiet ? '{{.Name}}' : o.format, rows, { defaultTable: VOLUME_TABLE, headers: VOLUME_HEADERS, typeName: '*formatter.volumeContext' }));
      for (const w of r.Warnings ?? []) ctx.err.write(w + '\n');
    }));

  vol.command('inspect').description('Display detailed information on one or more volumes')
    .usage('[OPTIONS] VOLUME [VOLUME...]').argument('<volume...>')
    .option('-f, --format <string>', 'Format output using a custom template')
    .action(act(1, (names: string[], o: { format?: string }) => inspect(ctx, names, o, 'volume')));

  vol.command('rm').alias('remove').description('Remove one or more volumes')
    .usage('[OPTIONS] VOLUME [VOLUME...]').argument('<volume...>')
    .option('-f, --force', 'Force the removal of one or more volumes')
    .action(act(1, async (names: string[], o: { force?: boolean }) => {
      let failed = false;
      for (const n of names) {
        try {
          await client().json('DELETE', `/volumes/${enc(n)}`, { query: { force: o.force ? 1 : undefined } });
          ctx.out.write(n + '\n');
        } catch (e) {
          if (!(e instanceof ApiError)) throw e;
          ctx.err.write(`Error response from daemon: ${e.message}\n`);
          failed = true;
        }
      }
      if (failed) throw new CliError('', 1);
    }));

  vol.command('prune').description('Remove unused local volumes').usage('[OPTIONS]')
    .option('-a, --all', 'Remove all unused volumes, not just anonymous ones')
    .option('--filter <filter>', 'Provide filter values (e.g. "label=<label>")', filterArg('--filter'))
    .option('-f, --force', 'Do not prompt for confirmation')
    .action(act(1, async (o: { all?: boolean; filter?: string[]; force?: boolean }) => {
      if (o.all && o.filter?.some((f) => f.startsWith('all='))) throw new CliError('conflicting options: cannot specify both --all and --filter all=1', 1);
      const warning = o.all ? 'WARNING! This will remove all local volumes not used by at least one container.' : 'WARNING! This will remove anonymous local volumes not used by at least one container.';
      if (!o.force && !(await confirm(ctx, warning))) return;
      const filters = [...(o.filter ?? []), ...(o.all ? ['all=true'] : [])];
      const r = await client().json<{ VolumesDeleted?: string[] | null; SpaceReclaimed?: number }>('POST', '/volumes/prune', { query: { filters: filtersJSON(filters) } });
      const del = r.VolumesDeleted ?? [];
      if (del.length) ctx.out.write('Deleted Volumes:\n' + del.map((d) => d + '\n').join('') + '\n');
      ctx.out.write(`Total reclaimed space: ${humanSize(r.SpaceReclaimed ?? 0, 4)}\n`);
    }));
}
