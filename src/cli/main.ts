/**
 * berth: docker's command line over berthd's Docker Engine API. program.ts declares the
 * commands (only the one being run); this file turns commander's and the daemon's errors
 * into docker's one-liners and exit statuses, and exits promptly (keep-alive sockets must
 * not hold the process).
 */
import { type Command, CommanderError } from 'commander';
import { ApiError, ConnectError } from './client.js';
import { makeContext } from './context.js';
import { CliError, ExitStatus, FlagError } from './errors.js';
import { rewriteBoolFlags } from './bool-flags.js';
import { buildProgram, selectCommand } from './program.js';

const argv = process.argv.slice(2);
let finished = false;

function finish(code: number): never {
  finished = true;
  // Pipes and files are written synchronously on Linux, so nothing is lost by exiting here.
  process.exit(code);
}

/** The subcommand argv names ("berth run" for "See 'berth run --help'."), and its Command. */
function commandOf(program: Command): { path: string; cmd: Command } {
  let cur = program;
  const path = ['berth'];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') break;
    // The root's -H/--host takes a value: skip it, or the socket path ends the walk.
    if (a === '-H' || a === '--host') { i++; continue; }
    if (a.startsWith('-')) continue;
    const sub = cur.commands.find((c) => c.name() === a || c.aliases().includes(a));
    if (!sub) break;
    path.push(a);
    cur = sub;
  }
  return { path: path.join(' '), cmd: cur };
}

function commandPath(program: Command): string {
  return commandOf(program).path;
}

/**
 * docker's positional-argument errors (cli/required.go): which one follows from the
 * arguments the command declares (none: NoArgs; a variadic one: RequiresMinArgs; all
 * required: ExactArgs; some optional: RequiresMaxArgs or RequiresRangeArgs).
 */
/** docker 28's tail under a usage error: the command's usage line and where help is. */
function usageTail(path: string, cmd: Command, verb: 'Run' | 'See' = 'Run'): string {
  const usage = `Usage:  ${path} ${cmd.usage().replace('[options]', '[OPTIONS]')}`.trimEnd();
  return `\n\n${usage}\n\n${verb} '${path} --help' for more information`;
}

function argCountMessage(path: string, cmd: Command): string {
  const args = cmd.registeredArguments;
  const min = args.filter((a) => a.required).length;
  const max = args.some((a) => a.variadic) ? Infinity : args.length;
  const n = (k: number) => `${k} argument${k === 1 ? '' : 's'}`;
  const tail = (verb: 'Run' | 'See') => usageTail(path, cmd, verb);
  if (max === 0) return `berth: '${path}' accepts no arguments${tail('Run')}`;
  if (max === Infinity) return `berth: '${path}' requires at least ${n(min)}${tail('See')}`;
  if (min === max) return `berth: '${path}' requires ${n(min)}${tail('Run')}`;
  if (min === 0) return `berth: '${path}' requires at most ${n(max)}${tail('Run')}`;
  return `berth: '${path}' requires at least ${min} and at most ${n(max)}${tail('Run')}`;
}

function report(e: unknown, defaultCode: number, program: Command): never {
  if (e instanceof ExitStatus) finish(e.exitCode);
  if (e instanceof FlagError) {
    const { path, cmd } = commandOf(program);
    process.stderr.write(`${e.message}${usageTail(path, cmd)}\n`);
    finish(e.exitCode);
  }
  if (e instanceof CliError) {
    if (e.message) process.stderr.write(e.message + '\n');
    finish(e.exitCode);
  }
  if (e instanceof ApiError) {
    process.stderr.write(`Error response from daemon: ${e.message}\n`);
    finish(defaultCode);
  }
  if (e instanceof ConnectError) {
    process.stderr.write(e.message + '\n');
    finish(defaultCode);
  }
  process.stderr.write(`Error: ${e instanceof Error ? e.message : String(e)}\n`);
  finish(defaultCode);
}

/** docker-style messages for commander's parse errors. */
function commanderMessage(e: CommanderError, program: Command): { text: string; code: number } {
  const { path: cmdPath, cmd } = commandOf(program);
  const see = usageTail(cmdPath, cmd).slice(1);
  const m = e.message.replace(/^error: /, '');
  switch (e.code) {
    case 'commander.unknownOption': {
      const flag = /'([^']+)'/.exec(m)?.[1] ?? m;
      const text = flag.startsWith('--') ? `unknown flag: ${flag}` : `unknown shorthand flag: '${flag.replace(/^-/, '')[0]}' in ${flag}`;
      return { text: `${text}\n${see}`, code: 125 };
    }
    case 'commander.optionMissingArgument': {
      const flag = /'([^']+)'/.exec(m)?.[1] ?? '';
      const short = /^-(\w)\b/.exec(flag)?.[1];
      const long = /--([\w-]+)/.exec(flag)?.[1];
      return { text: `flag needs an argument: ${short ? `'${short}' in -${short}` : `--${long}`}\n${see}`, code: 125 };
    }
    case 'commander.missingArgument':
    case 'commander.excessArguments': {
      const path = commandPath(program);
      // A word the root does not know is an unknown command, not an extra argument.
      const word = argv.find((a, i) => !a.startsWith('-') && !['-H', '--host'].includes(argv[i - 1] ?? ''));
      if (path === 'berth' && e.code === 'commander.excessArguments' && word) {
        return { text: `berth: unknown command: berth ${word}\n\nRun 'berth --help' for more information`, code: 1 };
      }
      return { text: argCountMessage(path, commandOf(program).cmd), code: 1 };
    }
    case 'commander.unknownCommand': {
      const name = /'([^']+)'/.exec(m)?.[1] ?? '';
      return { text: `berth: unknown command: ${commandPath(program)} ${name}\n\nRun '${commandPath(program)} --help' for more information`, code: 1 };
    }
    default:
      return { text: m, code: 125 };
  }
}

async function main(): Promise<void> {
  const args = rewriteBoolFlags(argv);
  const program = await buildProgram({ command: selectCommand(args), ctx: (p) => makeContext(p, args), report });
  try {
    await program.parseAsync(args, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.help' || e.code === 'commander.version') finish(0);
      const { text, code } = commanderMessage(e, program);
      process.stderr.write(text + '\n');
      finish(code);
    }
    report(e, 1, program);
  }
  if (!finished) finish(0);
}

void main();
