import { watch, type FSWatcher } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { isErrno } from '../../common/errors.js';
import type { LogEntry, LogOptions } from '../types.js';
import { LineAssembler, LineSplitter, parseRecord } from './format.js';
import { lastNewlineEnd, openLogFiles, readRange, type OpenLog } from './files.js';
import { passesTime, tailEntries, type TailFilter } from './tail.js';

type Stream = 'stdout' | 'stderr';

/** How often the follower looks even without an fs event (missed or coalesced events). */
const POLL_MS = 1000;

/** Resolves on the next fs event, poll tick, stop or abort, whichever first. */
class Waker {
  #resolve?: () => void;
  #fired = false;
  wake = (): void => {
    this.#fired = true;
    this.#resolve?.();
  };
  wait(ms: number): Promise<void> {
    if (this.#fired) {
      this.#fired = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const t = setTimeout(done, ms);
      const self = this;
      function done() {
        clearTimeout(t);
        self.#resolve = undefined;
        self.#fired = false;
        resolve();
      }
      this.#resolve = done;
    });
  }
}

function makeFilter(opts: LogOptions): TailFilter {
  // Neither stream named means both (an attach replay); naming one excludes the other.
  const both = opts.stdout === undefined && opts.stderr === undefined;
  const out = both || !!opts.stdout;
  const err = both || !!opts.stderr;
  return {
    want: (s: Stream) => (s === 'stdout' ? out : err),
    sinceNs: opts.since !== undefined && opts.since > 0n ? opts.since : undefined,
    untilNs: opts.until !== undefined && opts.until > 0n ? opts.until : undefined,
  };
}

/**
 * The files written after `prev` once a rotation was seen: if `prev` is still among the
 * rotated files (<log>.k), the newer ones (.k-1 … .1) and the current log; if it is
 * gone (rotated past max-file), all of them, since each is newer than it.
 */
async function successors(logPath: string, prev: OpenLog | undefined): Promise<OpenLog[]> {
  const { older, current } = await openLogFiles(logPath);
  const files = current ? [...older, current] : older;
  const at = prev ? files.findIndex((f) => f.ino === prev.ino) : -1;
  for (const f of files.slice(0, at + 1)) await f.fh.close();
  return files.slice(at + 1);
}

/**
 * A container's log as whole lines: conmon's k8s-file records with P fragments joined,
 * rotated files (<log>.N … <log>.1) read before the current one, filtered by stream
 * and time, the last `tail` lines only when asked. With `follow`, lines appended later
 * keep coming (fs.watch on the directory, from the last offset), across rotations,
 * until `signal` aborts, `until` passes, or `stopWhen` resolves (the container exited:
 * what remains is drained first).
 */
export async function* readLogs(logPath: string, opts: LogOptions, signal?: AbortSignal, stopWhen?: Promise<unknown>): AsyncGenerator<LogEntry> {
  const f = makeFilter(opts);
  const follow = !!opts.follow;
  const { older, current } = await openLogFiles(logPath);
  const all = current ? [...older, current] : older;
  const asm = new LineAssembler();
  const untilMs = f.untilNs !== undefined ? Number(f.untilNs / 1_000_000n) : undefined;
  // A line is yielded when it passes; a line past `until` ends the read (stamps only grow).
  let pastUntil = false;
  const accept = (e: LogEntry): boolean => {
    if (!f.want(e.stream)) return false;
    if (f.untilNs !== undefined && !passesTime(e.time, { ...f, sinceNs: undefined })) {
      pastUntil = true;
      return false;
    }
    return passesTime(e.time, f);
  };

  let watcher: FSWatcher | undefined;
  let poll: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  let cur: OpenLog | undefined = current;
  // Files that come after `cur`, oldest first (more than one when rotations outran us).
  const queue: OpenLog[] = [];
  try {
    let offset = 0;
    const splitter = new LineSplitter();
    // Everything before `cur` is read to its end; `cur` from `offset` on.
    if (opts.tail !== undefined && opts.tail >= 0) {
      const lastEnd = cur ? await lastNewlineEnd(cur.fh, cur.size) : 0;
      const r = await tailEntries(all, lastEnd, opts.tail, f, follow);
      for (const e of r.entries) {
        if (signal?.aborted) return;
        yield e;
      }
      for (const [s, recs] of r.pending) asm.seed(s, recs);
      offset = lastEnd;
    } else {
      for (const o of older) {
        for await (const chunk of readRange(o.fh, 0, o.size)) {
          for (const line of splitter.push(chunk)) {
            const rec = parseRecord(line);
            const e = rec && asm.push(rec);
            if (e && accept(e)) yield e;
            if (pastUntil || signal?.aborted) return;
          }
        }
        splitter.reset();
      }
    }
    for (const o of older) await o.fh.close();
    older.length = 0;

    /** Read `cur` from `offset` to its end (or to `limit`), yielding accepted lines. */
    const drain = async function* (limit?: number): AsyncGenerator<LogEntry> {
      if (!cur) return;
      for await (const chunk of readRange(cur.fh, offset, limit)) {
        offset += chunk.length;
        for (const line of splitter.push(chunk)) {
          const rec = parseRecord(line);
          const e = rec && asm.push(rec);
          if (e && accept(e)) yield e;
          if (pastUntil || signal?.aborted) return;
        }
      }
    };

    if (!follow) {
      if (opts.tail === undefined || opts.tail < 0) yield* drain(cur?.size);
      if (!pastUntil) for (const e of asm.flush()) if (accept(e)) yield e;
      return;
    }

    let stopped = false;
    const waker = new Waker();
    stopWhen?.then(() => { stopped = true; waker.wake(); }, () => { stopped = true; waker.wake(); });
    onAbort = () => waker.wake();
    signal?.addEventListener('abort', onAbort);
    const base = basename(logPath);
    try {
      // Watching the directory sees appends to the file and conmon's rename of a
      // fresh file into place after a rotation.
      watcher = watch(dirname(logPath), (_ev, name) => {
        if (!name || name.startsWith(base)) waker.wake();
      });
      watcher.on('error', () => {});
    } catch {
      // No inotify (or the dir is gone): the poll below still works.
    }
    poll = setInterval(waker.wake, POLL_MS);

    for (;;) {
      if (signal?.aborted) return;
      // Captured before reading, so the read below happens after the exit was seen.
      const finishing = stopped || (untilMs !== undefined && Date.now() > untilMs);
      yield* drain();
      if (pastUntil || signal?.aborted) return;
      // Rotation: once a different file sits at logPath, conmon writes only there and
      // the one we hold is complete. Read it to its end, then switch.
      let st;
      try {
        st = await stat(logPath, { bigint: true });
      } catch (err) {
        if (!isErrno(err, 'ENOENT')) throw err;
      }
      // Only once the queue is drained: while files found by an earlier rotation wait
      // in it, the file at logPath is one of them (or comes after the last of them,
      // which is then found when that one is reached) — looking again would queue
      // them twice and repeat their lines.
      if (queue.length === 0 && st && (!cur || st.ino !== cur.ino)) {
        yield* drain();
        if (pastUntil || signal?.aborted) return;
        queue.push(...(await successors(logPath, cur)));
      }
      if (queue.length > 0) {
        // Files after `cur` are complete except the last; read each to its end in turn.
        await cur?.fh.close();
        cur = queue.shift();
        offset = 0;
        // A torn record at one file's end cannot continue in the next.
        splitter.reset();
        continue;
      }
      if (finishing) {
        for (const e of asm.flush()) if (accept(e)) yield e;
        return;
      }
      const waitMs = untilMs !== undefined ? Math.max(1, Math.min(POLL_MS, untilMs - Date.now() + 1)) : POLL_MS;
      await waker.wait(waitMs);
    }
  } finally {
    watcher?.close();
    if (poll) clearInterval(poll);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
    for (const o of older) await o.fh.close().catch(() => {});
    for (const o of queue) await o.fh.close().catch(() => {});
    await cur?.fh.close().catch(() => {});
  }
}
