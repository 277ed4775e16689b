/**
 * Go's path.Match (and filepath.Match on Linux) as a RegExp: `*` and `?` stop at `/`,
 * `[...]` classes with `^`/`!` negation and ranges, `\` escapes. Used where docker
 * matches with it: image reference filters, COPY/ADD sources in the builder.
 */

/** The pattern as an anchored RegExp, or undefined for a malformed one (Go's ErrBadPattern). */
export function goPathPattern(pattern: string): RegExp | undefined {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '\\' && i + 1 < pattern.length) re += escapeRe(pattern[++i]!);
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) return undefined;
      let cls = pattern.slice(i + 1, end);
      if (cls.startsWith('!') || cls.startsWith('^')) cls = '^' + cls.slice(1);
      re += `[${cls.replace(/\\/g, '\\\\')}]`;
      i = end;
    } else re += escapeRe(c);
  }
  return new RegExp(`^${re}$`);
}

function escapeRe(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}
