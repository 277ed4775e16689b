/**
 * Watches conmon's exit dir. conmon writes <exitDir>/<id> by atomic rename when a
 * container ends, so the file's appearance is the exit event; because the file
 * stays, waiters registered later (even by a new berthd) find it with a stat.
 * A slow re-check covers lost inotify events and monitors that died silently.
 */
import { watch, type FSWatcher } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';

const RECHECK_MS = 1000;

export class ExitWatcher {
  #watcher: FSWatcher | undefined;
  #waiters = new Map<string, Set<() => void>>();
  #timer: NodeJS.Timeout | undefined;

  /**
   * @param exitDir conmon's --exit-dir
   * @param orphaned asked on each re-check for ids still waited for: true when no
   *   exit file can come any more (the monitor is gone), so the waiter is released.
   */
  constructor(readonly exitDir: string, private readonly orphaned: (id: string) => Promise<boolean>) {
    this.#watcher = watch(exitDir, (_event, name) => {
      if (name) this.#fire(name.toString());
    });
    this.#watcher.on('error', () => { /* the re-check still runs */ });
    this.#watcher.unref();
  }

  #fire(id: string): void {
    const set = this.#waiters.get(id);
    if (!set) return;
    this.#waiters.delete(id);
    for (const w of set) w();
    if (this.#waiters.size === 0 && this.#timer) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }

  async #hasFile(id: string): Promise<boolean> {
    try {
      await stat(join(this.exitDir, id));
      return true;
    } catch {
      return false;
    }
  }

  /** Resolves once <exitDir>/<id> exists (or the monitor is known dead). */
  async wait(id: string): Promise<void> {
    const p = new Promise<void>((resolve) => {
      let set = this.#waiters.get(id);
      if (!set) this.#waiters.set(id, (set = new Set()));
      set.add(resolve);
    });
    // Registered first, checked second: an exit between the two is not lost.
    if (await this.#hasFile(id)) this.#fire(id);
    this.#timer ??= setInterval(() => void this.#recheck(), RECHECK_MS);
    return p;
  }

  async #recheck(): Promise<void> {
    for (const id of [...this.#waiters.keys()]) {
      if (await this.#hasFile(id)) this.#fire(id);
      else if (await this.orphaned(id).catch(() => false)) this.#fire(id);
    }
  }

  close(): void {
    this.#watcher?.close();
    this.#watcher = undefined;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
