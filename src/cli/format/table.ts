/**
 * docker's formatter.Context: a --format string ("table ...", "json", a Go template or
 * empty for the default) applied to rows; tables get a header rendered from the same
 * template with column titles in place of values, then go through the tabwriter.
 */
import { Template } from './template.js';
import { tabwrite } from './tabwriter.js';

export interface FormatSpec {
  /** The default table when --format is empty or just "table". */
  defaultTable: string;
  /** Column titles by field name; others show the field name upper-cased. */
  headers: Record<string, string>;
}

/** Turns the literal `\t` and `\n` of command lines into real ones, as docker does. */
export function unescapeFormat(f: string): string {
  return f.replace(/\\t/g, '\t').replace(/\\n/g, '\n');
}

export function formatRows(format: string | undefined, rows: object[], spec: FormatSpec): string {
  let f = format ?? '';
  if (f === '' || f === 'table') f = spec.defaultTable;
  if (f === 'json') f = '{{json .}}';
  const isTable = f.startsWith('table');
  if (isTable) f = f.slice('table'.length);
  f = unescapeFormat(f.trim());
  const tmpl = new Template(f);
  const lines: string[] = [];
  if (isTable) {
    const header = new Proxy({}, {
      get: (_t, prop) => (typeof prop === 'string' ? spec.headers[prop] ?? prop.toUpperCase() : undefined),
    });
    lines.push(tmpl.execute(header));
  }
  for (const r of rows) lines.push(tmpl.execute(r));
  if (!lines.length) return '';
  const text = lines.join('\n') + '\n';
  return isTable ? tabwrite(text) : text;
}

/** `--format` for one object each (inspect): the template applied to each, one per line. */
export function formatEach(format: string, items: unknown[]): string {
  const tmpl = new Template(unescapeFormat(format === 'json' ? '{{json .}}' : format));
  return items.map((i) => tmpl.execute(i) + '\n').join('');
}
