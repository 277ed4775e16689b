import { invalidArgument } from '../common/errors.js';
import { goPathPattern } from '../common/glob.js';

/**
 * Image references as docker's distribution/reference grammar has them:
 * [domain[:port]/]path[:tag][@digest], normalised so "busybox" is
 * docker.io/library/busybox and shown back in the familiar short form.
 */
export interface Reference {
  domain: string;
  /** Repository path without the domain ("library/busybox"). */
  path: string;
  tag?: string;
  digest?: string;
}

export const DEFAULT_DOMAIN = 'docker.io';
const LEGACY_DOMAIN = 'index.docker.io';
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = new RegExp(`^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?$`);
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/;

function bad(ref: string, why?: string): Error {
  return invalidArgument(why ? `invalid reference format: ${why}` : 'invalid reference format', undefined);
}

/**
 * docker (ParseNormalizedNamed) checks case before the grammar, on the repository name as
 * normalised: the registry split off, `library/` added on Docker Hub, the tag cut at the
 * first ':'. So `Bad` is "repository name (library/Bad) must be lowercase".
 */
function caseError(ref: string): string | undefined {
  const slash = ref.indexOf('/');
  const first = slash === -1 ? '' : ref.slice(0, slash);
  let domain = DEFAULT_DOMAIN;
  let remainder = ref;
  if (slash !== -1 && (/[.:]/.test(first) || first === 'localhost' || first !== first.toLowerCase())) {
    domain = first === LEGACY_DOMAIN ? DEFAULT_DOMAIN : first;
    remainder = ref.slice(slash + 1);
  }
  if (domain === DEFAULT_DOMAIN && !remainder.includes('/')) remainder = `library/${remainder}`;
  const colon = remainder.indexOf(':');
  const name = colon === -1 ? remainder : remainder.slice(0, colon);
  return name !== name.toLowerCase() ? `repository name (${name}) must be lowercase` : undefined;
}

/** Parse and normalise; INVALID_ARGUMENT "invalid reference format" when malformed. */
export function parseReference(ref: string): Reference {
  if (!ref || ref.length > 255 + 200) throw bad(ref);
  const caseWhy = caseError(ref);
  if (caseWhy) throw bad(ref, caseWhy);
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at !== -1) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw bad(ref);
    if (digest.startsWith('sha256:') && !/^sha256:[a-f0-9]{64}$/.test(digest)) throw bad(ref);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw bad(ref);
  }
  let domain = DEFAULT_DOMAIN;
  let path = rest;
  const slash = rest.indexOf('/');
  const first = slash === -1 ? '' : rest.slice(0, slash);
  // docker's rule: the first component is a registry when it looks like a host.
  if (slash !== -1 && (first.includes('.') || first.includes(':') || first === 'localhost' || first !== first.toLowerCase())) {
    domain = first;
    path = rest.slice(slash + 1);
    if (!DOMAIN.test(domain)) throw bad(ref);
  }
  if (domain === LEGACY_DOMAIN) domain = DEFAULT_DOMAIN;
  if (!path) throw bad(ref);
  if (path !== path.toLowerCase()) throw bad(ref, `repository name (${path}) must be lowercase`);
  for (const part of path.split('/')) {
    if (!PATH_COMPONENT.test(part)) throw bad(ref);
  }
  if (domain === DEFAULT_DOMAIN && !path.includes('/')) path = `library/${path}`;
  if (domain.length + 1 + path.length > 255) throw bad(ref, 'repository name must not be more than 255 characters');
  return { domain, path, tag, digest };
}

/** A reference to tag with: no digest allowed, tag defaults to "latest". */
export function parseTagReference(ref: string): Reference {
  const r = parseReference(ref);
  if (r.digest) throw invalidArgument(`refusing to create a tag with a digest reference: ${ref}`);
  return { ...r, tag: r.tag ?? 'latest' };
}

/** The tag or digest a lookup means: a bare name means :latest. */
export function withDefaultTag(r: Reference): Reference {
  return r.tag || r.digest ? r : { ...r, tag: 'latest' };
}

export function fullName(r: Reference): string {
  return `${r.domain}/${r.path}`;
}

export function normalizedString(r: Reference): string {
  return fullName(r) + (r.tag ? `:${r.tag}` : '') + (r.digest ? `@${r.digest}` : '');
}

/** docker's short form: docker.io/library/busybox -> busybox, docker.io/x/y -> x/y. */
export function familiarName(r: Reference): string {
  if (r.domain !== DEFAULT_DOMAIN) return fullName(r);
  return r.path.startsWith('library/') && r.path.split('/').length === 2 ? r.path.slice(8) : r.path;
}

export function familiarString(r: Reference): string {
  return familiarName(r) + (r.tag ? `:${r.tag}` : '') + (r.digest ? `@${r.digest}` : '');
}

/** Same reference, whatever the spelling ("busybox" vs "docker.io/library/busybox:latest"). */
export function sameReference(a: string, b: string): boolean {
  try {
    return normalizedString(withDefaultTag(parseReference(a))) === normalizedString(withDefaultTag(parseReference(b)));
  } catch {
    return false;
  }
}

/** path.Match as docker's reference filter uses it; a malformed pattern matches nothing (ErrBadPattern). */
export function globMatch(pattern: string, name: string): boolean {
  return goPathPattern(pattern)?.test(name) ?? false;
}
