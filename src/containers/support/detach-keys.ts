import { invalidArgument } from '../../common/errors.js';

/** docker's default detach sequence. */
export const DEFAULT_DETACH_KEYS = 'ctrl-p,ctrl-q';

// Index = the control code: ctrl-@ is 0, ctrl-a is 1 ... ctrl-_ is 31 (docker's term.ASCII table).
const CTRL_NAMES = ['ctrl-@', ...Array.from({ length: 26 }, (_, i) => `ctrl-${String.fromCharCode(97 + i)}`), 'ctrl-[', 'ctrl-\\', 'ctrl-]', 'ctrl-^', 'ctrl-_'];

/**
 * Parse docker's detach-keys syntax: comma-separated items, each a single character
 * or one of ctrl-@, ctrl-a..ctrl-z, ctrl-[, ctrl-\, ctrl-], ctrl-^, ctrl-_.
 * Empty means the default ctrl-p,ctrl-q.
 */
export function parseDetachKeys(keys: string | undefined): Buffer {
  const spec = keys === undefined || keys === '' ? DEFAULT_DETACH_KEYS : keys;
  const codes: number[] = [];
  for (const key of spec.split(',')) {
    if (key.length === 1) {
      const c = key.charCodeAt(0);
      if (c > 0x7f) throw invalidArgument(`Invalid detach keys (${spec}) provided: unknown character '${key}'`);
      codes.push(c);
      continue;
    }
    const idx = CTRL_NAMES.indexOf(key);
    if (idx < 0) {
      const what = key.startsWith('ctrl-') ? 'key' : 'character';
      throw invalidArgument(`Invalid detach keys (${spec}) provided: unknown ${what} '${key}'`);
    }
    codes.push(idx);
  }
  return Buffer.from(codes);
}

export interface ScanResult {
  /** Bytes to pass on to the process's stdin now. */
  forward: Buffer;
  /** The whole detach sequence was typed: stop forwarding and detach. */
  detach: boolean;
}

/**
 * Watches stdin for the detach sequence. A prefix of the sequence is held back (the
 * user may be about to detach); if the next byte does not continue it, the held bytes
 * are released in order, as docker's escapeProxy does. Unlike docker it also matches
 * a sequence that arrives inside one chunk (a paste, or a client that batches keys).
 */
export class DetachKeyScanner {
  readonly #keys: Buffer;
  #pos = 0;
  #detached = false;

  constructor(keys: Buffer | string | undefined) {
    this.#keys = Buffer.isBuffer(keys) ? keys : parseDetachKeys(keys);
  }

  get detached(): boolean {
    return this.#detached;
  }

  /** Bytes currently held back as a possible start of the sequence. */
  get pending(): Buffer {
    return this.#keys.subarray(0, this.#pos);
  }

  feed(chunk: Buffer): ScanResult {
    if (this.#detached) return { forward: Buffer.alloc(0), detach: true };
    const keys = this.#keys;
    if (keys.length === 0) return { forward: chunk, detach: false };
    const out: number[] = [];
    for (const b of chunk) {
      if (b === keys[this.#pos]) {
        this.#pos++;
        if (this.#pos === keys.length) {
          // Bytes after the sequence are dropped: the session is over.
          this.#detached = true;
          this.#pos = 0;
          return { forward: Buffer.from(out), detach: true };
        }
        continue;
      }
      // Mismatch: release what was held, then see whether this byte starts a new match.
      // (A held prefix is always keys[0..pos), so re-scanning it cannot complete a match
      // shorter than the sequence except through its own suffixes; handle them too.)
      const held = [...keys.subarray(0, this.#pos), b];
      this.#pos = 0;
      for (let i = 0; i < held.length; i++) {
        // Find the longest suffix of `held` that is a prefix of keys; emit the rest.
        const rest = held.slice(i);
        if (rest.every((x, j) => keys[j] === x) && rest.length < keys.length) {
          this.#pos = rest.length;
          break;
        }
        out.push(held[i]!);
      }
    }
    return { forward: Buffer.from(out), detach: false };
  }

  /** stdin ended: release anything held back. */
  flush(): Buffer {
    const b = Buffer.from(this.pending);
    this.#pos = 0;
    return b;
  }
}
