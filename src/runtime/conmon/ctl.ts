/** conmon's ctl FIFO: text lines "type a b\n" (1 = resize rows cols, 2 = reopen log). */
import { closeSync, constants as fsConstants, openSync } from 'node:fs';
import { open, constants } from 'node:fs/promises';
import { join } from 'node:path';
import { BerthError, isErrno } from '../../common/errors.js';
import { libc, type LibcFunction } from '../../common/libc.js';
import { sleep } from '../../common/sleep.js';

export async function writeCtl(fifo: string, line: string): Promise<void> {
  let fh;
  const deadline = Date.now() + 5000;
  for (;;) {
    try {
      // Non-blocking: if conmon is gone there is no reader and open fails (ENXIO)
      // instead of hanging.
      fh = await open(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
      break;
    } catch (err) {
      if (isErrno(err, 'ENOENT')) throw new BerthError('NOT_FOUND', `ctl fifo ${fifo} does not exist (no monitor)`);
      if (isErrno(err, 'ENXIO')) throw new BerthError('FAILED_PRECONDITION', `ctl fifo ${fifo}: the monitor is gone`);
      if ((isErrno(err, 'EAGAIN') || isErrno(err, 'EINTR')) && Date.now() < deadline) continue;
      throw new BerthError('INTERNAL', `open ctl fifo ${fifo}: ${(err as Error).message}`, { cause: err });
    }
  }
  try {
    await fh.write(line);
  } finally {
    await fh.close();
  }
}

export function resizeLine(height: number, width: number): string {
  if (!Number.isInteger(height) || !Number.isInteger(width) || height < 0 || width < 0 || height > 65535 || width > 65535) {
    throw new BerthError('INVALID_ARGUMENT', `invalid terminal size ${height}x${width}`);
  }
  return `1 ${height} ${width}\n`;
}

/**
 * conmon's control lines for one session, one at a time. conmon up to 2.1.x (Debian 12
 * has 2.1.6) handles only the first of the lines that one read() of its ctl or winsz FIFO
 * returns, once per line (upstream fixed it in 2025, "Fix terminal resize event
 * processing"): when lines queue up behind each other (a terminal dragged, `stty rows R
 * cols C`, a loaded machine) the process keeps the oldest size, and a log reopen queued
 * behind a resize is lost. So a line is written only once conmon has read the ones before
 * it (both FIFOs empty, or after 500 ms), and sizes asked for meanwhile collapse into the
 * latest. Measured before: two lines in one write left the shell at the first size.
 */
export class CtlWriter {
  #size: [number, number] | undefined;
  #reopen = false;
  #running: Promise<void> | undefined;

  constructor(private readonly dir: string) {}

  /** Resolves once this size (or a later one) has been handed to conmon. */
  resize(height: number, width: number): Promise<void> {
    resizeLine(height, width); // validates before anything is queued
    this.#size = [height, width];
    return this.#kick();
  }

  /** conmon reopens the container's log file (after the rotator moved it). */
  reopenLog(): Promise<void> {
    this.#reopen = true;
    return this.#kick();
  }

  #kick(): Promise<void> {
    this.#running ??= this.#drain().finally(() => { this.#running = undefined; });
    return this.#running;
  }

  async #drain(): Promise<void> {
    for (;;) {
      let line: string;
      if (this.#reopen) {
        this.#reopen = false;
        line = '2 0 0\n';
      } else if (this.#size) {
        line = resizeLine(...this.#size);
        this.#size = undefined;
      } else return;
      await fifosEmpty([join(this.dir, 'ctl'), join(this.dir, 'winsz')], 500);
      await writeCtl(join(this.dir, 'ctl'), line);
    }
  }
}

let ioctlFn: LibcFunction | undefined;
const FIONREAD = 0x541b;

/** Bytes waiting in a FIFO (0 when it is gone or has no reader: nothing will read them). */
function pending(fifo: string): number {
  let fd: number;
  try {
    fd = openSync(fifo, fsConstants.O_WRONLY | fsConstants.O_NONBLOCK);
  } catch {
    return 0;
  }
  try {
    ioctlFn ??= libc().func('int ioctl(int fd, unsigned long request, _Out_ int *count)');
    const n = [0];
    return ioctlFn(fd, FIONREAD, n) === 0 ? n[0]! : 0;
  } finally {
    closeSync(fd);
  }
}

/** Wait (polling, at most ms) until every FIFO is read empty. */
async function fifosEmpty(fifos: string[], ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (fifos.some((f) => pending(f) > 0) && Date.now() < deadline) await sleep(5);
}
