/**
 * berth: docker's command line over berthd's Docker Engine API. This file wires commands
 * into commander, turns commander's and the daemon's errors into docker's one-liners and
 * exit statuses, and exits promptly (keep-alive sockets must not hold the process).
 */
import { Command, CommanderError } from 'commander';
import { ApiError, ConnectError } from './client.js';
import { type Act, type Ctx, makeContext } from './context.js';
import { CliError, ExitStatus, FlagError } from './errors.js';
import { registerContainer, registerContainerPrune } from './commands/container.js';
import { registerExec } from './commands/exec.js';
import { registerImage } from './commands/image.js';
import { registerPs } from './commands/ps.js';
import { registerRun } from './commands/run.js';
import { rewriteBoolFlags } from './opts.js';
import { addInspectFlags, CLI_VERSION, inspect, registerSystem } from './commands/system.js';
import { registerVolume } from './commands/volume.js';
import { registerLogin } from './commands/login.js';
import { registerArchive } from './commands/archive.js';
import { registerStats } from './commands/stats.js';
import { registerUpdate } from './commands/update.js';
import { registerEvents } from './commands/events.js';
import { registerNetwork } from './commands/network.js';
import { registerPort } from './commands/port.js';
import { registerImagePrune } from './commands/image-prune.js';
import { registerSystemDf } from './commands/system-df.js';

const argv = process.argv.slice(2);
let finished = false;

function finish(code: number): never {
  finished = true;
  // Pipes and files are written synchronously on Linux, so nothing is lost by exiting here.
  process.exit(code);
}

/** "berth run" for errors' "See 'berth run --help'." line: the subcommand path in argv. */
function commandPath(program: Command): string {
  let cur = program;
  const path = ['berth'];
  for (const a of argv) {
    if (a === '--') break;
    if (a.startsWith('-')) continue;
    const sub = cur.commands.find((c) => c.name() === a || c.aliases().includes(a));
    if (!sub) break;
    path.push(a);
    cur = sub;
  }
  return path.join(' ');
}

function report(e: unknown, defaultCode: number, program: Command): never {
  if (e instanceof ExitStatus) finish(e.exitCode);
  if (e instanceof FlagError) {
    process.stderr.write(`${e.message}\nSee '${commandPath(program)} --help'.\n`);
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
  const see = `See '${commandPath(program)} --help'.`;
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
      return { text: `"${path}" requires ${e.code === 'commander.missingArgument' ? 'at least 1 argument' : 'fewer arguments'}.\n${see}`, code: 1 };
    }
    case 'commander.unknownCommand': {
      const name = /'([^']+)'/.exec(m)?.[1] ?? '';
      return { text: `berth: unknown command: ${commandPath(program)} ${name}\n\nRun '${commandPath(program)} --help' for more information`, code: 1 };
    }
    default:
      return { text: m, code: 125 };
  }
}

const ROOT_HELP = (program: Command) => {
  const line = (name: string) => {
    const c = program.commands.find((x) => x.name() === name);
    return `  ${name.padEnd(11)} ${c?.description() ?? ''}\n`;
  };
  const common = ['run', 'exec', 'ps', 'build', 'pull', 'push', 'images', 'login', 'logout', 'import', 'info', 'version'].filter((n) => program.commands.some((c) => c.name() === n));
  const mgmt = ['container', 'image', 'network', 'system', 'volume'];
  const rest = program.commands.map((c) => c.name()).filter((n) => !common.includes(n) && !mgmt.includes(n) && n !== 'help').sort();
  return `
Usage:  berth [OPTIONS] COMMAND

berth: containers on runc and conmon, through the Docker Engine API

Common Commands:
${common.map(line).join('')}
Management Commands:
${mgmt.map(line).join('')}
Commands:
${rest.map(line).join('')}
Global Options:
  -H, --host string   Daemon socket to connect to (default $BERTH_HOST or ${'unix:///run/berth/berth.sock'})
  -v, --version       Print version information and quit

Run 'berth COMMAND --help' for more information on a command.
`;
};

export function buildProgram(ctxOverride?: (p: Command) => Ctx): Command {
  const program = new Command('berth');
  program
    .usage('[OPTIONS] COMMAND')
    .description('berth: containers on runc and conmon, through the Docker Engine API')
    .enablePositionalOptions()
    .option('-H, --host <string>', 'Daemon socket to connect to')
    .option('-D, --debug', 'Enable debug mode')
    .option('-v, --version', 'Print version information and quit')
    .helpCommand(false)
    .exitOverride()
    .configureOutput({ outputError: () => { /* printed in docker's words by main() */ } });
  program.addHelpText('beforeAll', '');
  const ctx = ctxOverride ? ctxOverride(program) : makeContext(program);
  const act: Act = (code, fn) => async (...args) => {
    try {
      await fn(...args);
    } catch (e) {
      report(e, code, program);
    }
  };

  registerRun(program, ctx, act);
  registerExec(program, ctx, act);
  registerPs(program.command('ps'), ctx, act);
  registerContainer(program, ctx, act);
  registerImage(program, ctx, act, false);
  registerSystem(program, ctx, act);

  const container = program.command('container').description('Manage containers').usage('COMMAND').enablePositionalOptions();
  registerPs(container.command('ls').aliases(['ps', 'list']), ctx, act);
  registerRun(container, ctx, act);
  registerExec(container, ctx, act);
  registerContainer(container, ctx, act);
  registerContainerPrune(container, ctx, act);
  registerArchive(container, ctx, act, ['export', 'commit', 'diff', 'cp']);
  addInspectFlags(container.command('inspect').description('Display detailed information on one or more containers')
    .usage('[OPTIONS] CONTAINER [CONTAINER...]').argument('<container...>'), false)
    .action(act(1, (names: string[], o: { format?: string; size?: boolean }) => inspect(ctx, names, o, 'container')));

  const image = program.command('image').description('Manage images').usage('COMMAND');
  registerImage(image, ctx, act, true);
  registerArchive(image, ctx, act, ['save', 'load']);
  registerImagePrune(image, ctx, act);
  image.command('inspect').description('Display detailed information on one or more images')
    .usage('[OPTIONS] IMAGE [IMAGE...]').argument('<image...>')
    .option('-f, --format <string>', 'Format output using a custom template')
    .action(act(1, (names: string[], o: { format?: string }) => inspect(ctx, names, o, 'image')));

  registerVolume(program, ctx, act);
  registerLogin(program, ctx, act);
  registerArchive(program, ctx, act, ['save', 'load', 'export', 'commit', 'diff', 'cp']);
  // Resource control and supervision (issue 3).
  registerStats(program, ctx, act);
  registerUpdate(program, ctx, act);
  registerEvents(program, ctx, act);
  registerStats(container, ctx, act);
  registerUpdate(container, ctx, act);
  // Networking (issue 5).
  registerNetwork(program, ctx, act);
  registerPort(program, ctx, act);
  registerPort(container, ctx, act);
  registerSystemDf(program, ctx, act);
  program.helpInformation = () => ROOT_HELP(program);
  program.action(() => {
    if (program.opts().version) { process.stdout.write(`berth version ${CLI_VERSION}\n`); return; }
    process.stdout.write(ROOT_HELP(program));
  });
  return program;
}

async function main(): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(rewriteBoolFlags(argv), { from: 'user' });
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
