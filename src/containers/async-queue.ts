/**
 * A push-to-pull bridge: producers push items, one consumer iterates. Ending the
 * queue lets the consumer drain what is buffered and then finish.
 */
export class AsyncQueue<T> implements AsyncIterable<T> {
  #items: T[] = [];
  #waiting: ((r: IteratorResult<T>) => void) | undefined;
  #ended = false;
  #returned = false;
  /** The consumer asked for more after the end and was told done: it has finished. */
  #finished = false;
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
      this.#finished = true;
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

  /**
   * Not when the queue has merely ended with nothing buffered: the consumer may still be
   * working on the last item it took (a hijacked attach holds its first output until the
   * response head went out alone), and a flush that counted that as done let `wait`
   * answer before the container's last output reached the client.
   */
  #isIdle(): boolean {
    return this.#returned || this.#finished || (this.#items.length === 0 && this.#waiting !== undefined);
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
          this.#finished = true;
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
