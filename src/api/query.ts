/**
 * Query-string decoding in docker's conventions. Every client spells things
 * differently (1/0, True/False, true/false, empty), so decoding lives here once.
 */
import { invalidArgument } from '../common/errors.js';

/** docker's BoolValue: absent, "", 0, no, false, none are false; anything else is true. */
export function qBool(q: URLSearchParams, key: string, dflt = false): boolean {
  const v = q.get(key);
  if (v === null) return dflt;
  const s = v.trim().toLowerCase();
  return !(s === '' || s === '0' || s === 'no' || s === 'false' || s === 'none');
}

/** Integer or undefined when absent/empty. */
export function qInt(q: URLSearchParams, key: string): number | undefined {
  const v = q.get(key);
  if (v === null || v.trim() === '') return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || !Number.isInteger(n)) throw invalidArgument(`invalid value for ${key}: ${JSON.stringify(v)}`);
  return n;
}

export function qStr(q: URLSearchParams, key: string): string | undefined {
  const v = q.get(key);
  return v === null || v === '' ? undefined : v;
}

/** `limit=-1` (docker-py's default) and 0 mean no limit. */
export function qLimit(q: URLSearchParams): number | undefined {
  const n = qInt(q, 'limit');
  return n === undefined || n <= 0 ? undefined : n;
}

/** `tail=all`, `tail=-1` or empty mean everything; N the last N lines. */
export function qTail(q: URLSearchParams): number | undefined {
  const v = q.get('tail');
  if (v === null || v === '' || v === 'all') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw invalidArgument(`invalid value for tail: ${JSON.stringify(v)}`);
  return n < 0 ? undefined : n;
}

/**
 * A point in time as unix seconds (fractional): `946684800.000000000`, `946684800`,
 * or RFC 3339. 0 and absent mean "not set".
 */
export function parseTime(v: string | null | undefined, key = 'time'): number | undefined {
  if (v === null || v === undefined || v === '') return undefined;
  if (/^-?\d+(\.\d+)?$/.test(v)) {
    const n = Number(v);
    return n === 0 ? undefined : n;
  }
  const ms = Date.parse(v);
  if (Number.isNaN(ms)) throw invalidArgument(`failed to parse value as time or duration: ${JSON.stringify(v)} (${key})`);
  // Keep sub-millisecond digits Date.parse drops.
  const frac = /\.(\d{4,9})/.exec(v);
  const extra = frac ? Number('0.000' + (frac[1] ?? '').slice(3)) : 0;
  return ms / 1000 + extra;
}

export function qTime(q: URLSearchParams, key: string): number | undefined {
  return parseTime(q.get(key), key);
}

/**
 * `filters` arrives as map-of-maps (`{"label":{"k=v":true}}`, the CLI) or
 * map-of-lists (`{"name":["x"]}`, docker-py); both become Record<string,string[]>.
 */
export function decodeFilters(raw: string | null | undefined): Record<string, string[]> {
  if (raw === null || raw === undefined || raw.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw invalidArgument(`invalid filter: ${JSON.stringify(raw)}`);
  }
  if (parsed === null) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) throw invalidArgument(`invalid filter: ${JSON.stringify(raw)}`);
  const out: Record<string, string[]> = {};
  for (const [key, val] of Object.entries(parsed as Record<string, unknown>)) {
    if (Array.isArray(val)) out[key] = val.map(String);
    else if (val && typeof val === 'object') out[key] = Object.entries(val as Record<string, unknown>).filter(([, on]) => on !== false).map(([k]) => k);
    else if (typeof val === 'string') out[key] = [val];
    else throw invalidArgument(`invalid filter: ${JSON.stringify(raw)}`);
  }
  return out;
}

export function qFilters(q: URLSearchParams): Record<string, string[]> {
  return decodeFilters(q.get('filters'));
}

/** Accept only the listed filter keys, as dockerd does ("invalid filter 'x'"). */
export function checkFilterKeys(filters: Record<string, string[]>, allowed: readonly string[]): void {
  for (const k of Object.keys(filters)) {
    if (!allowed.includes(k)) throw invalidArgument(`invalid filter '${k}'`);
  }
}
