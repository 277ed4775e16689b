/**
 * The event journal on disk: every event appended as one JSON line, the last
 * `capacity` loaded back at start, so `docker events --since 10m` still answers after
 * a berthd restart. Cheap by design: lines are batched into one append per tick, and
 * the file is rewritten (atomically) only when it holds twice the window.
 */
import { open, readFile, type FileHandle } from 'node:fs/promises';
import { sweepAtomicTemps, writeFileAtomic } from '../common/fs.js';
import type { EventBus } from './bus.js';
import type { EngineEvent } from './types.js';

const TYPES = new Set(['container', 'image', 'volume', 'network', 'daemon', 'plugin']);

/** A line read back is trusted only if it has the shape clients expect. */
function parseLine(line: string): EngineEvent | undefined {
  try {
    const e = JSON.parse(line) as EngineEvent;
    if (!e || typeof e !== 'object' || !TYPES.has(e.Type) || typeof e.Action !== 'string') return undefined;
    if (!Number.isFinite(e.timeNano) || !e.Actor || typeof e.Actor.ID !== 'string' || typeof e.Actor.Attributes !== 'object') return undefined;
    return e;
  } catch {
    return undefined; // a torn last line after a crash
  }
}

export class EventJournal {
  readonly #path: string;
  readonly #bus: EventBus;
  #fh: FileHandle | undefined;
  #pending: string[] = [];
  #lines = 0;
  #flushing: Promise<void> | undefined;
  #unsubscribe: (() => void) | undefined;

  private constructor(path: string, bus: EventBus) {
    this.#path = path;
    this.#bus = bus;
  }

  /** Load the past window into the bus, then append every new event. */
  static async open(path: string, bus: EventBus): Promise<EventJournal> {
    const j = new EventJournal(path, bus);
    await sweepAtomicTemps(path);
    const text = await readFile(path, 'utf8').catch(() => '');
    const past: EngineEvent[] = [];
    for (const line of text.split('\n')) {
      const e = line ? parseLine(line) : undefined;
      if (e) past.push(e);
    }
    past.sort((a, b) => a.timeNano - b.timeNano);
    bus.restore(past.slice(-bus.capacity));
    // Start from a compact file: the window only, whatever the old file held.
    await j.#rewrite();
    j.#unsubscribe = bus.subscribe((ev) => j.#append(ev));
    return j;
  }

  #append(ev: EngineEvent): void {
    this.#pending.push(JSON.stringify(ev) + '\n');
    if (!this.#flushing) this.#flushing = new Promise((r) => setImmediate(r)).then(() => this.#flush());
  }

  async #flush(): Promise<void> {
    try {
      while (this.#pending.length) {
        const batch = this.#pending.join('');
        this.#lines += this.#pending.length;
        this.#pending = [];
        if (this.#lines > 2 * this.#bus.capacity) await this.#rewrite();
        else await this.#fh?.appendFile(batch);
      }
    } catch {
      // The journal is a convenience: a full disk must not break publishing.
    } finally {
      this.#flushing = undefined;
    }
  }

  /** The file becomes the bus's window (which already holds any pending events). */
  async #rewrite(): Promise<void> {
    // Taken together, synchronously: what is pending now is in the window; later events stay pending.
    const window = this.#bus.snapshot();
    this.#pending = [];
    await this.#fh?.close().catch(() => {});
    await writeFileAtomic(this.#path, window.map((e) => JSON.stringify(e) + '\n').join(''), 0o600);
    this.#fh = await open(this.#path, 'a', 0o600);
    this.#lines = window.length;
  }

  /** Write what is pending and stop (berthd shutdown). */
  async close(): Promise<void> {
    this.#unsubscribe?.();
    await this.#flushing;
    if (this.#pending.length) await this.#flush();
    await this.#fh?.close().catch(() => {});
    this.#fh = undefined;
  }
}
