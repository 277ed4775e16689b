/**
 * `builder build` (the same command as `build`) and `builder prune` (POST /build/prune),
 * with docker's flags, prompt and output.
 */
import type { Command } from 'commander';
import { type Act, type Ctx, ask, filterArg } from '../context.js';
import { FlagError } from '../errors.js';
import { humanSize, ramInBytes } from '../format/human.js';
import { registerBuild } from './build.js';
import { pruneBuildCache } from './prune-runners.js';

interface PruneOpts { all?: boolean; force?: boolean; filter?: string[]; keepStorage?: number }

/** --keep-storage takes docker's byte sizes ("512m", "10GB"), binary units as opts.MemBytes does. */
function keepStorage(v: string): number {
  try { return ramInBytes(v); } catch (e) { throw new FlagError(v, '--keep-storage', (e as Error).message); }
}

export function registerBuilderPrune(group: Command, ctx: Ctx, act: Act): void {
  // docker's usage line for this one is bare ("docker builder prune"); '' would mean commander's default.
  group.command('prune').description('Remove build cache').usage(' ')
    .option('-a, --all', 'Remove all unused build cache, not just dangling ones')
    .option('--filter <filter>', 'Provide filter values (e.g. "until=24h")', filterArg('--filter'))
    .option('-f, --force', 'Do not prompt for confirmation')
    .option('--keep-storage <bytes>', 'Amount of disk space to keep for cache', keepStorage)
    .action(act(1, async (o: PruneOpts) => {
      const warning = o.all
        ? 'WARNING! This will remove all build cache. Are you sure you want to continue?'
        : 'WARNING! This will remove all dangling build cache. Are you sure you want to continue?';
      if (!o.force && !(await ask(ctx, warning))) return;
      const r = await pruneBuildCache(ctx, o.filter ?? [], { all: o.all, keepStorage: o.keepStorage });
      if (r.output) ctx.out.write(r.output + '\n');
      ctx.out.write(`Total reclaimed space: ${humanSize(r.space, 4)}\n`);
    }));
}

export function registerBuilder(program: Command, ctx: Ctx, act: Act): void {
  const group = program.command('builder').description('Manage builds').usage('COMMAND');
  registerBuild(group, ctx, act);
  registerBuilderPrune(group, ctx, act);
}
