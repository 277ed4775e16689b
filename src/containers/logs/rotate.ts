import { rename, rm, stat } from 'node:fs/promises';
import { invalidArgument, isErrno } from '../../common/errors.js';
import { rotatedPath } from './files.js';

/**
 * Size-based rotation of conmon's k8s-file log with docker json-file semantics:
 * max-size per file, max-file files in all (the current one included). conmon's own
 * --log-size-max is only a flood backstop above max-size (conmonLogCap): on reopen
 * conmon truncates the file (it renames a fresh <log>.tmp over it), so the rotator
 * moves the old one aside first.
 */

export const DEFAULT_MAX_SIZE = 10 * 1024 * 1024;
export const DEFAULT_MAX_FILES = 3;
/** How far past max-size conmon's cap sits at least. */
const CAP_HEADROOM = 1024 * 1024;

/**
 * conmon's --log-size-max for a container whose files rotate at maxSize (0: none). At
 * its cap conmon starts the file afresh, dropping what it held, so the cap must sit
 * well above max-size: the rotator (once a second) moves the file aside first unless
 * more than the headroom arrives in between, which only a flood does (a `yes` writes
 * hundreds of MB a second). The cap then bounds the disk a flood can take to about
 * max-file × cap. At max-size itself conmon cut the file before the rotator ever saw
 * it that large: no rotation, and max-file kept nothing older.
 */
export function conmonLogCap(maxSize: number): number {
  if (maxSize <= 0) return 0;
  return Math.max(2 * maxSize, maxSize + CAP_HEADROOM);
}

const SIZE_RE = /^(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$/;
const MULT: Record<string, number> = { k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40, p: 2 ** 50 };

/**
 * docker's max-size ("10m", "1.5g", "512k", "100"), binary units as units.RAMInBytes.
 * Empty, undefined and "-1" mean unlimited (0).
 */
export function parseLogSize(s: string | undefined): number {
  if (s === undefined || s.trim() === '' || s.trim() === '-1') return 0;
  const m = SIZE_RE.exec(s.trim());
  if (!m) throw invalidArgument(`invalid size: '${s}'`);
  const n = Math.floor(Number(m[1]) * (m[2] ? MULT[m[2].toLowerCase()]! : 1));
  if (!Number.isFinite(n) || n <= 0) throw invalidArgument('max-size must be a positive number');
  return n;
}

const KNOWN_OPTS = new Set(['max-size', 'max-file', 'compress', 'labels', 'labels-regex', 'env', 'env-regex', 'tag', 'mode', 'max-buffer-size']);

export interface LogRotation {
  /** Bytes per file; 0 = never rotate. */
  maxSize: number;
  /** Files kept in all, the current one included (>= 1). */
  maxFiles: number;
}

/**
 * A container's LogConfig.Config (json-file/k8s-file options) over the daemon's
 * defaults (berth: 10m × 3, where docker's json-file default is unlimited).
 */
export function parseLogOpts(opts: Record<string, string> | undefined, defaults: LogRotation = { maxSize: DEFAULT_MAX_SIZE, maxFiles: DEFAULT_MAX_FILES }): LogRotation {
  const o = opts ?? {};
  for (const k of Object.keys(o)) {
    if (!KNOWN_OPTS.has(k)) throw invalidArgument(`unknown log opt '${k}' for json-file log driver`);
  }
  const maxSize = o['max-size'] !== undefined ? parseLogSize(o['max-size']) : defaults.maxSize;
  let maxFiles = defaults.maxFiles;
  if (o['max-file'] !== undefined) {
    if (!/^-?\d+$/.test(o['max-file'].trim())) throw invalidArgument(`invalid max-file: '${o['max-file']}'`);
    maxFiles = Number(o['max-file']);
    if (maxFiles < 1) throw invalidArgument('max-file cannot be less than 1');
    if (o['max-size'] === undefined && defaults.maxSize === 0) throw invalidArgument('max-file can only be used when max-size is set');
  }
  return { maxSize, maxFiles };
}

export interface LogRotatorOptions extends LogRotation {
  logPath: string;
  /** Make the writer (conmon, via its ctl FIFO "2 0 0") reopen logPath. */
  reopen: () => Promise<void> | void;
  /** Size check period; one stat per period. Default 1000 ms. */
  intervalMs?: number;
  /** A failed check or rotation (the timer keeps going). */
  onError?: (err: unknown) => void;
}

export class LogRotator {
  readonly #o: LogRotatorOptions;
  #timer?: NodeJS.Timeout;
  #busy?: Promise<boolean>;

  constructor(o: LogRotatorOptions) {
    if (o.maxFiles < 1) throw invalidArgument('max-file cannot be less than 1');
    this.#o = o;
  }

  start(): void {
    if (this.#timer || this.#o.maxSize <= 0) return;
    this.#timer = setInterval(() => {
      this.check().catch((err) => this.#o.onError?.(err));
    }, this.#o.intervalMs ?? 1000);
    // Rotation must never be what keeps the daemon alive.
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Rotate if the current file is over maxSize; true when it rotated. Calls never overlap. */
  check(): Promise<boolean> {
    this.#busy ??= (async () => {
      try {
        if (this.#o.maxSize <= 0) return false;
        let size: number;
        try {
          size = (await stat(this.#o.logPath)).size;
        } catch (err) {
          if (isErrno(err, 'ENOENT')) return false;
          throw err;
        }
        if (size < this.#o.maxSize) return false;
        await this.#rotate();
        return true;
      } finally {
        this.#busy = undefined;
      }
    })();
    return this.#busy;
  }

  /**
   * <log>.(N-2) → .(N-1) … <log> → .1, then reopen. Each rename is atomic and replaces
   * the target, so the oldest file disappears without a gap. Files beyond max-file
   * (left by a larger setting) are deleted. With max-file 1 only the reopen happens:
   * conmon's fresh file replaces the old one.
   */
  async #rotate(): Promise<void> {
    const { logPath, maxFiles } = this.#o;
    for (let n = maxFiles; ; n++) {
      try {
        await rm(rotatedPath(logPath, n));
      } catch (err) {
        if (isErrno(err, 'ENOENT')) break;
        throw err;
      }
    }
    if (maxFiles > 1) {
      for (let n = maxFiles - 1; n >= 1; n--) {
        try {
          await rename(rotatedPath(logPath, n - 1), rotatedPath(logPath, n));
        } catch (err) {
          if (!isErrno(err, 'ENOENT')) throw err;
        }
      }
    }
    await this.#o.reopen();
  }
}
