/**
 * Docker's word rules for Dockerfile arguments: splitting on blanks outside quotes,
 * then per word the quote removal, escapes and variable substitution of the builder
 * ($VAR, ${VAR}, ${VAR:-w}, ${VAR-w}, ${VAR:+w}, ${VAR+w}, ${VAR:?msg}, ${VAR?msg}).
 * RUN, CMD and ENTRYPOINT are not expanded here: their shell does it.
 */
import { invalidArgument } from '../common/errors.js';

export type Lookup = (name: string) => string | undefined;

/** Split on unquoted, unescaped blanks; quotes and escapes stay in the words. */
export function splitWords(s: string, escape = '\\'): string[] {
  const out: string[] = [];
  let cur = '';
  let quote = '';
  let has = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === escape && i + 1 < s.length && quote !== "'") {
      cur += c + s[++i];
      has = true;
    } else if (quote) {
      if (c === quote) quote = '';
      cur += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      cur += c;
      has = true;
    } else if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      if (has) out.push(cur);
      cur = '';
      has = false;
    } else {
      cur += c;
      has = true;
    }
  }
  if (has) out.push(cur);
  return out;
}

/** One word: quotes removed, escapes resolved, variables substituted. */
export function expandWord(word: string, lookup: Lookup, escape = '\\'): string {
  return new Expander(word, lookup, escape).word();
}

class Expander {
  i = 0;
  constructor(private s: string, private lookup: Lookup, private esc: string) {}

  word(stopAt?: string): string {
    let out = '';
    while (this.i < this.s.length) {
      const c = this.s[this.i]!;
      if (stopAt !== undefined && c === stopAt) break;
      if (c === this.esc) {
        this.i++;
        if (this.i < this.s.length) out += this.s[this.i++];
        else out += c;
      } else if (c === "'") {
        const end = this.s.indexOf("'", this.i + 1);
        if (end < 0) throw invalidArgument(`unexpected end of statement while looking for matching single-quote in "${this.s}"`);
        out += this.s.slice(this.i + 1, end);
        this.i = end + 1;
      } else if (c === '"') {
        this.i++;
        out += this.doubleQuoted();
      } else if (c === '$') {
        out += this.variable();
      } else {
        out += c;
        this.i++;
      }
    }
    return out;
  }

  doubleQuoted(): string {
    let out = '';
    while (this.i < this.s.length) {
      const c = this.s[this.i]!;
      if (c === '"') {
        this.i++;
        return out;
      }
      if (c === this.esc && this.i + 1 < this.s.length && ['"', '$', this.esc].includes(this.s[this.i + 1]!)) {
        out += this.s[this.i + 1];
        this.i += 2;
      } else if (c === '$') {
        out += this.variable();
      } else {
        out += c;
        this.i++;
      }
    }
    throw invalidArgument(`unexpected end of statement while looking for matching double-quote in "${this.s}"`);
  }

  /** At a `$`. */
  variable(): string {
    this.i++;
    const c = this.s[this.i];
    if (c === '{') {
      this.i++;
      const name = this.name();
      if (!name) throw invalidArgument(`bad substitution: missing variable name in "${this.s}"`);
      const next = this.s[this.i];
      if (next === '}') {
        this.i++;
        return this.lookup(name) ?? '';
      }
      let op = '';
      if (next === ':') {
        op = ':';
        this.i++;
      }
      const o = this.s[this.i];
      if (o !== '-' && o !== '+' && o !== '?') throw invalidArgument(`unsupported modifier (${op}${o ?? ''}) in substitution of "${this.s}"`);
      op += o;
      this.i++;
      const word = this.word('}');
      if (this.s[this.i] !== '}') throw invalidArgument(`missing '}' in "${this.s}"`);
      this.i++;
      const val = this.lookup(name);
      const set = op.startsWith(':') ? val !== undefined && val !== '' : val !== undefined;
      switch (op.replace(':', '')) {
        case '-': return set ? val! : word;
        case '+': return set ? word : '';
        default:
          if (!set) throw invalidArgument(`${name}: ${word || 'is not allowed to be unset'}`);
          return val!;
      }
    }
    const name = this.name();
    if (!name) return '$';
    return this.lookup(name) ?? '';
  }

  name(): string {
    const m = /^[A-Za-z_][A-Za-z0-9_]*|^[0-9]/.exec(this.s.slice(this.i));
    if (!m) return '';
    this.i += m[0].length;
    return m[0];
  }
}

/**
 * ENV / LABEL / ARG style `k=v k2="v 2"` pairs, or the legacy `KEY value with spaces`
 * (allowed when `legacy`): keys are taken as written (docker expands them too), values expanded.
 */
export function keyValuePairs(args: string, lookup: Lookup, escape: string, what: string, legacy = true): Array<[string, string]> {
  const words = splitWords(args, escape);
  if (words.length === 0) throw invalidArgument(`${what} requires at least one argument`);
  if (!words[0]!.includes('=')) {
    if (!legacy) throw invalidArgument(`${what} names must be followed by =value: "${words[0]}"`);
    if (words.length < 2) throw invalidArgument(`${what} ${words[0]}: missing a value (use ${what} ${words[0]}=value)`);
    const key = words[0]!;
    const rest = args.trim().slice(key.length).trim();
    return [[expandWord(key, lookup, escape), expandWord(rest, lookup, escape)]];
  }
  return words.map((w) => {
    const i = w.indexOf('=');
    if (i <= 0) throw invalidArgument(`${what}: "${w}" is not name=value`);
    return [expandWord(w.slice(0, i), lookup, escape), expandWord(w.slice(i + 1), lookup, escape)];
  });
}
