import { createHash, randomBytes } from 'node:crypto';

/** A new 64-hex-character id, like docker's container and exec ids. */
export function newId(): string {
  return randomBytes(32).toString('hex');
}

export function shortId(id: string): string {
  return id.replace(/^sha256:/, '').slice(0, 12);
}

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

export function sha256Digest(data: string | Buffer): string {
  return 'sha256:' + sha256Hex(data);
}

const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;
export function isDigest(s: string): boolean {
  return DIGEST_RE.test(s);
}

/** Container names as docker allows them: [a-zA-Z0-9][a-zA-Z0-9_.-]+ */
export const CONTAINER_NAME_RE = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

const ADJECTIVES = ['admiring', 'bold', 'brave', 'calm', 'clever', 'eager', 'focused', 'gallant', 'happy', 'jolly', 'keen', 'loving', 'modest', 'nifty', 'quirky', 'serene', 'sharp', 'stoic', 'vibrant', 'zealous'];
const NOUNS = ['albatross', 'barnacle', 'cormorant', 'dolphin', 'ferry', 'gull', 'harbor', 'jetty', 'keel', 'lighthouse', 'mooring', 'narwhal', 'orca', 'pelican', 'quay', 'rudder', 'schooner', 'tugboat', 'wharf', 'yacht'];

/** A random docker-style name (adjective_noun). Callers retry on collision. */
export function randomName(): string {
  const a = ADJECTIVES[randomBytes(1)[0]! % ADJECTIVES.length];
  const n = NOUNS[randomBytes(1)[0]! % NOUNS.length];
  return `${a}_${n}${randomBytes(1)[0]! % 100}`;
}
