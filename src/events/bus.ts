import { EventEmitter } from 'node:events';
import type { EngineEvent } from './types.js';

/**
 * An event's time in unix nanoseconds as clients see it: timeNano is a double, and what
 * goes out on the wire is its shortest decimal form (JSON.stringify), not its exact
 * binary value. A client that copies that stamp back as `since` or `until` must select
 * this very event, so compare against the decimal form.
 */
export function eventNanos(e: EngineEvent): bigint {
  const t = Math.trunc(e.timeNano);
  // String() is plain digits below 1e21 (year 2001 + 31,000 years in nanoseconds).
  return Number.isFinite(t) && Math.abs(t) < 1e21 ? BigInt(String(t)) : 0n;
}

/**
 * The typed event bus every service publishes to. It keeps a bounded in-memory
 * journal so that `GET /events?since=` can replay the recent past (journal.ts keeps
 * the same window on disk across a berthd restart).
 */
export class EventBus {
  #emitter = new EventEmitter();
  #journal: EngineEvent[] = [];
  readonly #capacity: number;
  /** timeNano of the last event: times only grow, so replay order is time order. */
  #lastNs = 0n;

  constructor(capacity = 1024) {
    this.#capacity = capacity;
    this.#emitter.setMaxListeners(0);
  }

  get capacity(): number {
    return this.#capacity;
  }

  publish(type: EngineEvent['Type'], action: string, id: string, attributes: Record<string, string> = {}): EngineEvent {
    let nowNs = BigInt(Date.now()) * 1_000_000n + process.hrtime.bigint() % 1_000_000n;
    // The sub-millisecond part is not a clock: keep times strictly increasing, also once
    // converted to a JS number (at ~1.8e18 ns doubles are 256 ns apart).
    if (Number(nowNs) <= Number(this.#lastNs)) nowNs = this.#lastNs + 512n;
    this.#lastNs = nowNs;
    const ev: EngineEvent = {
      Type: type,
      Action: action,
      Actor: { ID: id, Attributes: attributes },
      scope: 'local',
      time: Number(nowNs / 1_000_000_000n),
      timeNano: Number(nowNs),
    };
    if (type === 'container' || type === 'image') {
      ev.status = action;
      ev.id = id;
      if (attributes.image) ev.from = attributes.image;
    }
    this.#journal.push(ev);
    if (this.#journal.length > this.#capacity) this.#journal.splice(0, this.#journal.length - this.#capacity);
    this.#emitter.emit('event', ev);
    return ev;
  }

  /** Put events of an earlier run (oldest first) before the journal, without announcing them. */
  restore(past: EngineEvent[]): void {
    const first = this.#journal[0]?.timeNano ?? Infinity;
    const older = past.filter((e) => e.timeNano < first);
    this.#journal = [...older, ...this.#journal].slice(-this.#capacity);
    const last = this.#journal.at(-1);
    if (last && BigInt(last.timeNano) > this.#lastNs) this.#lastNs = BigInt(last.timeNano);
  }

  /** Events in the journal with since <= timeNano <= until (unix nanoseconds), oldest first. */
  replay(sinceNs: bigint, untilNs?: bigint): EngineEvent[] {
    return this.#journal.filter((e) => {
      const t = eventNanos(e);
      return t >= sinceNs && (untilNs === undefined || t <= untilNs);
    });
  }

  /** The whole in-memory window, oldest first. */
  snapshot(): EngineEvent[] {
    return [...this.#journal];
  }

  subscribe(fn: (ev: EngineEvent) => void): () => void {
    this.#emitter.on('event', fn);
    return () => this.#emitter.off('event', fn);
  }
}
