/**
 * The size of a container process's argv + env, checked before runc sees it. The
 * kernel refuses an execve whose strings exceed its stack budget (E2BIG), and runc
 * 1.1 sets each variable with libc's setenv, linear in the variables already set:
 * a target exposing all 65 535 ports hands a legacy linker ~260 000 variables, and
 * runc then spins for minutes (measured: 16 000 variables 1.2 s, 262 000 over 3 min)
 * until berthd gives up with "runtime wedged". Refused up front, in one line.
 */
import { invalidArgument } from '../../common/errors.js';

/** MAX_ARG_STRLEN: 32 pages; one string (with its NUL) longer than this never execs. */
const MAX_STRING = 32 * 4096;
/** ARG_MAX, the floor of the kernel's budget, and 3/4 of _STK_LIM (8 MiB), its ceiling. */
const MIN_BUDGET = 32 * 4096;
const MAX_BUDGET = (8 << 20) / 4 * 3;
/** Far beyond any real service, and a few seconds of runc's quadratic setenv. */
export const MAX_ENV_ENTRIES = 32768;
const DEFAULT_STACK = 8 << 20;

interface Ulimit { Name?: string; Soft?: number }

/** The kernel's budget for argv + env strings: min(stack rlimit / 4, 6 MiB), at least ARG_MAX, less the pointers. */
function budget(count: number, ulimits: Ulimit[] | null | undefined): number {
  const stack = (ulimits ?? []).find((u) => u?.Name === 'stack')?.Soft;
  const rlim = typeof stack === 'number' && stack >= 0 ? stack : stack === undefined ? DEFAULT_STACK : Infinity;
  return Math.max(MIN_BUDGET, Math.min(rlim / 4, MAX_BUDGET)) - count * 8;
}

/** Throws INVALID_ARGUMENT when execve of these args and env could not succeed (or would wedge runc). */
export function checkExecSize(args: string[], env: string[], ulimits?: Ulimit[] | null): void {
  if (env.length > MAX_ENV_ENTRIES) throw invalidArgument(`the container's environment has ${env.length} variables (legacy links included), more than ${MAX_ENV_ENTRIES}: remove variables, exposed ports or links`);
  let total = 0;
  for (const s of [...args, ...env]) {
    const n = Buffer.byteLength(s) + 1;
    if (n > MAX_STRING) throw invalidArgument(`an argument or environment variable of the container is ${n} bytes, more than the kernel's ${MAX_STRING} (${JSON.stringify(s.slice(0, 40))}…): shorten it`);
    total += n;
  }
  const limit = budget(args.length + env.length, ulimits);
  if (total > limit) throw invalidArgument(`the container's arguments and environment (legacy links included) are ${total} bytes, more than the ${Math.max(limit, 0)} execve accepts (argument list too long): shorten them or raise --ulimit stack`);
}
