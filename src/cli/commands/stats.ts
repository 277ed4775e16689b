/**
 * berth stats: docker's live table of CPU %, memory, network and block I/O and pids,
 * redrawn each second from streamed samples; --no-stream prints one table.
 */
import type { Command } from 'commander';
import type { LiteResponse as IncomingMessage } from '../http-lite.js';
import { type Act, type Ctx, enc } from '../context.js';
import { formatRows } from '../format/table.js';
import { CliError } from '../errors.js';
import type { ContainerSummary } from '../wire.js';
import { statsRow, type StatsSample } from './stats-calc.js';
import { ndjson } from '../ndjson.js';

export const STATS_TABLE = 'table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}';
const HEADERS: Record<string, string> = {
  ID: 'CONTAINER ID', Container: 'CONTAINER', Name: 'NAME', CPUPerc: 'CPU %', MemUsage: 'MEM USAGE / LIMIT',
  MemPerc: 'MEM %', NetIO: 'NET I/O', BlockIO: 'BLOCK I/O', PIDs: 'PIDS',
};

interface StatsOpts { all?: boolean; stream?: boolean; format?: string; trunc?: boolean }

async function readAll(res: IncomingMessage): Promise<string> {
  let s = '';
  for await (const c of res) s += c.toString();
  return s;
}

/** Follow one container's stream, keeping its latest sample. */
function follow(ctx: Ctx, ref: string, latest: Map<string, StatsSample>, signal: AbortSignal): void {
  void (async () => {
    try {
      const res = await ctx.client().stream('GET', `/containers/${enc(ref)}/stats`, { query: { stream: 1 }, signal });
      for await (const sample of ndjson<StatsSample>(res)) latest.set(ref, sample);
    } catch { /* the container went away: its row goes too */ }
    latest.delete(ref);
  })();
}

async function stats(ctx: Ctx, names: string[], o: StatsOpts): Promise<void> {
  const noTrunc = o.trunc === false;
  const listed = async () => (await ctx.client().json<ContainerSummary[]>('GET', '/containers/json', { query: { all: o.all ? 1 : undefined } })).map((c) => c.Id);
  const render = (rows: Array<[string, StatsSample]>) => formatRows(o.format, rows.map(([ref, s]) => statsRow(ref, s, noTrunc)), { defaultTable: STATS_TABLE, headers: HEADERS });

  if (o.stream === false) {
    const refs = names.length ? names : await listed();
    const errors: string[] = [];
    const rows = await Promise.all(refs.map(async (ref) => {
      try {
        const res = await ctx.client().stream('GET', `/containers/${enc(ref)}/stats`, { query: { stream: 0 } });
        return [ref, JSON.parse(await readAll(res)) as StatsSample] as [string, StatsSample];
      } catch (e) {
        errors.push((e as Error).message);
        return undefined;
      }
    }));
    const ok = rows.filter((r): r is [string, StatsSample] => !!r);
    if (errors.length && names.length) throw new CliError(`Error response from daemon: ${errors[0]}`, 1);
    ctx.out.write(ok.length || !o.format?.startsWith('{{') ? render(ok) : '');
    return;
  }

  const ac = new AbortController();
  const latest = new Map<string, StatsSample>();
  const followed = new Set<string>();
  const stop = () => { ac.abort(); process.exit(0); };
  process.once('SIGINT', stop);
  for (;;) {
    const refs = names.length ? names : await listed().catch(() => [...followed]);
    for (const r of refs) if (!followed.has(r)) { followed.add(r); follow(ctx, r, latest, ac.signal); }
    await new Promise((r) => setTimeout(r, 1000));
    if (names.length && latest.size === 0 && [...followed].length) {
      // Every named container is gone or unknown.
      const probe = await ctx.client().call('GET', `/containers/${enc(names[0]!)}/json`).catch(() => undefined);
      if (probe && probe.statusCode === 404) throw new CliError(`Error response from daemon: No such container: ${names[0]}`, 1);
    }
    const rows = refs.filter((r) => latest.has(r)).map((r) => [r, latest.get(r)!] as [string, StatsSample]);
    // docker redraws in place: clear the screen and go home before each table.
    ctx.out.write('\x1b[2J\x1b[H' + render(rows));
  }
}

export function registerStats(program: Command, ctx: Ctx, act: Act): Command {
  return program.command('stats').description('Display a live stream of container(s) resource usage statistics')
    .usage('[OPTIONS] [CONTAINER...]')
    .argument('[container...]')
    .option('-a, --all', 'Show all containers (default shows just running)')
    .option('--format <string>', "Format output using a custom template:\n'table':            Print output in table format with column headers (default)\n'table TEMPLATE':   Print output in table format using the given Go template\n'json':             Print in JSON format\n'TEMPLATE':         Print output using the given Go template")
    .option('--no-stream', 'Disable streaming stats and only pull the first result')
    .option('--no-trunc', 'Do not truncate output')
    .action(act(1, (names: string[], o: StatsOpts) => stats(ctx, names, o)));
}
