/**
 * Which scheme an insecure registry speaks. docker tries HTTPS without certificate
 * checks first and falls back to plain HTTP; berth asks GET /v2/ over HTTPS once per
 * host (any HTTP answer, even 401, means HTTPS works) and remembers the answer for a
 * while, so a pull does not pay a failed TLS handshake on every session.
 */
import { unverifiedFetch } from './insecure-tls.js';

export interface Candidate { base: string; verifyTls: boolean }

const TTL_MS = 5 * 60_000;

export class EndpointProbe {
  readonly #cache = new Map<string, { c: Candidate; expires: number }>();

  constructor(private readonly timeoutMs: number) {}

  async choose(domain: string, candidates: Candidate[], signal?: AbortSignal): Promise<Candidate> {
    const key = `${domain} ${candidates.map((c) => c.base).join(' ')}`;
    const hit = this.#cache.get(key);
    if (hit && hit.expires > Date.now()) return hit.c;
    for (const c of candidates) {
      if (await this.#answers(c, signal)) {
        this.#cache.set(key, { c, expires: Date.now() + TTL_MS });
        return c;
      }
    }
    // Nothing answers: the last candidate (plain HTTP) reports the error, with the transport's retries.
    return candidates[candidates.length - 1]!;
  }

  async #answers(c: Candidate, signal?: AbortSignal): Promise<boolean> {
    const timeout = AbortSignal.timeout(Math.min(this.timeoutMs, 10_000));
    try {
      const f = c.verifyTls ? fetch : unverifiedFetch;
      const res = await f(`${c.base}/v2/`, { method: 'GET', signal: signal ? AbortSignal.any([signal, timeout]) : timeout });
      await res.body?.cancel().catch(() => {});
      return true;
    } catch {
      return false;
    }
  }
}
