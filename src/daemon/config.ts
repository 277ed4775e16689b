/**
 * berthd's configuration: dockerd-like flags over /etc/berth/daemon.json over defaults.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { BerthError, isErrno } from '../common/errors.js';

export interface DaemonConfig {
  /** unix:///path */
  hosts: string[];
  dataRoot: string;
  execRoot: string;
  runtime: string;
  /** Log rotation defaults, docker json-file semantics. */
  logOpts: { 'max-size': string; 'max-file': string };
  insecureRegistries: string[];
  debug: boolean;
  configFile: string;
  pidFile: string;
}

export const DEFAULT_SOCKET = 'unix:///run/berth/berth.sock';

export const USAGE = `Usage:  berthd [OPTIONS]

A container engine serving the Docker Engine API

Options:
      --config-file string   Daemon configuration file (default "/etc/berth/daemon.json")
      --data-root string     Root directory of persistent state (default "/var/lib/berth")
  -D, --debug                Enable debug output
      --exec-root string     Root directory for execution state files (default "/run/berth")
  -H, --host list            Daemon socket to listen on (default unix:///run/berth/berth.sock)
  -p, --pidfile string       Path to use for daemon PID file (default "<exec-root>/berthd.pid")
      --runtime string       OCI runtime binary (default "runc")
      --log-opt map          Default log driver options (max-size, max-file)
  -h, --help                 Print usage
  -v, --version              Print version information and quit
`;

export async function loadConfig(argv: string[]): Promise<DaemonConfig | 'help' | 'version'> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        host: { type: 'string', short: 'H', multiple: true },
        'data-root': { type: 'string' },
        'exec-root': { type: 'string' },
        runtime: { type: 'string' },
        'config-file': { type: 'string' },
        'log-opt': { type: 'string', multiple: true },
        pidfile: { type: 'string', short: 'p' },
        debug: { type: 'boolean', short: 'D' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
      },
      allowPositionals: false,
    });
  } catch (err) {
    throw new BerthError('INVALID_ARGUMENT', `${(err as Error).message}\nSee 'berthd --help'.`);
  }
  const v = parsed.values;
  if (v.help) return 'help';
  if (v.version) return 'version';
  const configFile = v['config-file'] ?? '/etc/berth/daemon.json';
  let file: Record<string, unknown> = {};
  try {
    file = JSON.parse(await readFile(configFile, 'utf8'));
  } catch (err) {
    if (!isErrno(err, 'ENOENT') || v['config-file']) {
      throw new BerthError('INVALID_ARGUMENT', `unable to configure the daemon with file ${configFile}: ${(err as Error).message}`);
    }
  }
  const str = (k: string) => (typeof file[k] === 'string' ? (file[k] as string) : undefined);
  const logOptsFile = (file['log-opts'] ?? {}) as Record<string, string>;
  const logOpts = { 'max-size': logOptsFile['max-size'] ?? '10m', 'max-file': logOptsFile['max-file'] ?? '3' };
  for (const kv of v['log-opt'] ?? []) {
    const [k, val] = kv.split('=', 2);
    if (k === 'max-size' || k === 'max-file') logOpts[k] = val ?? '';
    else throw new BerthError('INVALID_ARGUMENT', `unknown log opt '${k}': supported are max-size and max-file`);
  }
  const hosts = v.host ?? (Array.isArray(file.hosts) ? (file.hosts as string[]) : [DEFAULT_SOCKET]);
  for (const h of hosts) {
    if (!h.startsWith('unix://')) throw new BerthError('INVALID_ARGUMENT', `invalid host ${h}: only unix:///path sockets are supported`);
  }
  const execRoot = v['exec-root'] ?? str('exec-root') ?? '/run/berth';
  return {
    hosts,
    dataRoot: v['data-root'] ?? str('data-root') ?? '/var/lib/berth',
    execRoot,
    runtime: v.runtime ?? str('default-runtime') ?? 'runc',
    logOpts,
    insecureRegistries: Array.isArray(file['insecure-registries']) ? (file['insecure-registries'] as string[]) : [],
    debug: !!v.debug || file.debug === true,
    configFile,
    pidFile: v.pidfile ?? str('pidfile') ?? `${execRoot}/berthd.pid`,
  };
}
