/**
 * Runs the CLI bundle (CommonJS) through vm.Script with a V8 code cache kept beside it.
 * Why: every berth command, `berth run` included, compiled the ~370 KB bundle and then each
 * function it called (~10 ms a start); Node 20 has no module compile cache (22 has).
 * The cache holds the bytecode of everything the run that wrote it executed.
 *
 * A cache is used only when its header matches this node binary (version, arch, V8) and the
 * bundle's exact bytes (length and CRC-32), and the CRC-32 of its own payload matches: V8
 * checks its version and flags but, for the source, only its length, and it aborts the
 * process on a corrupt payload instead of rejecting it. Anything else (missing, stale,
 * corrupt, rejected by V8) costs only speed: the bundle is compiled from source and the
 * caller may save() a fresh cache, written atomically (temp file + rename); an install
 * directory that is not writable simply runs uncached.
 */
import { accessSync, constants, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { Script } from 'node:vm';
import * as zlib from 'node:zlib';

const MAGIC = 'berth-code-cache 1';

export type CacheStatus = 'hit' | 'missing' | 'stale' | 'corrupt' | 'rejected' | 'disabled';

export interface BundleRun {
  status: CacheStatus;
  /** Writes a cache of what has run so far; false if it could not (errors are swallowed). */
  save(): boolean;
}

/** zlib.crc32 came in Node 20.15: without it there is no way to vouch for a cache. */
const checksum: ((data: Buffer) => number) | undefined = typeof zlib.crc32 === 'function' ? zlib.crc32 : undefined;

function headerFor(source: Buffer, payload: Buffer): string {
  const v = process.versions;
  return `${MAGIC} node-${v.node} v8-${v.v8} ${process.arch} src-${source.length}-${checksum!(source)} data-${payload.length}-${checksum!(payload)}\n`;
}

/** The cache's payload if its header vouches for this node and this bundle, else why not. */
function readCache(cachePath: string, source: Buffer): { payload?: Buffer; status: CacheStatus } {
  let file: Buffer;
  try { file = readFileSync(cachePath); } catch { return { status: 'missing' }; }
  const nl = file.indexOf(10);
  if (nl < 0 || nl > 512) return { status: 'corrupt' };
  const header = file.subarray(0, nl + 1).toString('latin1');
  const payload = file.subarray(nl + 1);
  const expected = headerFor(source, payload);
  if (header === expected) return { payload, status: 'hit' };
  // Same node and bundle but a payload that does not match its own checksum: damaged.
  const prefix = (h: string) => h.slice(0, h.lastIndexOf(' data-'));
  return { status: prefix(header) === prefix(expected) ? 'corrupt' : 'stale' };
}

/**
 * Compiles and runs `bundlePath`, an ASCII file, as a CommonJS module (require, module,
 * exports, __filename, __dirname) with the code cache at `cachePath`.
 */
export function runBundle(bundlePath: string, cachePath = `${bundlePath}.cache`, useCache = true): BundleRun {
  const source = readFileSync(bundlePath);
  let cached: { payload?: Buffer; status: CacheStatus } = { status: 'disabled' };
  if (useCache && checksum) cached = readCache(cachePath, source);
  // latin1: the bundle is ASCII (scripts/bundle.mjs checks), and latin1 is a plain copy.
  const wrapper = `(function (exports, require, module, __filename, __dirname) { ${source.toString('latin1')}\n})`;
  const script = new Script(wrapper, { filename: bundlePath, cachedData: cached.payload });
  let status = cached.status;
  if (status === 'hit' && script.cachedDataRejected) status = 'rejected';
  const fn = script.runInThisContext() as (...args: unknown[]) => void;
  const module = { exports: {}, filename: bundlePath, loaded: false };
  fn.call(module.exports, module.exports, createRequire(bundlePath), module, bundlePath, dirname(bundlePath));
  module.loaded = true;
  const save = (): boolean => {
    if (!checksum || status === 'disabled') return false;
    const tmp = `${cachePath}.${process.pid}.tmp`;
    try {
      accessSync(dirname(cachePath), constants.W_OK);
      const payload = script.createCachedData();
      writeFileSync(tmp, Buffer.concat([Buffer.from(headerFor(source, payload), 'latin1'), payload]), { mode: 0o644 });
      renameSync(tmp, cachePath);
      return true;
    } catch {
      try { rmSync(tmp, { force: true }); } catch { /* nothing to clean */ }
      return false;
    }
  };
  return { status, save };
}
