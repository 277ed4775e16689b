import { constants } from 'node:os';
import { invalidArgument } from '../../common/errors.js';

/**
 * Linux signal names as docker accepts them (moby/sys/signal): the classic names
 * plus the aliases CLD, IOT, POLL and the real-time range RTMIN..RTMAX (34..64, as
 * glibc reserves 32 and 33 for itself).
 */
const RTMIN = 34;
const RTMAX = 64;

function buildMap(): Map<string, number> {
  const m = new Map<string, number>();
  for (const [name, num] of Object.entries(constants.signals)) {
    if (name.startsWith('SIG')) m.set(name.slice(3), num);
  }
  // Node omits some of docker's aliases; add them explicitly.
  m.set('CLD', m.get('CHLD') ?? 17);
  m.set('IOT', m.get('ABRT') ?? 6);
  m.set('POLL', m.get('IO') ?? 29);
  m.delete('UNUSED');
  m.delete('LOST');
  m.set('RTMIN', RTMIN);
  m.set('RTMAX', RTMAX);
  for (let i = 1; i <= 15; i++) {
    m.set(`RTMIN+${i}`, RTMIN + i);
    m.set(`RTMAX-${i}`, RTMAX - i);
  }
  return m;
}

export const SIGNALS: ReadonlyMap<string, number> = buildMap();

/** "SIGTERM", "TERM", "term", "15" → 15; anything else → INVALID_ARGUMENT "Invalid signal: X". */
export function parseSignal(raw: string | number): number {
  const s = String(raw).trim();
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    if (n < 1 || n > RTMAX) throw invalidArgument(`Invalid signal: ${raw}`);
    return n;
  }
  const n = SIGNALS.get(s.toUpperCase().replace(/^SIG/, ''));
  if (n === undefined) throw invalidArgument(`Invalid signal: ${raw}`);
  return n;
}

/** The canonical "SIGxxx" name of a number (for events' "signal" attribute). */
export function signalName(n: number): string {
  for (const [name, num] of SIGNALS) {
    if (num === n && !['CLD', 'IOT', 'POLL'].includes(name)) return `SIG${name}`;
  }
  return String(n);
}
