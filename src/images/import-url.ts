/**
 * `docker import http://…/rootfs.tar name`: dockerd downloads the tarball itself. The
 * body is streamed straight into the import (never held in memory).
 */
import { Readable } from 'node:stream';
import { BerthError, errorMessage, invalidArgument } from '../common/errors.js';

/** Connect and header timeout; the body itself may take as long as it needs. */
const CONNECT_TIMEOUT_MS = 30_000;

export async function openImportUrl(source: string): Promise<Readable> {
  let url: URL;
  try {
    url = new URL(source);
  } catch {
    throw invalidArgument(`invalid import source ${JSON.stringify(source)}: give a file, "-" or an http(s) URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw invalidArgument(`invalid import source ${source}: only http and https URLs can be imported`);
  }
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), CONNECT_TIMEOUT_MS);
  let res: Response;
  try {
    res = await fetch(url, { signal: ac.signal, redirect: 'follow' });
  } catch (err) {
    throw new BerthError('UNAVAILABLE', `import from ${source}: ${ac.signal.aborted ? 'no answer within 30 s' : errorMessage((err as Error).cause ?? err)}`);
  } finally {
    clearTimeout(timer);
  }
  if (!res.ok || !res.body) {
    await res.body?.cancel().catch(() => {});
    throw new BerthError(res.status === 404 ? 'NOT_FOUND' : 'UNAVAILABLE', `import from ${source}: the server answered ${res.status} ${res.statusText}`);
  }
  return Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>);
}
