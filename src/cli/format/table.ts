/**
 * docker's formatter.Context: a --format string ("table ...", "json", a Go template or
 * empty for the default) applied to rows; tables get a header rendered from the same
 * template with column titles in place of values, then go through the tabwriter.
 */
import { GO_MARSHALED, Template, TemplateError, type TemplateOptions } from './template.js';
import { CliError } from '../errors.js';
import { tabwrite } from './tabwriter.js';

export interface FormatSpec {
  /** The default table when --format is empty or just "table". */
  defaultTable: string;
  /** Column titles by field name; others show the field name upper-cased. */
  headers: Record<string, string>;
  /** docker's Go type of a row, named in "can't evaluate field X in type T". */
  typeName?: string;
  /** docker's prefixes for template errors (ps has its own wording). */
  errors?: { parse: string; exec: string };
}

const TEMPLATE_ERRORS = { parse: 'template parsing error: ', exec: 'template parsing error: ' };

/**
 * Runs `fn`, turning template errors into docker's one-line messages: a field that does not
 * exist is an error, as in Go, not a silent "<no value>". docker exits 64 on inspect's
 * parse errors, 1 otherwise.
 */
export function withTemplateErrors<T>(fn: () => T, prefixes = TEMPLATE_ERRORS, parseCode = 1): T {
  try {
    return fn();
  } catch (e) {
    if (!(e instanceof TemplateError)) throw e;
    throw new CliError((e.phase === 'parse' ? prefixes.parse : prefixes.exec) + e.message, e.phase === 'parse' ? parseCode : 1);
  }
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
  const opts: TemplateOptions = { strict: true, typeName: spec.typeName ?? 'formatter.Context' };
  const tmpl = withTemplateErrors(() => new Template(f, {}, opts), spec.errors);
  const lines: string[] = [];
  // Rows are rendered before anything is printed: a bad field fails the command cleanly.
  withTemplateErrors(() => {
    if (isTable) {
      // Header cells: any field a row has gets its title (the rows decide what exists).
      const header = new Proxy({}, {
        get: (_t, prop) => (typeof prop === 'string' ? spec.headers[prop] ?? prop.toUpperCase() : undefined),
        has: () => true,
      });
      lines.push(tmpl.execute(header, { strict: false }));
    }
    for (const r of rows) {
      if (Object.isExtensible(r)) Object.defineProperty(r, GO_MARSHALED, { value: true });
      lines.push(tmpl.execute(r));
    }
  }, spec.errors);
  if (!lines.length) return '';
  const text = lines.join('\n') + '\n';
  return isTable ? tabwrite(text) : text;
}

/** `--format` for one object each (inspect): the template applied to each, one per line. */
export function formatEach(format: string, items: unknown[], o: { typeName?: string; errors?: { parse: string; exec: string }; parseCode?: number; strict?: boolean } = {}): string {
  const opts: TemplateOptions = { strict: o.strict !== false, typeName: o.typeName };
  const tmpl = withTemplateErrors(() => new Template(unescapeFormat(format === 'json' ? '{{json .}}' : format), {}, opts), o.errors, o.parseCode);
  return withTemplateErrors(() => items.map((i) => tmpl.execute(i) + '\n').join(''), o.errors);
}
