/**
 * berth's commander program, built lazily: only the top-level command being run (with its
 * subtree) is declared and only its modules are loaded, because building and loading all
 * of them cost every command, `berth run` included, several ms of start-up. Anything the
 * table below does not recognise (no command, `--help`, an unknown word or flag) builds the
 * whole program, so commander's own errors and the root help stay exactly as before.
 */
import { Command } from 'commander';
import type { Act, Ctx } from './context.js';
import { DOCKER_HELP } from './help.js';

type Register = (program: Command, ctx: Ctx, act: Act) => Promise<void>;

/**
 * Top-level commands → the registration that declares them, in the order the full program
 * declares them (the order subcommands are listed in a group's help). Every name a
 * registration declares at the root must be listed here, and nowhere else: program.test.ts
 * checks both against the full program.
 */
export const GROUPS: ReadonlyArray<readonly [names: readonly string[], register: Register]> = [
  [['run', 'create', 'start', 'attach'], async (p, ctx, act) => (await import('./commands/run.js')).registerRun(p, ctx, act)],
  [['exec'], async (p, ctx, act) => (await import('./commands/exec.js')).registerExec(p, ctx, act)],
  [['ps'], async (p, ctx, act) => { (await import('./commands/ps.js')).registerPs(p.command('ps'), ctx, act); }],
  [['stop', 'kill', 'restart', 'rm', 'pause', 'unpause', 'wait', 'rename', 'top', 'logs'],
    async (p, ctx, act) => (await import('./commands/container.js')).registerContainer(p, ctx, act)],
  [['images', 'rmi', 'tag', 'history', 'import', 'pull', 'push'],
    async (p, ctx, act) => (await import('./commands/image.js')).registerImage(p, ctx, act, false)],
  [['inspect', 'version', 'info'], async (p, ctx, act) => (await import('./commands/system.js')).registerSystem(p, ctx, act)],
  [['container'], registerContainerGroup],
  [['image'], registerImageGroup],
  [['volume'], async (p, ctx, act) => (await import('./commands/volume.js')).registerVolume(p, ctx, act)],
  [['login', 'logout'], async (p, ctx, act) => (await import('./commands/login.js')).registerLogin(p, ctx, act)],
  [['save', 'load', 'export', 'commit', 'diff', 'cp'],
    async (p, ctx, act) => (await import('./commands/archive.js')).registerArchive(p, ctx, act, ['save', 'load', 'export', 'commit', 'diff', 'cp'])],
  // Resource control and supervision (issue 3).
  [['stats'], async (p, ctx, act) => { (await import('./commands/stats.js')).registerStats(p, ctx, act); }],
  [['update'], async (p, ctx, act) => { (await import('./commands/update.js')).registerUpdate(p, ctx, act); }],
  [['events'], async (p, ctx, act) => { (await import('./commands/events.js')).registerEvents(p, ctx, act); }],
  // Networking (issue 5).
  [['network'], async (p, ctx, act) => (await import('./commands/network.js')).registerNetwork(p, ctx, act)],
  [['port'], async (p, ctx, act) => (await import('./commands/port.js')).registerPort(p, ctx, act)],
  [['system'], registerSystemGroup],
  [['build'], async (p, ctx, act) => { (await import('./commands/build.js')).registerBuild(p, ctx, act); }],
  [['builder'], async (p, ctx, act) => { (await import('./commands/builder.js')).registerBuilder(p, ctx, act); }],
];

async function registerContainerGroup(program: Command, ctx: Ctx, act: Act): Promise<void> {
  const [run, exec, ps, container, archive, system, stats, update, port] = await Promise.all([
    import('./commands/run.js'), import('./commands/exec.js'), import('./commands/ps.js'), import('./commands/container.js'),
    import('./commands/archive.js'), import('./commands/system.js'), import('./commands/stats.js'), import('./commands/update.js'),
    import('./commands/port.js'),
  ]);
  const group = program.command('container').description('Manage containers').usage('COMMAND').enablePositionalOptions();
  ps.registerPs(group.command('ls').aliases(['ps', 'list']), ctx, act);
  run.registerRun(group, ctx, act);
  exec.registerExec(group, ctx, act);
  container.registerContainer(group, ctx, act);
  container.registerContainerPrune(group, ctx, act);
  archive.registerArchive(group, ctx, act, ['export', 'commit', 'diff', 'cp']);
  system.addInspectFlags(group.command('inspect').description('Display detailed information on one or more containers')
    .usage('[OPTIONS] CONTAINER [CONTAINER...]').argument('<container...>'), false)
    .action(act(1, (names: string[], o: { format?: string; size?: boolean }) => system.inspect(ctx, names, o, 'container')));
  stats.registerStats(group, ctx, act);
  update.registerUpdate(group, ctx, act);
  port.registerPort(group, ctx, act);
}

/** docker's `system` group: df, events, info, prune (events and info are the top-level ones). */
async function registerSystemGroup(program: Command, ctx: Ctx, act: Act): Promise<void> {
  const [df, events, system, prune] = await Promise.all([
    import('./commands/system-df.js'), import('./commands/events.js'), import('./commands/system.js'), import('./commands/system-prune.js'),
  ]);
  df.registerSystemDf(program, ctx, act);
  const group = program.commands.find((c) => c.name() === 'system')!;
  events.registerEvents(group, ctx, act);
  system.registerInfo(group, ctx, act);
  prune.registerSystemPrune(group, ctx, act);
}

async function registerImageGroup(program: Command, ctx: Ctx, act: Act): Promise<void> {
  const [image, archive, prune, system, build] = await Promise.all([
    import('./commands/image.js'), import('./commands/archive.js'), import('./commands/image-prune.js'), import('./commands/system.js'),
    import('./commands/build.js'),
  ]);
  const group = program.command('image').description('Manage images').usage('COMMAND');
  image.registerImage(group, ctx, act, true);
  archive.registerArchive(group, ctx, act, ['save', 'load']);
  prune.registerImagePrune(group, ctx, act);
  group.command('inspect').description('Display detailed information on one or more images')
    .usage('[OPTIONS] IMAGE [IMAGE...]').argument('<image...>')
    .option('-f, --format <string>', 'Format output using a custom template')
    .action(act(1, (names: string[], o: { format?: string }) => system.inspect(ctx, names, o, 'image')));
  build.registerBuild(group, ctx, act);
}

/** selectCommand's answers besides a command word (neither can be one). */
export const ALL = '*', VERSION_ONLY = '-v';

/**
 * What argv needs: the top-level command word, VERSION_ONLY for a bare `-v/--version`, or
 * ALL when in doubt (no command, help, a flag the root does not know, `--`).
 */
export function selectCommand(argv: readonly string[]): string {
  let version = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-H' || a === '--host') { i++; continue; }
    if (a.startsWith('--host=') || (a.startsWith('-H') && a.length > 2)) continue;
    if (a === '-D' || a === '--debug') continue;
    if (a === '-v' || a === '--version') { version = true; continue; }
    if (a.startsWith('-')) return ALL;
    return GROUPS.some(([names]) => names.includes(a)) ? a : ALL;
  }
  return version ? VERSION_ONLY : ALL;
}

export const ROOT_HELP = (program: Command) => {
  const line = (name: string) => {
    const c = program.commands.find((x) => x.name() === name);
    return `  ${name.padEnd(11)} ${c?.description() ?? ''}\n`;
  };
  const common = ['run', 'exec', 'ps', 'build', 'pull', 'push', 'images', 'login', 'logout', 'import', 'info', 'version'].filter((n) => program.commands.some((c) => c.name() === n));
  const mgmt = ['builder', 'container', 'image', 'network', 'system', 'volume'];
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

export interface ProgramOptions {
  /** Which top-level command to declare (selectCommand); ALL declares every one. */
  command: string;
  ctx: (program: Command) => Ctx;
  /** Turns an action's error into output and an exit status (main.ts: docker's one-liners). */
  report: (e: unknown, defaultCode: number, program: Command) => void | Promise<void>;
}

export async function buildProgram(o: ProgramOptions): Promise<Command> {
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
  // Every subcommand's --help in docker's layout (run/create set their own flag order).
  program.configureHelp(DOCKER_HELP);
  const ctx = o.ctx(program);
  const act: Act = (code, fn) => async (...args) => {
    try {
      await fn(...args);
    } catch (e) {
      await o.report(e, code, program);
    }
  };
  for (const [names, register] of GROUPS) {
    if (o.command === ALL || names.includes(o.command)) await register(program, ctx, act);
  }
  program.helpInformation = () => ROOT_HELP(program);
  program.action(async () => {
    if (program.opts().version) {
      const { CLI_VERSION } = await import('./commands/system.js');
      process.stdout.write(`berth version ${CLI_VERSION}\n`);
      return;
    }
    process.stdout.write(ROOT_HELP(program));
  });
  return program;
}
