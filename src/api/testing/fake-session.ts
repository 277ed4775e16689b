import type { StdioSession } from '../../containers/types.js';
import type { StdioChunk } from '../../runtime/types.js';
import { AsyncQueue } from './queue.js';

/** A StdioSession the test drives: it records stdin and pushes output. */
export class FakeSession implements StdioSession {
  readonly out = new AsyncQueue<StdioChunk>();
  readonly stdin: Buffer[] = [];
  stdinClosed = false;
  closed = false;
  #onStdin: Array<() => void> = [];

  readonly echo: boolean;

  constructor(readonly tty: boolean, opts: { echo?: boolean } = {}) {
    this.echo = opts.echo ?? false;
  }

  get output(): AsyncIterable<StdioChunk> {
    return this.out;
  }

  write(data: Buffer): void {
    this.stdin.push(Buffer.from(data));
    // An echoing session behaves like `cat`: stdin comes back as stdout.
    if (this.echo) this.out.push({ stream: 'stdout', data: Buffer.from(data) });
    for (const f of this.#onStdin.splice(0)) f();
  }

  closeStdin(): void {
    this.stdinClosed = true;
    // `cat` exits on EOF.
    if (this.echo) this.out.end();
    for (const f of this.#onStdin.splice(0)) f();
  }

  close(): void {
    this.closed = true;
    this.out.end();
  }

  stdinText(): string {
    return Buffer.concat(this.stdin).toString();
  }

  /** Resolves on the next stdin write or close. */
  nextStdin(): Promise<void> {
    return new Promise((resolve) => this.#onStdin.push(resolve));
  }
}
