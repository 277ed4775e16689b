/**
 * Which images `docker image prune` takes: dangling ones (no tag; digest references
 * do not count as names here, as in docker), or with all every image, in both cases
 * only when no container (of any state) uses it and the until/label filters match.
 */
import { invalidArgument } from '../common/errors.js';
import type { PruneOptions } from './types.js';
import type { StoredImage } from './store.js';

export function pruneCandidates(images: StoredImage[], o: PruneOptions, isInUse: (imageId: string) => boolean): StoredImage[] {
  return images.filter((img) => {
    if (!o.all && img.repoTags.length > 0) return false;
    if (isInUse(img.id)) return false;
    if (o.until !== undefined) {
      const created = Date.parse(img.config.created ?? img.loadedAt);
      if (!(created < o.until)) return false;
    }
    const labels = img.config.config?.Labels ?? {};
    if (o.label?.length && !o.label.every((l) => labelMatches(labels, l))) return false;
    if (o.labelNot?.some((l) => labelMatches(labels, l))) return false;
    return true;
  });
}

/** "k" (present) or "k=v" (equal), docker's label filter. */
export function labelMatches(labels: Record<string, string>, filter: string): boolean {
  const i = filter.indexOf('=');
  if (i === -1) return Object.hasOwn(labels, filter);
  return labels[filter.slice(0, i)] === filter.slice(i + 1);
}

const GO_UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1e3, m: 6e4, h: 36e5 };

/**
 * docker's filter timestamps (until, since): a Go duration back from now ("24h",
 * "1h30m"), unix seconds ("1700000000.5"), or an RFC 3339 date. Milliseconds since epoch.
 */
export function parseTimestamp(s: string, now = Date.now()): number {
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s) * 1000;
  if (/^((\d+(\.\d+)?)(ns|us|µs|ms|s|m|h))+$/.test(s)) {
    let ms = 0;
    for (const m of s.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) ms += Number(m[1]) * GO_UNITS[m[2]!]!;
    return now - ms;
  }
  const t = /^\d{4}-\d{2}-\d{2}/.test(s) ? Date.parse(s) : NaN;
  if (Number.isNaN(t)) throw invalidArgument(`invalid timestamp "${s}": want a duration (24h), unix seconds or an RFC 3339 date`);
  return t;
}
