/**
 * berth events: the daemon's event stream (GET /events) printed like docker's CLI:
 * `<time> <type> <action> <id> (k=v, ...)`, or through --format; --since/--until
 * take docker's timestamps and durations; --until ends the stream.
 */
import type { Command } from 'commander';
import { type Act, type Ctx, filtersJSON, filterArg } from '../context.js';
import { parseTimestamp } from '../format/human.js';
import { formatEach } from '../format/table.js';
import { ndjsonLines } from '../ndjson.js';

interface EventsOpts { since?: string; until?: string; filter?: string[]; format?: string }

interface EventMessage {
  Type: string; Action: string; Actor: { ID: string; Attributes?: Record<string, string> }; time: number; timeNano: number;
  status?: string; id?: string; from?: string; scope?: string;
}

/**
 * What --format templates see: docker's events.Message, whose fields are Go names (Status,
 * ID, From, Type, Action, Actor, Scope, Time, TimeNano), and whose JSON (`json .`, `--format
 * json`) is the wire's, in the struct's order, empty status/id/from left out, Attributes sorted.
 */
function messageView(ev: EventMessage, exactNano?: string): Record<string, unknown> {
  const attrs = Object.fromEntries(Object.entries(ev.Actor.Attributes ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  const actor = { ID: ev.Actor.ID, Attributes: attrs };
  const wire: Record<string, unknown> = {};
  if (ev.status) wire.status = ev.status;
  if (ev.id) wire.id = ev.id;
  if (ev.from) wire.from = ev.from;
  Object.assign(wire, { Type: ev.Type, Action: ev.Action, Actor: actor, scope: ev.scope ?? 'local', time: ev.time, timeNano: ev.timeNano });
  const view: Record<string, unknown> = {
    Status: ev.status ?? '', ID: ev.id ?? '', From: ev.from ?? '', Type: ev.Type, Action: ev.Action, Actor: actor,
    Scope: ev.scope ?? 'local', Time: ev.time, TimeNano: exactNano && /^\d+$/.test(exactNano) ? exactNano : String(Math.trunc(ev.timeNano)),
  };
  Object.defineProperty(view, 'toJSON', { value: () => wire, enumerable: false });
  return view;
}

/**
 * Go's "2006-01-02T15:04:05.000000000Z07:00" in local time, from unix nanoseconds. A double
 * holds them only to ~256 ns, so the nanoseconds come from `exact` (the wire digits) when given.
 */
export function eventTime(timeNano: number, exact?: string): string {
  // The digits must be this event's own time (not something else that matched).
  if (exact && /^\d{10,}$/.test(exact) && Math.abs(Number(exact) - timeNano) < 1024) {
    const n = BigInt(exact);
    return eventTimeParts(Number(n / 1_000_000n), String(n % 1_000_000_000n).padStart(9, '0'));
  }
  return eventTimeParts(Math.floor(timeNano / 1e6), String(Math.round(timeNano % 1e9)).padStart(9, '0'));
}

function eventTimeParts(ms: number, ns: string): string {
  const d = new Date(ms);
  const off = -d.getTimezoneOffset();
  const local = new Date(ms + off * 60_000);
  const base = local.toISOString().slice(0, 19);
  const tz = off === 0 ? 'Z' : `${off > 0 ? '+' : '-'}${String(Math.floor(Math.abs(off) / 60)).padStart(2, '0')}:${String(Math.abs(off) % 60).padStart(2, '0')}`;
  return `${base}.${ns}${tz}`;
}

export function eventLine(ev: EventMessage, exactNano?: string): string {
  const attrs = Object.entries(ev.Actor.Attributes ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => `${k}=${v}`);
  return `${eventTime(ev.timeNano, exactNano)} ${ev.Type} ${ev.Action} ${ev.Actor.ID}${attrs.length ? ` (${attrs.join(', ')})` : ''}\n`;
}

async function events(ctx: Ctx, o: EventsOpts): Promise<void> {
  const res = await ctx.client().stream('GET', '/events', {
    query: {
      since: o.since ? parseTimestamp(o.since) : undefined,
      until: o.until ? parseTimestamp(o.until) : undefined,
      filters: filtersJSON(o.filter),
    },
  });
  for await (const line of ndjsonLines(res)) {
    const ev = JSON.parse(line) as EventMessage;
    const exact = /"timeNano":\s*(\d+)/.exec(line)?.[1];
    ctx.out.write(o.format ? formatEach(o.format, [messageView(ev, exact)], { strict: false }) : eventLine(ev, exact));
  }
}

export function registerEvents(program: Command, ctx: Ctx, act: Act): Command {
  return program.command('events').description('Get real time events from the server')
    .usage('[OPTIONS]')
    .option('-f, --filter <filter>', 'Filter output based on conditions provided', filterArg('-f, --filter'))
    .option('--format <string>', "Format output using a custom template:\n'json':             Print in JSON format\n'TEMPLATE':         Print output using the given Go template")
    .option('--since <string>', 'Show all events created since timestamp')
    .option('--until <string>', 'Stream events until this timestamp')
    .action(act(1, (o: EventsOpts) => events(ctx, o)));
}
