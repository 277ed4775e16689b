/** chroot(2) for the copy helper's jobs (Node has none): every later path resolves inside `root`. */
import { libc, errno, strerror } from '../../common/libc.js';

export function chrootInto(root: string): void {
  const chroot = libc().func('int chroot(const char *path)');
  if ((chroot(root) as number) !== 0) throw new Error(`chroot ${root}: ${strerror(errno())}`);
  process.chdir('/');
}
