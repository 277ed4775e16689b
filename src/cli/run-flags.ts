/**
 * docker's container-config flags of `run` and `create` (cli/command/container/opts.go),
 * declared on the command about to parse them; the values land in RunFlags.
 */
import type { Command } from 'commander';
import { addResourceFlags } from './commands/update-flags.js';
import { addPlatformFlags, type PlatformFlags } from './platform-flags.js';

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

/** Registers docker's container-config flags on `run` and `create`. */
export function addContainerFlags(cmd: Command): Command {
  // Resource and health-check flags of issue 3 live in commands/update-flags.ts.
  return addPlatformFlags(addResourceFlags(cmd))
    .option('-a, --attach <stream>', 'Attach to STDIN, STDOUT or STDERR', collect)
    .option('--add-host <host:ip>', 'Add a custom host-to-IP mapping (host:ip)', collect)
    .option('--cap-add <cap>', 'Add Linux capabilities', collect)
    .option('--cap-drop <cap>', 'Drop Linux capabilities', collect)
    .option('--cgroupns <mode>', 'Cgroup namespace to use (host|private)')
    .option('--cidfile <file>', 'Write the container ID to the file')
    .option('-c, --cpu-shares <int>', 'CPU shares (relative weight)')
    .option('--cpus <decimal>', 'Number of CPUs')
    .option('--cpuset-cpus <list>', 'CPUs in which to allow execution (0-3, 0,1)')
    .option('--detach-keys <string>', 'Override the key sequence for detaching a container')
    .option('--dns <ip>', 'Set custom DNS servers', collect)
    .option('--dns-option <list>', 'Set DNS options', collect)
    .option('--dns-search <list>', 'Set custom DNS search domains', collect)
    .option('--domainname <string>', 'Container NIS domain name')
    .option('--entrypoint <string>', 'Overwrite the default ENTRYPOINT of the image')
    .option('-e, --env <list>', 'Set environment variables', collect)
    .option('--env-file <file>', 'Read in a file of environment variables', collect)
    .option('--expose <port>', 'Expose a port or a range of ports', collect)
    .option('--group-add <group>', 'Add additional groups to join', collect)
    .option('-q, --quiet', 'Suppress the pull output')
    .option('-h, --hostname <string>', 'Container host name')
    .option('--init', 'Run an init inside the container that forwards signals and reaps processes')
    .option('-i, --interactive', 'Keep STDIN open even if not attached')
    .option('--ipc <string>', 'IPC mode to use')
    .option('-l, --label <list>', 'Set meta data on a container', collect)
    .option('--label-file <file>', 'Read in a line delimited file of labels', collect)
    .option('--log-driver <string>', 'Logging driver for the container')
    .option('--log-opt <list>', 'Log driver options', collect)
    .option('-m, --memory <bytes>', 'Memory limit')
    .option('--memory-reservation <bytes>', 'Memory soft limit')
    .option('--memory-swap <bytes>', "Swap limit equal to memory plus swap: '-1' to enable unlimited swap")
    .option('--mount <mount>', 'Attach a filesystem mount to the container', collect)
    .option('--name <string>', 'Assign a name to the container')
    .option('--network <network>', 'Connect a container to a network')
    .option('--network-alias <list>', 'Add network-scoped alias for the container', collect)
    .option('--ip <string>', 'IPv4 address (e.g., 172.30.100.104)')
    .option('--ip6 <string>', 'IPv6 address (e.g., 2001:db8::33)')
    .option('--link <list>', 'Add link to another container', collect)
    .option('--link-local-ip <list>', 'Container IPv4/IPv6 link-local addresses', collect)
    .option('--mac-address <string>', 'Container MAC address (e.g., 92:d0:c6:0a:29:33)')
    .option('--oom-score-adj <int>', "Tune host's OOM preferences (-1000 to 1000)")
    .option('--pid <string>', 'PID namespace to use')
    .option('--pids-limit <int>', 'Tune container pids limit (set -1 for unlimited)')
    .option('--platform <string>', 'Set platform if server is multi-platform capable')
    .option('--privileged', 'Give extended privileges to this container')
    .option('-p, --publish <list>', "Publish a container's port(s) to the host", collect)
    .option('-P, --publish-all', 'Publish all exposed ports to random ports')
    .option('--pull <string>', 'Pull image before running ("always", "missing", "never")', 'missing')
    .option('--read-only', "Mount the container's root filesystem as read only")
    .option('--restart <string>', 'Restart policy to apply when a container exits', 'no')
    .option('--rm', 'Automatically remove the container and its associated anonymous volumes when it exits')
    .option('--security-opt <list>', 'Security Options', collect)
    .option('--shm-size <bytes>', 'Size of /dev/shm')
    .option('--no-sig-proxy', 'Do not proxy received signals to the process')
    .option('--stop-signal <string>', 'Signal to stop the container')
    .option('--stop-timeout <int>', 'Timeout (in seconds) to stop a container')
    .option('--sysctl <map>', 'Sysctl options', collect)
    .option('--tmpfs <list>', 'Mount a tmpfs directory', collect)
    .option('--device <list>', 'Add a host device to the container', collect)
    .option('--device-cgroup-rule <list>', 'Add a rule to the cgroup allowed devices list', collect)
    .option('-t, --tty', 'Allocate a pseudo-TTY')
    .option('--ulimit <ulimit>', 'Ulimit options', collect)
    .option('-u, --user <string>', 'Username or UID (format: <name|uid>[:<group|gid>])')
    .option('--userns <string>', 'User namespace to use')
    .option('--uts <string>', 'UTS namespace to use')
    .option('-v, --volume <list>', 'Bind mount a volume', collect)
    .option('--volumes-from <list>', 'Mount volumes from the specified container(s)', collect)
    .option('--runtime <string>', 'Runtime to use for this container')
    .option('-w, --workdir <string>', 'Working directory inside the container');
}
