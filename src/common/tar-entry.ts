/**
 * One entry written into a tar-stream pack, failure included. Why a helper: when a pack is
 * destroyed (its reader went away: a client that stopped reading `docker save`, a copy
 * helper that died), tar-stream destroys the entry being written with it, and that entry
 * emits 'error'. With no listener there, the error ends the whole process, berthd included.
 */
import type { Header, Pack } from 'tar-stream';

/** A Node or streamx readable (tar-stream's extract entries are streamx streams). */
export interface EntrySource {
  pipe(dest: NodeJS.WritableStream): unknown;
  on(event: 'error', fn: (e: Error) => void): unknown;
  destroy(err?: Error): unknown;
}

/**
 * Write `header` and its data (a Buffer, a stream, or nothing) as the pack's next entry.
 * Resolves once the pack has taken the entry whole; rejects if the pack or the data fails,
 * and then destroys a data stream so that its file or pipe is released.
 */
export function writeTarEntry(pack: Pack, header: Partial<Header> & Pick<Header, 'name'>, body?: Buffer | EntrySource): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const stream = body !== undefined && !Buffer.isBuffer(body) ? body : undefined;
    let settled = false;
    const done = (err?: Error | null) => {
      if (settled) return;
      settled = true;
      if (!err) { resolve(); return; }
      stream?.destroy();
      reject(err);
    };
    let sink: ReturnType<Pack['entry']>;
    try {
      // A pack already finalized or destroyed throws here.
      sink = stream ? pack.entry(header, done) : pack.entry(header, (body as Buffer | undefined) ?? Buffer.alloc(0), done);
    } catch (e) {
      done(e as Error);
      return;
    }
    sink.on('error', done);
    if (stream) {
      stream.on('error', (e) => { sink.destroy(e); done(e); });
      stream.pipe(sink as unknown as NodeJS.WritableStream);
    }
  });
}
