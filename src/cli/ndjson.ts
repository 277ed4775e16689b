/**
 * Newline-delimited JSON bodies (events, stats, progress): one parsed object per line,
 * as chunks arrive; blank lines are skipped.
 */
export async function* ndjson<T>(body: AsyncIterable<Buffer | string>): AsyncGenerator<T> {
  for await (const line of ndjsonLines(body)) yield JSON.parse(line) as T;
}

/** The same split, unparsed: for callers that need a number's exact digits (nanosecond times). */
export async function* ndjsonLines(body: AsyncIterable<Buffer | string>): AsyncGenerator<string> {
  let buf = '';
  for await (const chunk of body) {
    buf += chunk.toString();
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (line) yield line;
    }
  }
  if (buf.trim()) yield buf.trim();
}
