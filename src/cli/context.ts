/**
 * What every command gets: the lazily built API client and the output streams (tests
 * swap them), plus the small helpers commands share.
 */
import type { Command } from 'commander';
import { Client, resolveHost } from './client.js';
import { FlagError } from './errors.js';
import type { WaitResponse } from './wire.js';

export interface Ctx {
  client(): Client;
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
  /**
   * The words commander is about to parse (after rewriteBoolFlags), when known: `run` and
   * `create` declare only the flags these can name (flag-table.ts). Absent: all of them.
   */
  argv?: readonly string[];
}

export function makeContext(program: Command, argv?: readonly string[]): Ctx {
  let client: Client | undefined;
  return {
    client: () => (client ??= new Client(resolveHost(program.opts().host as string | undefined))),
    // Getters: Node builds process.stdout/stderr on first use (~0.3 ms), which for `berth
    // run` can wait until after the create request is out.
    get out() { return process.stdout; },
    get err() { return process.stderr; },
    argv,
  };
}

export const enc = encodeURIComponent;
export const collect = (v: string, prev: string[] = []) => [...prev, v];

/**
 * docker's FilterOpt for `flag` ("-f, --filter" or "--filter"): "name=value" with the name
 * lower-cased and both trimmed; an empty value is ignored; no "=" is a flag error (exit 125).
 */
export const filterArg = (flag: string) => (v: string, prev: string[] = []): string[] => {
  if (v === '') return prev;
  const i = v.indexOf('=');
  if (i < 0) throw new FlagError(v, flag, 'bad format of filter (expected name=value)');
  return [...prev, `${v.slice(0, i).trim().toLowerCase()}=${v.slice(i + 1).trim()}`];
};

/**
 * POST /containers/{id}/wait, issued before start. Resolves `ready` when the daemon has
 * answered with headers (dockerd sends them at once, so the waiter is registered before we
 * start), or after a short grace period for daemons that hold them back.
 */
export function beginWait(ctx: Ctx, id: string, condition?: 'next-exit' | 'removed', signal?: AbortSignal): { ready: Promise<void>; result: Promise<WaitResponse> } {
  const res = ctx.client().stream('POST', `/containers/${enc(id)}/wait`, { query: { condition }, signal });
  const result = res.then(async (r) => JSON.parse((await r.readAll()).toString('utf8')) as WaitResponse);
  result.catch(() => { /* observed by the caller */ });
  const ready = Promise.race([res.then(() => undefined, () => undefined), new Promise<void>((r) => setTimeout(r, 1500).unref())]);
  return { ready, result };
}

/** Parses docker's `--filter k=v` list into the API's map-of-maps JSON. */
export function filtersJSON(list: string[] | undefined): string | undefined {
  if (!list?.length) return undefined;
  const f: Record<string, Record<string, boolean>> = {};
  for (const item of list) {
    const i = item.indexOf('=');
    if (i < 0) throw new Error(`bad format of filter (expected name=value)`);
    (f[item.slice(0, i).trim().toLowerCase()] ??= {})[item.slice(i + 1)] = true;
  }
  return JSON.stringify(f);
}

/** Reads y/N from stdin for prune confirmations. */
export async function confirm(ctx: Ctx, message: string): Promise<boolean> {
  return ask(ctx, `${message}\nAre you sure you want to continue?`);
}

/** docker's prompt.Confirm: the question as given, then " [y/N] "; only y or yes (any case) agree. */
export async function ask(ctx: Ctx, question: string): Promise<boolean> {
  ctx.out.write(`${question} [y/N] `);
  const input = process.stdin;
  return new Promise((resolve) => {
    let buf = '';
    const done = (v: boolean) => { input.removeAllListeners('data'); input.pause(); resolve(v); };
    input.on('data', (c: Buffer) => {
      buf += c.toString();
      if (buf.includes('\n')) done(/^\s*y(es)?\s*$/i.test(buf.split('\n')[0]!));
    });
    input.once('end', () => done(/^\s*y(es)?\s*$/i.test(buf)));
    input.resume();
  });
}

/** Wraps an action: errors become docker-style one-liners with `code` as default status. */
export type Act = <A extends unknown[]>(code: number, fn: (...args: A) => Promise<void>) => (...args: A) => Promise<void>;
