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
export class Waiters {
  #byId = new Map<string, Set<Waiter>>();

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

  /** The container is gone: release everyone, removed waiters included. */
  removed(id: string, result: WaitResult): void {
    this.#release(id, () => true, result);
    this.#byId.delete(id);
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
