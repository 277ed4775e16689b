import type { LogEntry } from '../types.js';
import { parseRFC3339Nano } from '../support/time.js';
import { joinRecords, parseRecord, type LogRecord } from './format.js';
import { readLinesBackward, type OpenLog } from './files.js';

type Stream = 'stdout' | 'stderr';

export interface TailFilter {
  want: (s: Stream) => boolean;
  sinceNs?: bigint;
  untilNs?: bigint;
}

interface Open { finalPos: number; recs: LogRecord[]; trailing: boolean }
interface Found { finalPos: number; entry: LogEntry }

export interface TailResult {
  entries: LogEntry[];
  /** Fragments of a line still being written at the end (only when keepTrailing). */
  pending: Map<Stream, LogRecord[]>;
}

// Positions across files: file index in the high bits, offset below (files < 32 TiB).
const FILE_SPAN = 2 ** 45;

/** Index of the first element with finalPos <= p in a list sorted by decreasing finalPos. */
function countAbove(list: Found[], p: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid]!.finalPos > p) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function timeOf(rec: { time: string }): bigint | undefined {
  return parseRFC3339Nano(rec.time);
}

export function passesTime(time: string, f: TailFilter): boolean {
  if (f.sinceNs === undefined && f.untilNs === undefined) return true;
  const t = parseRFC3339Nano(time);
  if (t === undefined) return true;
  if (f.sinceNs !== undefined && t < f.sinceNs) return false;
  if (f.untilNs !== undefined && t > f.untilNs) return false;
  return true;
}

/**
 * The last n logical lines that pass the filter, reading the files backwards
 * (newest first; `files` is oldest first, the last one read up to `lastEnd`).
 * A logical line of stream s is the run of s's P records before s's next F record.
 * Lines are ordered by where they end, as a forward read would emit them.
 * With keepTrailing (follow), a line whose F has not been written yet is returned in
 * `pending` for the follower to finish instead of being counted.
 */
export async function tailEntries(files: OpenLog[], lastEnd: number, n: number, f: TailFilter, keepTrailing: boolean): Promise<TailResult> {
  const open = new Map<Stream, Open>();
  const found: Record<Stream, Found[]> = { stdout: [], stderr: [] };
  const pending = new Map<Stream, LogRecord[]>();
  let total = 0;

  const complete = (o: Open) => {
    const recs = o.recs.reverse();
    if (o.trailing && keepTrailing) {
      pending.set(recs[0]!.stream, recs);
      return;
    }
    const entry = joinRecords(recs, !o.trailing);
    if (!passesTime(entry.time, f)) return;
    found[entry.stream].push({ finalPos: o.finalPos, entry });
    total++;
  };
  const enough = (): boolean => {
    if (total < n) return false;
    let threshold = -1;
    for (const o of open.values()) threshold = Math.max(threshold, o.finalPos);
    return countAbove(found.stdout, threshold) + countAbove(found.stderr, threshold) >= n;
  };

  if (n <= 0) return { entries: [], pending };
  // After a record older than `since`, only the lines still open need settling: an F of
  // their stream means they were whole; a P means they began before `since`.
  let resolving = false;
  let enoughFound = false;
  outer: for (let i = files.length - 1; i >= 0; i--) {
    const end = i === files.length - 1 ? lastEnd : files[i]!.size;
    for await (const { line, offset } of readLinesBackward(files[i]!.fh, end)) {
      const rec = parseRecord(line);
      if (!rec || !f.want(rec.stream)) continue;
      if (!resolving && f.sinceNs !== undefined) {
        const t = timeOf(rec);
        // Stamps only grow: everything older than this is before `since` too.
        if (t !== undefined && t < f.sinceNs) resolving = true;
      }
      const own = { ...rec, text: Buffer.from(rec.text) };
      const o = open.get(rec.stream);
      if (resolving) {
        if (!o) {
          if (open.size === 0) break outer;
          continue;
        }
        open.delete(rec.stream);
        if (!rec.partial) complete(o);
        else if (o.trailing && keepTrailing) {
          // Hand it to the follower with this older fragment: its time then fails `since`.
          o.recs.push(own);
          complete(o);
        }
        if (open.size === 0) break outer;
        continue;
      }
      const pos = i * FILE_SPAN + offset;
      if (rec.partial) {
        if (o) o.recs.push(own);
        else open.set(rec.stream, { finalPos: pos, recs: [own], trailing: true });
        continue;
      }
      if (o) {
        open.delete(rec.stream);
        complete(o);
      }
      open.set(rec.stream, { finalPos: pos, recs: [own], trailing: false });
      if (enough()) {
        enoughFound = true;
        break outer;
      }
    }
  }
  // Reaching the first file's start closes every open line. After `enough`, the open
  // ones are older than the n kept and would be cut anyway.
  if (!enoughFound) for (const o of open.values()) complete(o);
  const all = [...found.stdout, ...found.stderr].sort((a, b) => a.finalPos - b.finalPos);
  return { entries: all.slice(Math.max(0, all.length - Math.max(0, n))).map((x) => x.entry), pending };
}
