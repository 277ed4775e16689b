/**
 * A blob download that survives a broken connection: when the body stops early (a
 * reset, an idle timeout, or fewer bytes than the descriptor declares), the blob is
 * asked for again from the first byte not yet delivered, with `Range: bytes=N-`, as
 * docker does. A 206 whose Content-Range starts at N continues the stream; a registry
 * that ignores Range answers 200 with the whole blob, whose first N bytes are read and
 * dropped (a full re-download, but the consumer's stream, and its unpack, go on).
 * Nothing here trusts the pieces: the consumer hashes the whole stream against the
 * blob's digest at the end, whatever mix of responses it came from.
 */
import { Readable } from 'node:stream';
import { BerthError, isBerthError, unavailable } from '../common/errors.js';
import type { Exchange } from './transport.js';

export interface ResumableBodyOptions {
  digest: string;
  first: Exchange;
  /** Open the blob again; offset > 0 sends a Range request. Rejects on an HTTP error. */
  open(offset: number): Promise<Exchange>;
  /** The descriptor's size: a body that ends before it is resumed too. */
  size?: number;
  /** Resumes in all (default 50). A connection that brought no new byte is not resumed. */
  maxResumes?: number;
  onResume?(offset: number, ranged: boolean): void;
  signal?: AbortSignal;
}

/** Where a resumed response starts: its Content-Range start for a 206, 0 for a 200. */
export function resumedStart(x: Exchange): number {
  if (x.res.status !== 206) return 0;
  const m = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(x.res.headers.get('content-range') ?? '');
  return m ? Number(m[1]) : -1;
}

export function resumableBody(o: ResumableBodyOptions): Readable {
  const max = o.maxResumes ?? 50;
  async function* body(): AsyncGenerator<Buffer> {
    let x = o.first;
    let offset = 0;
    let skip = 0;
    let resumes = 0;
    for (;;) {
      const startedAt = offset;
      let cut: unknown;
      try {
        for await (const chunk of x.stream()) {
          let b = chunk as Buffer;
          if (skip > 0) {
            const drop = Math.min(skip, b.length);
            skip -= drop;
            b = b.subarray(drop);
            if (!b.length) continue;
          }
          offset += b.length;
          yield b;
        }
      } catch (err) {
        if (!isBerthError(err, 'UNAVAILABLE')) throw err;
        cut = err;
      }
      if (cut === undefined && (o.size === undefined || offset >= o.size)) return;
      if (o.signal?.aborted) throw new BerthError('CANCELED', `download of ${o.digest} canceled`);
      // A connection that brought nothing (a stalled or refusing registry) is not resumed:
      // the caller's own bounded retry decides, so a dead registry fails in bounded time.
      if (offset === startedAt || ++resumes > max) throw cut ?? unavailable(`blob ${o.digest}: the registry keeps ending the transfer at byte ${offset} of ${o.size}`);
      x = await o.open(offset);
      const start = resumedStart(x);
      if (start === offset) {
        skip = 0;
      } else if (start === 0 && x.res.status === 200) {
        skip = offset;
      } else {
        x.discard();
        throw unavailable(`blob ${o.digest}: asked the registry for bytes from ${offset}, it answered ${x.res.status} ${x.res.headers.get('content-range') ?? ''}`.trim());
      }
      o.onResume?.(offset, x.res.status === 206);
    }
  }
  return Readable.from(body(), { objectMode: false });
}
