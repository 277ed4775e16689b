/**
 * berth events: the daemon's event stream (GET /events) printed like docker's CLI:
 * `<time> <type> <action> <id> (k=v, ...)`, or through --format; --since/--until
 * take docker's timestamps and durations; --until ends the stream.
 */
import type { Command } from 'commander';
import { type Act, type Ctx, collect, filtersJSON } from '../context.js';
import { parseTimestamp } from '../format/human.js';
import { formatEach } from '../format/table.js';
import { ndjson } from '../ndjson.js';

interface EventsOpts { since?: string; until?: string; filter?: string[]; format?: string }

interface EventMessage {
  Type: string; Action: string; Actor: { ID: string; Attributes?: Record<string, string> }; time: number; timeNano: number;
}

/** Go's "2006-01-02T15:04:05.000000000Z07:00" in local time, from unix nanoseconds. */
export function eventTime(timeNano: number): string {
  const ms = Math.floor(timeNano / 1e6);
  const d = new Date(ms);
  const off = -d.getTimezoneOffset();
  const local = new Date(ms + off * 60_000);
  const ns = String(Math.round(timeNano % 1e9)).padStart(9, '0');
  const base = local.toISOString().slice(0, 19);
  const tz = off === 0 ? 'Z' : `${off > 0 ? '+' : '-'}${String(Math.floor(Math.abs(off) / 60)).padStart(2, '0')}:${String(Math.abs(off) % 60).padStart(2, '0')}`;
  return `${base}.${ns}${tz}`;
}

export function eventLine(ev: EventMessage): string {
  const attrs = Object.entries(ev.Actor.Attributes ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => `${k}=${v}`);
  return `${eventTime(ev.timeNano)} ${ev.Type} ${ev.Action} ${ev.Actor.ID}${attrs.length ? ` (${attrs.join(', ')})` : ''}\n`;
}

async function events(ctx: Ctx, o: EventsOpts): Promise<void> {
  const res = await ctx.client().stream('GET', '/events', {
    query: {
      since: o.since ? parseTimestamp(o.since) : undefined,
      until: o.until ? parseTimestamp(o.until) : undefined,
      filters: filtersJSON(o.filter),
    },
  });
  for await (const ev of ndjson<EventMessage>(res)) {
    ctx.out.write(o.format ? formatEach(o.format, [ev], { strict: false }) : eventLine(ev));
  }
}

export function registerEvents(program: Command, ctx: Ctx, act: Act): Command {
  return program.command('events').description('Get real time events from the server')
    .usage('[OPTIONS]')
    .option('-f, --filter <filter>', 'Filter output based on conditions provided', collect)
    .option('--format <string>', "Format output using a custom template:\n'json':             Print in JSON format\n'TEMPLATE':         Print output using the given Go template")
    .option('--since <string>', 'Show all events created since timestamp')
    .option('--until <string>', 'Stream events until this timestamp')
    .action(act(1, (o: EventsOpts) => events(ctx, o)));
}
