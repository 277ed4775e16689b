/**
 * One HTTP exchange with a registry, made robust: bounded retries with backoff for
 * network errors, 429 and 5xx; an idle timeout for headers and for every body read
 * (a registry that stops answering fails the operation instead of hanging it); and
 * the 401 → challenge → authorized retry.
 */
import { Readable } from 'node:stream';
import { BerthError, unavailable, errorMessage } from '../common/errors.js';
import type { Authorizer } from './auth.js';

export interface TransportOptions {
  attempts: number;
  idleTimeoutMs: number;
  backoffMs: number;
  userAgent: string;
}

export interface SendOptions {
  method: string;
  url: string;
  headers?: Record<string, string>;
  /** Re-sendable bodies only (a retry sends it again). */
  body?: Buffer | string;
  scopes: string[];
  signal?: AbortSignal;
  /** When false, 5xx answers are returned rather than retried (uploads that must not repeat). */
  retry?: boolean;
}

/** A response whose body is still to be read, with its own idle watchdog. */
export interface Exchange {
  res: Response;
  /** Read the whole (small) body: errors, manifests, configs. */
  bytes(limit?: number): Promise<Buffer>;
  text(limit?: number): Promise<string>;
  /** The body as a Node stream; a silent connection fails it after the idle timeout. */
  stream(): Readable;
  /** Drop the body. */
  discard(): void;
}

const sleep = (ms: number, signal?: AbortSignal) => new Promise<void>((resolve, reject) => {
  const t = setTimeout(resolve, ms);
  signal?.addEventListener('abort', () => { clearTimeout(t); reject(signal.reason); }, { once: true });
});

function networkCause(err: unknown): string {
  const cause = (err as { cause?: unknown })?.cause;
  if (cause instanceof AggregateError && cause.errors.length) return errorMessage(cause.errors[0]);
  return cause ? errorMessage(cause) : errorMessage(err);
}

export class Transport {
  /** Global fetch, or one that skips certificate checks (an insecure registry over HTTPS). */
  fetchImpl: (url: string, init: RequestInit) => Promise<Response> = fetch;

  constructor(private opts: TransportOptions, private auth: Authorizer) {}

  /** fetch for the token server: same idle timeout, no auth, no retry. */
  readonly plainFetch = (url: string, init: RequestInit): Promise<Response> => {
    const signal = init.signal ? AbortSignal.any([init.signal, AbortSignal.timeout(this.opts.idleTimeoutMs)]) : AbortSignal.timeout(this.opts.idleTimeoutMs);
    return this.fetchImpl(url, { ...init, signal, headers: { 'User-Agent': this.opts.userAgent, ...(init.headers as Record<string, string>) } });
  };

  async send(o: SendOptions): Promise<Exchange> {
    const host = new URL(o.url).host;
    let authRetried = false;
    let lastErr: unknown;
    for (let attempt = 1; attempt <= this.opts.attempts;) {
      if (o.signal?.aborted) throw new BerthError('CANCELED', `${o.method} ${host}: canceled`);
      const ac = new AbortController();
      const onAbort = () => ac.abort(o.signal?.reason);
      o.signal?.addEventListener('abort', onAbort, { once: true });
      let idle: NodeJS.Timeout | undefined;
      const arm = () => {
        clearTimeout(idle);
        idle = setTimeout(() => ac.abort(new Error(`no answer for ${this.opts.idleTimeoutMs / 1000}s`)), this.opts.idleTimeoutMs);
      };
      const done = () => { clearTimeout(idle); o.signal?.removeEventListener('abort', onAbort); };
      let res: Response;
      try {
        const authz = await this.auth.header(o.scopes, o.signal);
        arm();
        res = await this.fetchImpl(o.url, {
          method: o.method,
          headers: { 'User-Agent': this.opts.userAgent, ...(authz ? { Authorization: authz } : {}), ...o.headers },
          body: o.body as unknown as BodyInit | undefined,
          signal: ac.signal,
          redirect: 'follow',
        });
      } catch (err) {
        done();
        if (err instanceof BerthError) throw err;
        if (o.signal?.aborted) throw new BerthError('CANCELED', `${o.method} ${host}: canceled`);
        lastErr = ac.signal.aborted ? ac.signal.reason : new Error(networkCause(err));
        if (attempt++ < this.opts.attempts) { await sleep(this.opts.backoffMs * 2 ** (attempt - 2), o.signal); continue; }
        break;
      }
      if (res.status === 401 && !authRetried && this.auth.learn(res.headers.get('www-authenticate'), o.scopes)) {
        done();
        await res.body?.cancel().catch(() => {});
        authRetried = true;
        continue;
      }
      if ((res.status >= 500 || res.status === 429) && o.retry !== false && attempt < this.opts.attempts) {
        done();
        await res.body?.cancel().catch(() => {});
        lastErr = new Error(`HTTP ${res.status}`);
        await sleep(this.opts.backoffMs * 2 ** (attempt - 1), o.signal);
        attempt++;
        continue;
      }
      return this.#exchange(res, ac, arm, done, host);
    }
    throw unavailable(`registry ${host} is not answering: ${errorMessage(lastErr)} (after ${this.opts.attempts} attempts); check that it is running and reachable`, lastErr);
  }

  #exchange(res: Response, ac: AbortController, arm: () => void, done: () => void, host: string): Exchange {
    async function* chunks(): AsyncGenerator<Buffer> {
      if (!res.body) { done(); return; }
      const reader = res.body.getReader();
      try {
        for (;;) {
          arm();
          let r: ReadableStreamReadResult<Uint8Array>;
          try {
            r = await reader.read();
          } catch (err) {
            const why = ac.signal.aborted && ac.signal.reason instanceof Error ? ac.signal.reason.message : networkCause(err);
            throw unavailable(`registry ${host} stopped sending: ${why}`, err);
          }
          if (r.done) return;
          yield Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength);
        }
      } finally {
        done();
        reader.cancel().catch(() => {});
      }
    }
    async function bytes(limit = 4 << 20): Promise<Buffer> {
      const parts: Buffer[] = [];
      let n = 0;
      for await (const c of chunks()) {
        n += c.length;
        if (n > limit) throw unavailable(`registry ${host} sent more than ${limit} bytes where a small document was expected`);
        parts.push(c);
      }
      return Buffer.concat(parts);
    }
    return {
      res,
      bytes,
      async text(limit?: number) {
        return (await bytes(limit)).toString('utf8');
      },
      stream: () => Readable.from(chunks(), { objectMode: false }),
      discard() {
        done();
        res.body?.cancel().catch(() => {});
      },
    };
  }
}
