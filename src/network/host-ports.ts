/**
 * Published host ports are held by berthd with a socket each, for as long as the mapping
 * exists, as dockerd does (docker-proxy's socket, or a bare one without the userland
 * proxy). The DNAT alone reserves nothing: a host process or another berthd could bind
 * or publish the same port and silently take or lose its traffic. With the socket held
 * they get "address already in use", and so does berth when someone else was first.
 *
 * The sockets never see the published traffic: DNAT happens in prerouting and output,
 * before local delivery. TCP ones listen (a bound but idle socket with SO_REUSEADDR would
 * not keep another SO_REUSEADDR socket off the port) with a socket filter that drops
 * every packet: a SYN that misses the DNAT (sent in the moment before the map element
 * is added) is dropped, never answered, so no connection is ever queued and nothing
 * needs accepting; the client's retransmission meets the DNAT. UDP ones are bound with
 * the same filter, so nothing fills their queues. Raw fds through libc: Node's sockets
 * take no filter. Close-on-exec: conmon and runc must not inherit them.
 */
import { BerthError, conflict } from '../common/errors.js';
import { koffi, libc, errno, strerror, type LibcFunction } from '../common/libc.js';
import { ipv4Bytes } from './netlink.js';

const AF_INET = 2;
const SOCK_STREAM = 1;
const SOCK_DGRAM = 2;
const SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1;
const SO_REUSEADDR = 2;
const SO_ATTACH_FILTER = 26;
export const EADDRINUSE = 98;
export const EADDRNOTAVAIL = 99;
const BPF_RET_K = 0x06;

export interface HostPortKey { hostIp: string; proto: 'tcp' | 'udp'; hostPort: number }

/** Binding failed; errno says why (EADDRINUSE: someone holds it). */
export class HostPortError extends BerthError {
  readonly errno: number;
  constructor(p: HostPortKey, code: number) {
    const why = strerror(code);
    const msg = `failed to bind host port ${p.hostIp || '0.0.0.0'}:${p.hostPort}/${p.proto}: ${why.charAt(0).toLowerCase()}${why.slice(1)}`;
    super(code === EADDRNOTAVAIL ? 'INVALID_ARGUMENT' : 'CONFLICT', msg);
    this.errno = code;
  }
}

interface Fns { socket: LibcFunction; setsockoptInt: LibcFunction; setsockoptProg: LibcFunction; bind: LibcFunction; listen: LibcFunction; close: LibcFunction; progSize: number }
let fns: Fns | undefined;
function f(): Fns {
  if (!fns) {
    const l = libc();
    const filter = koffi.struct('berth_sock_filter', { code: 'uint16', jt: 'uint8', jf: 'uint8', k: 'uint32' });
    const prog = koffi.struct('berth_sock_fprog', { len: 'uint16', filter: koffi.pointer(filter) });
    fns = {
      socket: l.func('int socket(int domain, int type, int protocol)'),
      setsockoptInt: l.func('setsockopt', 'int', ['int', 'int', 'int', koffi.pointer('int'), 'uint32_t']),
      setsockoptProg: l.func('setsockopt', 'int', ['int', 'int', 'int', koffi.pointer(prog), 'uint32_t']),
      bind: l.func('int bind(int fd, const void *addr, uint32_t len)'),
      listen: l.func('int listen(int fd, int backlog)'),
      close: l.func('int close(int fd)'),
      progSize: koffi.sizeof(prog),
    };
  }
  return fns;
}

const keyOf = (p: HostPortKey) => `${p.hostIp || '0.0.0.0'}/${p.proto}/${p.hostPort}`;

/** Open, filter, bind (and for TCP listen) one socket; its fd, or the errno. */
function open(p: HostPortKey): number {
  const l = f();
  const fd = l.socket(AF_INET, (p.proto === 'tcp' ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC, 0) as number;
  if (fd < 0) throw new HostPortError(p, errno());
  const fail = () => {
    const code = errno();
    l.close(fd);
    return new HostPortError(p, code);
  };
  // Dockerd's choice too: a port whose last connections linger in TIME_WAIT can be held at once.
  if (p.proto === 'tcp' && l.setsockoptInt(fd, SOL_SOCKET, SO_REUSEADDR, [1], 4) !== 0) throw fail();
  // Before bind: no packet may queue on it, ever.
  if (l.setsockoptProg(fd, SOL_SOCKET, SO_ATTACH_FILTER, { len: 1, filter: [{ code: BPF_RET_K, jt: 0, jf: 0, k: 0 }] }, l.progSize) !== 0) throw fail();
  const sa = Buffer.alloc(16);
  sa.writeUInt16LE(AF_INET, 0);
  sa.writeUInt16BE(p.hostPort, 2);
  ipv4Bytes(p.hostIp || '0.0.0.0').copy(sa, 4);
  if (l.bind(fd, sa, sa.length) !== 0) throw fail();
  if (p.proto === 'tcp' && l.listen(fd, 0) !== 0) throw fail();
  return fd;
}

export class HostPorts {
  readonly #held = new Map<string, number>();

  /** Hold the port (idempotent); throws HostPortError when it cannot be bound. */
  hold(p: HostPortKey): void {
    const k = keyOf(p);
    if (!this.#held.has(k)) this.#held.set(k, open(p));
  }

  release(p: HostPortKey): void {
    const k = keyOf(p);
    const fd = this.#held.get(k);
    if (fd === undefined) return;
    this.#held.delete(k);
    f().close(fd);
  }

  /**
   * At berthd's start: the ports of containers that kept running are held again (the
   * sockets went with the last berthd). One taken meanwhile is only logged: its DNAT
   * still takes the port's traffic.
   */
  holdAgain(owners: Array<{ containerName: string; nft: HostPortKey[] }>): void {
    for (const o of owners) {
      for (const p of o.nft) {
        try {
          this.hold(p);
        } catch (err) {
          process.stderr.write(`berthd: ${o.containerName}: ${(err as Error).message} (taken while berthd was down)\n`);
        }
      }
    }
  }

  releaseAll(): void {
    for (const fd of this.#held.values()) f().close(fd);
    this.#held.clear();
  }
}

/** Docker's words for a port this berthd already publishes. */
export function allocatedError(p: HostPortKey): BerthError {
  return conflict(`Bind for ${p.hostIp || '0.0.0.0'}:${p.hostPort} failed: port is already allocated`);
}
