/**
 * Background deletion of directories already moved aside (a removed container's dir, its
 * runtime bundle, its snapshot). The rename that moved them is what the caller waits for;
 * the walk that deletes them is Node's rimraf (a few event-loop callbacks per entry, ~2 ms
 * of berthd's thread per container) and runs here, in batches, once removals have paused
 * for IDLE_MS, and at the latest MAX_DELAY_MS after the first one waiting: not between a
 * container's exit and the answer to its `wait?condition=removed` (~2 ms apart), but
 * before a client that runs containers back to back sends its next create (containerd
 * schedules its garbage collection after a pause too). A crash meanwhile leaves `.trash-*`
 * entries that each owner sweeps at its next start-up.
 */
import { rm } from 'node:fs/promises';

const IDLE_MS = 5;
const MAX_DELAY_MS = 500;

export class TrashCollector {
  #queue: string[] = [];
  #firstAt = 0;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> = Promise.resolve();

  constructor(private readonly idleMs = IDLE_MS, private readonly maxDelayMs = MAX_DELAY_MS) {}

  /** Deletes `path` (recursively, errors ignored) soon. */
  add(path: string): void {
    const now = Date.now();
    if (this.#queue.length === 0) this.#firstAt = now;
    this.#queue.push(path);
    if (this.#timer) clearTimeout(this.#timer);
    const wait = Math.max(0, Math.min(this.idleMs, this.#firstAt + this.maxDelayMs - now));
    this.#timer = setTimeout(() => { this.#timer = undefined; void this.#flush(); }, wait);
    // Nothing here keeps a process alive: what is left is swept at the next start-up.
    this.#timer.unref();
  }

  get pending(): number {
    return this.#queue.length;
  }

  #flush(): Promise<void> {
    const batch = this.#queue.splice(0);
    this.#running = this.#running.then(async () => {
      for (const p of batch) await rm(p, { recursive: true, force: true, maxRetries: 5, retryDelay: 20 }).catch(() => {});
    });
    return this.#running;
  }

  /** Deletes everything queued now and waits for it (berthd's shutdown, tests). */
  async drain(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#flush();
  }
}

/** berthd's one collector: the container store, the runtime and the snapshotter share it. */
export const trash = new TrashCollector();
