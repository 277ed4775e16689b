/**
 * GET /events: replay the journal from `since`, then follow the bus until `until`
 * or the client leaves. Headers go out at once (clients time out otherwise).
 */
import type { EngineEvent } from '../../events/types.js';
import { eventNanos } from '../../events/index.js';
import type { Ctx, Router } from '../router.js';
import { startStream } from '../http-util.js';
import { checkFilterKeys, qFilters, qTime } from '../query.js';

const KEYS = ['container', 'daemon', 'event', 'image', 'label', 'network', 'node', 'plugin', 'scope', 'type', 'volume', 'config', 'secret', 'service'];

function withLatest(ref: string): string[] {
  return ref.includes(':') || ref.includes('@') ? [ref] : [ref, `${ref}:latest`];
}

/** Each filter key is an OR of its values; keys are ANDed (docker's semantics). */
export function eventMatcher(filters: Record<string, string[]>): (ev: EngineEvent) => boolean {
  const has = (k: string) => (filters[k]?.length ?? 0) > 0;
  return (ev) => {
    const attrs = ev.Actor.Attributes;
    if (has('type') && !filters.type!.includes(ev.Type)) return false;
    if (has('event') && !filters.event!.some((a) => ev.Action === a || ev.Action.startsWith(`${a}:`))) return false;
    if (has('scope') && !filters.scope!.includes(ev.scope)) return false;
    if (has('container')) {
      if (ev.Type !== 'container') return false;
      if (!filters.container!.some((c) => ev.Actor.ID.startsWith(c) || attrs.name === c)) return false;
    }
    if (has('image')) {
      const imgs = filters.image!.flatMap(withLatest);
      const subject = ev.Type === 'image' ? [ev.Actor.ID, attrs.name ?? ''] : [attrs.image ?? ''];
      if (!subject.some((s) => s !== '' && (imgs.includes(s) || imgs.some((i) => s.startsWith(i) && i.startsWith('sha256:'))))) return false;
    }
    for (const [key, type] of [['volume', 'volume'], ['network', 'network'], ['plugin', 'plugin'], ['daemon', 'daemon']] as const) {
      if (has(key) && !(ev.Type === type && filters[key]!.some((x) => ev.Actor.ID === x || attrs.name === x))) return false;
    }
    if (has('label')) {
      const ok = filters.label!.every((l) => {
        const eq = l.indexOf('=');
        return eq < 0 ? l in attrs : attrs[l.slice(0, eq)] === l.slice(eq + 1);
      });
      if (!ok) return false;
    }
    return true;
  };
}

async function events(ctx: Ctx): Promise<void> {
  const { res, query, deps } = ctx;
  const filters = qFilters(query);
  checkFilterKeys(filters, KEYS);
  const since = qTime(query, 'since');
  const until = qTime(query, 'until');
  const matches = eventMatcher(filters);

  startStream(res, 200, 'application/json');
  let ended = false;
  let timer: NodeJS.Timeout | undefined;
  const pending: EngineEvent[] = [];
  let replaying = true;
  const finish = () => {
    if (ended) return;
    ended = true;
    unsubscribe();
    if (timer) clearTimeout(timer);
    if (!res.writableEnded) res.end();
  };
  const deliver = (ev: EngineEvent) => {
    if (ended) return;
    if (until !== undefined && eventNanos(ev) > until) return finish();
    if (matches(ev)) res.write(JSON.stringify(ev) + '\n');
  };
  // Subscribe before replaying so nothing published in between is lost.
  const unsubscribe = deps.events.subscribe((ev) => (replaying ? pending.push(ev) : deliver(ev)));
  res.on('close', finish);

  const replayed = new Set<EngineEvent>();
  // dockerd replays from the journal when either bound is set (until alone: all up to it).
  if (since !== undefined || until !== undefined) {
    for (const ev of deps.events.replay(since ?? 0n, until)) {
      replayed.add(ev);
      deliver(ev);
    }
  }
  replaying = false;
  for (const ev of pending) if (!replayed.has(ev)) deliver(ev);
  pending.length = 0;

  if (until !== undefined) {
    const leftMs = Number(until / 1_000_000n) - Date.now();
    if (leftMs < 0) finish();
    else timer = setTimeout(finish, leftMs + 1);
  }
}

export function registerEvents(r: Router): void {
  r.add('GET', '/events', events);
}
