/** `image prune [-a] [-f] [--filter k=v]`: dangling (or all unused) images, docker's output. */
import type { Command } from 'commander';
import { type Act, type Ctx, confirm, filtersJSON, filterArg } from '../context.js';
import { humanSize } from '../format/human.js';

export function registerImagePrune(group: Command, ctx: Ctx, act: Act): void {
  group.command('prune').description('Remove unused images').usage('[OPTIONS]')
    .option('-a, --all', 'Remove all unused images, not just dangling ones')
    .option('-f, --force', 'Do not prompt for confirmation')
    .option('--filter <filter>', 'Provide filter values (e.g. "until=<timestamp>")', filterArg('--filter'))
    .action(act(1, async (o: { all?: boolean; force?: boolean; filter?: string[] }) => {
      const warning = o.all
        ? 'WARNING! This will remove all images without at least one container associated to them.'
        : 'WARNING! This will remove all dangling images.';
      if (!o.force && !(await confirm(ctx, warning))) return;
      const filters = [...(o.filter ?? []), ...(o.all ? ['dangling=false'] : [])];
      const r = await ctx.client().json<{ ImagesDeleted?: Array<{ Untagged?: string; Deleted?: string }> | null; SpaceReclaimed?: number }>('POST', '/images/prune', { query: { filters: filtersJSON(filters) } });
      const del = r.ImagesDeleted ?? [];
      if (del.length) {
        ctx.out.write('Deleted Images:\n' + del.map((d) => (d.Untagged ? `untagged: ${d.Untagged}\n` : `deleted: ${d.Deleted}\n`)).join('') + '\n');
      }
      ctx.out.write(`Total reclaimed space: ${humanSize(r.SpaceReclaimed ?? 0, 4)}\n`);
    }));
}
