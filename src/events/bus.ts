import { EventEmitter } from 'node:events';
import type { EngineEvent } from './types.js';

/**
 * The typed event bus every service publishes to. It keeps a bounded in-memory
 * journal so that `GET /events?since=` can replay the recent past.
 */
export class EventBus {
  #emitter = new EventEmitter();
  #journal: EngineEvent[] = [];
  readonly #capacity: number;

  constructor(capacity = 1024) {
    this.#capacity = capacity;
    this.#emitter.setMaxListeners(0);
  }

  publish(type: EngineEvent['Type'], action: string, id: string, attributes: Record<string, string> = {}): EngineEvent {
    const nowNs = BigInt(Date.now()) * 1_000_000n + process.hrtime.bigint() % 1_000_000n;
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

  /** Events already in the journal with time >= sinceSec (unix seconds, fractional). */
  replay(sinceSec: number, untilSec = Infinity): EngineEvent[] {
    return this.#journal.filter((e) => e.timeNano / 1e9 >= sinceSec && e.timeNano / 1e9 <= untilSec);
  }

  subscribe(fn: (ev: EngineEvent) => void): () => void {
    this.#emitter.on('event', fn);
    return () => this.#emitter.off('event', fn);
  }
}
