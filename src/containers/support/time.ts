import { invalidArgument } from '../../common/errors.js';

/**
 * Time helpers at nanosecond precision (BigInt), since a double cannot hold unix
 * nanoseconds exactly and log filtering compares conmon's RFC3339Nano stamps.
 */

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9})\d*)?([Zz]|[+-]\d{2}:?\d{2})$/;

/** Unix nanoseconds of an RFC 3339 timestamp (any offset, any fraction length), or undefined. */
export function parseRFC3339Nano(s: string): bigint | undefined {
  const m = RFC3339.exec(s);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, se, frac, tz] = m;
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(se));
  if (Number.isNaN(ms)) return undefined;
  let offsetMin = 0;
  if (tz !== 'Z' && tz !== 'z') {
    const sign = tz![0] === '-' ? -1 : 1;
    const digits = tz!.slice(1).replace(':', '');
    offsetMin = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2)));
  }
  const nanos = frac ? BigInt(frac.padEnd(9, '0')) : 0n;
  return (BigInt(ms) - BigInt(offsetMin) * 60_000n) * 1_000_000n + nanos;
}

/** Go's time.RFC3339Nano in UTC: trailing zeros of the fraction trimmed, as docker prints. */
export function formatRFC3339Nano(t: bigint | Date | number): string {
  const ns = typeof t === 'bigint' ? t : BigInt(typeof t === 'number' ? Math.round(t) : t.getTime()) * 1_000_000n;
  let sec = ns / 1_000_000_000n;
  let frac = ns % 1_000_000_000n;
  if (frac < 0n) {
    frac += 1_000_000_000n;
    sec -= 1n;
  }
  const base = new Date(Number(sec) * 1000).toISOString().slice(0, 19);
  const f = frac === 0n ? '' : '.' + frac.toString().padStart(9, '0').replace(/0+$/, '');
  return `${base}${f}Z`;
}

/** RFC3339Nano with all nine digits (the fixed-width form, as conmon writes log stamps). */
export function formatRFC3339NanoFixed(ns: bigint): string {
  const sec = ns / 1_000_000_000n;
  const frac = ns % 1_000_000_000n;
  return `${new Date(Number(sec) * 1000).toISOString().slice(0, 19)}.${frac.toString().padStart(9, '0')}Z`;
}

/** Now in unix nanoseconds (wall clock, nanosecond-ish resolution). */
export function nowNanos(): bigint {
  const hr = process.hrtime.bigint();
  return BigInt(Date.now()) * 1_000_000n + (hr % 1_000_000n);
}

/** Unix seconds (fractional) → nanoseconds, exact to the microsecond at least. */
export function secondsToNanos(sec: number): bigint {
  const whole = Math.floor(sec);
  return BigInt(whole) * 1_000_000_000n + BigInt(Math.round((sec - whole) * 1e9));
}

const UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Go's time.ParseDuration ("1h30m", "2.5s", "300ms", "-1m"), in milliseconds. */
export function parseDuration(s: string): number {
  const str = s.trim();
  if (str === '0') return 0;
  const m = /^([+-])?((?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+$/.exec(str);
  if (!m) throw invalidArgument(`invalid duration "${s}"`);
  let total = 0;
  for (const part of str.replace(/^[+-]/, '').matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g)) {
    total += Number(part[1]) * UNITS[part[2]!]!;
  }
  return m[1] === '-' ? -total : total;
}
