/** docker's stdio stream encodings: multiplexed frames and log timestamps. */

export const RAW_STREAM = 'application/vnd.docker.raw-stream';
export const MULTIPLEXED_STREAM = 'application/vnd.docker.multiplexed-stream';

const STREAM_ID = { stdin: 0, stdout: 1, stderr: 2 } as const;

/** `[stream,0,0,0,len BE32]` + payload: how non-tty output is told apart on one connection. */
export function frame(stream: keyof typeof STREAM_ID, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head[0] = STREAM_ID[stream];
  head.writeUInt32BE(data.length, 4);
  return Buffer.concat([head, data]);
}

/** API ≥ 1.42 names the multiplexed type; older clients expect raw-stream whatever the payload. */
export function streamContentType(tty: boolean, version: string): string {
  if (tty) return RAW_STREAM;
  return compareVersions(version, '1.42') >= 0 ? MULTIPLEXED_STREAM : RAW_STREAM;
}

export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * docker prints log timestamps in UTC with exactly nine fraction digits
 * (`2024-01-01T00:00:00.123456789Z`); conmon may write an offset or fewer digits.
 */
export function formatLogTimestamp(t: string): string {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:?\d{2})$/.exec(t);
  if (!m) return t;
  const frac = (m[2] ?? '').padEnd(9, '0').slice(0, 9);
  const zone = m[3] ?? 'Z';
  if (zone === 'Z' || /^[+-]00:?00$/.test(zone)) return `${m[1]}.${frac}Z`;
  const ms = Date.parse(`${m[1]}${zone}`);
  if (Number.isNaN(ms)) return t;
  return `${new Date(ms).toISOString().slice(0, 19)}.${frac}Z`;
}
