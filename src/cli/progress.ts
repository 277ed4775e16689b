/**
 * docker's JSON message streams (pull, import, load): one object per line; errors inside
 * the stream fail the command. Rendered the way docker does without a terminal: a line per
 * status change, progress-bar updates dropped.
 */
import type { Client } from './client.js';
import type { JSONMessage } from './wire.js';
import { CliError } from './errors.js';

export async function displayJSONStream(body: AsyncIterable<Buffer | string>, out: NodeJS.WritableStream): Promise<JSONMessage[]> {
  const seen: JSONMessage[] = [];
  let rest = '';
  const handle = (line: string) => {
    if (!line.trim()) return;
    let m: JSONMessage;
    try { m = JSON.parse(line) as JSONMessage; } catch { return; }
    seen.push(m);
    if (m.error || m.errorDetail?.message) throw new CliError(m.errorDetail?.message || m.error || 'unknown error', 1);
    if (m.stream !== undefined) { out.write(m.stream); return; }
    if (m.aux) return;
    if (m.progressDetail && m.progressDetail.current !== undefined) return;
    if (m.status === undefined) return;
    out.write(`${m.id ? m.id + ': ' : ''}${m.status}\n`);
  };
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

/** POST /images/create?fromImage=&tag= with an anonymous X-Registry-Auth, progress to `out`. */
export async function pullImage(client: Client, ref: string, out: NodeJS.WritableStream, platform?: string): Promise<void> {
  const { repo, tag } = splitReference(ref);
  const res = await client.stream('POST', '/images/create', {
    query: { fromImage: repo, tag, platform: platform || undefined },
    headers: { 'X-Registry-Auth': 'e30=' },
  });
  await displayJSONStream(res, out);
}
