/** docker ps filters and ordering, pure. */
import type { ContainerRecord, ListFilters } from './types.js';

export function labelMatch(labels: Record<string, string> | undefined, want: string): boolean {
  const i = want.indexOf('=');
  if (i < 0) return labels !== undefined && want in labels;
  return labels?.[want.slice(0, i)] === want.slice(i + 1);
}

export function matchesFilters(c: ContainerRecord, f: ListFilters, resolveImageId: (ref: string) => string | undefined, createdOf: (ref: string) => string | undefined): boolean {
  if (f.id?.length && !f.id.some((p) => c.Id.startsWith(p))) return false;
  if (f.name?.length && !f.name.some((n) => {
    // dockerd matches the pattern against the name with and without its slash,
    // so both "web" and docker-py's exact-match idiom "^/web$" work.
    const names = [c.Name.startsWith('/') ? c.Name : `/${c.Name}`];
    names.push(names[0]!.slice(1));
    try { const re = new RegExp(n); return names.some((x) => re.test(x)); } catch { return names.some((x) => x.includes(n)); }
  })) return false;
  if (f.label?.length && !f.label.every((l) => labelMatch(c.Config.Labels, l))) return false;
  if (f.status?.length && !f.status.includes(c.State.Status)) return false;
  if (f.exited?.length && !(c.State.Status === 'exited' && f.exited.includes(String(c.State.ExitCode)))) return false;
  if (f.ancestor?.length && !f.ancestor.some((a) => {
    if (a === c.ImageRef || c.Image === a || c.Image.replace('sha256:', '').startsWith(a.replace('sha256:', ''))) return true;
    const id = resolveImageId(a);
    return id !== undefined && id === c.Image;
  })) return false;
  if (f.health?.length && !f.health.includes(c.State.Health?.Status ?? 'none')) return false;
  if (f.before?.length) {
    const t = createdOf(f.before[0]!);
    if (!t || !(c.Created < t)) return false;
  }
  if (f.since?.length) {
    const t = createdOf(f.since[0]!);
    if (!t || !(c.Created > t)) return false;
  }
  return true;
}

/** Newest first, as docker lists. */
export function newestFirst(a: ContainerRecord, b: ContainerRecord): number {
  return a.Created < b.Created ? 1 : a.Created > b.Created ? -1 : 0;
}
