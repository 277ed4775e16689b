import { readFileSync } from 'node:fs';
import { readFile, writeFile, rm } from 'node:fs/promises';
import { BerthError, isErrno } from '../common/errors.js';

/** One berthd per exec root: a pid file naming a live process refuses a second one. */
export async function claimPidFile(path: string): Promise<() => Promise<void>> {
  try {
    await writeFile(path, `${process.pid}\n`, { flag: 'wx', mode: 0o644 });
  } catch (err) {
    if (!isErrno(err, 'EEXIST')) throw err;
    const pid = Number((await readFile(path, 'utf8').catch(() => '')).trim());
    if (pid > 0 && pid !== process.pid && alive(pid) && isBerthd(pid)) {
      throw new BerthError('ALREADY_EXISTS', `berthd is already running with pid ${pid} (pid file ${path}); stop it first or use another --exec-root`);
    }
    await writeFile(path, `${process.pid}\n`, { mode: 0o644 });
  }
  return async () => {
    const pid = Number((await readFile(path, 'utf8').catch(() => '')).trim());
    if (pid === process.pid) await rm(path, { force: true });
  };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return !isErrno(err, 'ESRCH');
  }
}

/**
 * Whether pid still is a berthd: after a crash the pid file stays, and the kernel may have
 * given its pid to another process since (a conmon, a shell), which must not keep berthd
 * from starting. A process whose command line cannot be read counts as one (a refusal is
 * the safe answer when in doubt).
 */
function isBerthd(pid: number): boolean {
  let cmdline: string;
  try { cmdline = readFileSync(`/proc/${pid}/cmdline`, 'latin1'); } catch { return true; }
  return /berthd|daemon\/main\.js/.test(cmdline);
}
