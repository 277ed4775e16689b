/**
 * Go's fmt for templates' printf and print, over JSON-ish values: the verbs, flags, widths
 * and precisions docker users write in --format (`{{printf "%-20s" .Names}}`,
 * `{{printf "%.2f" …}}`, `%5d`, `%x`, `%q`, `%T`), and Go's own marks for a wrong or
 * missing operand (`%!d(string=x)`, `%!s(MISSING)`, `%!(EXTRA …)`).
 */

/** Go's %v of a JSON-ish value (numbers that are whole print as integers). */
export function goValue(v: unknown): string {
  if (v === undefined) return '<no value>';
  if (v === null) return '<nil>';
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) return '[' + v.map(goValue).join(' ') + ']';
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return 'map[' + Object.keys(o).sort().map((k) => `${k}:${goValue(o[k])}`).join(' ') + ']';
  }
  return String(v);
}

/** The Go type a decoded value has (integers: the typed structs' int). */
export function goType(v: unknown): string {
  if (v === null || v === undefined) return '<nil>';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float64';
  if (Array.isArray(v)) return '[]interface {}';
  return 'map[string]interface {}';
}

const quote = (s: string) => JSON.stringify(s);

function bad(verb: string, v: unknown): string {
  return `%!${verb}(${goType(v)}=${goValue(v)})`;
}

interface Spec { minus: boolean; plus: boolean; zero: boolean; space: boolean; sharp: boolean; width?: number; prec?: number }

function pad(s: string, sp: Spec, numeric: boolean): string {
  if (sp.width === undefined || s.length >= sp.width) return s;
  const n = sp.width - s.length;
  if (sp.minus) return s + ' '.repeat(n);
  if (sp.zero && numeric) {
    const sign = /^[+-]/.test(s) ? s[0]! : '';
    return sign + '0'.repeat(n) + s.slice(sign.length);
  }
  return ' '.repeat(n) + s;
}

function signed(n: number, s: string, sp: Spec): string {
  return n >= 0 && sp.plus ? '+' + s : n >= 0 && sp.space ? ' ' + s : s;
}

function integer(v: unknown, verb: string, sp: Spec): string | undefined {
  if (typeof v !== 'number' || !Number.isInteger(v)) return undefined;
  const base = { d: 10, x: 16, X: 16, o: 8, O: 8, b: 2 }[verb]!;
  let s = Math.abs(v).toString(base);
  if (verb === 'X') s = s.toUpperCase();
  if (sp.sharp && (verb === 'x' || verb === 'X')) s = (verb === 'x' ? '0x' : '0X') + s;
  if (verb === 'O' || (sp.sharp && verb === 'o')) s = (verb === 'O' ? '0o' : '0') + s;
  return signed(v, v < 0 ? '-' + s : s, sp);
}

function float(v: unknown, verb: string, sp: Spec): string | undefined {
  if (typeof v !== 'number') return undefined;
  let s: string;
  if (verb === 'f' || verb === 'F') s = v.toFixed(sp.prec ?? 6);
  else if (verb === 'e' || verb === 'E') s = v.toExponential(sp.prec ?? 6).replace(/e([+-])(\d)$/, 'e$10$2');
  else s = formatG(v, sp.prec);
  if (verb === 'E' || verb === 'G') s = s.toUpperCase();
  return signed(v, s, sp);
}

/** Go's %g: the shortest digits (or `prec` significant ones, trailing zeros dropped), as %e when the exponent is < -4 or >= the precision (6 when shortest). */
function formatG(v: number, prec: number | undefined): string {
  if (v === 0 || !Number.isFinite(v)) return String(v);
  const e = prec === undefined ? Math.abs(v).toExponential() : Math.abs(v).toExponential(Math.max(prec, 1) - 1);
  const [mant, expText] = e.split('e') as [string, string];
  const exp = Number(expText);
  const digits = mant.replace('.', '').replace(/0+$/, '') || '0';
  let eprec = prec === undefined ? 6 : Math.max(prec, 1);
  if (prec !== undefined && eprec > digits.length && digits.length >= exp + 1) eprec = digits.length;
  const sign = v < 0 ? '-' : '';
  if (exp < -4 || exp >= eprec) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    return `${sign}${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  return sign + Math.abs(v).toFixed(Math.max(digits.length - exp - 1, 0));
}

function one(verb: string, v: unknown, sp: Spec): { text: string; numeric: boolean } {
  switch (verb) {
    case 'v': return { text: typeof v === 'number' ? signed(v, String(v), sp) : goValue(v), numeric: typeof v === 'number' };
    case 's': {
      if (typeof v === 'number' || typeof v === 'boolean') return { text: bad('s', v), numeric: false };
      const s = goValue(v);
      return { text: sp.prec !== undefined ? [...s].slice(0, sp.prec).join('') : s, numeric: false };
    }
    case 'q':
      if (typeof v === 'string') return { text: quote(v), numeric: false };
      if (Array.isArray(v)) return { text: '[' + v.map((x) => (typeof x === 'string' ? quote(x) : goValue(x))).join(' ') + ']', numeric: false };
      return { text: bad('q', v), numeric: false };
    case 'd': case 'o': case 'O': case 'b': {
      const t = integer(v, verb, sp);
      return t === undefined ? { text: bad(verb, v), numeric: false } : { text: t, numeric: true };
    }
    case 'x': case 'X': {
      if (typeof v === 'string') {
        const hex = Buffer.from(v, 'utf8').toString('hex');
        return { text: verb === 'X' ? hex.toUpperCase() : hex, numeric: false };
      }
      const t = integer(v, verb, sp);
      return t === undefined ? { text: bad(verb, v), numeric: false } : { text: t, numeric: true };
    }
    case 'f': case 'F': case 'e': case 'E': case 'g': case 'G': {
      const t = float(v, verb, sp);
      return t === undefined ? { text: bad(verb, v), numeric: false } : { text: t, numeric: true };
    }
    case 't': return { text: typeof v === 'boolean' ? String(v) : bad('t', v), numeric: false };
    case 'c': return { text: typeof v === 'number' && Number.isInteger(v) ? String.fromCodePoint(v) : bad('c', v), numeric: false };
    case 'U': return { text: typeof v === 'number' && Number.isInteger(v) ? 'U+' + v.toString(16).toUpperCase().padStart(4, '0') : bad('U', v), numeric: false };
    case 'T': return { text: goType(v), numeric: false };
    default: return { text: `%!${verb}(${goType(v)}=${goValue(v)})`, numeric: false };
  }
}

/** Go's fmt.Sprintf. */
export function goSprintf(format: string, args: readonly unknown[]): string {
  let out = '';
  let arg = 0;
  const re = /%([-+# 0]*)(\*|\d+)?(?:\.(\*|\d*))?(.)?/gy;
  let last = 0;
  for (let i = format.indexOf('%'); i >= 0; i = format.indexOf('%', last)) {
    out += format.slice(last, i);
    re.lastIndex = i;
    const m = re.exec(format)!;
    last = re.lastIndex;
    const flags = m[1]!;
    const sp: Spec = { minus: flags.includes('-'), plus: flags.includes('+'), zero: flags.includes('0'), space: flags.includes(' '), sharp: flags.includes('#') };
    const num = (s: string | undefined): number | undefined => {
      if (s === undefined) return undefined;
      if (s === '*') { const v = args[arg++]; return typeof v === 'number' ? v : undefined; }
      return s === '' ? 0 : Number(s);
    };
    sp.width = num(m[2]);
    if (sp.width !== undefined && sp.width < 0) { sp.minus = true; sp.width = -sp.width; }
    sp.prec = num(m[3]);
    const verb = m[4];
    if (verb === undefined) { out += '%!(NOVERB)'; break; }
    if (verb === '%') { out += '%'; continue; }
    if (arg >= args.length) { out += `%!${verb}(MISSING)`; continue; }
    const { text, numeric } = one(verb, args[arg++], sp);
    out += pad(text, sp, numeric);
  }
  out += format.slice(last);
  if (arg < args.length) out += '%!(EXTRA ' + args.slice(arg).map((v) => `${goType(v)}=${goValue(v)}`).join(', ') + ')';
  return out;
}

/** Go's fmt.Sprint: operands side by side, a space between two that are not strings. */
export function goSprint(args: readonly unknown[]): string {
  let out = '';
  args.forEach((v, i) => {
    if (i > 0 && typeof v !== 'string' && typeof args[i - 1] !== 'string') out += ' ';
    out += goValue(v);
  });
  return out;
}
