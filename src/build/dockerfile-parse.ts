/**
 * Dockerfile text to instructions, the way docker's parser reads it: parser
 * directives at the top (`# escape=`), comments, line continuations with the escape
 * character (comment and blank lines inside a continuation are dropped), leading
 * `--flag[=value]` words, and JSON (exec) form next to shell form.
 *
 * Why not an npm parser: dockerfile-ast is an editor AST (ranges, vscode types) and
 * docker-file-parser is unmaintained; neither gives the builder's semantics (flags,
 * JSON form), so we would re-derive them anyway. Heredocs are not supported.
 */
import { invalidArgument } from '../common/errors.js';

export interface Instruction {
  /** Upper-case keyword: FROM, RUN, ... */
  cmd: string;
  /** The instruction as written, continuations joined (docker's "Step n/m : <original>"). */
  original: string;
  /** The arguments after the keyword and the flags, trimmed. */
  args: string;
  /** Leading --name=value flags (a bare --name is "true"). */
  flags: Record<string, string>;
  /** Set when args is a JSON array of strings (exec form). */
  json?: string[];
  /** 1-based line of the keyword. */
  line: number;
}

export interface Dockerfile {
  escape: '\\' | '`';
  instructions: Instruction[];
}

const KNOWN = new Set(['FROM', 'RUN', 'CMD', 'LABEL', 'MAINTAINER', 'EXPOSE', 'ENV', 'ADD', 'COPY', 'ENTRYPOINT', 'VOLUME', 'USER', 'WORKDIR', 'ARG', 'ONBUILD', 'STOPSIGNAL', 'HEALTHCHECK', 'SHELL']);
/** Instructions whose leading --words are flags (others keep them as arguments). */
const FLAGGED = new Set(['FROM', 'RUN', 'ADD', 'COPY', 'HEALTHCHECK', 'ONBUILD']);
const MAX_SIZE = 4 << 20;

export function parseDockerfile(text: string): Dockerfile {
  if (text.length > MAX_SIZE) throw invalidArgument('the Dockerfile is larger than 4 MiB; it cannot be parsed');
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  let escape: '\\' | '`' = '\\';
  let i = 0;
  // Directives: only before any instruction, comment or blank line.
  const seen = new Set<string>();
  for (; i < lines.length; i++) {
    const m = /^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.*?)\s*$/.exec(lines[i]!);
    if (!m) break;
    const name = m[1]!.toLowerCase();
    if (seen.has(name)) throw invalidArgument(`dockerfile parse error on line ${i + 1}: only one ${name} parser directive can be used`);
    seen.add(name);
    if (name === 'escape') {
      if (m[2] !== '\\' && m[2] !== '`') throw invalidArgument(`dockerfile parse error on line ${i + 1}: invalid escape token '${m[2]}' does not match ` + '` or \\');
      escape = m[2];
    }
  }
  const out: Instruction[] = [];
  while (i < lines.length) {
    const start = i;
    let raw = lines[i++]!;
    if (isSkippable(raw)) continue;
    let text = '';
    // Continuation: the (trailing-blank-trimmed) line ends with the escape character.
    for (;;) {
      const trimmed = raw.replace(/[ \t]+$/, '');
      if (trimmed.endsWith(escape) && !endsEscaped(trimmed, escape)) {
        text += trimmed.slice(0, -1);
        // Comment and empty lines inside a continuation are dropped, as docker does.
        while (i < lines.length && isSkippable(lines[i]!)) i++;
        if (i >= lines.length) break;
        raw = lines[i++]!;
        continue;
      }
      text += raw;
      break;
    }
    out.push(parseInstruction(text.trim(), start + 1));
  }
  return { escape, instructions: out };
}

function isSkippable(line: string): boolean {
  const t = line.trimStart();
  return t === '' || t.startsWith('#');
}

/** `\\` at the end is an escaped escape, not a continuation. */
function endsEscaped(s: string, escape: string): boolean {
  let n = 0;
  for (let j = s.length - 1; j >= 0 && s[j] === escape; j--) n++;
  return n % 2 === 0;
}

export function parseInstruction(text: string, line: number): Instruction {
  const m = /^(\S+)\s*([\s\S]*)$/.exec(text);
  if (!m) throw invalidArgument(`dockerfile parse error on line ${line}: empty instruction`);
  const cmd = m[1]!.toUpperCase();
  if (!KNOWN.has(cmd)) throw invalidArgument(`dockerfile parse error on line ${line}: unknown instruction: ${m[1]}`);
  let rest = m[2]!;
  const flags: Record<string, string> = {};
  if (FLAGGED.has(cmd)) {
    for (;;) {
      const f = /^--([a-zA-Z][a-zA-Z0-9-]*)(?:=(\S*))?(?:\s+|$)/.exec(rest);
      if (!f) break;
      flags[f[1]!.toLowerCase()] = f[2] ?? 'true';
      rest = rest.slice(f[0].length);
    }
  }
  const args = rest.trim();
  const inst: Instruction = { cmd, original: text, args, flags, line };
  if (args.startsWith('[')) {
    try {
      const v: unknown = JSON.parse(args);
      if (Array.isArray(v) && v.every((x) => typeof x === 'string')) inst.json = v as string[];
    } catch {
      // Not JSON: docker treats it as shell form.
    }
  }
  return inst;
}
