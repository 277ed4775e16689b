/**
 * Query-string decoding in docker's conventions. Every client spells things
 * differently (1/0, True/False, true/false, empty), so decoding lives here once.
 */
import { invalidArgument } from '../common/errors.js';
import { parseRFC3339Nano } from '../containers/index.js';

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
 * A point in time as unix nanoseconds (BigInt: a double cannot hold them exactly, and a
 * stamp copied from `logs -t` or `events` must select the line or event stamped at that
 * very instant). Forms: unix seconds with an optional fraction of up to 9 digits, as the
 * docker CLI sends them (`946684800.000000000`), or RFC 3339 with any fraction.
 * 0 and absent mean "not set".
 */
export function parseTimeNs(v: string | null | undefined, key = 'time'): bigint | undefined {
  if (v === null || v === undefined || v === '') return undefined;
  const m = /^(-?)(\d+)(?:\.(\d{0,9})\d*)?$/.exec(v);
  if (m) {
    const ns = BigInt(m[2]!) * 1_000_000_000n + BigInt((m[3] ?? '').padEnd(9, '0'));
    if (ns === 0n) return undefined;
    return m[1] === '-' ? -ns : ns;
  }
  const ns = parseRFC3339Nano(v);
  if (ns === undefined) throw invalidArgument(`failed to parse value as time or duration: ${JSON.stringify(v)} (${key})`);
  return ns;
}

export function qTime(q: URLSearchParams, key: string): bigint | undefined {
  return parseTimeNs(q.get(key), key);
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

/**
 * An `until` filter in unix seconds beyond int64 (dockerd's ParseInt refuses it: 400) or
 * beyond a JS Date's ±8.64e15 ms (a RangeError, a 500, or "prune everything").
 */
export function checkUntilFilter(filters: Record<string, string[]>): void {
  for (const v of filters['until'] ?? []) {
    const m = /^(\d+)(\.\d+)?$/.exec(v);
    if (m && (BigInt(m[1]!) > 9223372036854775807n || Number(m[1]) * 1000 > 8.64e15)) throw invalidArgument(`invalid filter 'until=${v}': the timestamp is out of range`);
  }
}
