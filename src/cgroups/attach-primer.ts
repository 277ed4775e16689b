/**
 * Hides the grace period of the kernel's cgroup attach behind the runtime's start-up.
 *
 * Moving a process into a cgroup (writing cgroup.procs) takes the kernel's global
 * cgroup_threadgroup_rwsem for writing. That percpu rwsem first waits for an RCU grace
 * period (rcu_sync_enter) unless another writer entered within about one grace period
 * before; unless the hierarchy is mounted with `favordynmods`. On this machine that wait is
 * 7-12 ms, and `runc create` pays it for every container (its first cgroup.procs write
 * blocks, the next ones for the other controllers do not), `runc exec` for every exec.
 *
 * berthd knows ~9 ms ahead that runc will attach: when it launches conmon. prime() then
 * starts a writer of its own on the thread pool: berthd's pid written into the cgroup it
 * already is in, which moves nothing but enters the same rcu_sync. runc's attach then
 * joins a grace period already under way, or finds one just passed, instead of starting
 * its own (measured: `runc run` 30-31 → 23-24 ms median with a concurrent primer; the
 * start path figures are in bench/README.md).
 */
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface AttachPrimerOptions {
  /** Mount point of the cgroup filesystem(s). */
  root?: string;
  /** Contents of /proc/self/cgroup (a parameter for tests). */
  selfCgroup?: () => string;
  pid?: number;
  /** Called once when priming turns itself off (the write failed). */
  onDisabled?: (err: unknown) => void;
}

/**
 * The cgroup.procs file of a hierarchy berthd is a member of, to write its own pid into:
 * on v1 a controller's hierarchy (any will do: the rwsem is global), else the unified one.
 */
export function ownProcsFile(root: string, selfCgroup: string): string | undefined {
  // "hierarchy-id:controller-list:path"; the path itself may hold colons.
  const entries = selfCgroup.split('\n').filter(Boolean).map((line) => {
    const a = line.indexOf(':');
    const b = line.indexOf(':', a + 1);
    return { controllers: line.slice(a + 1, b).split(','), path: line.slice(b + 1) };
  });
  for (const want of ['pids', 'freezer', 'cpuset', 'memory']) {
    const e = entries.find((x) => x.controllers.includes(want));
    if (e && e.path.startsWith('/')) return join(root, want, e.path, 'cgroup.procs');
  }
  const unified = entries.find((x) => x.controllers.length === 1 && x.controllers[0] === '');
  if (unified && unified.path.startsWith('/')) {
    // Hybrid layouts mount the v2 tree at <root>/unified; a pure v2 host at <root>.
    let base = root;
    try {
      readFileSync(join(root, 'cgroup.controllers'));
    } catch {
      base = join(root, 'unified');
    }
    return join(base, unified.path, 'cgroup.procs');
  }
  return undefined;
}

export class AttachPrimer {
  readonly #opts: AttachPrimerOptions;
  #file: string | undefined | null = null; // null: not looked up yet
  #inFlight = false;

  constructor(opts: AttachPrimerOptions = {}) {
    this.#opts = opts;
  }

  /** Whether a primer write is under way (for tests). */
  get inFlight(): boolean {
    return this.#inFlight;
  }

  /** The file written, once looked up; undefined when priming is off. */
  get file(): string | undefined {
    return this.#file ?? undefined;
  }

  /**
   * Start a no-op migration on the thread pool, unless one is under way (its grace
   * period serves every attach that comes meanwhile). Never throws, never blocks.
   */
  prime(): void {
    if (this.#inFlight) return;
    if (this.#file === null) this.#file = this.#lookup();
    const file = this.#file;
    if (!file) return;
    this.#inFlight = true;
    writeFile(file, String(this.#opts.pid ?? process.pid)).then(
      () => { this.#inFlight = false; },
      (err) => {
        // The cgroup went (berthd moved by its supervisor) or is not writable: look it up
        // again once, then give up. Starts are then as fast as without a primer.
        this.#inFlight = false;
        const again = this.#lookup();
        if (again && again !== file) { this.#file = again; return; }
        this.#file = undefined;
        this.#opts.onDisabled?.(err);
      },
    );
  }

  #lookup(): string | undefined {
    try {
      const text = this.#opts.selfCgroup ? this.#opts.selfCgroup() : readFileSync('/proc/self/cgroup', 'utf8');
      return ownProcsFile(this.#opts.root ?? '/sys/fs/cgroup', text);
    } catch {
      return undefined;
    }
  }
}
