/**
 * network create/ls/inspect/rm/prune/connect/disconnect over /networks, with docker's
 * flags and output (docker/cli's cli/command/network).
 */
import type { Command } from 'commander';
import { ApiError } from '../client.js';
import { type Act, type Ctx, collect, confirm, enc, filtersJSON, filterArg } from '../context.js';
import { CliError } from '../errors.js';
import { goTimeOf } from '../format/human.js';
import { formatRows } from '../format/table.js';
import { inspect } from './system.js';

interface WireNetwork {
  Id: string; Name: string; Created?: string; Scope?: string; Driver?: string; EnableIPv4?: boolean; EnableIPv6?: boolean;
  Internal?: boolean; Attachable?: boolean; Ingress?: boolean; Labels?: Record<string, string> | null;
}

const HEADERS = { ID: 'NETWORK ID', Name: 'NAME', Driver: 'DRIVER', Scope: 'SCOPE', IPv4: 'IPV4', IPv6: 'IPV6', Internal: 'INTERNAL', Labels: 'LABELS', CreatedAt: 'CREATED AT' };
const TABLE = 'table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}';

function row(n: WireNetwork, noTrunc: boolean): Record<string, unknown> {
  const labels = n.Labels ?? {};
  // Keys in Go's map order (sorted): what `--format json` prints.
  const r: Record<string, unknown> = {
    CreatedAt: n.Created ? goTimeOf(n.Created) : '',
    Driver: n.Driver ?? '',
    ID: noTrunc ? n.Id : n.Id.slice(0, 12),
    IPv4: String(!!n.EnableIPv4),
    IPv6: String(!!n.EnableIPv6),
    Internal: String(!!n.Internal),
    Labels: Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(','),
    Name: n.Name,
    Scope: n.Scope ?? 'local',
  };
  Object.defineProperty(r, 'Label', { value: (k: string) => labels[k] ?? '', enumerable: false });
  return r;
}

function kvMap(list: string[] = [], flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of list) {
    const i = l.indexOf('=');
    if (flag === '--opt' && i < 0) throw new CliError(`invalid argument "${l}" for "-o, --opt" flag: expected key=value`, 1);
    out[i < 0 ? l : l.slice(0, i)] = i < 0 ? '' : l.slice(i + 1);
  }
  return out;
}

interface CreateFlags {
  driver: string; subnet?: string[]; gateway?: string[]; ipRange?: string[]; internal?: boolean; attachable?: boolean;
  label?: string[]; opt?: string[]; ipv6?: boolean; ipamDriver?: string; ipamOpt?: string[]; auxAddress?: string[];
}

/** docker pairs --gateway/--ip-range with the --subnet they fall in; berth has one subnet per network. */
function ipamConfig(o: CreateFlags): Array<{ Subnet?: string; Gateway?: string; IPRange?: string }> {
  const subnets = o.subnet ?? [];
  if ((o.gateway?.length ?? 0) > Math.max(1, subnets.length) || (o.ipRange?.length ?? 0) > Math.max(1, subnets.length)) {
    throw new CliError('cannot configure multiple gateways or ip ranges for one subnet', 1);
  }
  if (!subnets.length) {
    if (o.gateway?.length || o.ipRange?.length) throw new CliError('every ip-range or gateway must have a corresponding subnet', 1);
    return [];
  }
  return subnets.map((s, i) => ({ Subnet: s, ...(o.gateway?.[i] ? { Gateway: o.gateway[i] } : {}), ...(o.ipRange?.[i] ? { IPRange: o.ipRange[i] } : {}) }));
}

export function registerNetwork(program: Command, ctx: Ctx, act: Act): void {
  const client = () => ctx.client();
  const net = program.command('network').description('Manage networks').usage('COMMAND');

  net.command('create').description('Create a network').usage('[OPTIONS] NETWORK').argument('<network>')
    .option('--attachable', 'Enable manual container attachment')
    .option('--aux-address <map>', 'Auxiliary IPv4 or IPv6 addresses used by Network driver', collect)
    .option('-d, --driver <string>', 'Driver to manage the Network', 'bridge')
    .option('--gateway <strings>', 'IPv4 or IPv6 Gateway for the master subnet', collect)
    .option('--internal', 'Restrict external access to the network')
    .option('--ip-range <strings>', 'Allocate container ip from a sub-range', collect)
    .option('--ipam-driver <string>', 'IP Address Management Driver', 'default')
    .option('--ipam-opt <map>', 'Set IPAM driver specific options', collect)
    .option('--ipv6', 'Enable or disable IPv6 networking')
    .option('--label <list>', 'Set metadata on a network', collect)
    .option('-o, --opt <map>', 'Set driver specific options', collect)
    .option('--subnet <strings>', 'Subnet in CIDR format that represents a network segment', collect)
    .action(act(1, async (name: string, o: CreateFlags) => {
      if (o.auxAddress?.length) throw new CliError('--aux-address is not supported by berth', 1);
      const r = await client().json<{ Id: string; Warning?: string }>('POST', '/networks/create', {
        body: {
          Name: name, Driver: o.driver, Internal: !!o.internal, Attachable: !!o.attachable, EnableIPv6: !!o.ipv6, CheckDuplicate: true,
          IPAM: { Driver: o.ipamDriver ?? 'default', Config: ipamConfig(o), Options: kvMap(o.ipamOpt, '--ipam-opt') },
          Options: kvMap(o.opt, '--opt'), Labels: kvMap(o.label, '--label'),
        },
      });
      if (r.Warning) ctx.err.write(`WARNING: ${r.Warning}\n`);
      ctx.out.write(r.Id + '\n');
    }));

  net.command('ls').aliases(['list']).description('List networks')
    .option('-f, --filter <filter>', 'Provide filter values (e.g. "driver=bridge")', filterArg('-f, --filter'))
    .option('--format <string>', 'Format output using a custom template')
    .option('--no-trunc', 'Do not truncate the output')
    .option('-q, --quiet', 'Only display network IDs')
    .action(act(1, async (o: { filter?: string[]; format?: string; trunc?: boolean; quiet?: boolean }) => {
      const list = await client().json<WireNetwork[]>('GET', '/networks', { query: { filters: filtersJSON(o.filter) } });
      const rows = list.sort((a, b) => a.Name.localeCompare(b.Name)).map((n) => row(n, o.trunc === false));
      ctx.out.write(formatRows(o.quiet ? '{{.ID}}' : o.format, rows, { defaultTable: TABLE, headers: HEADERS }));
    }));

  net.command('inspect').description('Display detailed information on one or more networks')
    .usage('[OPTIONS] NETWORK [NETWORK...]').argument('<network...>')
    .option('-f, --format <string>', 'Format output using a custom template')
    .option('-v, --verbose', 'Verbose output for diagnostics')
    .action(act(1, (names: string[], o: { format?: string }) => inspect(ctx, names, o, 'network')));

  net.command('rm').aliases(['remove']).description('Remove one or more networks')
    .usage('[OPTIONS] NETWORK [NETWORK...]').argument('<network...>')
    .option('-f, --force', 'Do not error if the network does not exist')
    .action(act(1, async (names: string[], o: { force?: boolean }) => {
      let failed = false;
      for (const n of names) {
        try {
          await client().json('DELETE', `/networks/${enc(n)}`);
          ctx.out.write(n + '\n');
        } catch (e) {
          if (!(e instanceof ApiError)) throw e;
          if (o.force && e.status === 404) continue;
          ctx.err.write(`Error response from daemon: ${e.message}\n`);
          failed = true;
        }
      }
      if (failed) throw new CliError('', 1);
    }));

  net.command('prune').description('Remove all unused networks')
    .option('--filter <filter>', 'Provide filter values (e.g. "until=<timestamp>")', filterArg('--filter'))
    .option('-f, --force', 'Do not prompt for confirmation')
    .action(act(1, async (o: { filter?: string[]; force?: boolean }) => {
      if (!o.force && !(await confirm(ctx, 'WARNING! This will remove all custom networks not used by at least one container.'))) return;
      const r = await client().json<{ NetworksDeleted?: string[] | null }>('POST', '/networks/prune', { query: { filters: filtersJSON(o.filter) } });
      const del = r.NetworksDeleted ?? [];
      if (del.length) ctx.out.write('Deleted Networks:\n' + del.map((d) => d + '\n').join('') + '\n');
    }));

  net.command('connect').description('Connect a container to a network')
    .usage('[OPTIONS] NETWORK CONTAINER').argument('<network>').argument('<container>')
    .option('--alias <strings>', 'Add network-scoped alias for the container', collect)
    .option('--driver-opt <strings>', 'driver options for the network', collect)
    .option('--ip <string>', 'IPv4 address (e.g., "172.30.100.104")')
    .option('--ip6 <string>', 'IPv6 address (e.g., "2001:db8::33")')
    .option('--link <list>', 'Add link to another container', collect)
    .option('--link-local-ip <strings>', 'Add a link-local address for the container', collect)
    .action(act(1, async (network: string, container: string, o: { alias?: string[]; ip?: string; ip6?: string; link?: string[]; linkLocalIp?: string[]; driverOpt?: string[] }) => {
      // --ip6 and --link-local-ip are sent as docker sends them: berthd refuses them (IPv4 only) in dockerd's words.
      const ipam = { ...(o.ip ? { IPv4Address: o.ip } : {}), ...(o.ip6 ? { IPv6Address: o.ip6 } : {}), ...(o.linkLocalIp?.length ? { LinkLocalIPs: o.linkLocalIp } : {}) };
      await client().json('POST', `/networks/${enc(network)}/connect`, {
        body: {
          Container: container,
          EndpointConfig: {
            Aliases: o.alias ?? [], ...(o.link?.length ? { Links: o.link } : {}), ...(Object.keys(ipam).length ? { IPAMConfig: ipam } : {}),
            DriverOpts: kvMap(o.driverOpt, '--driver-opt'),
          },
        },
      });
    }));

  net.command('disconnect').description('Disconnect a container from a network')
    .usage('[OPTIONS] NETWORK CONTAINER').argument('<network>').argument('<container>')
    .option('-f, --force', 'Force the container to disconnect from a network')
    .action(act(1, async (network: string, container: string, o: { force?: boolean }) => {
      await client().json('POST', `/networks/${enc(network)}/disconnect`, { body: { Container: container, Force: !!o.force } });
    }));
}
