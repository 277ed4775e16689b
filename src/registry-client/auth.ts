/**
 * Registry authentication: the WWW-Authenticate challenge, the bearer-token flow
 * (token endpoint with service and scopes, anonymous or with basic credentials or a
 * refresh token) and plain basic auth. Tokens are cached per realm, service and scope set.
 */
import { BerthError, unavailable } from '../common/errors.js';
import type { Credentials } from './types.js';
import { registryMessage } from './errors.js';

export interface Challenge {
  scheme: 'bearer' | 'basic';
  params: Record<string, string>;
}

/** Parse `Bearer realm="https://x/token",service="reg",scope="repository:a:pull"` (several challenges possible). */
export function parseChallenges(header: string | null): Challenge[] {
  if (!header) return [];
  const out: Challenge[] = [];
  const re = /\s*([A-Za-z]+)\s+((?:[a-zA-Z_]+=(?:"(?:[^"\\]|\\.)*"|[^,\s]*)\s*,?\s*)*)/g;
  for (const m of header.matchAll(re)) {
    const scheme = m[1]!.toLowerCase();
    if (scheme !== 'bearer' && scheme !== 'basic') continue;
    const params: Record<string, string> = {};
    for (const p of m[2]!.matchAll(/([a-zA-Z_]+)=(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g)) {
      params[p[1]!.toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : (p[3] ?? '');
    }
    out.push({ scheme, params });
  }
  return out;
}

export function basicHeader(c: Credentials): string | undefined {
  if (!c.username && !c.password) return undefined;
  return 'Basic ' + Buffer.from(`${c.username ?? ''}:${c.password ?? ''}`).toString('base64');
}

interface Token { value: string; expires: number }

export type Fetcher = (url: string, init: RequestInit) => Promise<Response>;

/**
 * One authorizer per (registry, credentials): it answers what Authorization header a
 * request for some scopes gets, learning the scheme from the first 401.
 */
export class Authorizer {
  #challenge: Challenge | undefined;
  #tokens = new Map<string, Token>();

  constructor(private creds: Credentials, private fetcher: Fetcher) {}

  get known(): boolean {
    return this.#challenge !== undefined;
  }

  /** Remember the challenge of a 401; false when there is nothing new to try. */
  learn(header: string | null, scopes: string[]): boolean {
    const all = parseChallenges(header);
    const c = all.find((x) => x.scheme === 'bearer') ?? all.find((x) => x.scheme === 'basic');
    if (!c) return false;
    if (c.scheme === 'basic' && !basicHeader(this.creds)) return false;
    const before = this.#challenge;
    this.#challenge = c;
    // A cached token that just got a 401 is useless for these scopes.
    this.#tokens.delete(this.#tokenKey(scopes));
    return before === undefined || c.scheme === 'bearer' || before.scheme !== c.scheme;
  }

  #tokenKey(scopes: string[]): string {
    return [...scopes].sort().join(' ');
  }

  /** The Authorization header for a request needing these scopes (undefined: none known). */
  async header(scopes: string[], signal?: AbortSignal): Promise<string | undefined> {
    const c = this.#challenge;
    if (!c) return undefined;
    if (c.scheme === 'basic') return basicHeader(this.creds);
    if (this.creds.registrytoken) return `Bearer ${this.creds.registrytoken}`;
    const key = this.#tokenKey(scopes);
    const cached = this.#tokens.get(key);
    if (cached && cached.expires > Date.now()) return `Bearer ${cached.value}`;
    const token = await this.#fetchToken(c, scopes, signal);
    this.#tokens.set(key, token);
    return `Bearer ${token.value}`;
  }

  async #fetchToken(c: Challenge, scopes: string[], signal?: AbortSignal): Promise<Token> {
    const realm = c.params.realm;
    if (!realm || !/^https?:\/\//.test(realm)) throw new BerthError('UNAUTHORIZED', `registry asked for a bearer token but gave no usable realm ("${realm ?? ''}")`);
    const url = new URL(realm);
    let res: Response;
    try {
      if (this.creds.identitytoken) {
        // OAuth2 refresh-token grant, as docker does after a login that returned an identity token.
        const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: this.creds.identitytoken, client_id: 'berth', scope: scopes.join(' ') });
        if (c.params.service) form.set('service', c.params.service);
        res = await this.fetcher(url.toString(), { method: 'POST', body: form, headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, signal });
      } else {
        if (c.params.service) url.searchParams.set('service', c.params.service);
        for (const s of scopes) url.searchParams.append('scope', s);
        const basic = basicHeader(this.creds);
        res = await this.fetcher(url.toString(), { method: 'GET', headers: basic ? { Authorization: basic } : {}, signal });
      }
    } catch (err) {
      if (err instanceof BerthError) throw err;
      throw unavailable(`token server ${url.host} did not answer: ${(err as Error).message}`, err);
    }
    const text = await res.text();
    if (res.status === 401 || res.status === 403) throw new BerthError('UNAUTHORIZED', `unauthorized: ${registryMessage(res.status, text)}`);
    if (!res.ok) throw unavailable(`token server ${url.host} answered ${res.status}: ${registryMessage(res.status, text)}`);
    let body: { token?: string; access_token?: string; expires_in?: number };
    try {
      body = JSON.parse(text);
    } catch {
      throw unavailable(`token server ${url.host} sent a response that is not JSON`);
    }
    const value = body.token ?? body.access_token;
    if (!value) throw unavailable(`token server ${url.host} sent no token`);
    // Renew a little early; the spec's default lifetime is 60 s.
    const ttl = Math.max(10, (body.expires_in ?? 60) - 5);
    return { value, expires: Date.now() + ttl * 1000 };
  }
}
