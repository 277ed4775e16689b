/**
 * docker's JSON message streams (pull, push, import, load): one object per line;
 * errors inside the stream fail the command. On a terminal each layer id owns a line
 * that is redrawn in place with a progress bar (docker's jsonmessage display);
 * otherwise a plain line per status change, progress updates dropped.
 */
import type { Client } from './client.js';
import type { JSONMessage } from './wire.js';
import { CliError } from './errors.js';
import { registryAuthHeader } from './commands/login-store.js';

type Msg = JSONMessage & { aux?: Record<string, unknown> };

const UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
function size(n: number): string {
  let i = 0;
  while (n >= 1000 && i < UNITS.length - 1) { n /= 1000; i++; }
  return `${Number(n.toPrecision(4))}${UNITS[i]}`;
}

/** jsonmessage.JSONProgress.String(): a 50-wide bar when the terminal has room. */
export function renderProgress(current: number, total: number | undefined, width: number): string {
  if (!total || total <= 0) return current > 0 ? size(current).padStart(8) : '';
  const numbers = `${size(current).padStart(8)}/${size(total)}`;
  if (width <= 110) return numbers;
  const filled = Math.min(50, Math.floor((current / total) * 50));
  const bar = filled >= 50 ? '='.repeat(50) : '='.repeat(filled) + '>' + ' '.repeat(49 - filled);
  return `[${bar}] ${numbers}`;
}

interface DisplayOptions {
  /** Redraw per-id lines in place (a terminal). Default: out.isTTY. */
  tty?: boolean;
  width?: number;
  /** An error message's errorDetail.code becomes the exit status (docker build's RUN failures). */
  exitWithErrorCode?: boolean;
}

export async function displayJSONStream(body: AsyncIterable<Buffer | string>, out: NodeJS.WritableStream, opts: DisplayOptions = {}): Promise<Msg[]> {
  const tty = opts.tty ?? (out as NodeJS.WriteStream).isTTY === true;
  const width = opts.width ?? ((out as NodeJS.WriteStream).columns || 200);
  const seen: Msg[] = [];
  const lines = new Map<string, number>(); // id -> line index from the top of our block
  let count = 0;
  const handle = (line: string) => {
    if (!line.trim()) return;
    let m: Msg;
    try { m = JSON.parse(line) as Msg; } catch { return; }
    seen.push(m);
    if (m.error || m.errorDetail?.message) {
      // docker build exits with the failed RUN's code (errorDetail.code); others with 1.
      const code = opts.exitWithErrorCode && Number.isInteger(m.errorDetail?.code) && m.errorDetail!.code! > 0 ? m.errorDetail!.code! : 1;
      throw new CliError(m.errorDetail?.message || m.error || 'unknown error', code);
    }
    if (m.stream !== undefined) { out.write(m.stream); return; }
    if (m.aux) return;
    if (m.status === undefined) return;
    const hasProgress = m.progressDetail && m.progressDetail.current !== undefined;
    if (!tty) {
      if (hasProgress) return;
      out.write(`${m.id ? m.id + ': ' : ''}${m.status}\n`);
      return;
    }
    const bar = hasProgress ? ' ' + renderProgress(m.progressDetail!.current!, m.progressDetail!.total, width) : '';
    const text = `${m.id ? m.id + ': ' : ''}${m.status}${bar}`;
    if (!m.id) {
      out.write(`${text}\n`);
      count++;
      // Lines above a free-standing message are no longer ours to redraw.
      lines.clear();
      count = 0;
      return;
    }
    const at = lines.get(m.id);
    if (at === undefined) {
      lines.set(m.id, count++);
      out.write(`\x1b[2K\r${text}\n`);
      return;
    }
    const up = count - at;
    out.write(`\x1b[${up}A\x1b[2K\r${text}\x1b[${up}B\r`);
  };
  let rest = '';
  for await (const chunk of body) {
    rest += chunk.toString();
    let i;
    while ((i = rest.indexOf('\n')) >= 0) { handle(rest.slice(0, i)); rest = rest.slice(i + 1); }
  }
  handle(rest);
  return seen;
}

/**
 * Splits an image reference the way the API's fromImage/tag want it: the tag is after the
 * last ':' that follows the last '/', a digest after '@'. No tag means latest.
 */
export function splitReference(ref: string): { repo: string; tag: string; display: string } {
  const at = ref.indexOf('@');
  if (at >= 0) return { repo: ref.slice(0, at), tag: ref.slice(at + 1), display: ref };
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  if (colon > slash) return { repo: ref.slice(0, colon), tag: ref.slice(colon + 1), display: ref };
  return { repo: ref, tag: 'latest', display: `${ref}:latest` };
}

/** POST /images/create?fromImage=&tag= with the stored credentials for the registry, progress to `out`. */
export async function pullImage(client: Client, ref: string, out: NodeJS.WritableStream, platform?: string): Promise<Msg[]> {
  const { repo, tag } = splitReference(ref);
  const res = await client.stream('POST', '/images/create', {
    query: { fromImage: repo, tag, platform: platform || undefined },
    headers: { 'X-Registry-Auth': registryAuthHeader(repo) },
  });
  return displayJSONStream(res, out);
}
