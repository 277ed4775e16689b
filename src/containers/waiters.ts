import { BerthError } from '../common/errors.js';
import type { WaitCondition } from './types.js';

export interface WaitResult {
  StatusCode: number;
  Error: { Message: string } | null;
}

interface Waiter {
  condition: WaitCondition;
  resolve: (r: WaitResult) => void;
  reject: (e: unknown) => void;
}

/**
 * Waiters on container exits and removals. A waiter registered before start sees the
 * coming exit (next-exit); `removed` waiters are released only once the container is
 * gone, carrying the last exit code (docker run --rm takes its status from it).
 */
/** How long a removed --rm container still answers a wait by its id (see removed()). */
const GONE_GRACE_MS = 10_000;
const GONE_MAX = 1024;

export class Waiters {
  #byId = new Map<string, Set<Waiter>>();
  /** Exit results of --rm containers removed within the grace period, oldest first. */
  #gone = new Map<string, { result: WaitResult; at: number }>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  add(id: string, condition: WaitCondition, signal?: AbortSignal): Promise<WaitResult> {
    return new Promise<WaitResult>((resolve, reject) => {
      const w: Waiter = { condition, resolve, reject };
      let set = this.#byId.get(id);
      if (!set) this.#byId.set(id, (set = new Set()));
      set.add(w);
      if (signal) {
        const onAbort = () => {
          set!.delete(w);
          // A client that gave up leaves no entry behind (50 aborted waits, 0 left).
          if (set!.size === 0 && this.#byId.get(id) === set) this.#byId.delete(id);
          reject(new BerthError('CANCELED', 'wait canceled: the client went away'));
        };
        if (signal.aborted) return onAbort();
        signal.addEventListener('abort', onAbort, { once: true });
        // Released normally: the listener goes too (the signal may outlive the wait).
        w.resolve = (r) => { signal.removeEventListener('abort', onAbort); resolve(r); };
      }
    });
  }

  /** The container exited (its code recorded): release next-exit and not-running waiters. */
  exited(id: string, result: WaitResult): void {
    this.#release(id, (c) => c !== 'removed', result);
  }

  /**
   * The container is gone: release everyone, removed waiters included. autoRemoved (an
   * --rm container its own exit removed): its result stays answerable for a while.
   * dockerd takes tens of ms to remove such a container after its exit, berthd a few, so
   * a client that asks for the wait only after the start's answer (dockerode's run,
   * docker-py's run(detach=True, auto_remove=True) then wait()) would meet a 404 here
   * where dockerd still had the container.
   */
  removed(id: string, result: WaitResult, autoRemoved = false): void {
    this.#release(id, () => true, result);
    this.#byId.delete(id);
    if (!autoRemoved) return;
    this.#gone.delete(id);
    this.#gone.set(id, { result, at: this.#now() });
    if (this.#gone.size > GONE_MAX) this.#gone.delete(this.#gone.keys().next().value!);
  }

  /** The result of an --rm container removed moments ago, by its id or a unique id prefix (12+). */
  recentlyRemoved(ref: string): WaitResult | undefined {
    const now = this.#now();
    for (const [id, g] of this.#gone) {
      if (now - g.at <= GONE_GRACE_MS) break;
      this.#gone.delete(id);
    }
    if (!/^[a-f0-9]{12,64}$/.test(ref)) return undefined;
    const hits = [...this.#gone.keys()].filter((id) => id.startsWith(ref));
    return hits.length === 1 ? this.#gone.get(hits[0]!)!.result : undefined;
  }

  #release(id: string, match: (c: WaitCondition) => boolean, result: WaitResult): void {
    const set = this.#byId.get(id);
    if (!set) return;
    for (const w of [...set]) {
      if (!match(w.condition)) continue;
      set.delete(w);
      w.resolve(result);
    }
    if (set.size === 0) this.#byId.delete(id);
  }

  /** Containers with someone waiting (for leak checks). */
  get size(): number {
    return this.#byId.size;
  }
}
