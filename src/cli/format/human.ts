/**
 * docker's human units (go-units): HumanDuration, HumanSize (decimal, 3 significant
 * digits) and RAMInBytes (binary), so output and flag errors match docker's byte for byte.
 */
import { humanDuration } from '../../common/human.js';

export { humanDuration };


/** "5 seconds ago" for a unix-seconds timestamp. */
export function ago(unixSeconds: number, now = Date.now()): string {
  return humanDuration(now - unixSeconds * 1000) + ' ago';
}

const DECIMAL = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];

/** Go's %.{p}g: p significant digits, trailing zeros trimmed. */
function goG(x: number, p: number): string {
  return String(Number(x.toPrecision(p)));
}

export function humanSize(bytes: number, precision = 3): string {
  let size = bytes, i = 0;
  while (size >= 1000 && i < DECIMAL.length - 1) { size /= 1000; i++; }
  return goG(size, precision) + DECIMAL[i];
}

const BINARY: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };

/** go-units RAMInBytes: "512m", "1g", "1.5GB", "100" → bytes; throws `invalid size: 'x'`. */
export function ramInBytes(s: string): number {
  const m = /^(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$/.exec(s);
  if (!m) {
    // go-units names the bad suffix when the number itself parsed ("10zz" → 'zz').
    const num = /^\d+(?:\.\d+)? ?/.exec(s);
    throw new Error(num ? `invalid suffix: '${s.slice(num[0].length)}'` : `invalid size: '${s}'`);
  }
  const n = Number(m[1]);
  if (!Number.isFinite(n)) throw new Error(`invalid size: '${s}'`);
  return Math.floor(n * BINARY[(m[2] ?? '').toLowerCase()]!);
}

/**
 * docker's `--since/--until`: a unix timestamp (seconds[.nanos]), an RFC 3339 date, or a
 * Go duration relative to now ("10m", "1h30m"). Returns "seconds.nanos" as the API wants.
 */
export function parseTimestamp(value: string, now = Date.now()): string {
  if (/^\d+(\.\d{1,9})?$/.test(value)) return value;
  const dur = /^(?:\d+(?:\.\d+)?(?:ns|us|\u00b5s|ms|s|m|h))+$/.test(value);
  let ms: number;
  if (dur) {
    const unit: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
    let total = 0;
    for (const [, n, u] of value.matchAll(/(\d+(?:\.\d+)?)(ns|us|\u00b5s|ms|s|m|h)/g)) total += Number(n) * unit[u!]!;
    ms = now - total;
  } else {
    // Date.parse keeps milliseconds only: the fraction is taken apart so a stamp copied
    // from `logs -t` (nanoseconds) selects exactly the lines from that one on.
    const frac = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.(\d{1,9})(Z|[+-]\d\d:?\d\d)?$/.exec(value);
    if (frac) {
      const whole = Date.parse(frac[1]! + (frac[3] ?? ''));
      if (Number.isNaN(whole)) throw new Error(`failed to parse value as time or duration: "${value}"`);
      return `${Math.floor(whole / 1000)}.${frac[2]!.padEnd(9, '0')}`;
    }
    ms = Date.parse(value);
    if (Number.isNaN(ms)) throw new Error(`failed to parse value as time or duration: "${value}"`);
  }
  const sec = Math.floor(ms / 1000);
  const nanos = Math.round((ms - sec * 1000) * 1e6);
  return `${sec}.${String(nanos).padStart(9, '0')}`;
}

/** docker's Ellipsis: cut to n display columns, last one an ellipsis. */
export function ellipsis(s: string, n: number): string {
  const rs = [...s];
  if (rs.length <= n) return s;
  if (n <= 0) return '';
  if (n === 1) return rs[0]!;
  return rs.slice(0, n - 1).join('') + '…';
}

/**
 * Go's time.Time.String() of an RFC 3339 API time (networks', volumes' Created): the
 * fraction the daemon sent is kept, trailing zeros trimmed ("05:31:36.377 +0000 UTC").
 */
export function goTimeOf(rfc3339: string): string {
  const t = Date.parse(rfc3339);
  if (Number.isNaN(t)) return '';
  const frac = (/T\d\d:\d\d:\d\d\.(\d+)/.exec(rfc3339)?.[1] ?? '').replace(/0+$/, '');
  return goTimeString(Math.floor(t / 1000), frac);
}

/** Go's time.Time.String() layout for CreatedAt columns: "2006-01-02 15:04:05 -0700 MST". */
export function goTimeString(unixSeconds: number, fraction = ''): string {
  const d = new Date(unixSeconds * 1000);
  const p = (n: number) => String(n).padStart(2, '0');
  const off = -d.getTimezoneOffset();
  const sign = off >= 0 ? '+' : '-';
  const zone = `${sign}${p(Math.floor(Math.abs(off) / 60))}${p(Math.abs(off) % 60)}`;
  const name = off === 0 ? 'UTC' : (Intl.DateTimeFormat('en-US', { timeZoneName: 'short' }).formatToParts(d).find((x) => x.type === 'timeZoneName')?.value ?? zone);
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}${fraction ? '.' + fraction : ''} ${zone} ${name}`;
}
