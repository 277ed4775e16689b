/**
 * libnftables in-process through koffi: one nftables transaction costs ~0.3 ms
 * instead of the 3-7 ms of spawning `nft`, and runs synchronously, so it can be
 * done inside a container's network namespace while the main thread is switched
 * into it (netns.ts). Used where a process per call is too dear: the 127.0.0.11
 * redirect of every container on a user network, and the FORWARD-policy check.
 */
import { BerthError } from '../common/errors.js';
import { koffi, type LibcFunction } from '../common/libc.js';

interface Fns {
  ctxNew: LibcFunction;
  ctxFree: LibcFunction;
  bufferOutput: LibcFunction;
  bufferError: LibcFunction;
  getOutput: LibcFunction;
  getError: LibcFunction;
  run: LibcFunction;
}

let fns: Fns | undefined;
let loadError: string | undefined;

function f(): Fns {
  if (fns) return fns;
  if (loadError) throw new BerthError('UNAVAILABLE', loadError);
  try {
    const l = koffi.load('libnftables.so.1');
    fns = {
      ctxNew: l.func('void *nft_ctx_new(uint32_t flags)'),
      ctxFree: l.func('void nft_ctx_free(void *ctx)'),
      bufferOutput: l.func('int nft_ctx_buffer_output(void *ctx)'),
      bufferError: l.func('int nft_ctx_buffer_error(void *ctx)'),
      getOutput: l.func('const char *nft_ctx_get_output_buffer(void *ctx)'),
      getError: l.func('const char *nft_ctx_get_error_buffer(void *ctx)'),
      run: l.func('int nft_run_cmd_from_buffer(void *ctx, const char *buf)'),
    };
    return fns;
  } catch (err) {
    loadError = `libnftables.so.1 cannot be loaded (${(err as Error).message}): install Debian's libnftables1`;
    throw new BerthError('UNAVAILABLE', loadError);
  }
}

/** Is libnftables loadable here? (Callers fall back to a slower or simpler design when not.) */
export function nftLibAvailable(): boolean {
  try {
    f();
    return true;
  } catch {
    return false;
  }
}

/**
 * Run an nft script in the network namespace of the calling thread, synchronously;
 * returns nft's output. The netlink socket lives only for this call, so it is
 * opened in (and bound to) whichever namespace the thread is in right now.
 */
export function nftRunSync(script: string): string {
  const l = f();
  const ctx = l.ctxNew(0);
  if (!ctx) throw new BerthError('INTERNAL', 'nft: cannot create a libnftables context');
  try {
    l.bufferOutput(ctx);
    l.bufferError(ctx);
    const rc = l.run(ctx, script) as number;
    if (rc !== 0) {
      const msg = String(l.getError(ctx) ?? '').trim().split('\n')[0] || `exit ${rc}`;
      throw new BerthError('INTERNAL', `nft failed: ${msg}`);
    }
    return String(l.getOutput(ctx) ?? '');
  } finally {
    l.ctxFree(ctx);
  }
}
