/**
 * docker rmi's decision, as a pure plan over the next image records: which names go,
 * whether the image itself goes, or which conflict refuses the whole request. It
 * follows moby's ImageDelete: a name untags (and a tag's last removal takes the
 * same repository's digest references along); the image is deleted only when no
 * reference is left, and then only if no conflict stands in the way. A running
 * container is a hard conflict that even force does not override.
 */
import { conflict } from '../common/errors.js';
import { shortId } from '../common/ids.js';
import type { RemoveResult } from './types.js';
import type { StoredImage } from './store.js';
import { familiarString, fullName, normalizedString, parseReference, withDefaultTag } from './reference.js';

/** A container that uses an image. */
export interface ImageUser {
  id: string;
  running: boolean;
}

/** What callers may answer to "who uses this image": the users, or (older callers) an id or a flag. */
export type InUse = (imageId: string) => ImageUser[] | boolean | string | undefined;

export function usersOf(isInUse: InUse, id: string): ImageUser[] {
  const r = isInUse(id);
  if (Array.isArray(r)) return r;
  if (!r) return [];
  return [{ id: typeof r === 'string' ? r : 'unknown', running: false }];
}

export interface RemovePlan {
  out: RemoveResult[];
  /** The names removed, for untag events. */
  untagged: string[];
  /** The image record goes too. */
  deleteImage: boolean;
}

const norm = (r: string) => normalizedString(withDefaultTag(parseReference(r)));
const isDigestRef = (r: string) => parseReference(r).digest !== undefined;
const repoOf = (r: string) => fullName(parseReference(r));

/** docker's isSingleReference: at most one tag, and every reference in one repository. */
export function isSingleReference(refs: string[]): boolean {
  if (refs.filter((r) => !isDigestRef(r)).length > 1) return false;
  return new Set(refs.map(repoOf)).size <= 1;
}

/**
 * rec is the draft record (mutated: names removed). byId tells whether ref named the
 * image by id (or id prefix) rather than by a name.
 */
export function planRemove(rec: StoredImage, ref: string, byId: boolean, force: boolean, users: ImageUser[]): RemovePlan {
  const id = rec.id;
  const plan: RemovePlan = { out: [], untagged: [], deleteImage: false };
  const untag = (name: string) => {
    const want = norm(name);
    rec.repoTags = rec.repoTags.filter((r) => norm(r) !== want);
    rec.repoDigests = rec.repoDigests.filter((r) => norm(r) !== want);
    const shown = familiarString(withDefaultTag(parseReference(name)));
    plan.out.push({ Untagged: shown });
    plan.untagged.push(shown);
  };
  const refs = () => [...rec.repoTags, ...rec.repoDigests];
  const running = users.find((u) => u.running);
  const stopped = users.find((u) => !u.running);
  let quiet = false;

  if (!byId) {
    if (!force && isSingleReference(refs()) && users.length > 0) {
      throw conflict(`conflict: unable to remove repository reference "${ref}" (must force) - container ${shortId(users[0]!.id)} is using its referenced image ${shortId(id)}`);
    }
    const parsed = withDefaultTag(parseReference(ref));
    // A name@digest that found the image through its manifest digest names no stored reference.
    const stored = refs().find((r) => norm(r) === normalizedString(parsed));
    untag(stored ?? familiarString(parsed));
    if (!parsed.digest) {
      // The repository's last tag gone: its digest references go with it.
      const repo = fullName(parsed);
      if (!rec.repoTags.some((t) => repoOf(t) === repo)) {
        for (const d of rec.repoDigests.filter((r) => repoOf(r) === repo)) untag(d);
      }
    }
    if (refs().length > 0) return plan;
    quiet = true;
  } else if (isSingleReference(refs())) {
    // By id with one repository's names: those names go first, unless a container
    // keeps the image (checked now, so a refusal changes nothing).
    if (running) throw hardConflict(id, `image is being used by running container ${shortId(running.id)}`);
    if (!force && stopped) throw softConflict(id, `image is being used by stopped container ${shortId(stopped.id)}`);
    for (const r of refs()) untag(r);
  }

  // The image itself: hard conflicts always count, soft ones unless forced.
  let c: { message: string; used: boolean } | undefined;
  if (running) c = { message: hardMessage(id, `image is being used by running container ${shortId(running.id)}`), used: true };
  else if (!force && refs().length > 0) c = { message: softMessage(id, 'image is referenced in multiple repositories'), used: false };
  else if (!force && stopped) c = { message: softMessage(id, `image is being used by stopped container ${shortId(stopped.id)}`), used: true };
  if (c) {
    // After untagging its last name, a used image stays (dangling) without an error, as docker's.
    if (quiet && c.used) return plan;
    throw conflict(c.message);
  }
  for (const r of refs()) untag(r);
  plan.deleteImage = true;
  plan.out.push({ Deleted: id });
  return plan;
}

const hardMessage = (id: string, why: string) => `conflict: unable to delete ${shortId(id)} (cannot be forced) - ${why}`;
const softMessage = (id: string, why: string) => `conflict: unable to delete ${shortId(id)} (must be forced) - ${why}`;
const hardConflict = (id: string, why: string) => conflict(hardMessage(id, why));
const softConflict = (id: string, why: string) => conflict(softMessage(id, why));
