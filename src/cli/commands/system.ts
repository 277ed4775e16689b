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

/**
 * docker inspect: each name is tried as container, image, network, volume until one answers
 * (404 moves on). Prints the JSON array (4-space indent) or --format per object; misses are
 * reported after, exit 1.
 */
/**
 * docker runs an inspect template on its typed struct first, where the id is `.ID` (JSON
 * "Id"), and on the raw JSON only if that fails, so scripts use both. The JSON is what
 * berth has: `.ID` is added beside `.Id`, hidden from `json .`.
 */
function withGoNames(obj: unknown): unknown {
  if (obj && typeof obj === 'object' && 'Id' in obj && !('ID' in obj)) {
    Object.defineProperty(obj, 'ID', { value: (obj as { Id: unknown }).Id, enumerable: false });
  }
  return obj;
}

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
        // One kind asked for (container inspect, --type volume): the daemon's own words, as docker.
        if (kinds.length === 1) { errors.push(`Error response from daemon: ${e.message}`); hit = null; break; }
      }
    }
    if (hit === undefined) errors.push(`Error: No such object: ${n}`);
    else if (hit !== null) found.push(hit);
  }
  // docker inspect: missingkey=error; a template that does not parse exits 64.
  if (o.format) ctx.out.write(formatEach(o.format, found.map(withGoNames), { errors: { parse: 'template parsing error: ', exec: 'template parsing error: ' }, parseCode: 64 }));
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
    ctx.out.write(formatEach(o.format, [{ Client: goFieldAliases(clientInfo), Server: server ? goFieldAliases(server) : null }], { typeName: 'system.versionInfo', errors: { parse: 'template parsing error: ', exec: '' } }));
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
    if (server.BuildTime) s += kv('Built', ansicDate(server.BuildTime), 2, 20);
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

/**
 * docker's templates see Go field names: `{{.Server.APIVersion}}` where the JSON says
 * ApiVersion. The aliases are not enumerable, so `{{json .}}` keeps the wire form.
 */
function goFieldAliases<T extends object>(o: T): T {
  const r = { ...o } as Record<string, unknown>;
  if ('ApiVersion' in r) Object.defineProperty(r, 'APIVersion', { value: r.ApiVersion, enumerable: false });
  for (const k of ['GoVersion', 'GitCommit', 'BuildTime']) if (!(k in r)) Object.defineProperty(r, k, { value: '', enumerable: false });
  return r as T;
}

/** docker shows an RFC 3339 build time as Go's time.ANSIC in local time ("Fri May 30 12:07:14 2025"). */
export function ansicDate(v: string): string {
  const t = new Date(v);
  if (!/^\d{4}-\d\d-\d\dT/.test(v) || Number.isNaN(t.getTime())) return v;
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p2 = (n: number) => String(n).padStart(2, '0');
  return `${days[t.getDay()]} ${months[t.getMonth()]} ${String(t.getDate()).padStart(2, ' ')} ${p2(t.getHours())}:${p2(t.getMinutes())}:${p2(t.getSeconds())} ${t.getFullYear()}`;
}

async function info(ctx: Ctx, o: { format?: string }): Promise<void> {
  const i = await ctx.client().json<InfoResponse>('GET', '/info');
  if (o.format) { ctx.out.write(formatEach(o.format, [i], { typeName: 'system.dockerInfo', errors: { parse: 'template parsing error: ', exec: '' } })); return; }
  ctx.out.write(renderInfo(i));
  for (const w of i.Warnings ?? []) ctx.err.write(w + '\n');
}

interface InfoResponse {
  [k: string]: unknown;
  DriverStatus?: Array<[string, string]> | null;
  Plugins?: { Volume?: string[] | null; Network?: string[] | null; Authorization?: string[] | null; Log?: string[] | null } | null;
  Swarm?: { LocalNodeState?: string } | null;
  Runtimes?: Record<string, unknown> | null;
  ContainerdCommit?: { ID?: string } | null;
  RuncCommit?: { ID?: string } | null;
  InitCommit?: { ID?: string } | null;
  SecurityOptions?: string[] | null;
  RegistryConfig?: { InsecureRegistryCIDRs?: string[] | null } | null;
  Labels?: string[] | null;
  Warnings?: string[] | null;
}

/** The server half of `docker info`, section by section in docker's order. */
export function renderInfo(i: InfoResponse): string {
  const g = (k: string) => i[k] as string | number | boolean | undefined;
  let s = 'Client:\n' + kv('Version', CLI_VERSION, 1, 13) + kv('Context', 'default', 1, 13) + kv('Debug Mode', 'false', 1, 13);
  s += '\nServer:\n';
  s += ` Containers: ${g('Containers') ?? 0}\n  Running: ${g('ContainersRunning') ?? 0}\n  Paused: ${g('ContainersPaused') ?? 0}\n  Stopped: ${g('ContainersStopped') ?? 0}\n`;
  s += ` Images: ${g('Images') ?? 0}\n`;
  const line = (label: string, v: unknown) => { if (v !== undefined && v !== null && v !== '') s += ` ${label}: ${String(v)}\n`; };
  line('Server Version', g('ServerVersion'));
  line('Storage Driver', g('Driver'));
  for (const [k, v] of i.DriverStatus ?? []) s += `  ${k}: ${v}\n`;
  line('Logging Driver', g('LoggingDriver'));
  line('Cgroup Driver', g('CgroupDriver'));
  line('Cgroup Version', g('CgroupVersion'));
  if (i.Plugins) {
    s += ' Plugins:\n';
    for (const k of ['Volume', 'Network', 'Authorization', 'Log'] as const) {
      const list = i.Plugins[k];
      if (list?.length) s += `  ${k}: ${list.join(' ')}\n`;
    }
  }
  line('Swarm', i.Swarm?.LocalNodeState);
  if (i.Runtimes) line('Runtimes', Object.keys(i.Runtimes).sort().join(' '));
  line('Default Runtime', g('DefaultRuntime'));
  line('Init Binary', g('InitBinary'));
  if (i.ContainerdCommit) s += ` containerd version: ${i.ContainerdCommit.ID ?? ''}\n`;
  if (i.RuncCommit) s += ` runc version: ${i.RuncCommit.ID ?? ''}\n`;
  if (i.InitCommit) s += ` init version: ${i.InitCommit.ID ?? ''}\n`;
  if (i.SecurityOptions?.length) {
    s += ' Security Options:\n';
    for (const opt of i.SecurityOptions) {
      // "name=seccomp,profile=builtin" → "  seccomp" then "   Profile: builtin".
      const kvs = opt.split(',').map((p) => p.split('='));
      for (const [k, v] of kvs) {
        if (k === 'name') s += `  ${v}\n`;
        else if (k) s += `   ${k[0]!.toUpperCase()}${k.slice(1)}: ${v ?? ''}\n`;
      }
    }
  }
  line('Kernel Version', g('KernelVersion'));
  line('Operating System', g('OperatingSystem'));
  line('OSType', g('OSType'));
  line('Architecture', g('Architecture'));
  line('CPUs', g('NCPU'));
  const mem = g('MemTotal');
  if (typeof mem === 'number') line('Total Memory', humanSizeBinary(mem));
  line('Name', g('Name'));
  line('ID', g('ID'));
  line('Docker Root Dir', g('DockerRootDir'));
  line('Debug Mode', g('Debug') ?? false);
  if (i.Labels?.length) s += ' Labels:\n' + i.Labels.map((l) => `  ${l}\n`).join('');
  line('Experimental', g('ExperimentalBuild') ?? false);
  const insecure = i.RegistryConfig?.InsecureRegistryCIDRs ?? [];
  if (insecure.length) s += ' Insecure Registries:\n' + insecure.map((r) => `  ${r}\n`).join('');
  line('Live Restore Enabled', g('LiveRestoreEnabled'));
  return s + '\n';
}

/** docker info shows memory in binary units with 4 significant digits ("7.667GiB"). */
function humanSizeBinary(n: number): string {
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return String(Number(n.toPrecision(4))) + u[i];
}

export function registerSystem(program: Command, ctx: Ctx, act: Act): void {
  addInspectFlags(program.command('inspect').description('Show low-level information on containers, images, networks and volumes')
    .usage('[OPTIONS] NAME|ID [NAME|ID...]').argument('<name...>'), true)
    .action(act(1, (names: string[], o: { format?: string; type?: string; size?: boolean }) => inspect(ctx, names, o)));
  program.command('version').description('Show the berth version information').usage('[OPTIONS]')
    .option('-f, --format <string>', 'Format output using a custom template')
    .action(act(1, (o: { format?: string }) => version(ctx, o)));
  registerInfo(program, ctx, act);
}

/** `info`, also declared as `system info`. */
export function registerInfo(parent: Command, ctx: Ctx, act: Act): void {
  parent.command('info').description('Display system-wide information').usage('[OPTIONS]')
    .option('-f, --format <string>', 'Format output using a custom template')
    .action(act(1, (o: { format?: string }) => info(ctx, o)));
}
