import { isIP } from 'node:net';
import { posix } from 'node:path';
import { invalidArgument } from '../../common/errors.js';
import type { CreateContainerRequest, HostConfig } from '../../oci/docker-config.js';
import { expandExposedPort } from '../../oci/ports.js';
import { parseExtraHost } from './etc-files.js';

/**
 * Create-time checks of values that would otherwise fail only at start (runc's error,
 * a 500) or land verbatim in a file berth renders for the container. Rejecting them
 * at create keeps the rule "a bad request is a one-line 400 and creates nothing".
 */

const MAX_DEPTH = 64;

/** A NUL byte anywhere in the request: no path, argv, env or label may carry one (C strings end there). */
export function checkNoNul(v: unknown, path = 'config', depth = 0): void {
  if (depth > MAX_DEPTH) throw invalidArgument(`invalid ${path}: nested too deeply`);
  if (typeof v === 'string') {
    if (v.includes('\0')) throw invalidArgument(`invalid ${path}: ${JSON.stringify(v)} contains a NUL byte`);
    return;
  }
  if (typeof v !== 'object' || v === null) return;
  if (Array.isArray(v)) {
    v.forEach((x, i) => checkNoNul(x, `${path}[${i}]`, depth + 1));
    return;
  }
  for (const [k, x] of Object.entries(v)) {
    if (k.includes('\0')) throw invalidArgument(`invalid ${path}: key ${JSON.stringify(k)} contains a NUL byte`);
    checkNoNul(x, `${path}.${k}`, depth + 1);
  }
}

/** Values written line by line into /etc/hosts, /etc/hostname and /etc/resolv.conf. */
function oneLine(v: string | undefined, what: string): void {
  if (v !== undefined && /[\r\n]/.test(v)) throw invalidArgument(`invalid ${what} ${JSON.stringify(v)}: must not contain a line break`);
}

// sethostname(2) takes at most HOST_NAME_MAX (64) bytes; runc would fail at start.
const HOST_NAME_MAX = 64;

export function checkNames(req: CreateContainerRequest): void {
  oneLine(req.Hostname, 'hostname');
  oneLine(req.Domainname, 'domainname');
  if (req.Hostname && Buffer.byteLength(req.Hostname) > HOST_NAME_MAX) {
    throw invalidArgument(`invalid hostname ${JSON.stringify(req.Hostname.slice(0, 20) + '…')}: longer than ${HOST_NAME_MAX} bytes`);
  }
  if (req.Domainname && Buffer.byteLength(req.Domainname) > HOST_NAME_MAX) {
    throw invalidArgument(`invalid domainname: longer than ${HOST_NAME_MAX} bytes`);
  }
}

export function checkDns(hc: HostConfig): void {
  for (const ns of hc.Dns ?? []) {
    if (isIP(ns) === 0) throw invalidArgument(`invalid DNS server ${JSON.stringify(ns)}: not an IP address`);
  }
  for (const s of hc.DnsSearch ?? []) {
    if (/\s/.test(s)) throw invalidArgument(`invalid DNS search domain ${JSON.stringify(s)}: must not contain whitespace`);
  }
  for (const o of hc.DnsOptions ?? []) {
    if (/\s/.test(o)) throw invalidArgument(`invalid DNS option ${JSON.stringify(o)}: must not contain whitespace`);
  }
  for (const h of hc.ExtraHosts ?? []) {
    if (/\s/.test(h)) throw invalidArgument(`invalid extra host ${JSON.stringify(h)}: must not contain whitespace`);
    // host-gateway is resolved at start; any address stands in for it here.
    parseExtraHost(h, '127.0.0.1');
  }
}

// The sysctls a container's own namespaces isolate (docker CLI's list, plus runc's UTS two).
const NAMESPACED = new Set(['kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced', 'kernel.domainname', 'kernel.hostname']);

export function checkSysctls(hc: HostConfig): void {
  for (const key of Object.keys(hc.Sysctls ?? {})) {
    // runc takes net/ipv4/ip_forward as well as net.ipv4.ip_forward.
    const k = key.replace(/\//g, '.');
    const net = k.startsWith('net.');
    const ipc = k.startsWith('fs.mqueue.') || (k.startsWith('kernel.') && !['kernel.domainname', 'kernel.hostname'].includes(k));
    if (!/^[a-z0-9_]+(\.[a-zA-Z0-9_-]+)+$/.test(k) || (!net && !k.startsWith('fs.mqueue.') && !NAMESPACED.has(k))) {
      throw invalidArgument(`sysctl ${JSON.stringify(k)} is not allowed: only namespaced sysctls (net.*, fs.mqueue.*, kernel.msg*, kernel.sem, kernel.shm*) can be set`);
    }
    if (net && hc.NetworkMode === 'host') throw invalidArgument(`sysctl ${JSON.stringify(k)} is not allowed with --network host: it would change the host`);
    if (ipc && hc.IpcMode === 'host') throw invalidArgument(`sysctl ${JSON.stringify(k)} is not allowed with --ipc host: it would change the host`);
  }
}

/** dockerd's words for a mount destination that is not an absolute path. */
function notAbsolute(type: string, path: string): string {
  return `invalid mount config for type "${type}": invalid mount path: '${path}' mount path must be absolute`;
}

/**
 * Mount destinations must be absolute (runc only warns about a relative one and mounts it
 * under the root somewhere) and must not be the root itself ("destination can't be '/'").
 * Checked here, before the create makes anything.
 */
export function checkMountDestinations(hc: HostConfig): void {
  const isRoot = (t: string) => posix.normalize(t) === '/';
  for (const b of hc.Binds ?? []) {
    const [source = '', target] = b.split(':');
    if (target === undefined) continue; // parseBind refuses the spec as a whole
    if (!posix.isAbsolute(target)) throw invalidArgument(`invalid volume specification: '${b}': ${notAbsolute(source.startsWith('/') ? 'bind' : 'volume', target)}`);
    if (isRoot(target)) throw invalidArgument(`invalid volume specification: '${b}': invalid mount config: destination can't be '/'`);
  }
  for (const m of hc.Mounts ?? []) {
    if (!m.Target) throw invalidArgument(`invalid mount config for type "${m.Type}": field Target must not be empty`);
    if (!posix.isAbsolute(m.Target)) throw invalidArgument(notAbsolute(m.Type, m.Target));
    if (isRoot(m.Target)) throw invalidArgument(`invalid mount config for type "${m.Type}": invalid specification: destination can't be '/'`);
  }
  for (const t of Object.keys(hc.Tmpfs ?? {})) {
    if (!posix.isAbsolute(t)) throw invalidArgument(notAbsolute('tmpfs', t));
    if (isRoot(t)) throw invalidArgument(`invalid tmpfs mount ${JSON.stringify(t)}: destination can't be '/'`);
  }
}

/**
 * Config.Volumes paths (anonymous volumes), from the request or from the image's VOLUMEs
 * (`image`: the message says the image must be rebuilt).
 */
export function checkVolumePaths(volumes: Record<string, unknown> | undefined, image: boolean): void {
  const hint = image ? ' (a VOLUME of the image; rebuild it with an absolute path)' : '';
  for (const v of Object.keys(volumes ?? {})) {
    if (!posix.isAbsolute(v)) throw invalidArgument(notAbsolute('volume', v) + hint);
    if (posix.normalize(v) === '/') throw invalidArgument(`invalid mount config for type "volume": invalid specification: destination can't be '/'${hint}`);
  }
}

/**
 * ExposedPorts checked and expanded to one key per port ("8000-8002/tcp" → three keys, as
 * the docker CLI expands --expose): every client reads a listed port as a uint16, so one
 * out of range in any container made `docker ps` fail for everyone. `where` names the
 * source (the request or the image's config) in the message.
 */
export function exposedPorts(ports: Record<string, unknown> | undefined, where: string): Record<string, object> {
  const out: Record<string, object> = {};
  for (const key of Object.keys(ports ?? {})) {
    const keys = expandExposedPort(key);
    if (keys.length === 0) {
      throw invalidArgument(`invalid port specification: ${JSON.stringify(key)} in ${where}: want PORT[-PORT][/tcp|udp|sctp] with ports 1-65535`);
    }
    for (const k of keys) out[k] = {};
  }
  return out;
}
