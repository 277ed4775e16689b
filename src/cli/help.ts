/**
 * `--help` laid out as docker's cobra template and pflag's flag table print it: "Usage:  "
 * (two spaces), the description, Aliases, Commands (sorted, names padded to 11), Options
 * (flags by long name, "-f, --filter filter" or "      --format string", descriptions in one
 * column wrapped to 79 like pflag's FlagUsagesWrapped), and a group's "Run '… COMMAND --help'".
 */
import type { Command, Help, Option } from 'commander';

/** The command's words from the root ("berth volume ls"). */
function pathOf(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** pflag's wrapN: break before `i` at the last blank or newline, allowing `slop` more when that ends the text. */
function wrapN(i: number, slop: number, s: string): [string, string] {
  if (i + slop > s.length) return [s, ''];
  const head = s.slice(0, i);
  const w = Math.max(head.lastIndexOf(' '), head.lastIndexOf('\t'), head.lastIndexOf('\n'));
  if (w <= 0) return [s, ''];
  const nl = head.lastIndexOf('\n');
  if (nl > 0 && nl < w) return [s.slice(0, nl), s.slice(nl + 1)];
  return [s.slice(0, w), s.slice(w + 1)];
}

/** pflag's wrap: text indented by `i` in a `w`-wide terminal. */
export function wrap(i: number, w: number, s: string): string {
  let width = w - i;
  let r = '';
  if (width < 24) { i = 16; width = w - i; r += '\n' + ' '.repeat(i); }
  const indentNl = (t: string) => t.replace(/\n/g, '\n' + ' '.repeat(i));
  if (width < 24) return r + indentNl(s);
  const slop = 5;
  width -= slop;
  let [line, rest] = wrapN(width, slop, s);
  r += indentNl(line);
  while (rest !== '') {
    [line, rest] = wrapN(width, slop, rest);
    r += '\n' + ' '.repeat(i) + indentNl(line);
  }
  return r;
}

/** pflag's value type name: commander's `<placeholder>`, none for a bool. */
const typeName = (o: Option) => /<([^>]+)>|\[([^\]]+)\]/.exec(o.flags)?.slice(1).find(Boolean) ?? '';

function defaultText(o: Option): string {
  const v = o.defaultValue as unknown;
  if (v === undefined || v === false || v === '' || (Array.isArray(v) && !v.length) || o.negate) return '';
  return ` (default ${typeof v === 'string' && typeName(o) === 'string' ? JSON.stringify(v) : String(v)})`;
}

/** pflag's FlagUsagesWrapped(79): one line per flag, descriptions aligned after the widest flag. */
export function flagTable(options: readonly Option[], cols = 79): string {
  const lines = options.map((o) => {
    const long = o.long ?? '';
    const flag = o.short ? `  ${o.short}, ${long}` : `      ${long}`;
    const t = typeName(o);
    return { left: t ? `${flag} ${t}` : flag, text: o.description + defaultText(o) };
  });
  const maxlen = Math.max(...lines.map((l) => l.left.length + 1));
  return lines.map((l) => `${l.left} ${' '.repeat(maxlen - l.left.length)} ${wrap(maxlen + 2, cols, l.text)}\n`).join('');
}

const longName = (o: Option) => (o.long ?? o.short ?? '').replace(/^-+/, '');

export function dockerHelp(cmd: Command, helper: Help): string {
  const path = pathOf(cmd);
  let s = `Usage:  ${`${path} ${cmd.usage().replace('[options]', '[OPTIONS]')}`.trimEnd()}\n\n`;
  if (cmd.description()) s += cmd.description() + '\n';
  if (cmd.aliases().length) {
    const parent = cmd.parent ? pathOf(cmd.parent) : '';
    s += `\nAliases:\n  ${[cmd.name(), ...cmd.aliases()].map((n) => `${parent} ${n}`.trim()).join(', ')}\n`;
  }
  const subs = helper.visibleCommands(cmd).filter((c) => c.name() !== 'help').sort((a, b) => (a.name() < b.name() ? -1 : 1));
  if (subs.length) {
    const pad = Math.max(11, ...subs.map((c) => c.name().length));
    s += '\nCommands:\n' + subs.map((c) => `  ${c.name().padEnd(pad)} ${c.description()}\n`).join('');
  }
  // --help is not listed (docker hides it); a --no-x beside its --x is the same flag to pflag.
  const all = cmd.options as readonly Option[];
  const opts = all.filter((o) => !o.hidden && o.long !== '--help' && !(o.negate && all.some((p) => !p.negate && p.long === o.long!.replace(/^--no-/, '--'))))
    .sort((a, b) => (longName(a) < longName(b) ? -1 : longName(a) > longName(b) ? 1 : 0));
  if (opts.length) s += '\nOptions:\n' + flagTable(opts);
  if (subs.length) s += `\nRun '${path} COMMAND --help' for more information on a command.\n`;
  return s;
}

/** For configureHelp: docker's layout, inherited by every subcommand declared after it. */
export const DOCKER_HELP = { formatHelp: dockerHelp };
