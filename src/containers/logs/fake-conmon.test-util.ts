import { closeSync, openSync, renameSync, writeSync } from 'node:fs';
import { formatRFC3339NanoFixed } from '../support/time.js';
import { formatRecord } from './format.js';

/**
 * Writes a k8s-file log the way conmon does: each read of the container's pipe (at
 * most 8 KiB) becomes records, one F per complete line and a P for a trailing
 * fragment; reopen() replaces the file through <log>.tmp like conmon's ctl "2 0 0".
 */
export class FakeConmon {
  fd: number;
  /** Nanoseconds of the next stamp; each record advances it by `step`. */
  clock: bigint;
  step = 1_000_000n;

  constructor(readonly path: string, start = 1_700_000_000_000_000_000n) {
    this.fd = openSync(path, 'a', 0o640);
    this.clock = start;
  }

  stamp(): string {
    const t = formatRFC3339NanoFixed(this.clock);
    this.clock += this.step;
    return t;
  }

  /** One "read" of the pipe: data must be ≤ 8 KiB to mimic conmon faithfully. */
  read(stream: 'stdout' | 'stderr', data: Buffer | string): void {
    const buf = Buffer.from(data);
    const out: Buffer[] = [];
    let start = 0;
    for (;;) {
      const nl = buf.indexOf(0x0a, start);
      if (nl < 0) break;
      out.push(formatRecord(this.stamp(), stream, false, buf.subarray(start, nl)));
      start = nl + 1;
    }
    if (start < buf.length) out.push(formatRecord(this.stamp(), stream, true, buf.subarray(start)));
    writeSync(this.fd, Buffer.concat(out));
  }

  /** Output as a process would make it, split into conmon's 8 KiB reads. */
  write(stream: 'stdout' | 'stderr', data: Buffer | string): void {
    const buf = Buffer.from(data);
    for (let i = 0; i < buf.length; i += 8192) this.read(stream, buf.subarray(i, i + 8192));
  }

  reopen(): void {
    closeSync(this.fd);
    const fd = openSync(`${this.path}.tmp`, 'w', 0o640);
    renameSync(`${this.path}.tmp`, this.path);
    this.fd = fd;
  }

  close(): void {
    closeSync(this.fd);
  }
}
