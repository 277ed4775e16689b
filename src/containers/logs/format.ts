import type { LogEntry } from '../types.js';

/**
 * conmon's k8s-file format, one physical line per read of the container's pipe:
 *   <RFC3339Nano> stdout|stderr F|P <text>\n
 * F closes a logical line (its newline became the record's terminator); P is a
 * fragment (conmon's 8 KiB buffer filled, or output ended without a newline) whose
 * continuation follows in later records of the same stream.
 */

export interface LogRecord {
  time: string;
  stream: 'stdout' | 'stderr';
  partial: boolean;
  text: Buffer;
}

const SP = 0x20;

/** Parse one physical line (without its '\n'); undefined for anything malformed. */
export function parseRecord(line: Buffer): LogRecord | undefined {
  const a = line.indexOf(SP);
  if (a <= 0) return undefined;
  const b = line.indexOf(SP, a + 1);
  if (b < 0) return undefined;
  const stream = line.toString('latin1', a + 1, b);
  if (stream !== 'stdout' && stream !== 'stderr') return undefined;
  // The tag may be followed by nothing at all (an empty line written without the space).
  let c = line.indexOf(SP, b + 1);
  if (c < 0) c = line.length;
  const tag = line.toString('latin1', b + 1, c);
  if (tag !== 'F' && tag !== 'P') return undefined;
  return { time: line.toString('latin1', 0, a), stream, partial: tag === 'P', text: line.subarray(Math.min(c + 1, line.length)) };
}

/** Format a record as conmon does (for tests and for writers that emulate conmon). */
export function formatRecord(time: string, stream: 'stdout' | 'stderr', partial: boolean, text: string | Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${time} ${stream} ${partial ? 'P' : 'F'} `), Buffer.from(text), Buffer.from('\n')]);
}

/** A logical line from its records, oldest first; the time is the first fragment's. */
export function joinRecords(recs: LogRecord[], complete: boolean): LogEntry {
  const parts = recs.map((r) => r.text);
  if (complete) parts.push(Buffer.from('\n'));
  return { stream: recs[0]!.stream, time: recs[0]!.time, data: Buffer.concat(parts) };
}

/**
 * Joins P fragments per stream until that stream's F record. stdout and stderr are
 * assembled separately: conmon can interleave a stderr line between two fragments
 * of a long stdout line.
 */
export class LineAssembler {
  readonly #pending = new Map<'stdout' | 'stderr', LogRecord[]>();

  /** Seed with fragments already seen (a tail that ended inside a long line). */
  seed(stream: 'stdout' | 'stderr', recs: LogRecord[]): void {
    if (recs.length) this.#pending.set(stream, [...recs]);
  }

  push(rec: LogRecord): LogEntry | undefined {
    const pend = this.#pending.get(rec.stream);
    if (rec.partial) {
      // Copy: the record's text may point into a reused read buffer.
      const own = { ...rec, text: Buffer.from(rec.text) };
      if (pend) pend.push(own);
      else this.#pending.set(rec.stream, [own]);
      return undefined;
    }
    if (!pend) return { stream: rec.stream, time: rec.time, data: Buffer.concat([rec.text, Buffer.from('\n')]) };
    this.#pending.delete(rec.stream);
    pend.push(rec);
    return joinRecords(pend, true);
  }

  /** The output ended: fragments without a final F come out as lines without a newline. */
  flush(): LogEntry[] {
    const out: LogEntry[] = [];
    for (const recs of this.#pending.values()) out.push(joinRecords(recs, false));
    this.#pending.clear();
    return out.sort((x, y) => (x.time < y.time ? -1 : x.time > y.time ? 1 : 0));
  }
}

/** Splits a byte stream into physical lines; keeps the unterminated tail for the next chunk. */
export class LineSplitter {
  #carry: Buffer = Buffer.alloc(0);

  *push(chunk: Buffer): Generator<Buffer> {
    let buf = this.#carry.length ? Buffer.concat([this.#carry, chunk]) : chunk;
    let start = 0;
    for (;;) {
      const nl = buf.indexOf(0x0a, start);
      if (nl < 0) break;
      yield buf.subarray(start, nl);
      start = nl + 1;
    }
    // Copy so the caller may reuse its chunk buffer.
    this.#carry = Buffer.from(buf.subarray(start));
    buf = Buffer.alloc(0);
  }

  /** Bytes of an incomplete last line held back. */
  get pendingBytes(): number {
    return this.#carry.length;
  }

  reset(): void {
    this.#carry = Buffer.alloc(0);
  }
}
