/**
 * Per-interface counters of a network namespace, read from /proc/<pid>/net/dev of a
 * process inside it (docker's `networks` in stats). Loopback is left out, as dockerd does.
 */
import { readText } from './read.js';

export interface NetDevCounters {
  rx_bytes: number; rx_packets: number; rx_errors: number; rx_dropped: number;
  tx_bytes: number; tx_packets: number; tx_errors: number; tx_dropped: number;
}

export function parseNetDev(text: string): Record<string, NetDevCounters> {
  const out: Record<string, NetDevCounters> = {};
  for (const line of text.split('\n').slice(2)) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim();
    if (!name || name === 'lo') continue;
    const f = line.slice(colon + 1).trim().split(/\s+/).map(Number);
    if (f.length < 16) continue;
    out[name] = {
      rx_bytes: f[0]!, rx_packets: f[1]!, rx_errors: f[2]!, rx_dropped: f[3]!,
      tx_bytes: f[8]!, tx_packets: f[9]!, tx_errors: f[10]!, tx_dropped: f[11]!,
    };
  }
  return out;
}

export async function readNetDev(pid: number, proc = '/proc'): Promise<Record<string, NetDevCounters> | undefined> {
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  const text = await readText(`${proc}/${pid}/net/dev`);
  return text === undefined ? undefined : parseNetDev(text);
}
