/**
 * exec: POST /containers/{id}/exec, then POST /exec/{id}/start (hijacked unless -d), then
 * GET /exec/{id}/json for the exit status, as docker's CLI does.
 */
import type { Command } from 'commander';
import { type Act, type Ctx, collect, enc } from '../context.js';
import { CliError, ExitStatus } from '../errors.js';
import { parseEnv, readKVFile } from '../opts.js';
import { monitorTtySize, pumpStreams, setRawTerminal } from '../stdio.js';

interface ExecOpts {
  detach?: boolean; interactive?: boolean; tty?: boolean; env?: string[]; envFile?: string[];
  workdir?: string; user?: string; privileged?: boolean; detachKeys?: string;
}

async function exec(ctx: Ctx, container: string, cmd: string[], o: ExecOpts): Promise<void> {
  if (!cmd.length) throw new CliError("berth: 'berth exec' requires at least 2 arguments\n\nUsage:  berth exec [OPTIONS] CONTAINER COMMAND [ARG...]\n\nSee 'berth exec --help' for more information", 1);
  const client = ctx.client();
  const detach = o.detach === true;
  const tty = o.tty === true;
  const stdin = o.interactive === true && !detach;
  if (stdin && tty && !process.stdin.isTTY) throw new CliError('the input device is not a TTY', 1);
  const env = [...(o.envFile ?? []).flatMap((p) => readKVFile(p, process.env)), ...parseEnv(o.env ?? [], process.env)];
  const size = tty && process.stdout.isTTY ? [process.stdout.rows, process.stdout.columns] : undefined;
  const created = await client.json<{ Id: string }>('POST', `/containers/${enc(container)}/exec`, {
    body: {
      User: o.user ?? '', Privileged: o.privileged === true, Tty: tty,
      ConsoleSize: size ?? null,
      AttachStdin: stdin, AttachStdout: !detach, AttachStderr: !detach,
      Detach: detach, DetachKeys: o.detachKeys ?? '', Env: env, WorkingDir: o.workdir ?? '', Cmd: cmd,
    },
  });
  const execId = created.Id;
  if (detach) {
    await client.json('POST', `/exec/${enc(execId)}/start`, { body: { Detach: true, Tty: tty, ConsoleSize: size ?? null } });
    return;
  }
  const conn = await client.hijack(`/exec/${enc(execId)}/start`, { body: { Detach: false, Tty: tty, ConsoleSize: size ?? null } });
  const restore = tty && stdin ? setRawTerminal() : () => {};
  const stopResize = tty && process.stdout.isTTY ? monitorTtySize(client, `/exec/${enc(execId)}/resize`) : () => {};
  try {
    const r = await pumpStreams(conn, { tty, stdin, detachKeys: o.detachKeys, stdout: ctx.out, stderr: ctx.err });
    // docker exec and attach report a detach as an error (exit 1); run and start -a do not.
    if (r.detached) throw new CliError('read escape sequence', 1);
  } finally {
    stopResize();
    restore();
  }
  const info = await client.json<{ ExitCode?: number | null; Running?: boolean }>('GET', `/exec/${enc(execId)}/json`);
  throw new ExitStatus(info.ExitCode ?? 0);
}

export function registerExec(parent: Command, ctx: Ctx, act: Act): void {
  parent.command('exec').description('Execute a command in a running container')
    .usage('[OPTIONS] CONTAINER COMMAND [ARG...]')
    .argument('<container>').argument('[command...]')
    .option('-d, --detach', 'Detached mode: run command in the background')
    .option('--detach-keys <string>', 'Override the key sequence for detaching a container')
    .option('-e, --env <list>', 'Set environment variables', collect)
    .option('--env-file <list>', 'Read in a file of environment variables', collect)
    .option('-i, --interactive', 'Keep STDIN open even if not attached')
    .option('--privileged', 'Give extended privileges to the command')
    .option('-t, --tty', 'Allocate a pseudo-TTY')
    .option('-u, --user <string>', 'Username or UID (format: "<name|uid>[:<group|gid>]")')
    .option('-w, --workdir <string>', 'Working directory inside the container')
    .passThroughOptions()
    .action(act(1, (container: string, cmd: string[], o: ExecOpts) => exec(ctx, container, cmd, o)));
}
