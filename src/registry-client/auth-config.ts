/**
 * docker's AuthConfig on the wire: X-Registry-Auth is base64url (padding optional)
 * of JSON {"username","password","auth","identitytoken","registrytoken","serveraddress"}.
 */
import { invalidArgument } from '../common/errors.js';
import type { Credentials } from './types.js';

const MAX_HEADER = 64 << 10;

export function decodeAuthHeader(header: string | undefined): Credentials {
  if (!header || header.trim() === '') return {};
  if (header.length > MAX_HEADER) throw invalidArgument('X-Registry-Auth header is too large');
  let json: unknown;
  try {
    // base64url and standard base64 both decode here; the CLI sends url-safe.
    json = JSON.parse(Buffer.from(header.trim(), 'base64url').toString('utf8'));
  } catch {
    throw invalidArgument('invalid X-Registry-Auth header: want base64url-encoded JSON (docker AuthConfig)');
  }
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw invalidArgument('invalid X-Registry-Auth header: want a JSON object');
  return credentialsFrom(json as Record<string, unknown>);
}

/** AuthConfig-shaped object to credentials; "auth" (base64 user:pass) fills what is missing. */
export function credentialsFrom(o: Record<string, unknown>): Credentials {
  const str = (k: string) => (typeof o[k] === 'string' && o[k] !== '' ? (o[k] as string) : undefined);
  const c: Credentials = { username: str('username'), password: str('password'), identitytoken: str('identitytoken'), registrytoken: str('registrytoken') };
  const auth = str('auth');
  if (auth && !c.username && !c.password) {
    const plain = Buffer.from(auth, 'base64').toString('utf8');
    const i = plain.indexOf(':');
    if (i > 0) {
      c.username = plain.slice(0, i);
      c.password = plain.slice(i + 1);
    }
  }
  for (const k of Object.keys(c) as Array<keyof Credentials>) if (c[k] === undefined) delete c[k];
  return c;
}
