/**
 * A push-to-pull bridge: producers push items, one consumer iterates. Ending the
 * queue lets the consumer drain what is buffered and then finish.
 */
export class AsyncQueue<T> implements AsyncIterable<T> {
  #items: T[] = [];
  #waiting: ((r: IteratorResult<T>) => void) | undefined;
  #ended = false;
  #returned = false;
  #idleWaiters: (() => void)[] = [];

  push(item: T): void {
    if (this.#ended) return;
    const w = this.#waiting;
    if (w) {
      this.#waiting = undefined;
      w({ value: item, done: false });
    } else {
      this.#items.push(item);
    }
  }

  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    const w = this.#waiting;
    if (w && this.#items.length === 0) {
      this.#waiting = undefined;
      w({ value: undefined, done: true });
    }
    this.#checkIdle();
  }

  get ended(): boolean {
    return this.#ended;
  }

  /**
   * Resolves once the consumer has taken every item pushed so far and asks for more
   * (or has finished): whatever it does with an item, it did before asking again.
   */
  idle(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #isIdle(): boolean {
    return this.#returned || (this.#items.length === 0 && (this.#waiting !== undefined || this.#ended));
  }

  #checkIdle(): void {
    if (!this.#idleWaiters.length || !this.#isIdle()) return;
    const ws = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const w of ws) w();
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => {
        if (this.#items.length) return Promise.resolve({ value: this.#items.shift()!, done: false });
        if (this.#ended) {
          this.#checkIdle();
          return Promise.resolve({ value: undefined, done: true });
        }
        const p = new Promise<IteratorResult<T>>((resolve) => (this.#waiting = resolve));
        this.#checkIdle();
        return p;
      },
      return: () => {
        this.#returned = true;
        this.end();
        this.#items = [];
        this.#checkIdle();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}
