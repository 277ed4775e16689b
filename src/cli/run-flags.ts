/**
 * docker's container-config flags of `run` and `create` (cli/command/container/opts.go),
 * declared on the command about to parse them; the values land in RunFlags.
 */
import type { Command } from 'commander';
import { RESOURCE_FLAGS } from './commands/update-flags.js';
import { declareFlags, type FlagDef } from './flag-table.js';
import { PLATFORM_FLAGS, type PlatformFlags } from './platform-flags.js';

// --cgroup-parent, --annotation, --gpus, --use-api-socket and the rest docker's daemon answers: platform-flags.ts.
export interface RunFlags extends PlatformFlags {
  detach?: boolean; interactive?: boolean; tty?: boolean; rm?: boolean; name?: string;
  env?: string[]; envFile?: string[]; workdir?: string; user?: string; hostname?: string; domainname?: string;
  entrypoint?: string; label?: string[]; labelFile?: string[]; volume?: string[]; mount?: string[]; tmpfs?: string[]; device?: string[];
  readOnly?: boolean; init?: boolean; capAdd?: string[]; capDrop?: string[]; securityOpt?: string[];
  privileged?: boolean; network?: string; restart?: string; memory?: string; memorySwap?: string;
  memoryReservation?: string; cpus?: string; cpuShares?: string; cpusetCpus?: string; pidsLimit?: string;
  ulimit?: string[]; stopSignal?: string; stopTimeout?: string; shmSize?: string; pull?: string;
  detachKeys?: string; attach?: string[]; sigProxy?: boolean; platform?: string; publish?: string[];
  publishAll?: boolean; expose?: string[]; addHost?: string[]; dns?: string[]; groupAdd?: string[];
  ipc?: string; pid?: string; uts?: string; userns?: string; cgroupns?: string; sysctl?: string[];
  oomScoreAdj?: string; logDriver?: string; logOpt?: string[]; workDir?: string; cidfile?: string;
  // Networking (issue 5).
  networkAlias?: string[]; ip?: string; dnsSearch?: string[]; dnsOption?: string[];
  link?: string[]; macAddress?: string; ip6?: string; linkLocalIp?: string[];
  volumesFrom?: string[]; deviceCgroupRule?: string[]; quiet?: boolean; runtime?: string;
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

/** docker's container-config flags of `run` and `create` beyond the resource and platform ones. */
const CONTAINER_FLAGS: readonly FlagDef[] = [
  ['-a, --attach <list>', 'Attach to STDIN, STDOUT or STDERR', collect],
  ['--add-host <list>', 'Add a custom host-to-IP mapping (host:ip)', collect],
  ['--cap-add <list>', 'Add Linux capabilities', collect],
  ['--cap-drop <list>', 'Drop Linux capabilities', collect],
  ['--cgroupns <string>', 'Cgroup namespace to use (host|private)'],
  ['--cidfile <string>', 'Write the container ID to the file'],
  ['-c, --cpu-shares <int>', 'CPU shares (relative weight)'],
  ['--cpus <decimal>', 'Number of CPUs'],
  ['--cpuset-cpus <string>', 'CPUs in which to allow execution (0-3, 0,1)'],
  ['--detach-keys <string>', 'Override the key sequence for detaching a container'],
  ['--dns <list>', 'Set custom DNS servers', collect],
  ['--dns-option <list>', 'Set DNS options', collect],
  ['--dns-search <list>', 'Set custom DNS search domains', collect],
  ['--domainname <string>', 'Container NIS domain name'],
  ['--entrypoint <string>', 'Overwrite the default ENTRYPOINT of the image'],
  ['-e, --env <list>', 'Set environment variables', collect],
  ['--env-file <list>', 'Read in a file of environment variables', collect],
  ['--expose <list>', 'Expose a port or a range of ports', collect],
  ['--group-add <list>', 'Add additional groups to join', collect],
  ['-q, --quiet', 'Suppress the pull output'],
  ['-h, --hostname <string>', 'Container host name'],
  ['--init', 'Run an init inside the container that forwards signals and reaps processes'],
  ['-i, --interactive', 'Keep STDIN open even if not attached'],
  ['--ipc <string>', 'IPC mode to use'],
  ['-l, --label <list>', 'Set meta data on a container', collect],
  ['--label-file <list>', 'Read in a line delimited file of labels', collect],
  ['--log-driver <string>', 'Logging driver for the container'],
  ['--log-opt <list>', 'Log driver options', collect],
  ['-m, --memory <bytes>', 'Memory limit'],
  ['--memory-reservation <bytes>', 'Memory soft limit'],
  ['--memory-swap <bytes>', "Swap limit equal to memory plus swap: '-1' to enable unlimited swap"],
  ['--mount <mount>', 'Attach a filesystem mount to the container', collect],
  ['--name <string>', 'Assign a name to the container'],
  ['--network <network>', 'Connect a container to a network'],
  ['--network-alias <list>', 'Add network-scoped alias for the container', collect],
  ['--ip <string>', 'IPv4 address (e.g., 172.30.100.104)'],
  ['--ip6 <string>', 'IPv6 address (e.g., 2001:db8::33)'],
  ['--link <list>', 'Add link to another container', collect],
  ['--link-local-ip <list>', 'Container IPv4/IPv6 link-local addresses', collect],
  ['--mac-address <string>', 'Container MAC address (e.g., 92:d0:c6:0a:29:33)'],
  ['--oom-score-adj <int>', "Tune host's OOM preferences (-1000 to 1000)"],
  ['--pid <string>', 'PID namespace to use'],
  ['--pids-limit <int>', 'Tune container pids limit (set -1 for unlimited)'],
  ['--platform <string>', 'Set platform if server is multi-platform capable'],
  ['--privileged', 'Give extended privileges to this container'],
  ['-p, --publish <list>', "Publish a container's port(s) to the host", collect],
  ['-P, --publish-all', 'Publish all exposed ports to random ports'],
  ['--pull <string>', 'Pull image before running ("always", "missing", "never")', 'missing'],
  ['--read-only', "Mount the container's root filesystem as read only"],
  ['--restart <string>', 'Restart policy to apply when a container exits', 'no'],
  ['--rm', 'Automatically remove the container and its associated anonymous volumes when it exits'],
  ['--security-opt <list>', 'Security Options', collect],
  ['--shm-size <bytes>', 'Size of /dev/shm'],
  ['--no-sig-proxy', 'Do not proxy received signals to the process'],
  ['--stop-signal <string>', 'Signal to stop the container'],
  ['--stop-timeout <int>', 'Timeout (in seconds) to stop a container'],
  ['--sysctl <map>', 'Sysctl options', collect],
  ['--tmpfs <list>', 'Mount a tmpfs directory', collect],
  ['--device <list>', 'Add a host device to the container', collect],
  ['--device-cgroup-rule <list>', 'Add a rule to the cgroup allowed devices list', collect],
  ['-t, --tty', 'Allocate a pseudo-TTY'],
  ['--ulimit <ulimit>', 'Ulimit options', collect],
  ['-u, --user <string>', 'Username or UID (format: <name|uid>[:<group|gid>])'],
  ['--userns <string>', 'User namespace to use'],
  ['--uts <string>', 'UTS namespace to use'],
  ['-v, --volume <list>', 'Bind mount a volume', collect],
  ['--volumes-from <list>', 'Mount volumes from the specified container(s)', collect],
  ['--runtime <string>', 'Runtime to use for this container'],
  ['-w, --workdir <string>', 'Working directory inside the container'],
];

/** Every flag of `run` and `create`, in the order they are declared (and listed by --help). */
export const RUN_FLAGS: readonly FlagDef[] = [...RESOURCE_FLAGS, ...PLATFORM_FLAGS, ...CONTAINER_FLAGS];

/**
 * Declares docker's container-config flags on `run` or `create`: those `words` (the
 * arguments about to be parsed) may use, or all of them (flag-table.ts).
 */
export function addContainerFlags(cmd: Command, words?: readonly string[]): Command {
  return declareFlags(cmd, RUN_FLAGS, words);
}
