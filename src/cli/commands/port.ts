/**
 * `port CONTAINER [PRIVATE_PORT[/PROTO]]`: the published bindings from inspect's
 * NetworkSettings.Ports, printed like docker ("80/tcp -> 0.0.0.0:32768").
 */
import type { Command } from 'commander';
import { type Act, type Ctx, enc } from '../context.js';
import { CliError } from '../errors.js';

type Ports = Record<string, Array<{ HostIp?: string; HostPort?: string }> | null>;

function hostPort(b: { HostIp?: string; HostPort?: string }): string {
  const ip = b.HostIp || '0.0.0.0';
  return `${ip.includes(':') ? `[${ip}]` : ip}:${b.HostPort ?? ''}`;
}

/** "80" → "80/tcp"; docker's accepted forms, anything else is an error. */
export function parsePortArg(arg: string): string {
  const m = /^(\d{1,5})(?:\/(tcp|udp|sctp))?$/.exec(arg);
  if (!m || Number(m[1]) < 1 || Number(m[1]) > 65535) throw new CliError(`Error: invalid port (${arg}): want PORT[/tcp|udp|sctp], e.g. 80/tcp`, 1);
  return `${Number(m[1])}/${m[2] ?? 'tcp'}`;
}

/** The lines docker prints; sorted by port then protocol, as docker does. */
export function portLines(ports: Ports, container: string, want?: string): string[] {
  if (want) {
    const key = parsePortArg(want);
    const bs = ports[key];
    if (!bs?.length) throw new CliError(`Error: No public port '${key}' published for ${container}`, 1);
    return bs.map(hostPort);
  }
  const keys = Object.keys(ports).sort((a, b) => {
    const [pa, ta = ''] = a.split('/');
    const [pb, tb = ''] = b.split('/');
    return Number(pa) - Number(pb) || ta.localeCompare(tb);
  });
  return keys.flatMap((k) => (ports[k] ?? []).map((b) => `${k} -> ${hostPort(b)}`));
}

export function registerPort(parent: Command, ctx: Ctx, act: Act): void {
  parent.command('port').description('List port mappings or a specific mapping for the container')
    .usage('CONTAINER [PRIVATE_PORT[/PROTO]]').argument('<container>').argument('[port]')
    .action(act(1, async (container: string, port: string | undefined) => {
      const c = await ctx.client().json<{ NetworkSettings?: { Ports?: Ports | null } }>('GET', `/containers/${enc(container)}/json`);
      const lines = portLines(c.NetworkSettings?.Ports ?? {}, container, port);
      if (lines.length) ctx.out.write(lines.join('\n') + '\n');
    }));
}
