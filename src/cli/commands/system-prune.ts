/**
 * `system prune [-a] [--volumes] [-f] [--filter k=v]`: docker 28's order and words. One
 * prompt listing what goes (and the label/until filters), then containers, networks,
 * anonymous volumes (only with --volumes), images (every unused one with -a) and build
 * cache, each section as its own prune prints it, then the total in docker's units.
 */
import type { Command } from 'commander';
import { type Act, type Ctx, ask, filterArg } from '../context.js';
import { CliError } from '../errors.js';
import { humanSize } from '../format/human.js';
import { type PruneResult, pruneBuildCache, pruneContainers, pruneImages, pruneNetworks, pruneVolumes } from './prune-runners.js';

interface Opts { all?: boolean; volumes?: boolean; force?: boolean; filter?: string[] }

/** sortorder.NaturalLess: runs of digits compare as numbers, everything else byte by byte. */
export function naturalLess(a: string, b: string): number {
  const chunks = (s: string) => s.match(/\d+|\D+/g) ?? [];
  const ca = chunks(a), cb = chunks(b);
  for (let i = 0; i < Math.min(ca.length, cb.length); i++) {
    const x = ca[i]!, y = cb[i]!;
    if (x === y) continue;
    if (/^\d/.test(x) && /^\d/.test(y)) {
      const d = Number(x) - Number(y);
      if (d !== 0) return d;
      return x.length - y.length; // "01" after "1", as sortorder does
    }
    return x < y ? -1 : 1;
  }
  return ca.length - cb.length;
}

/** The prompt of docker/cli's system prune, filters deduplicated and naturally sorted. */
export function confirmationMessage(o: Opts): string {
  const warnings = ['all stopped containers', 'all networks not used by at least one container'];
  if (o.volumes) warnings.push('all anonymous volumes not used by at least one container');
  warnings.push(o.all ? 'all images without at least one container associated to them' : 'all dangling images');
  warnings.push(o.all ? 'all build cache' : 'unused build cache');
  const shown = new Set<string>();
  for (const f of o.filter ?? []) {
    const i = f.indexOf('=');
    const key = f.slice(0, i).trim().toLowerCase();
    if (['label', 'label!', 'until'].includes(key)) shown.add(`${key}=${f.slice(i + 1)}`);
  }
  const filters = [...shown].sort(naturalLess);
  let s = 'WARNING! This will remove:\n' + warnings.map((w) => `  - ${w}\n`).join('');
  if (filters.length) s += '\n  Items to be pruned will be filtered with:\n' + filters.map((f) => `  - ${f}\n`).join('');
  return s + '\nAre you sure you want to continue?';
}

async function systemPrune(ctx: Ctx, o: Opts): Promise<void> {
  const filters = o.filter ?? [];
  // The volumes endpoint has no "until": docker refuses before asking anything.
  if (o.volumes && filters.some((f) => f.slice(0, f.indexOf('=')).trim().toLowerCase() === 'until')) {
    throw new CliError('ERROR: The "until" filter is not supported with "--volumes"', 1);
  }
  if (!o.force && !(await ask(ctx, confirmationMessage(o)))) return;
  // docker 28 passes neither -a nor all=true to the volumes prune: named volumes stay.
  const steps: Array<() => Promise<PruneResult>> = [
    () => pruneContainers(ctx, filters),
    () => pruneNetworks(ctx, filters),
    ...(o.volumes ? [() => pruneVolumes(ctx, filters)] : []),
    () => pruneImages(ctx, filters, !!o.all),
    () => pruneBuildCache(ctx, filters, { all: o.all }),
  ];
  let space = 0;
  for (const step of steps) {
    const r = await step();
    space += r.space;
    if (r.output) ctx.out.write(r.output + '\n');
  }
  ctx.out.write(`Total reclaimed space: ${humanSize(space, 4)}\n`);
}

export function registerSystemPrune(system: Command, ctx: Ctx, act: Act): void {
  system.command('prune').description('Remove unused data').usage('[OPTIONS]')
    .option('-a, --all', 'Remove all unused images not just dangling ones')
    .option('--filter <filter>', 'Provide filter values (e.g. "label=<key>=<value>")', filterArg('--filter'))
    .option('-f, --force', 'Do not prompt for confirmation')
    .option('--volumes', 'Prune anonymous volumes')
    .action(act(1, (o: Opts) => systemPrune(ctx, o)));
}
