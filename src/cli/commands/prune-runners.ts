/**
 * The five prune calls `system prune` chains (docker/cli's RunPrune of each group): one API
 * call each, giving the space reclaimed and the section docker prints ("Deleted ...:" then
 * one line per object, or "" when nothing went). Prompting is the caller's business.
 */
import type { Ctx } from '../context.js';
import { filtersJSON } from '../context.js';

export interface PruneResult { space: number; output: string }

/** "Heading:\nline\nline\n", or "" for an empty list (docker prints no heading then). */
function section(heading: string, lines: string[]): string {
  return lines.length ? `${heading}\n${lines.map((l) => l + '\n').join('')}` : '';
}

// docker counts a group's space only when it listed something (a daemon's stray count is ignored).
const counted = (output: string, space: number | undefined) => (output ? Math.max(0, space ?? 0) : 0);

export async function pruneContainers(ctx: Ctx, filters: string[]): Promise<PruneResult> {
  const r = await ctx.client().json<{ ContainersDeleted?: string[] | null; SpaceReclaimed?: number }>('POST', '/containers/prune', { query: { filters: filtersJSON(filters) } });
  const output = section('Deleted Containers:', r.ContainersDeleted ?? []);
  return { space: counted(output, r.SpaceReclaimed), output };
}

/** Networks free no disk space: docker reports none for them. */
export async function pruneNetworks(ctx: Ctx, filters: string[]): Promise<PruneResult> {
  const r = await ctx.client().json<{ NetworksDeleted?: string[] | null }>('POST', '/networks/prune', { query: { filters: filtersJSON(filters) } });
  return { space: 0, output: section('Deleted Networks:', r.NetworksDeleted ?? []) };
}

/** `all` adds the API's all=true filter (named volumes too); without it only anonymous ones go. */
export async function pruneVolumes(ctx: Ctx, filters: string[], all = false): Promise<PruneResult> {
  const r = await ctx.client().json<{ VolumesDeleted?: string[] | null; SpaceReclaimed?: number }>('POST', '/volumes/prune', {
    query: { filters: filtersJSON([...filters, ...(all ? ['all=true'] : [])]) },
  });
  const output = section('Deleted Volumes:', r.VolumesDeleted ?? []);
  return { space: counted(output, r.SpaceReclaimed), output };
}

/** docker always sends dangling=true|false: false (every unused image) with -a. */
export async function pruneImages(ctx: Ctx, filters: string[], all: boolean): Promise<PruneResult> {
  const r = await ctx.client().json<{ ImagesDeleted?: Array<{ Untagged?: string; Deleted?: string }> | null; SpaceReclaimed?: number }>('POST', '/images/prune', {
    query: { filters: filtersJSON([...filters, `dangling=${!all}`]) },
  });
  const lines = (r.ImagesDeleted ?? []).map((d) => (d.Untagged ? `untagged: ${d.Untagged}` : `deleted: ${d.Deleted ?? ''}`));
  const output = section('Deleted Images:', lines);
  return { space: counted(output, r.SpaceReclaimed), output };
}

export async function pruneBuildCache(ctx: Ctx, filters: string[], o: { all?: boolean; keepStorage?: number } = {}): Promise<PruneResult> {
  const r = await ctx.client().json<{ CachesDeleted?: string[] | null; SpaceReclaimed?: number }>('POST', '/build/prune', {
    query: { all: o.all ? 1 : undefined, 'keep-storage': o.keepStorage ? o.keepStorage : undefined, filters: filtersJSON(filters) },
  });
  // Unlike the others, docker counts build cache space even when no object is listed.
  return { space: Math.max(0, r.SpaceReclaimed ?? 0), output: section('Deleted build cache objects:', r.CachesDeleted ?? []) };
}
