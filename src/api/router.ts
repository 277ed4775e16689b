/**
 * A table of (method, path pattern) → handler. Patterns use `{name}` for one path
 * segment and `{name*}` for the rest (image names contain slashes and host:port).
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { StdioSession } from '../containers/types.js';
import type { ApiDeps } from './types.js';

export interface Ctx {
  req: IncomingMessage;
  res: ServerResponse;
  params: Record<string, string>;
  query: URLSearchParams;
  /** The API version the client asked for ("1.41"), or the current one for unversioned paths. */
  version: string;
  deps: ApiDeps;
}

export type Handler = (ctx: Ctx) => Promise<void> | void;

export interface HijackCtx {
  params: Record<string, string>;
  query: URLSearchParams;
  version: string;
  deps: ApiDeps;
  headers: IncomingHttpHeaders;
  /** The whole request body (exec start's JSON). */
  body: Buffer;
}

/**
 * What a hijack route decided, before any byte of the response is written:
 * errors thrown before this become ordinary HTTP errors.
 */
export type HijackPlan =
  | { kind: 'stream'; session: StdioSession }
  /** exec start with Detach: a plain 200, no hijack. */
  | { kind: 'empty' }
  /** dockerd reports exec start failures inside the hijacked stream, then closes it. */
  | { kind: 'text'; text: string; tty: boolean };

export type HijackHandler = (ctx: HijackCtx) => Promise<HijackPlan>;

interface Route {
  method: string;
  re: RegExp;
  keys: string[];
  handler?: Handler;
  hijack?: HijackHandler;
}

export interface Match {
  route: Route;
  params: Record<string, string>;
}

export class Router {
  readonly #routes: Route[] = [];

  add(method: string, pattern: string, handler: Handler): this {
    this.#routes.push({ method, ...compile(pattern), handler });
    return this;
  }

  /** A route whose connection is taken over (attach, exec start). */
  hijack(method: string, pattern: string, handler: HijackHandler): this {
    this.#routes.push({ method, ...compile(pattern), hijack: handler });
    return this;
  }

  match(method: string, path: string): Match | undefined {
    for (const route of this.#routes) {
      if (route.method !== method && !(method === 'HEAD' && route.method === 'GET')) continue;
      const m = route.re.exec(path);
      if (!m) continue;
      const params: Record<string, string> = {};
      route.keys.forEach((k, i) => {
        params[k] = safeDecode(m[i + 1] ?? '');
      });
      return { route, params };
    }
    return undefined;
  }
}

function compile(pattern: string): { re: RegExp; keys: string[] } {
  const keys: string[] = [];
  const src = pattern.replace(/[.+?^$()|[\]\\]/g, '\\$&').replace(/\{(\w+)(\*?)\}/g, (_m, name: string, star: string) => {
    keys.push(name);
    return star ? '(.+)' : '([^/]+)';
  });
  return { re: new RegExp(`^${src}/?$`), keys };
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
