/**
 * A subset of Go's text/template, enough for docker's --format: fields and chains
 * ({{.State.Status}}), pipelines, function calls (json, index, join, upper, lower, ...),
 * {{if}}/{{else}}/{{range}}/{{with}}/{{end}}, variables in range, and {{- -}} trimming.
 * Values print as Go's %v would for JSON-decoded data (maps sorted, "<no value>").
 */

type Node =
  | { k: 'text'; s: string }
  | { k: 'action'; pipe: Pipe }
  | { k: 'if' | 'with'; pipe: Pipe; body: Node[]; els: Node[] }
  | { k: 'range'; pipe: Pipe; vars: string[]; body: Node[]; els: Node[] };

type Operand =
  | { k: 'field'; base: 'dot' | string; path: string[]; pos: number; text: string }
  | { k: 'lit'; v: unknown }
  | { k: 'ident'; name: string }
  | { k: 'sub'; pipe: Pipe };
interface Pipe { decl: string[]; cmds: Operand[][] }

export type TemplateFunc = (...args: unknown[]) => unknown;

export class TemplateError extends Error {
  /** Go's text: "template: :1: <msg>" (parse) or "template: :1:N: executing ..." (execution). */
  constructor(message: string, readonly phase: 'parse' | 'exec' = 'parse') { super(message); }
}

/**
 * How a missing field is treated. Go errors on a struct field that does not exist (docker's
 * row contexts: `typeName` names the struct) and, with inspect's missingkey=error, on a
 * missing map key; otherwise it prints "<no value>".
 */
import { goSprint, goSprintf, goValue } from './go-printf.js';

export interface TemplateOptions { strict?: boolean; typeName?: string }

/**
 * Marks a formatter row (docker's ps/images/... contexts): `{{json .}}` of one goes through
 * Go's json.Marshal, which escapes <, > and & ("->" in Ports shows as "-\u003e").
 */
export const GO_MARSHALED = Symbol('go-marshaled');

const FUNCS: Record<string, TemplateFunc> = {
  // docker's json func does not HTML-escape; a row's own MarshalJSON does.
  json: (v) => {
    const text = JSON.stringify(v === undefined ? null : v);
    if (!(v && typeof v === 'object' && GO_MARSHALED in v)) return text;
    return text.replace(/[<>&]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`);
  },
  index: (v, ...keys) => {
    let cur = v;
    for (const k of keys) cur = cur == null ? undefined : (cur as Record<string, unknown>)[String(k)];
    return cur;
  },
  len: (v) => (Array.isArray(v) || typeof v === 'string' ? v.length : v && typeof v === 'object' ? Object.keys(v).length : 0),
  upper: (s) => String(s).toUpperCase(),
  lower: (s) => String(s).toLowerCase(),
  title: (s) => String(s).replace(/\b\w/g, (c) => c.toUpperCase()),
  join: (a, sep) => (Array.isArray(a) ? a.map(show).join(String(sep)) : show(a)),
  split: (s, sep) => String(s).split(String(sep)),
  pad: (s, l, r) => ' '.repeat(Number(l)) + show(s) + ' '.repeat(Number(r)),
  truncate: (s, n) => [...show(s)].slice(0, Number(n)).join(''),
  print: (...a) => goSprint(a),
  println: (...a) => a.map(show).join(' ') + '\n',
  printf: (f, ...a) => goSprintf(String(f), a),
  not: (v) => !truthy(v),
  and: (...a) => a.find((x) => !truthy(x)) ?? a[a.length - 1],
  or: (...a) => a.find((x) => truthy(x)) ?? a[a.length - 1],
  eq: (a, ...b) => b.some((x) => x === a),
  ne: (a, b) => a !== b,
  lt: (a, b) => (a as number) < (b as number),
  le: (a, b) => (a as number) <= (b as number),
  gt: (a, b) => (a as number) > (b as number),
  ge: (a, b) => (a as number) >= (b as number),
};

/** Go's %v of a JSON-ish value. */
export const show = goValue;

function truthy(v: unknown): boolean {
  if (v == null || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v).length > 0;
  return true;
}


// ---- lexing and parsing ----------------------------------------------------------

type Tokens = string[] & { offs?: number[] };

function tokenize(src: string, base = 0): Tokens {
  const toks: Tokens = [];
  const offs: number[] = [];
  toks.offs = offs;
  const push = (t: string, at: number) => { toks.push(t); offs.push(base + at); };
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) { i++; continue; }
    if (c === '"' || c === '`') {
      let j = i + 1;
      while (j < src.length && src[j] !== c) j += src[j] === '\\' && c === '"' ? 2 : 1;
      push(src.slice(i, j + 1), i);
      i = j + 1;
      continue;
    }
    if (c === '(' || c === ')' || c === '|' || c === ',') { push(c, i); i++; continue; }
    if (c === ':' && src[i + 1] === '=') { push(':=', i); i += 2; continue; }
    let j = i;
    while (j < src.length && !/[\s()|,]/.test(src[j]!) && !(src[j] === ':' && src[j + 1] === '=')) j++;
    push(src.slice(i, j), i);
    i = j;
  }
  return toks;
}

function parsePipe(toks: Tokens, pos: { i: number }, inParen = false): Pipe {
  const decl: string[] = [];
  // "$k, $v :=" or "$x :=" declarations
  const save = pos.i;
  while (toks[pos.i]?.startsWith('$') && (toks[pos.i + 1] === ',' || toks[pos.i + 1] === ':=')) {
    decl.push(toks[pos.i]!);
    pos.i += 2;
    if (toks[pos.i - 1] === ':=') break;
  }
  if (decl.length && toks[pos.i - 1] !== ':=') { decl.length = 0; pos.i = save; }
  const cmds: Operand[][] = [[]];
  while (pos.i < toks.length) {
    const t = toks[pos.i++]!;
    if (t === ')') { if (inParen) break; throw new TemplateError(`unexpected ")"`); }
    if (t === '|') { cmds.push([]); continue; }
    if (t === '(') { cmds[cmds.length - 1]!.push({ k: 'sub', pipe: parsePipe(toks, pos, true) }); continue; }
    cmds[cmds.length - 1]!.push(operand(t, toks.offs?.[pos.i - 1] ?? 0));
  }
  if (cmds.some((c) => c.length === 0)) throw new TemplateError('missing value for command');
  return { decl, cmds };
}

function operand(t: string, at = 0): Operand {
  if (t.startsWith('"')) return { k: 'lit', v: JSON.parse(t) };
  if (t.startsWith('`')) return { k: 'lit', v: t.slice(1, -1) };
  if (/^-?\d+(\.\d+)?$/.test(t)) return { k: 'lit', v: Number(t) };
  if (t === 'true' || t === 'false') return { k: 'lit', v: t === 'true' };
  if (t === 'nil') return { k: 'lit', v: null };
  if (t === '.') return { k: 'field', base: 'dot', path: [], pos: at, text: t };
  if (t.startsWith('.')) return { k: 'field', base: 'dot', path: t.slice(1).split('.'), pos: at, text: t };
  if (t.startsWith('$')) {
    const [v, ...path] = t.split('.');
    return { k: 'field', base: v!, path, pos: at, text: t };
  }
  if (/^[A-Za-z_]\w*$/.test(t)) return { k: 'ident', name: t };
  throw new TemplateError(`unexpected "${t}" in command`);
}

export function parse(src: string): Node[] {
  const root: Node[] = [];
  const stack: Array<{ node: Node & { body: Node[]; els: Node[] }; inElse: boolean }> = [];
  const cur = () => (stack.length ? (stack[stack.length - 1]!.inElse ? stack[stack.length - 1]!.node.els : stack[stack.length - 1]!.node.body) : root);
  let i = 0;
  let trimNext = false;
  while (i < src.length) {
    const open = src.indexOf('{{', i);
    let text = open < 0 ? src.slice(i) : src.slice(i, open);
    if (trimNext) text = text.replace(/^\s+/, '');
    if (open < 0) { if (text) cur().push({ k: 'text', s: text }); break; }
    const close = src.indexOf('}}', open);
    if (close < 0) throw new TemplateError('unclosed action');
    let body = src.slice(open + 2, close);
    let bodyAt = open + 2;
    if (body.startsWith('- ') || body === '-') { text = text.replace(/\s+$/, ''); body = body.slice(1); bodyAt++; }
    trimNext = body.endsWith(' -');
    if (trimNext) body = body.slice(0, -1);
    if (text) cur().push({ k: 'text', s: text });
    i = close + 2;
    bodyAt += body.length - body.trimStart().length;
    body = body.trim();
    if (body.startsWith('/*')) continue;
    const toks = tokenize(body, bodyAt);
    const kw = toks[0];
    if (kw === 'if' || kw === 'with' || kw === 'range') {
      const pos = { i: 1 };
      const pipe = parsePipe(toks, pos);
      const node: Node & { body: Node[]; els: Node[] } = kw === 'range'
        ? { k: 'range', pipe: { decl: [], cmds: pipe.cmds }, vars: pipe.decl, body: [], els: [] }
        : { k: kw, pipe, body: [], els: [] };
      cur().push(node);
      stack.push({ node, inElse: false });
    } else if (kw === 'else') {
      const top = stack[stack.length - 1];
      if (!top) throw new TemplateError('unexpected {{else}}');
      top.inElse = true;
      if (toks[1] === 'if') {
        // {{else if x}} is an if nested in the else branch, closed by the same {{end}}.
        const node = { k: 'if' as const, pipe: parsePipe(toks, { i: 2 }), body: [], els: [] };
        top.node.els.push(node);
        stack.push({ node: Object.assign(node, { chained: true }), inElse: false });
      }
    } else if (kw === 'end') {
      if (!stack.length) throw new TemplateError('unexpected {{end}}');
      while ((stack.pop()!.node as { chained?: boolean }).chained) { /* close the whole else-if chain */ }
    } else {
      cur().push({ k: 'action', pipe: parsePipe(toks, { i: 0 }) });
    }
  }
  if (stack.length) throw new TemplateError('unexpected EOF');
  return root;
}

// ---- evaluation --------------------------------------------------------------

type Scope = Map<string, unknown>;

interface Env { fns: Record<string, TemplateFunc>; opts: TemplateOptions; src: string }

function goType(v: unknown): string {
  if (typeof v === 'string') return 'string';
  if (typeof v === 'number') return 'float64';
  if (typeof v === 'boolean') return 'bool';
  if (Array.isArray(v)) return '[]interface {}';
  return 'interface {}';
}

function getField(v: unknown, name: string, args: unknown[], op: Extract<Operand, { k: 'field' }>, top: boolean, env: Env): unknown {
  const fail = (why: string): never => {
    const before = env.src.slice(0, op.pos);
    const line = before.split('\n').length;
    const col = op.pos - (before.lastIndexOf('\n') + 1);
    throw new TemplateError(`template: :${line}:${col}: executing "" at <${op.text}>: ${why}`, 'exec');
  };
  if (v == null || typeof v !== 'object') {
    if (!env.opts.strict || v === undefined) return undefined;
    if (v === null) return fail(`nil pointer evaluating interface {}.${name}`);
    return fail(`can't evaluate field ${name} in type ${goType(v)}`);
  }
  if (env.opts.strict && !(name in (v as object))) {
    if (Array.isArray(v)) return fail(`can't evaluate field ${name} in type []interface {}`);
    return fail(top && env.opts.typeName ? `can't evaluate field ${name} in type ${env.opts.typeName}` : `map has no entry for key "${name}"`);
  }
  const f = (v as Record<string, unknown>)[name];
  if (typeof f === 'function') return (f as TemplateFunc).apply(v, args);
  return f;
}

function evalOperand(op: Operand, dot: unknown, vars: Scope, env: Env, args: unknown[] = []): unknown {
  switch (op.k) {
    case 'lit': return op.v;
    case 'sub': return evalPipe(op.pipe, dot, vars, env);
    case 'ident': {
      const f = env.fns[op.name];
      if (!f) throw new TemplateError(`function "${op.name}" not defined`);
      return f(...args);
    }
    case 'field': {
      let v = op.base === 'dot' ? dot : vars.get(op.base);
      if (op.base !== 'dot' && !vars.has(op.base)) throw new TemplateError(`undefined variable "${op.base}"`);
      // The first field of the data itself is a field of the row's struct (typeName).
      op.path.forEach((p, idx) => { v = getField(v, p, idx === op.path.length - 1 ? args : [], op, idx === 0 && v === dot, env); });
      return v;
    }
  }
}

function evalPipe(p: Pipe, dot: unknown, vars: Scope, env: Env): unknown {
  let piped: unknown;
  let first = true;
  for (const cmd of p.cmds) {
    const args = cmd.slice(1).map((o) => evalOperand(o, dot, vars, env));
    if (!first) args.push(piped);
    piped = evalOperand(cmd[0]!, dot, vars, env, args);
    first = false;
  }
  if (p.decl.length) vars.set(p.decl[0]!, piped);
  return piped;
}

function run(nodes: Node[], dot: unknown, vars: Scope, env: Env, out: string[]): void {
  for (const n of nodes) {
    switch (n.k) {
      case 'text': out.push(n.s); break;
      case 'action': {
        const v = evalPipe(n.pipe, dot, vars, env);
        if (!n.pipe.decl.length) out.push(show(v));
        break;
      }
      case 'if': case 'with': {
        const v = evalPipe(n.pipe, dot, vars, env);
        if (truthy(v)) run(n.body, n.k === 'with' ? v : dot, vars, env, out);
        else run(n.els, dot, vars, env, out);
        break;
      }
      case 'range': {
        const v = evalPipe(n.pipe, dot, vars, env);
        const entries: Array<[unknown, unknown]> = Array.isArray(v)
          ? v.map((x, idx) => [idx, x])
          : v && typeof v === 'object' ? Object.keys(v).sort().map((k) => [k, (v as Record<string, unknown>)[k]]) : [];
        if (!entries.length) { run(n.els, dot, vars, env, out); break; }
        for (const [key, val] of entries) {
          const inner = new Map(vars);
          if (n.vars.length === 1) inner.set(n.vars[0]!, val);
          if (n.vars.length === 2) { inner.set(n.vars[0]!, key); inner.set(n.vars[1]!, val); }
          run(n.body, val, inner, env, out);
        }
        break;
      }
    }
  }
}

export class Template {
  private readonly nodes: Node[];
  constructor(private readonly src: string, private readonly funcs: Record<string, TemplateFunc> = {}, private readonly opts: TemplateOptions = {}) {
    try {
      this.nodes = parse(src);
    } catch (e) {
      if (e instanceof TemplateError) throw new TemplateError(`template: :1: ${e.message}`, 'parse');
      throw e;
    }
  }
  execute(data: unknown, opts: TemplateOptions = this.opts): string {
    const out: string[] = [];
    run(this.nodes, data, new Map([['$', data]]), { fns: { ...FUNCS, ...this.funcs }, opts, src: this.src }, out);
    return out.join('');
  }
}

export function render(src: string, data: unknown): string {
  return new Template(src).execute(data);
}
