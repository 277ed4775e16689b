/**
 * Container lifecycle and one-shot commands: stop, kill, restart, rm, pause, unpause, wait,
 * rename, top, logs, container prune. Each is one or two API calls.
 */
import { type Command, Option } from 'commander';
import { ApiError } from '../client.js';
import { type Act, type Ctx, enc, confirm, filtersJSON, filterArg } from '../context.js';
import { CliError } from '../errors.js';
import { humanSize, parseTimestamp } from '../format/human.js';
import { tabwrite } from '../format/tabwriter.js';
import { FrameDemuxer } from '../stdio.js';
import type { ContainerInspect, WaitResponse } from '../wire.js';

/**
 * Runs `fn` on each name; daemon errors are printed as they come and make the command fail
 * at the end (exit 1), like docker's multi-container commands.
 */
async function forEach(ctx: Ctx, names: string[], fn: (n: string) => Promise<string | void>, o: { ignoreMissing?: boolean } = {}): Promise<void> {
  let failed = false;
  for (const n of names) {
    try {
      const line = await fn(n);
      if (line !== undefined) ctx.out.write(line + '\n');
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      ctx.err.write(`Error response from daemon: ${e.message}\n`);
      if (!(o.ignoreMissing && e.status === 404)) failed = true;
    }
  }
  if (failed) throw new CliError('', 1);
}

function intOpt(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  if (!/^-?\d+$/.test(v)) throw new CliError(`invalid argument "${v}" for "${flag}" flag: strconv.ParseInt: parsing "${v}": invalid syntax`, 125);
  return Number(v);
}

/** --since/--until with docker's error wording. */
function timeFlag(v: string, name: string): string {
  try { return parseTimestamp(v); } catch (e) { throw new CliError(`invalid value for "${name}": ${(e as Error).message}`, 1); }
}

async function logs(ctx: Ctx, name: string, o: { follow?: boolean; timestamps?: boolean; tail?: string; since?: string; until?: string }): Promise<void> {
  const client = ctx.client();
  // Config.Tty decides whether the body is framed.
  const c = await client.json<ContainerInspect>('GET', `/containers/${enc(name)}/json`);
  const res = await client.stream('GET', `/containers/${enc(c.Id)}/logs`, {
    query: {
      stdout: 1, stderr: 1,
      follow: o.follow ? 1 : undefined,
      timestamps: o.timestamps ? 1 : undefined,
      tail: o.tail ?? 'all',
      since: o.since ? timeFlag(o.since, 'since') : undefined,
      until: o.until ? timeFlag(o.until, 'until') : undefined,
    },
  });
  const demux = c.Config?.Tty ? null : new FrameDemuxer((s, p) => (s === 2 ? ctx.err : ctx.out).write(p));
  for await (const chunk of res) {
    if (demux) demux.push(chunk as Buffer);
    else ctx.out.write(chunk as Buffer);
  }
}

async function top(ctx: Ctx, name: string, psArgs: string[]): Promise<void> {
  const r = await ctx.client().json<{ Titles: string[]; Processes: string[][] }>('GET', `/containers/${enc(name)}/top`, {
    query: { ps_args: psArgs.length ? psArgs.join(' ') : undefined },
  });
  const lines = [r.Titles.join('\t'), ...(r.Processes ?? []).map((p) => p.join('\t'))];
  ctx.out.write(tabwrite(lines.join('\n') + '\n', { minWidth: 20, padding: 3 }));
}

export function registerContainer(parent: Command, ctx: Ctx, act: Act): void {
  const client = () => ctx.client();

  // stop and restart take the same flags and differ only in the endpoint.
  const stopLike = (verb: 'stop' | 'restart', description: string) => parent.command(verb).description(description)
    .usage('[OPTIONS] CONTAINER [CONTAINER...]').argument('<container...>')
    .option('-s, --signal <string>', 'Signal to send to the container')
    .option('-t, --timeout <int>', 'Seconds to wait before killing the container')
    .addOption(new Option('--time <int>', 'Seconds to wait before killing the container (deprecated: use --timeout)').hideHelp())
    .action(act(1, (names: string[], o: { signal?: string; time?: string; timeout?: string }) => {
      const t = o.timeout !== undefined ? intOpt(o.timeout, '-t, --timeout') : intOpt(o.time, '--time');
      return forEach(ctx, names, async (n) => { await client().json('POST', `/containers/${enc(n)}/${verb}`, { query: { t, signal: o.signal } }); return n; });
    }));

  stopLike('stop', 'Stop one or more running containers');

  parent.command('kill').description('Kill one or more running containers')
    .usage('[OPTIONS] CONTAINER [CONTAINER...]').argument('<container...>')
    .option('-s, --signal <string>', 'Signal to send to the container')
    .action(act(1, (names: string[], o: { signal?: string }) =>
      forEach(ctx, names, async (n) => { await client().json('POST', `/containers/${enc(n)}/kill`, { query: { signal: o.signal } }); return n; })));

  stopLike('restart', 'Restart one or more containers');

  const rm = parent.command('rm').description('Remove one or more containers')
    .usage('[OPTIONS] CONTAINER [CONTAINER...]').argument('<container...>')
    .option('-f, --force', 'Force the removal of a running container (uses SIGKILL)')
    .option('-v, --volumes', 'Remove anonymous volumes associated with the container')
    .option('-l, --link', 'Remove the specified link')
    .action(act(1, (names: string[], o: { force?: boolean; volumes?: boolean; link?: boolean }) =>
      forEach(ctx, names, async (n) => {
        await client().json('DELETE', `/containers/${enc(n)}`, { query: { force: o.force ? 1 : undefined, v: o.volumes ? 1 : undefined, link: o.link ? 1 : undefined } });
        return n;
      }, { ignoreMissing: o.force === true })));
  if (parent.name() === 'container') rm.alias('remove');

  parent.command('pause').description('Pause all processes within one or more containers')
    .usage('CONTAINER [CONTAINER...]').argument('<container...>')
    .action(act(1, (names: string[]) => forEach(ctx, names, async (n) => { await client().json('POST', `/containers/${enc(n)}/pause`); return n; })));

  parent.command('unpause').description('Unpause all processes within one or more containers')
    .usage('CONTAINER [CONTAINER...]').argument('<container...>')
    .action(act(1, (names: string[]) => forEach(ctx, names, async (n) => { await client().json('POST', `/containers/${enc(n)}/unpause`); return n; })));

  parent.command('wait').description('Block until one or more containers stop, then print their exit codes')
    .usage('CONTAINER [CONTAINER...]').argument('<container...>')
    .action(act(1, (names: string[]) => forEach(ctx, names, async (n) => {
      const r = await client().json<WaitResponse>('POST', `/containers/${enc(n)}/wait`);
      return String(r.StatusCode);
    })));

  parent.command('rename').description('Rename a container')
    .usage('CONTAINER NEW_NAME').argument('<container>').argument('<new_name>')
    .action(act(1, async (name: string, newName: string) => {
      if (!newName.trim()) throw new CliError('Error: Neither old nor new names may be empty', 1);
      try {
        await client().json('POST', `/containers/${enc(name)}/rename`, { query: { name: newName } });
      } catch (e) {
        if (!(e instanceof ApiError)) throw e;
        throw new CliError(`Error response from daemon: ${e.message}\nError: failed to rename container named ${name}`, 1);
      }
    }));

  parent.command('top').description('Display the running processes of a container')
    .usage('CONTAINER [ps OPTIONS]').argument('<container>').argument('[ps_args...]')
    .passThroughOptions()
    .action(act(1, (name: string, psArgs: string[]) => top(ctx, name, psArgs)));

  parent.command('logs').description('Fetch the logs of a container')
    .usage('[OPTIONS] CONTAINER').argument('<container>')
    .option('--details', 'Show extra details provided to logs')
    .option('-f, --follow', 'Follow log output')
    .option('--since <string>', 'Show logs since timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)')
    .option('-n, --tail <string>', 'Number of lines to show from the end of the logs', 'all')
    .option('-t, --timestamps', 'Show timestamps')
    .option('--until <string>', 'Show logs before a timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)')
    .action(act(1, (name: string, o: { follow?: boolean; timestamps?: boolean; tail?: string; since?: string; until?: string }) => logs(ctx, name, o)));
}

/** `container prune` (only under the container group, as in docker). */
export function registerContainerPrune(group: Command, ctx: Ctx, act: Act): void {
  group.command('prune').description('Remove all stopped containers').usage('[OPTIONS]')
    .option('-f, --force', 'Do not prompt for confirmation')
    .option('--filter <filter>', 'Provide filter values (e.g. "until=<timestamp>")', filterArg('--filter'))
    .action(act(1, async (o: { force?: boolean; filter?: string[] }) => {
      if (!o.force && !(await confirm(ctx, 'WARNING! This will remove all stopped containers.'))) return;
      const r = await ctx.client().json<{ ContainersDeleted?: string[] | null; SpaceReclaimed?: number }>('POST', '/containers/prune', { query: { filters: filtersJSON(o.filter) } });
      const del = r.ContainersDeleted ?? [];
      if (del.length) ctx.out.write('Deleted Containers:\n' + del.map((d) => d + '\n').join('') + '\n');
      ctx.out.write(`Total reclaimed space: ${humanSize(r.SpaceReclaimed ?? 0, 4)}\n`);
    }));
}
