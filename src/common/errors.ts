/**
 * The one error type of berth. Services throw BerthError with a code from a small
 * closed set; only the edges (api/ for HTTP, cri/ for gRPC, cli/ for exit codes)
 * translate codes into their own vocabulary.
 */
export type ErrorCode =
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'INVALID_ARGUMENT'
  | 'FAILED_PRECONDITION'
  | 'CONFLICT'
  | 'NOT_MODIFIED'
  | 'UNAVAILABLE'
  | 'NOT_IMPLEMENTED'
  | 'CANCELED'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'INTERNAL';

export class BerthError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BerthError';
    this.code = code;
  }
}

export function isBerthError(err: unknown, code?: ErrorCode): err is BerthError {
  return err instanceof BerthError && (code === undefined || err.code === code);
}

export const notFound = (msg: string, cause?: unknown) => new BerthError('NOT_FOUND', msg, { cause });
export const alreadyExists = (msg: string, cause?: unknown) => new BerthError('ALREADY_EXISTS', msg, { cause });
export const invalidArgument = (msg: string, cause?: unknown) => new BerthError('INVALID_ARGUMENT', msg, { cause });
export const failedPrecondition = (msg: string, cause?: unknown) => new BerthError('FAILED_PRECONDITION', msg, { cause });
export const conflict = (msg: string, cause?: unknown) => new BerthError('CONFLICT', msg, { cause });
export const notModified = (msg: string) => new BerthError('NOT_MODIFIED', msg);
export const unavailable = (msg: string, cause?: unknown) => new BerthError('UNAVAILABLE', msg, { cause });
export const notImplemented = (msg: string) => new BerthError('NOT_IMPLEMENTED', msg);
export const internal = (msg: string, cause?: unknown) => new BerthError('INTERNAL', msg, { cause });

/** The message of any thrown value, for one-line reports. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/** True when err is a Node system error with the given errno code (ENOENT, EEXIST, ...). */
export function isErrno(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as NodeJS.ErrnoException).code === code;
}
