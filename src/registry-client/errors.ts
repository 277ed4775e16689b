/**
 * Registry answers to BerthErrors. The distribution API reports failures as
 * {"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}; docker prints
 * them as "<code in words>: <message>", and so do we, so users see the registry's words.
 */
import { BerthError, type ErrorCode } from '../common/errors.js';

interface RegistryErrorBody {
  errors?: Array<{ code?: string; message?: string }>;
  details?: string;
  message?: string;
}

/** "manifest unknown: manifest unknown" from the body, or the HTTP status text. */
export function registryMessage(status: number, body: string): string {
  let parsed: RegistryErrorBody | undefined;
  try {
    parsed = JSON.parse(body) as RegistryErrorBody;
  } catch {
    parsed = undefined;
  }
  const errs = parsed?.errors?.filter((e) => e && (e.code || e.message)) ?? [];
  if (errs.length) {
    return errs.map((e) => {
      const words = (e.code ?? 'unknown').toLowerCase().replace(/_/g, ' ');
      return e.message ? `${words}: ${e.message}` : words;
    }).join(', ');
  }
  if (parsed?.details || parsed?.message) return String(parsed.details ?? parsed.message);
  const text = body.trim().split('\n')[0]?.slice(0, 200);
  return text ? `${status}: ${text}` : `HTTP status ${status}`;
}

export function codeForStatus(status: number): ErrorCode {
  if (status === 401) return 'UNAUTHORIZED';
  if (status === 403) return 'FORBIDDEN';
  if (status === 404) return 'NOT_FOUND';
  if (status === 400 || status === 405 || status === 413 || status === 416) return 'INVALID_ARGUMENT';
  if (status === 429 || status >= 500) return 'UNAVAILABLE';
  return 'INTERNAL';
}

/** A BerthError that keeps the HTTP status and the registry's error codes for callers. */
export class RegistryError extends BerthError {
  constructor(readonly status: number, readonly registryCodes: string[], message: string) {
    super(codeForStatus(status), message);
  }
}

export function registryError(status: number, body: string, what: string): RegistryError {
  let codes: string[] = [];
  try {
    codes = ((JSON.parse(body) as RegistryErrorBody).errors ?? []).map((e) => e.code ?? '').filter(Boolean);
  } catch { /* not JSON */ }
  return new RegistryError(status, codes, `${what}: ${registryMessage(status, body)}`);
}
