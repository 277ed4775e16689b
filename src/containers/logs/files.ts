import { open, type FileHandle } from 'node:fs/promises';
import { isErrno } from '../../common/errors.js';

/** One opened log file. Opening first and reading later makes renames harmless. */
export interface OpenLog {
  fh: FileHandle;
  ino: bigint;
  /** Size when opened: history is read up to here. */
  size: number;
}

export function rotatedPath(logPath: string, n: number): string {
  return n === 0 ? logPath : `${logPath}.${n}`;
}

export async function openLog(path: string): Promise<OpenLog | undefined> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined;
    throw err;
  }
  const st = await fh.stat({ bigint: true });
  return { fh, ino: st.ino, size: Number(st.size) };
}

/**
 * The current log and its rotated predecessors (<log>.1, <log>.2, ...), oldest first.
 * The current file is opened first so a rotation racing with us shows up as a
 * duplicate inode (dropped) rather than a gap.
 */
export async function openLogFiles(logPath: string): Promise<{ older: OpenLog[]; current?: OpenLog }> {
  const current = await openLog(logPath);
  const older: OpenLog[] = [];
  const seen = new Set<bigint>(current ? [current.ino] : []);
  for (let n = 1; n < 1000; n++) {
    const f = await openLog(rotatedPath(logPath, n));
    if (!f) break;
    if (seen.has(f.ino)) {
      await f.fh.close();
      continue;
    }
    seen.add(f.ino);
    older.push(f);
  }
  older.reverse();
  return { older, current };
}

export const CHUNK = 64 * 1024;

/** Read [from, to) in chunks; `to` undefined reads to the current end. */
export async function* readRange(fh: FileHandle, from: number, to?: number): AsyncGenerator<Buffer> {
  let pos = from;
  const buf = Buffer.allocUnsafe(CHUNK);
  for (;;) {
    const want = to === undefined ? CHUNK : Math.min(CHUNK, to - pos);
    if (want <= 0) return;
    const { bytesRead } = await fh.read(buf, 0, want, pos);
    if (bytesRead === 0) return;
    pos += bytesRead;
    yield buf.subarray(0, bytesRead);
  }
}

/**
 * Physical lines of [0, end) from last to first, reading backwards in chunks, so a
 * tail of a gigabyte file touches only its last few chunks. `end` must sit just
 * after a newline. Yields each line (without '\n') and its starting offset.
 */
export async function* readLinesBackward(fh: FileHandle, end: number): AsyncGenerator<{ line: Buffer; offset: number }> {
  let pos = end;
  let carry: Buffer = Buffer.alloc(0);
  while (pos > 0) {
    const start = Math.max(0, pos - CHUNK);
    const chunk = Buffer.allocUnsafe(pos - start);
    let got = 0;
    while (got < chunk.length) {
      const { bytesRead } = await fh.read(chunk, got, chunk.length - got, start + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    const buf = carry.length ? Buffer.concat([chunk.subarray(0, got), carry]) : chunk.subarray(0, got);
    // buf ends with the '\n' of its last line.
    let lineEnd = buf.length - 1;
    for (;;) {
      const nl = lineEnd > 0 ? buf.lastIndexOf(0x0a, lineEnd - 1) : -1;
      if (nl < 0) break;
      yield { line: buf.subarray(nl + 1, lineEnd), offset: start + nl + 1 };
      lineEnd = nl;
    }
    carry = buf.subarray(0, lineEnd + 1);
    pos = start;
  }
  if (carry.length > 1) yield { line: carry.subarray(0, carry.length - 1), offset: 0 };
}

/** Offset just after the last '\n' before `size` (0 if none): where whole records end. */
export async function lastNewlineEnd(fh: FileHandle, size: number): Promise<number> {
  let pos = size;
  const buf = Buffer.allocUnsafe(CHUNK);
  while (pos > 0) {
    const start = Math.max(0, pos - CHUNK);
    const { bytesRead } = await fh.read(buf, 0, pos - start, start);
    const nl = buf.subarray(0, bytesRead).lastIndexOf(0x0a);
    if (nl >= 0) return start + nl + 1;
    pos = start;
  }
  return 0;
}
