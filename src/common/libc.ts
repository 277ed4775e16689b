import koffi from 'koffi';

/**
 * The one handle on libc through koffi, for the system calls Node lacks
 * (mount, umount2, socket/connect/recv for SOCK_SEQPACKET, ...). Modules declare
 * the functions they need with libc().func(...) and keep them private.
 */
export type LibcHandle = ReturnType<typeof koffi.load>;
export type LibcFunction = ReturnType<LibcHandle['func']>;

let lib: LibcHandle | undefined;

export function libc(): LibcHandle {
  lib ??= koffi.load('libc.so.6');
  return lib;
}

export { koffi };

/** errno as koffi captured it right after the last synchronous call on this thread. */
export function errno(): number {
  return koffi.errno();
}

let strerrorFn: LibcFunction | undefined;
export function strerror(code: number): string {
  strerrorFn ??= libc().func('const char *strerror(int)');
  return strerrorFn(code) as string;
}
