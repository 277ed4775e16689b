/**
 * docker's JSON progress messages, shared by pull and push: the message shape, the
 * progress-bar string dockerd puts in "progress", and a queue that lets concurrent
 * layer jobs feed one ordered stream with throttled updates.
 */

/** One line of a pull/push stream, docker's jsonmessage.JSONMessage. */
export interface ProgressMessage {
  status?: string;
  id?: string;
  progress?: string;
  progressDetail?: { current?: number; total?: number };
  aux?: Record<string, unknown>;
}

const UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];

/** go-units HumanSize: decimal units, four significant digits ("1.235MB"). */
export function humanSize(n: number): string {
  let i = 0;
  while (n >= 1000 && i < UNITS.length - 1) { n /= 1000; i++; }
  return `${Number(n.toPrecision(4))}${UNITS[i]}`;
}

/** jsonmessage.JSONProgress.String() for a wide terminal: "[====>     ]  1.2MB/3.4MB". */
export function progressBar(current: number, total: number | undefined): string {
  if (!total || total <= 0) return current > 0 ? humanSize(current).padStart(8) : '';
  const filled = Math.min(50, Math.floor((current / total) * 100 / 2));
  const bar = filled >= 50 ? '='.repeat(50) : '='.repeat(filled) + '>' + ' '.repeat(49 - filled);
  return `[${bar}] ${humanSize(current).padStart(8)}/${humanSize(total)}`;
}

export const shortDigest = (d: string): string => d.replace(/^sha256:/, '').slice(0, 12);

/**
 * A single-consumer queue of messages. Producers push; the consumer iterates until
 * close() (or fail()). Progress updates for the same id are throttled so a fast
 * local download does not become thousands of lines.
 */
export class ProgressQueue implements AsyncIterable<ProgressMessage> {
  #items: ProgressMessage[] = [];
  #wake: (() => void) | undefined;
  #closed = false;
  #error: unknown;
  #lastProgress = new Map<string, number>();

  constructor(private throttleMs = 100) {}

  push(m: ProgressMessage): void {
    if (this.#closed) return;
    this.#items.push(m);
    this.#wake?.();
  }

  /** A progress update, dropped when the previous one for this id was too recent (unless final). */
  progress(id: string, status: string, current: number, total: number | undefined): void {
    const now = Date.now();
    const last = this.#lastProgress.get(id + status) ?? 0;
    if (now - last < this.throttleMs && current !== total) return;
    this.#lastProgress.set(id + status, now);
    this.push({ status, id, progressDetail: { current, total }, progress: progressBar(current, total) });
  }

  close(): void {
    this.#closed = true;
    this.#wake?.();
  }

  fail(err: unknown): void {
    this.#error ??= err;
    this.close();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<ProgressMessage> {
    for (;;) {
      while (this.#items.length) yield this.#items.shift()!;
      if (this.#closed) {
        if (this.#error !== undefined) throw this.#error;
        return;
      }
      await new Promise<void>((r) => (this.#wake = r));
      this.#wake = undefined;
    }
  }
}

/** At most n tasks at a time, started in call order (docker downloads 3 layers at once). */
export class Limiter {
  #active = 0;
  #waiting: Array<() => void> = [];
  constructor(private n: number) {}

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#active >= this.n) await new Promise<void>((r) => this.#waiting.push(r));
    this.#active++;
    try {
      return await fn();
    } finally {
      this.#active--;
      this.#waiting.shift()?.();
    }
  }
}
