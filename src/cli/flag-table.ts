/**
 * Flags kept as data, declared on a commander Command on demand. Why: `run` and `create`
 * carry ~100 of docker's flags, and declaring them all (commander builds an Option, checks
 * it against every flag declared before it and adds an event listener) cost ~2.5 ms of
 * every `berth run`, which sits on the container start path. Given the words commander is
 * about to parse, declareFlags declares only the flags those words can name, plus every flag
 * whose declaration alone changes the parsed options (a default value, a --no-x negation and
 * its --x twin), so the options an action receives, and commander's errors, are the same as
 * with every flag declared. `--help` anywhere, or no words given, declares them all.
 */
import type { Command } from 'commander';

/** The arguments of commander's `.option()`: flags, description, then a parser or a default value. */
export type FlagDef = readonly [flags: string, description: string, parseOrDefault?: ((value: string, previous: never) => unknown) | string];

/**
 * The flag names `words` can be using: each `--long` (up to any `=`) and each letter of a
 * `-short` cluster. Over-inclusive on purpose: a value that looks like a flag, an attached
 * short value (`-eFOO`) or the container command's own flags only declare a flag that then
 * goes unused, which changes nothing.
 */
export function flagNamesIn(words: readonly string[]): Set<string> {
  const names = new Set<string>();
  for (const w of words) {
    if (w.length < 2 || w[0] !== '-') continue;
    if (w[1] === '-') {
      const eq = w.indexOf('=');
      names.add(eq < 0 ? w : w.slice(0, eq));
      continue;
    }
    for (let i = 1; i < w.length; i++) names.add(`-${w[i]}`);
  }
  return names;
}

/** True when the flags string ("-a, --attach <list>") declares `name` ("-a" or "--attach"). */
function declares(flags: string, name: string): boolean {
  for (let i = flags.indexOf(name); i >= 0; i = flags.indexOf(name, i + 1)) {
    const before = i === 0 ? ' ' : flags[i - 1]!;
    const after = flags[i + name.length] ?? ' ';
    if (' ,|'.includes(before) && ' ,|<['.includes(after)) return true;
  }
  return false;
}

/** Declares `defs` on `cmd` in their order: all of them, or those `words` may need (see above). */
export function declareFlags(cmd: Command, defs: readonly FlagDef[], words?: readonly string[]): Command {
  const used = words && !words.includes('--help') ? [...flagNamesIn(words)] : undefined;
  // commander's default for --x depends on --no-x (and the reverse): such pairs go together.
  if (used) {
    for (const [flags] of defs) {
      const i = flags.indexOf('--no-');
      if (i >= 0) used.push(`--${flags.slice(i + 5).split(/[ ,|<[]/, 1)[0]}`);
    }
  }
  for (const def of defs) {
    const [flags, description, extra] = def;
    const keep = !used || typeof extra === 'string' || flags.includes('--no-') || used.some((n) => declares(flags, n));
    if (!keep) continue;
    if (typeof extra === 'function') cmd.option(flags, description, extra as (value: string, previous: unknown) => unknown);
    else if (extra !== undefined) cmd.option(flags, description, extra);
    else cmd.option(flags, description);
    // docker's help leaves out the flags of another OS (pflag's "ostype" annotation).
    if (description.endsWith('(Windows only)')) cmd.options.at(-1)!.hidden = true;
  }
  return cmd;
}
