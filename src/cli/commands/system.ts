/**
 * inspect (the type walk of docker's CLI), version and info.
 */
import type { Command } from 'commander';
import { ApiError, CLIENT_API_VERSION } from '../client.js';
import { type Act, type Ctx, enc } from '../context.js';
import { CliError } from '../errors.js';

import { formatEach } from '../format/table.js';
import type { VersionResponse } from '../wire.js';

export const CLI_VERSION = '0.1.0';

type Kind = 'container' | 'image' | 'volume' | 'network';
const PATHS: Record<Kind, (n: string) => string> = {
  container: (n) => `/containers/${enc(n)}/json`,
  image: (n) => `/images/${enc(n)}/json`,
  network: (n) => `/networks/${enc(n)}`,
  volume: (n) => `/volumes/${enc(n)}`,
};
const NOT_FOUND: Record<Kind | 'object', string> = {
  container: 'No such container', image: 'No such image', network: 'No such network', volume: 'No such volume', object: 'No such object',
};

/**
 * docker inspect: each name is tried as container, image, network, volume until one answers
 * (404 moves on). Prints the JSON array (4-space indent) or --format per object; misses are
 * reported after, exit 1.
 */
export async function inspect(ctx: Ctx, names: string[], o: { format?: string; type?: string; size?: boolean }, only?: Kind): Promise<void> {
  const kinds: Kind[] = only ? [only] : o.type ? [o.type as Kind] : ['container', 'image', 'network', 'volume'];
  if (o.type && !(o.type in PATHS)) throw new CliError(`"${o.type}" is not a valid value for --type`, 1);
  const found: unknown[] = [];
  const errors: string[] = [];
  for (const n of names) {
    let hit: unknown;
    for (const k of kinds) {
      try {
        hit = await ctx.client().json('GET', PATHS[k](n), { query: k === 'container' && o.size ? { size: 1 } : undefined });
        break;
      } catch (e) {
        if (!(e instanceof ApiError)) throw e;
        if (e.status !== 404 && kinds.length === 1) { errors.push(`Error response from daemon: ${e.message}`); hit = null; break; }
      }
    }
    if (hit === undefined) errors.push(`Error: ${NOT_FOUND[kinds.length === 1 ? kinds[0]! : 'object']}: ${n}`);
    else if (hit !== null) found.push(hit);
  }
  if (o.format) ctx.out.write(formatEach(o.format, found));
  else ctx.out.write(JSON.stringify(found, null, 4) + '\n');
  if (errors.length) throw new CliError(errors.join('\n'), 1);
}

export function addInspectFlags(cmd: Command, withType: boolean): Command {
  cmd.option('-f, --format <string>', 'Format output using a custom template')
    .option('-s, --size', 'Display total file sizes if the type is container');
  if (withType) cmd.option('--type <string>', 'Only inspect objects of the given type');
  return cmd;
}

function kv(label: string, value: unknown, indent: number, width = 19): string {
  return ' '.repeat(indent) + (label + ':').padEnd(width - indent) + (value === undefined || value === '' ? '' : String(value)) + '\n';
}

async function version(ctx: Ctx, o: { format?: string }): Promise<void> {
  const client = ctx.client();
  const clientInfo = {
    Version: CLI_VERSION, ApiVersion: CLIENT_API_VERSION, DefaultAPIVersion: CLIENT_API_VERSION,
    NodeVersion: process.version, Os: process.platform, Arch: process.arch === 'x64' ? 'amd64' : process.arch,
  };
  let server: VersionResponse | undefined;
  let serverErr: unknown;
  try { server = await client.json<VersionResponse>('GET', '/version'); } catch (e) { serverErr = e; }
  if (o.format) {
    ctx.out.write(formatEach(o.format, [{ Client: clientInfo, Server: server ?? null }]));
    if (serverErr) throw serverErr;
    return;
  }
  let s = 'Client:\n';
  const negotiated = client.apiVersion !== CLIENT_API_VERSION ? `${client.apiVersion} (downgraded from ${CLIENT_API_VERSION})` : CLIENT_API_VERSION;
  s += kv('Version', CLI_VERSION, 1, 20) + kv('API version', negotiated, 1, 20) + kv('Node version', process.version, 1, 20);
  s += kv('OS/Arch', `${clientInfo.Os}/${clientInfo.Arch}`, 1, 20) + kv('Context', 'default', 1, 20);
  if (server) {
    s += `\nServer:${server.Platform?.Name ? ' ' + server.Platform.Name : ''}\n`;
    s += ' Engine:\n';
    s += kv('Version', server.Version, 2, 20) + kv('API version', `${server.ApiVersion ?? ''}${server.MinAPIVersion ? ` (minimum version ${server.MinAPIVersion})` : ''}`, 2, 20);
    if (server.GoVersion) s += kv('Go version', server.GoVersion, 2, 20);
    if (server.GitCommit) s += kv('Git commit', server.GitCommit, 2, 20);
    if (server.BuildTime) s += kv('Built', server.BuildTime, 2, 20);
    s += kv('OS/Arch', `${server.Os ?? ''}/${server.Arch ?? ''}`, 2, 20) + kv('Experimental', String(server.Experimental ?? false), 2, 20);
    for (const c of server.Components ?? []) {
      if (c.Name === 'Engine') continue;
      s += ` ${c.Name}:\n` + kv('Version', c.Version, 2, 20);
      for (const [k, v] of Object.entries(c.Details ?? {})) s += kv(k, v, 2, 20);
    }
  }
  ctx.out.write(s);
  if (serverErr) throw serverErr;
}

async function info(ctx: Ctx, o: { format?: string }): Promise<void> {
  const i = await ctx.client().json<Record<string, unknown>>('GET', '/info');
  if (o.format) { ctx.out.write(formatEach(o.format, [i])); return; }
  const g = (k: string) => i[k] as string | number | boolean | undefined;
  let s = 'Client:\n' + kv('Version', CLI_VERSION, 1, 13) + kv('Context', 'default', 1, 13) + kv('Debug Mode', 'false', 1, 13);
  s += '\nServer:\n';
  s += ` Containers: ${g('Containers') ?? 0}\n  Running: ${g('ContainersRunning') ?? 0}\n  Paused: ${g('ContainersPaused') ?? 0}\n  Stopped: ${g('ContainersStopped') ?? 0}\n`;
  s += ` Images: ${g('Images') ?? 0}\n`;
  const line = (label: string, key: string, f?: (v: never) => string) => {
    const v = g(key);
    if (v !== undefined && v !== '') s += ` ${label}: ${f ? f(v as never) : String(v)}\n`;
  };
  line('Server Version', 'ServerVersion');
  line('Storage Driver', 'Driver');
  line('Logging Driver', 'LoggingDriver');
  line('Cgroup Driver', 'CgroupDriver');
  line('Cgroup Version', 'CgroupVersion');
  line('Default Runtime', 'DefaultRuntime');
  line('Kernel Version', 'KernelVersion');
  line('Operating System', 'OperatingSystem');
  line('OSType', 'OSType');
  line('Architecture', 'Architecture');
  line('CPUs', 'NCPU');
  line('Total Memory', 'MemTotal', (v: number) => humanSizeBinary(v));
  line('Name', 'Name');
  line('ID', 'ID');
  line('Docker Root Dir', 'DockerRootDir');
  line('Debug Mode', 'Debug');
  line('Experimental', 'ExperimentalBuild');
  line('Live Restore Enabled', 'LiveRestoreEnabled');
  ctx.out.write(s);
}

/** docker info shows memory in binary units with 4 significant digits ("7.667GiB"). */
function humanSizeBinary(n: number): string {
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return String(Number(n.toPrecision(4))) + u[i];
}

export function registerSystem(program: Command, ctx: Ctx, act: Act): void {
  addInspectFlags(program.command('inspect').description('Return low-level information on Docker objects')
    .usage('[OPTIONS] NAME|ID [NAME|ID...]').argument('<name...>'), true)
    .action(act(1, (names: string[], o: { format?: string; type?: string; size?: boolean }) => inspect(ctx, names, o)));
  program.command('version').description('Show the berth version information')
    .option('-f, --format <string>', 'Format output using a custom template')
    .action(act(1, (o: { format?: string }) => version(ctx, o)));
  program.command('info').description('Display system-wide information')
    .option('-f, --format <string>', 'Format output using a custom template')
    .action(act(1, (o: { format?: string }) => info(ctx, o)));
}
