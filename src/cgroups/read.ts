/**
 * Small, allocation-light readers for cgroup interface files. A missing file is not
 * an error (a controller may be absent or the cgroup already gone): readers return
 * undefined and callers leave the field out, like dockerd does.
 */
import { readFile } from 'node:fs/promises';

export async function readText(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** A single-value file; "max" (v2's unlimited) comes back as undefined. */
export async function readNumber(file: string): Promise<number | undefined> {
  const t = (await readText(file))?.trim();
  if (t === undefined || t === '' || t === 'max') return undefined;
  const n = Number(t);
  return Number.isFinite(n) ? n : undefined;
}

/** "key value" lines (memory.stat, cpu.stat, memory.events, cpuacct.stat). */
export function parseFlatKeyed(text: string | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  if (!text) return out;
  for (const line of text.split('\n')) {
    const sp = line.indexOf(' ');
    if (sp <= 0) continue;
    const n = Number(line.slice(sp + 1).trim());
    if (Number.isFinite(n)) out[line.slice(0, sp)] = n;
  }
  return out;
}

/** Space-separated numbers (cpuacct.usage_percpu). */
export function parseNumberList(text: string | undefined): number[] | undefined {
  if (!text || !text.trim()) return undefined;
  return text.trim().split(/\s+/).map(Number).filter(Number.isFinite);
}

/** v2 nested keyed lines: "8:0 rbytes=1 wbytes=2 rios=3 wios=4" (io.stat). */
export function parseNestedKeyed(text: string | undefined): Array<{ key: string; values: Record<string, number> }> {
  const out: Array<{ key: string; values: Record<string, number> }> = [];
  if (!text) return out;
  for (const line of text.split('\n')) {
    const [key, ...pairs] = line.trim().split(/\s+/);
    if (!key) continue;
    const values: Record<string, number> = {};
    for (const p of pairs) {
      const eq = p.indexOf('=');
      if (eq > 0) values[p.slice(0, eq)] = Number(p.slice(eq + 1));
    }
    out.push({ key, values });
  }
  return out;
}

/** A cpuset list ("0-3,5") as the set of numbers it names; undefined when malformed. */
export function parseCpuList(list: string): Set<number> | undefined {
  const out = new Set<number>();
  const s = list.trim();
  if (s === '') return out;
  for (const part of s.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) return undefined;
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (b < a || b - a > 65536) return undefined;
    for (let i = a; i <= b; i++) out.add(i);
  }
  return out;
}
