/**
 * --gpus values, as docker's opts.GpuOpts reads them: a CSV line of `all`, a count, or
 * driver=, count=, device=, capabilities=, options= fields, into one DeviceRequest.
 */
import { FlagError } from './errors.js';

export interface GpuRequest {
  Driver: string;
  Count: number;
  DeviceIDs: string[] | null;
  Capabilities: string[][];
  Options: Record<string, string>;
}

/** One CSV record (Go's encoding/csv: commas split, double quotes group, "" is a quote). */
export function csvRecord(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') { cur += '"'; i++; } else if (ch === '"') quoted = false; else cur += ch;
    } else if (ch === '"' && cur === '') quoted = true;
    else if (ch === ',') { out.push(cur); cur = ''; } else cur += ch;
  }
  if (quoted) throw new Error('extraneous or missing " in quoted-field');
  out.push(cur);
  return out;
}

function parseCount(s: string): number {
  if (s === 'all') return -1;
  if (!/^[+-]?\d+$/.test(s)) throw new Error(`invalid count (${s}): value must be either "all" or an integer: invalid syntax`);
  return Number(s);
}

export function parseGpus(value: string): GpuRequest {
  const bad = (why: string) => new FlagError(value, '--gpus', why);
  const req: GpuRequest = { Driver: '', Count: 0, DeviceIDs: null, Capabilities: [], Options: {} };
  let fields: string[];
  try { fields = csvRecord(value); } catch (e) { throw bad((e as Error).message); }
  const seen = new Set<string>();
  let caps: string[][] | undefined;
  try {
    for (const field of fields) {
      const i = field.indexOf('=');
      const key = i < 0 ? field : field.slice(0, i);
      const val = i < 0 ? '' : field.slice(i + 1);
      if (seen.has(key)) throw new Error(`gpu request key '${key}' can be specified only once`);
      seen.add(key);
      if (i < 0) { seen.add('count'); req.Count = parseCount(key); continue; }
      switch (key) {
        case 'driver': req.Driver = val; break;
        case 'count': req.Count = parseCount(val); break;
        case 'device': req.DeviceIDs = val.split(','); break;
        case 'capabilities': caps = [[...val.split(','), 'gpu']]; break;
        case 'options':
          for (const kv of csvRecord(val)) {
            const j = kv.indexOf('=');
            req.Options[j < 0 ? kv : kv.slice(0, j)] = j < 0 ? '' : kv.slice(j + 1);
          }
          break;
        default: throw new Error(`unexpected key '${key}' in '${field}'`);
      }
    }
  } catch (e) {
    throw bad((e as Error).message);
  }
  if (!seen.has('count') && req.DeviceIDs === null) req.Count = 1;
  req.Capabilities = caps ?? [['gpu']];
  return req;
}
