/**
 * Client-side image reference validation, as docker's CLI does before it calls the daemon
 * (so `run Bad:Name` fails at once instead of trying to pull). The grammar is
 * distribution/reference's; the messages are docker's ParseNormalizedNamed ones. The CLI
 * may not import the engine's parser (layering), hence this small copy of the rules.
 */
const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const DOMAIN_PART = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = `(?:${DOMAIN_PART}(?:\\.${DOMAIN_PART})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?`;
const TAG = '[\\w][\\w.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';
const REFERENCE = new RegExp(`^(?:${DOMAIN}/)?${COMPONENT}(?:/${COMPONENT})*(?::${TAG})?(?:@${DIGEST})?$`);

/** docker's message for a malformed reference, or undefined when `ref` is well formed. */
export function referenceError(ref: string): string | undefined {
  if (/^[a-f0-9]{64}$/.test(ref)) return undefined; // a full image ID
  const slash = ref.indexOf('/');
  const first = slash < 0 ? '' : ref.slice(0, slash);
  let remainder = ref;
  if (slash >= 0 && (/[.:]/.test(first) || first === 'localhost' || first !== first.toLowerCase())) remainder = ref.slice(slash + 1);
  else if (slash < 0) remainder = `library/${ref}`;
  const colon = remainder.indexOf(':');
  const repo = colon < 0 ? remainder : remainder.slice(0, colon);
  if (repo !== repo.toLowerCase()) return `invalid reference format: repository name (${repo}) must be lowercase`;
  if (!REFERENCE.test(ref) || ref.length > 255 + 200) return 'invalid reference format';
  return undefined;
}
