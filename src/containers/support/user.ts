import { invalidArgument } from '../../common/errors.js';
import { readFileInRootIfExists } from './in-root.js';

/**
 * Docker's user resolution (moby/sys/user GetExecUser semantics) against the image's
 * own /etc/passwd and /etc/group, read inside the rootfs only (see in-root.ts).
 */

export interface ResolvedUser {
  uid: number;
  gid: number;
  /** Supplementary groups: /etc/group membership of a named user, then --group-add. */
  additionalGids: number[];
  home: string;
}

interface PasswdEntry { name: string; uid: number; gid: number; home: string }
interface GroupEntry { name: string; gid: number; members: string[] }

const MAX_ID = 2 ** 31 - 1;
const NUMERIC = /^[+-]?\d+$/;

function toId(s: string): number | undefined {
  if (!NUMERIC.test(s)) return undefined;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : undefined;
}

function checkRange(n: number, what: string): number {
  if (n < 0 || n > MAX_ID) throw invalidArgument(`${what} ${n} is outside of the range [0, ${MAX_ID}]`);
  return n;
}

/** Each non-blank line split on ':'; malformed numeric fields make the entry unusable. */
export function parsePasswd(text: string): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const f = line.split(':');
    const uid = toId(f[2] ?? '');
    const gid = toId(f[3] ?? '');
    if (uid === undefined || gid === undefined) continue;
    out.push({ name: f[0] ?? '', uid, gid, home: f[5] ?? '' });
  }
  return out;
}

export function parseGroup(text: string): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const f = line.split(':');
    const gid = toId(f[2] ?? '');
    if (gid === undefined) continue;
    const members = (f[3] ?? '').split(',').map((m) => m.trim()).filter((m) => m !== '');
    out.push({ name: f[0] ?? '', gid, members });
  }
  return out;
}

interface EtcFiles { passwd?: PasswdEntry[]; group?: GroupEntry[] }

const CACHE_ENTRIES = 64;
const CACHE_MAX_FILE = 64 * 1024;

/**
 * An image's parsed /etc/passwd and /etc/group, by image id (its layers never change).
 * Only for a container whose own layer is still empty: then the image's files are the
 * ones it sees (the caller checks). Reading them inside the rootfs safely is ~10 thread-pool
 * round trips (~1.2 ms) on every start; a hit is none. Small files only, 64 images.
 */
export class ImageEtcCache {
  #entries = new Map<string, EtcFiles>();
  get(image: string): EtcFiles | undefined {
    const e = this.#entries.get(image);
    if (e) { this.#entries.delete(image); this.#entries.set(image, e); }
    return e;
  }
  set(image: string, etc: EtcFiles): void {
    this.#entries.set(image, etc);
    if (this.#entries.size > CACHE_ENTRIES) this.#entries.delete(this.#entries.keys().next().value!);
  }
}

async function readEtc(rootfsDir: string, cache?: { cache: ImageEtcCache; image: string }): Promise<EtcFiles> {
  const hit = cache?.cache.get(cache.image);
  if (hit) return hit;
  const [p, g] = await Promise.all([
    readFileInRootIfExists(rootfsDir, '/etc/passwd'),
    readFileInRootIfExists(rootfsDir, '/etc/group'),
  ]);
  const etc = { passwd: p && parsePasswd(p.toString('utf8')), group: g && parseGroup(g.toString('utf8')) };
  if (cache && (p?.length ?? 0) <= CACHE_MAX_FILE && (g?.length ?? 0) <= CACHE_MAX_FILE) cache.cache.set(cache.image, etc);
  return etc;
}

/** Pure resolution over already-parsed files (undefined = the image has no such file). */
export function resolveUserFrom(etc: EtcFiles, userSpec: string, groupAdd: string[] = []): ResolvedUser {
  const colon = userSpec.indexOf(':');
  const userArg = colon < 0 ? userSpec : userSpec.slice(0, colon);
  const groupArg = colon < 0 ? '' : userSpec.slice(colon + 1);
  const uidArg = toId(userArg);
  const gidArg = toId(groupArg);

  const res: ResolvedUser = { uid: 0, gid: 0, additionalGids: [], home: '' };
  const users = (etc.passwd ?? []).filter((u) =>
    userArg === '' ? u.uid === 0 : uidArg !== undefined ? u.uid === uidArg : u.name === userArg);

  let matchedName = '';
  if (users.length > 0) {
    // First match wins, as in docker.
    const u = users[0]!;
    matchedName = u.name;
    res.uid = u.uid;
    res.gid = u.gid;
    res.home = u.home;
  } else if (userArg !== '') {
    if (uidArg === undefined) throw invalidArgument(`unable to find user ${userArg}: no matching entries in passwd file`);
    res.uid = checkRange(uidArg, 'uid');
  }

  if (groupArg !== '' || matchedName !== '') {
    const groups = (etc.group ?? []).filter((g) =>
      groupArg === '' ? g.members.includes(matchedName) : gidArg !== undefined ? g.gid === gidArg : g.name === groupArg);
    if (groupArg !== '') {
      if (groups.length > 0) res.gid = groups[0]!.gid;
      else if (gidArg === undefined) throw invalidArgument(`unable to find group ${groupArg}: no matching entries in group file`);
      else res.gid = checkRange(gidArg, 'gid');
    } else {
      // Supplementary groups only in the implicit form (no explicit group given).
      res.additionalGids = groups.map((g) => g.gid);
    }
  }
  for (const gid of resolveGroupAddFrom(etc, groupAdd)) {
    if (!res.additionalGids.includes(gid)) res.additionalGids.push(gid);
  }
  if (res.home === '') res.home = '/';
  return res;
}

/** --group-add: names looked up in /etc/group, numbers taken as they are. */
export function resolveGroupAddFrom(etc: EtcFiles, groupAdd: string[]): number[] {
  const out: number[] = [];
  for (const ag of groupAdd) {
    const byName = (etc.group ?? []).find((g) => g.name === ag);
    let gid: number;
    if (byName) gid = byName.gid;
    else {
      const n = toId(ag);
      if (n === undefined) throw invalidArgument(`unable to find group ${ag}: no matching entries in group file`);
      gid = checkRange(n, 'gid');
    }
    if (!out.includes(gid)) out.push(gid);
  }
  return out;
}

/**
 * Resolve a docker `User` spec ("", "name", "uid", "name:group", "uid:gid",
 * "uid:groupname") against the image rootfs. Numeric users work without /etc/passwd
 * (distroless). groupAdd is --group-add, appended to the supplementary groups.
 * `cache`: the image's parsed files may answer (the caller vouches that the container
 * has written nothing of its own yet).
 */
export async function resolveUser(rootfsDir: string, userSpec: string, groupAdd: string[] = [], cache?: { cache: ImageEtcCache; image: string }): Promise<ResolvedUser> {
  return resolveUserFrom(await readEtc(rootfsDir, cache), userSpec.trim(), groupAdd);
}

/** Resolve a --group-add list alone (for exec, where the user may differ). */
export async function resolveGroupAdd(rootfsDir: string, groupAdd: string[]): Promise<number[]> {
  if (groupAdd.length === 0) return [];
  return resolveGroupAddFrom(await readEtc(rootfsDir), groupAdd);
}
