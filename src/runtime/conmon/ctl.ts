/** conmon's ctl FIFO: text lines "type a b\n" (1 = resize rows cols, 2 = reopen log). */
import { open, constants } from 'node:fs/promises';
import { BerthError, isErrno } from '../../common/errors.js';

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
