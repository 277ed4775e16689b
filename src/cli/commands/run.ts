/**
 * run, create, start, attach: the commands that create containers and/or connect to their
 * stdio. The call order is docker's: create (pull on 404), attach, wait, start, resize.
 */
import type { Command, Option } from 'commander';
import { existsSync, writeFileSync } from 'node:fs';
import { ApiError, ConnectError } from '../client.js';
import type { Hijacked } from '../client.js';
import { type Act, type Ctx, enc, beginWait } from '../context.js';
import { CliError, ExitStatus, FlagError, withHelp } from '../errors.js';
import { DOCKER_HELP } from '../help.js';
import { addContainerFlags, buildCreateRequest, type CreateCall, type RunFlags } from '../opts.js';
import { pullImage, splitReference } from '../progress.js';
import { prepareApiSocket } from '../api-socket.js';
import { referenceError } from './reference-check.js';
import { monitorTtySize, pumpStreams, setRawTerminal } from '../stdio.js';
import type { ContainerInspect, CreateResponse } from '../wire.js';
import { Writable } from 'node:stream';

/** docker derives run's exit status from the text of a start failure. */
export function startErrorStatus(message: string): number {
  if (/executable file not found|no such file or directory/i.test(message)) return 127;
  if (/permission denied/i.test(message)) return 126;
  return 125;
}

/**
 * docker run's toStatusError: a failed create, pull or start is printed with the help
 * hint, its exit status read from the text (127 not found, 126 permission, else 125).
 */
function runError(e: unknown): unknown {
  let message: string;
  if (e instanceof ApiError) message = `Error response from daemon: ${e.message}`;
  else if (e instanceof ConnectError || (e instanceof CliError && !(e instanceof FlagError))) message = e.message;
  else return e;
  return withHelp(message, 'run', startErrorStatus(message));
}

/** Option values docker checks in parse() (not flag syntax): printed with the help hint. */
function parseError(e: unknown, command: 'run' | 'create'): unknown {
  return e instanceof CliError && !(e instanceof FlagError) && e.exitCode === 125 ? withHelp(e.message, command) : e;
}

function buildRequest(command: 'run' | 'create', image: string, args: string[], f: RunFlags, detach: boolean): CreateCall {
  const pull = f.pull ?? 'missing';
  if (!['always', 'missing', 'never'].includes(pull)) throw withHelp(`invalid pull option: '${pull}': must be one of "always", "missing" or "never"`, command);
  try {
    return buildCreateRequest(image, args, f, process.env, detach);
  } catch (e) {
    throw parseError(e, command);
  }
}

async function createContainer(ctx: Ctx, call: CreateCall, pull: string, image: string, quiet = false): Promise<string> {
  // -q: docker's "suppress the pull output" (the not-found line and the progress).
  // Made when a pull needs it: stderr's stream costs ~0.3 ms to build, before the create request.
  const pullOut = (): NodeJS.WritableStream => quiet ? new Writable({ write: (_c, _e, cb) => cb() }) : ctx.err;
  const bad = referenceError(image);
  if (bad) throw new CliError(bad, 1);
  const client = ctx.client();
  // --use-api-socket: berthd's socket mounted in, credentials copied in after create.
  const apiSocket = call.useApiSocket ? prepareApiSocket(client, call.body) : undefined;
  if (pull === 'always') await pullImage(client, image, pullOut(), call.platform);
  const create = () => client.json<CreateResponse>('POST', '/containers/create', {
    query: { name: call.name, platform: call.platform },
    body: call.body,
  });
  let res: CreateResponse;
  try {
    res = await create();
  } catch (e) {
    if (!(e instanceof ApiError) || e.status !== 404 || !/no such image/i.test(e.message) || pull !== 'missing') throw e;
    const out = pullOut();
    out.write(`Unable to find image '${splitReference(image).display}' locally\n`);
    await pullImage(client, image, out, call.platform);
    res = await create();
  }
  if (apiSocket) res.Warnings = [...(res.Warnings ?? []), ...(await apiSocket.inject(res.Id))];
  for (const w of res.Warnings ?? []) ctx.err.write(`WARNING: ${w}\n`);
  return res.Id;
}

/** Forward our signals to the container (docker's --sig-proxy, on when not a tty). */
function proxySignals(ctx: Ctx, id: string): () => void {
  const sigs: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];
  const handlers = sigs.map((s) => {
    const h = () => { ctx.client().json('POST', `/containers/${enc(id)}/kill`, { query: { signal: s } }).catch(() => {}); };
    process.on(s, h);
    return [s, h] as const;
  });
  return () => handlers.forEach(([s, h]) => process.removeListener(s, h));
}

interface Session { conn?: Hijacked; restore: () => void; pumped?: Promise<{ detached: boolean }> }

async function openAttach(ctx: Ctx, id: string, o: { stdin: boolean; stdout: boolean; stderr: boolean; tty: boolean; detachKeys?: string }): Promise<Session> {
  if (!o.stdin && !o.stdout && !o.stderr) return { restore: () => {} };
  const conn = await ctx.client().hijack(`/containers/${enc(id)}/attach`, {
    query: { stream: 1, stdin: o.stdin ? 1 : undefined, stdout: o.stdout ? 1 : undefined, stderr: o.stderr ? 1 : undefined, detachKeys: o.detachKeys },
  });
  const restore = o.tty && o.stdin ? setRawTerminal() : () => {};
  // Start copying at once: output produced right after start must not be lost.
  const pumped = pumpStreams(conn, { tty: o.tty, stdin: o.stdin, detachKeys: o.detachKeys, stdout: ctx.out, stderr: ctx.err });
  return { conn, restore, pumped };
}

/** docker refuses an existing --cidfile before creating anything (it may belong to a running container). */
function checkCidFile(path: string | undefined): void {
  if (path && existsSync(path)) throw new CliError(`container ID file found, make sure the other container isn't running or delete ${path}`, 1);
}

async function runContainer(ctx: Ctx, image: string, args: string[], f: RunFlags): Promise<void> {
  const detach = f.detach === true;
  const call = buildRequest('run', image, args, f, detach);
  // docker checks this after parsing, as a plain error (exit 1).
  if (detach && f.attach?.length) throw new CliError('conflicting options: cannot specify both --attach and --detach', 1);
  const cfg = call.body;
  if (!detach && cfg.AttachStdin && cfg.Tty && !process.stdin.isTTY) throw new CliError('the input device is not a TTY', 1);
  // The pty is born at our terminal's size (as docker ≥ 1.42 sends), not resized after the shell drew its prompt.
  if (cfg.Tty && process.stdout.isTTY && process.stdout.rows && process.stdout.columns) cfg.HostConfig = { ...cfg.HostConfig, ConsoleSize: [process.stdout.rows, process.stdout.columns] };
  let id: string;
  try {
    checkCidFile(f.cidfile);
    id = await createContainer(ctx, call, f.pull ?? 'missing', image, !!f.quiet);
  } catch (e) {
    throw runError(e);
  }
  if (f.cidfile) writeFileSync(f.cidfile, id, { flag: 'wx' });
  const client = ctx.client();
  if (detach) {
    try {
      await client.json('POST', `/containers/${enc(id)}/start`);
    } catch (e) {
      throw runError(e);
    }
    ctx.out.write(id + '\n');
    return;
  }
  const tty = cfg.Tty === true;
  // The wait and the attach both have to be in place before the start, not one before the
  // other: they go out together (one round trip less on every run).
  const waitAbort = new AbortController();
  const wait = beginWait(ctx, id, f.rm ? 'removed' : 'next-exit', waitAbort.signal);
  let s: Awaited<ReturnType<typeof openAttach>>;
  try {
    s = await openAttach(ctx, id, { stdin: !!cfg.AttachStdin, stdout: !!cfg.AttachStdout, stderr: !!cfg.AttachStderr, tty, detachKeys: f.detachKeys });
  } catch (e) {
    waitAbort.abort();
    throw e;
  }
  await wait.ready;
  const unproxy = !tty && f.sigProxy !== false ? proxySignals(ctx, id) : () => {};
  try {
    try {
      await client.json('POST', `/containers/${enc(id)}/start`);
    } catch (e) {
      s.conn?.destroy();
      if (f.rm) await wait.result.catch(() => undefined);
      throw runError(e);
    }
    const stopResize = tty && process.stdout.isTTY ? monitorTtySize(client, `/containers/${enc(id)}/resize`) : () => {};
    const r = s.pumped ? await s.pumped : { detached: false };
    stopResize();
    s.restore();
    if (r.detached) throw new ExitStatus(0);
    let status;
    try {
      status = await wait.result;
    } catch (e) {
      if (e instanceof ApiError) throw new CliError(`Error response from daemon: ${e.message}`, 125);
      throw e;
    }
    if (status.Error?.Message) ctx.err.write(`Error: ${status.Error.Message}\n`);
    throw new ExitStatus(status.StatusCode);
  } finally {
    s.restore();
    unproxy();
  }
}

async function startContainers(ctx: Ctx, names: string[], o: { attach?: boolean; interactive?: boolean; detachKeys?: string }): Promise<void> {
  const client = ctx.client();
  if (o.attach || o.interactive) {
    if (names.length > 1) throw new CliError('you cannot start and attach multiple containers at once', 1);
    const c = await client.json<ContainerInspect>('GET', `/containers/${enc(names[0]!)}/json`);
    const tty = c.Config?.Tty === true;
    const stdin = o.interactive === true && c.Config?.OpenStdin === true;
    const s = await openAttach(ctx, c.Id, { stdin, stdout: true, stderr: true, tty, detachKeys: o.detachKeys });
    const wait = beginWait(ctx, c.Id, 'next-exit');
    await wait.ready;
    try {
      try {
        await client.json('POST', `/containers/${enc(c.Id)}/start`);
      } catch (e) {
        s.conn?.destroy();
        throw e;
      }
      const stopResize = tty && process.stdout.isTTY ? monitorTtySize(client, `/containers/${enc(c.Id)}/resize`) : () => {};
      const r = s.pumped ? await s.pumped : { detached: false };
      stopResize();
      if (r.detached) throw new ExitStatus(0);
      throw new ExitStatus((await wait.result).StatusCode);
    } finally {
      s.restore();
    }
  }
  const failed: string[] = [];
  for (const n of names) {
    try {
      await client.json('POST', `/containers/${enc(n)}/start`);
      ctx.out.write(n + '\n');
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      ctx.err.write(`Error response from daemon: ${e.message}\n`);
      failed.push(n);
    }
  }
  if (failed.length) throw new CliError(`Error: failed to start containers: ${failed.join(', ')}`, 1);
}

async function attachContainer(ctx: Ctx, name: string, o: { stdin?: boolean; detachKeys?: string; sigProxy?: boolean }): Promise<void> {
  const client = ctx.client();
  const c = await client.json<ContainerInspect>('GET', `/containers/${enc(name)}/json`);
  if (!c.State?.Running) throw new CliError('You cannot attach to a stopped container, start it first', 1);
  if (c.State?.Paused) throw new CliError('You cannot attach to a paused container, unpause it first', 1);
  if (c.State?.Restarting) throw new CliError('You cannot attach to a restarting container, wait until it is running', 1);
  const tty = c.Config?.Tty === true;
  // The exit status comes from a wait issued before attaching, as docker attach does.
  const wait = beginWait(ctx, c.Id);
  await wait.ready;
  const s = await openAttach(ctx, c.Id, { stdin: o.stdin !== false && c.Config?.OpenStdin === true, stdout: true, stderr: true, tty, detachKeys: o.detachKeys });
  const unproxy = !tty && o.sigProxy !== false ? proxySignals(ctx, c.Id) : () => {};
  const stopResize = tty && process.stdout.isTTY ? monitorTtySize(client, `/containers/${enc(c.Id)}/resize`, { redraw: true }) : () => {};
  try {
    const r = s.pumped ? await s.pumped : { detached: false };
    if (r.detached) throw new CliError('read escape sequence', 1);
    throw new ExitStatus((await wait.result).StatusCode);
  } finally {
    stopResize();
    unproxy();
    s.restore();
  }
}

/** docker lists flags by long name, in byte order (pflag's sort.Strings), not commander's short-first key. */
const DOCKER_FLAG_ORDER = {
  sortOptions: true,
  compareOptions: (a: Option, b: Option): number => {
    const key = (o: Option) => (o.long ?? o.short ?? '').replace(/^-+/, '');
    return key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0;
  },
};

/** Registers run/create/start/attach on `parent` (the root, or the `container` group). */
export function registerRun(parent: Command, ctx: Ctx, act: Act): void {
  const run = parent.command('run').helpOption('--help', 'Print usage').configureHelp({ ...DOCKER_HELP, ...DOCKER_FLAG_ORDER })
    .description('Create and run a new container from an image')
    .usage('[OPTIONS] IMAGE [COMMAND] [ARG...]')
    .argument('<image>').argument('[command...]')
    .passThroughOptions()
    .action(act(125, (image: string, args: string[], f: RunFlags) => runContainer(ctx, image, args, f)));

  const create = parent.command('create').helpOption('--help', 'Print usage').configureHelp({ ...DOCKER_HELP, ...DOCKER_FLAG_ORDER })
    .description('Create a new container')
    .usage('[OPTIONS] IMAGE [COMMAND] [ARG...]')
    .argument('<image>').argument('[command...]')
    .passThroughOptions()
    // docker create prints a failed create as is (exit 1); bad option values with the hint (125).
    .action(act(1, async (image: string, args: string[], f: RunFlags) => {
      const call = buildRequest('create', image, args, f, false);
      checkCidFile(f.cidfile);
      const id = await createContainer(ctx, call, f.pull ?? 'missing', image, !!f.quiet);
      if (f.cidfile) writeFileSync(f.cidfile, id, { flag: 'wx' });
      ctx.out.write(id + '\n');
    }));

  // The ~100 container flags are declared only on the command about to parse its
  // arguments (commander runs preSubcommand before the subcommand sees its argv), and
  // only those its arguments can name (flag-table.ts): declaring them on run, create,
  // container run and container create at every start cost ~6 ms of each berth command,
  // and all of them on the one command ~2.5 ms of each `berth run`.
  const flagged = new Set<Command>();
  parent.hook('preSubcommand', (_parent, sub) => {
    if ((sub !== run && sub !== create) || flagged.has(sub)) return;
    flagged.add(sub);
    addContainerFlags(sub, ctx.argv);
    if (sub === run) sub.option('-d, --detach', 'Run container in background and print container ID');
  });

  parent.command('start')
    .description('Start one or more stopped containers')
    .usage('[OPTIONS] CONTAINER [CONTAINER...]')
    .argument('<container...>')
    .option('-a, --attach', 'Attach STDOUT/STDERR and forward signals')
    .option('-i, --interactive', "Attach container's STDIN")
    .option('--detach-keys <string>', 'Override the key sequence for detaching a container')
    .action(act(1, (names: string[], o: { attach?: boolean; interactive?: boolean; detachKeys?: string }) => startContainers(ctx, names, o)));

  parent.command('attach')
    .description("Attach local standard input, output, and error streams to a running container")
    .usage('[OPTIONS] CONTAINER')
    .argument('<container>')
    .option('--no-stdin', 'Do not attach STDIN')
    .option('--no-sig-proxy', 'Do not proxy all received signals to the process')
    // docker's bool flag: --sig-proxy[=true] as well as --sig-proxy=false.
    .option('--sig-proxy', 'Proxy all received signals to the process (default true)')
    .option('--detach-keys <string>', 'Override the key sequence for detaching a container')
    .action(act(1, (name: string, o: { stdin?: boolean; detachKeys?: string; sigProxy?: boolean }) => attachContainer(ctx, name, o)));
}

