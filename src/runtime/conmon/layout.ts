/**
 * Where a runtime instance keeps its files. Everything lives under one execRoot so
 * several instances can share a machine without seeing each other.
 */
import { join } from 'node:path';
import { BerthError } from '../../common/errors.js';
import { SUN_PATH_MAX } from './seqpacket.js';

const ID_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/;

export class Layout {
  constructor(readonly execRoot: string) {}
  get runcRoot(): string { return join(this.execRoot, 'runc'); }
  get bundles(): string { return join(this.execRoot, 'c'); }
  get exitDir(): string { return join(this.execRoot, 'exits'); }
  get persistRoot(): string { return join(this.execRoot, 'persist'); }
  bundle(id: string): string { return join(this.bundles, id); }
  persist(id: string): string { return join(this.persistRoot, id); }
  exitFile(id: string): string { return join(this.exitDir, id); }
  rootfs(id: string): string { return join(this.bundle(id), 'rootfs'); }
  /** Exec sessions live in the container's bundle; a short key keeps the socket path short. */
  execDir(id: string, execId: string): string { return join(this.bundle(id), 'x', execId.slice(0, 12)); }

  static checkId(id: string, what = 'container id'): void {
    if (!ID_RE.test(id)) throw new BerthError('INVALID_ARGUMENT', `invalid ${what}: ${JSON.stringify(id)}`);
  }

  /** conmon's attach socket must fit in sun_path; fail before doing any work. */
  static checkSocketDir(dir: string): void {
    const len = Buffer.byteLength(join(dir, 'attach'));
    if (len >= SUN_PATH_MAX) {
      throw new BerthError('INVALID_ARGUMENT', `attach socket path ${join(dir, 'attach')} is ${len} bytes, over the ${SUN_PATH_MAX - 1}-byte sun_path limit: use a shorter exec root`);
    }
  }
}
