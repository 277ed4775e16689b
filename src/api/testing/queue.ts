/** A push-driven AsyncIterable for fakes: the test pushes, the api iterates. */
export class AsyncQueue<T> implements AsyncIterable<T> {
  #items: T[] = [];
  #waiters: Array<(r: IteratorResult<T>) => void> = [];
  #ended = false;
  /** Set when the consumer stopped iterating (break/return). */
  returned = false;

  push(item: T): void {
    if (this.#ended) return;
    const w = this.#waiters.shift();
    if (w) w({ value: item, done: false });
    else this.#items.push(item);
  }

  end(): void {
    this.#ended = true;
    for (const w of this.#waiters.splice(0)) w({ value: undefined as never, done: true });
  }

  get ended(): boolean {
    return this.#ended;
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => {
        const item = this.#items.shift();
        if (item !== undefined) return Promise.resolve({ value: item, done: false });
        if (this.#ended) return Promise.resolve({ value: undefined as never, done: true });
        return new Promise((resolve) => this.#waiters.push(resolve));
      },
      return: () => {
        this.returned = true;
        this.end();
        return Promise.resolve({ value: undefined as never, done: true });
      },
    };
  }
}
