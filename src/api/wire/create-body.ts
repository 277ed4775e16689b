/**
 * Type checks of POST /containers/create (and exec create) bodies, the check dockerd
 * gets for free from Go's JSON decoder: a field of the wrong JSON type is the
 * client's error (400, one line), never a TypeError deep in the engine (500) or a
 * value runc rejects at start. Nulls are decoded as Go does (checkShape), so none reaches
 * the engine where it expects an object; unknown fields of Config and HostConfig are
 * dropped (dropUnknownFields), as Go's decoder drops them. bodies.ts has the shapes of
 * the other endpoints' bodies.
 */
import { invalidArgument } from '../../common/errors.js';

type Kind = 'string' | 'bool' | 'int' | 'strings' | 'strslice' | 'map' | 'any';
/** A struct; `go` names its Go type in messages. */
export interface Obj { obj: Record<string, Shape>; go?: string }
interface Arr { arr: Shape }
interface MapOf { mapOf: Shape }
export type Shape = Kind | Obj | Arr | MapOf;

const GO_TYPE: Record<Kind, string> = {
  string: 'string', bool: 'bool', int: 'int64', strings: '[]string', strslice: 'strslice.StrSlice', map: 'map[string]string', any: 'interface {}',
};

const EMPTY: Shape = { obj: {} };
const throttle: Shape = { arr: { obj: { Path: 'string', Rate: 'int' }, go: 'blkiodev.ThrottleDevice' } };

const HEALTHCHECK: Shape = { obj: { Test: 'strslice', Interval: 'int', Timeout: 'int', StartPeriod: 'int', StartInterval: 'int', Retries: 'int' } };

/** docker's container.Config as a create body carries it. */
export const CONFIG: Record<string, Shape> = {
  Hostname: 'string', Domainname: 'string', User: 'string', AttachStdin: 'bool', AttachStdout: 'bool', AttachStderr: 'bool',
  ExposedPorts: { mapOf: EMPTY }, Tty: 'bool', OpenStdin: 'bool', StdinOnce: 'bool', Env: 'strings', Cmd: 'strslice',
  Healthcheck: HEALTHCHECK, ArgsEscaped: 'bool', Image: 'string', Volumes: { mapOf: EMPTY }, WorkingDir: 'string',
  Entrypoint: 'strslice', NetworkDisabled: 'bool', MacAddress: 'string', OnBuild: 'strings', Labels: 'map',
  StopSignal: 'string', StopTimeout: 'int', Shell: 'strslice',
};

const MOUNT: Shape = {
  go: 'mount.Mount',
  obj: {
    Type: 'string', Source: 'string', Target: 'string', ReadOnly: 'bool', Consistency: 'string',
    BindOptions: { obj: { Propagation: 'string', NonRecursive: 'bool', CreateMountpoint: 'bool', ReadOnlyNonRecursive: 'bool', ReadOnlyForceRecursive: 'bool' } },
    VolumeOptions: { obj: { NoCopy: 'bool', Labels: 'map', Subpath: 'string', DriverConfig: { obj: { Name: 'string', Options: 'map' } } } },
    TmpfsOptions: { obj: { SizeBytes: 'int', Mode: 'int' } },
  },
};

export const HOST_CONFIG: Obj = {
  obj: {
    Binds: 'strings', ContainerIDFile: 'string', LogConfig: { obj: { Type: 'string', Config: 'map' } }, NetworkMode: 'string',
    PortBindings: { mapOf: { arr: { obj: { HostIp: 'string', HostPort: 'string' }, go: 'nat.PortBinding' } } },
    RestartPolicy: { obj: { Name: 'string', MaximumRetryCount: 'int' } }, AutoRemove: 'bool', VolumeDriver: 'string',
    VolumesFrom: 'strings', ConsoleSize: { arr: 'int' }, Annotations: 'map', CapAdd: 'strings', CapDrop: 'strings',
    CgroupnsMode: 'string', Dns: 'strings', DnsOptions: 'strings', DnsSearch: 'strings', ExtraHosts: 'strings', GroupAdd: 'strings',
    IpcMode: 'string', Cgroup: 'string', Links: 'strings', OomScoreAdj: 'int', PidMode: 'string', Privileged: 'bool',
    PublishAllPorts: 'bool', ReadonlyRootfs: 'bool', SecurityOpt: 'strings', StorageOpt: 'map', Tmpfs: 'map', UTSMode: 'string',
    UsernsMode: 'string', ShmSize: 'int', Sysctls: 'map', Runtime: 'string', Isolation: 'string',
    CpuShares: 'int', Memory: 'int', NanoCpus: 'int', CgroupParent: 'string', BlkioWeight: 'int',
    BlkioWeightDevice: { arr: { obj: { Path: 'string', Weight: 'int' }, go: 'blkiodev.WeightDevice' } },
    BlkioDeviceReadBps: throttle, BlkioDeviceWriteBps: throttle, BlkioDeviceReadIOps: throttle, BlkioDeviceWriteIOps: throttle,
    CpuPeriod: 'int', CpuQuota: 'int', CpuRealtimePeriod: 'int', CpuRealtimeRuntime: 'int', CpusetCpus: 'string', CpusetMems: 'string',
    Devices: { arr: { obj: { PathOnHost: 'string', PathInContainer: 'string', CgroupPermissions: 'string' }, go: 'container.DeviceMapping' } },
    DeviceCgroupRules: 'strings', KernelMemory: 'int', KernelMemoryTCP: 'int', MemoryReservation: 'int', MemorySwap: 'int',
    MemorySwappiness: 'int', OomKillDisable: 'bool', PidsLimit: 'int', Init: 'bool', CpuCount: 'int', CpuPercent: 'int',
    Ulimits: { arr: { obj: { Name: 'string', Soft: 'int', Hard: 'int' }, go: 'units.Ulimit' } },
    Mounts: { arr: MOUNT }, MaskedPaths: 'strings', ReadonlyPaths: 'strings',
    DeviceRequests: { arr: { obj: { Driver: 'string', Count: 'int', DeviceIDs: 'strings', Capabilities: { arr: 'strings' }, Options: 'map' }, go: 'container.DeviceRequest' } }, IOMaximumIOps: 'int', IOMaximumBandwidth: 'int',
  },
};

/** docker's EndpointSettings (create's EndpointsConfig values, connect's EndpointConfig). */
export const ENDPOINT: Shape = {
  obj: {
    IPAMConfig: { obj: { IPv4Address: 'string', IPv6Address: 'string', LinkLocalIPs: 'strings' } },
    Links: 'strings', Aliases: 'strings', MacAddress: 'string', DriverOpts: 'map', NetworkID: 'string', EndpointID: 'string',
    Gateway: 'string', IPAddress: 'string', IPPrefixLen: 'int', DNSNames: 'strings',
  },
};

export const CREATE_BODY: Shape = {
  obj: { ...CONFIG, HostConfig: HOST_CONFIG, NetworkingConfig: { obj: { EndpointsConfig: { mapOf: ENDPOINT } } } },
};

export const EXEC_BODY: Shape = {
  obj: {
    User: 'string', Privileged: 'bool', Tty: 'bool', ConsoleSize: { arr: 'int' }, AttachStdin: 'bool', AttachStderr: 'bool',
    AttachStdout: 'bool', Detach: 'bool', DetachKeys: 'string', Env: 'strings', WorkingDir: 'string', Cmd: 'strslice',
  },
};

function jsonType(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'boolean') return 'bool';
  return typeof v === 'object' ? 'object' : typeof v;
}

function goType(s: Shape): string {
  if (typeof s === 'string') return GO_TYPE[s];
  if ('arr' in s) return `[]${goType(s.arr)}`;
  if ('mapOf' in s) return `map[string]${goType(s.mapOf)}`;
  return s.go ?? 'struct';
}

/** Go would store a zero value here; berth refuses it: a null entry of a list is a client bug. */
function nullEntry(path: string, s: Shape): never {
  throw invalidArgument(`invalid ${path}: null in a list of ${goType(s)}; remove the entry or give a value`);
}

/**
 * What Go's decoder leaves for a null map value: the zero value (an empty struct, map,
 * string...), or undefined where it leaves nil (a list), which the engine reads as empty.
 */
function zeroOf(s: Shape): unknown {
  if (typeof s !== 'string') return 'arr' in s ? undefined : {};
  return ({ string: '', bool: false, int: 0, map: {} } as Record<string, unknown>)[s];
}

function fail(v: unknown, path: string, s: Shape): never {
  const what = typeof v === 'number' && (typeof s === 'string' && s === 'int') ? `number ${v}` : jsonType(v);
  throw invalidArgument(`json: cannot unmarshal ${what} into Go struct field ${path || 'body'} of type ${goType(s)}`);
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Throws INVALID_ARGUMENT naming the first field whose JSON type does not fit, and
 * decodes nulls in place as Go does, so the engine never meets one where it reads
 * fields: a null struct or scalar field is absent (Go leaves the zero value or a nil
 * pointer); a null list or map field stays null (Go's nil, read as empty); a null map
 * value becomes its zero value; a null list entry is refused (see nullEntry).
 */
export function checkShape(v: unknown, s: Shape, path = ''): void {
  if (v === null || v === undefined || s === 'any') return;
  if (typeof s === 'string') {
    switch (s) {
      case 'string': if (typeof v !== 'string') fail(v, path, s); return;
      case 'bool': if (typeof v !== 'boolean') fail(v, path, s); return;
      case 'int': if (typeof v !== 'number' || !Number.isSafeInteger(v)) fail(v, path, s); return;
      case 'strslice':
      case 'strings':
        // docker's StrSlice takes a bare string too
        if (s === 'strslice' && typeof v === 'string') return;
        if (!Array.isArray(v)) fail(v, path, s);
        v.forEach((x, i) => {
          if (x === null) nullEntry(`${path}[${i}]`, 'string');
          if (typeof x !== 'string') fail(x, `${path}[${i}]`, 'string');
        });
        return;
      case 'map':
        if (!isObject(v)) fail(v, path, s);
        for (const [k, x] of Object.entries(v)) {
          if (x === null) v[k] = '';
          else if (typeof x !== 'string') fail(x, `${path}.${k}`, 'string');
        }
        return;
    }
  }
  if ('arr' in s) {
    if (!Array.isArray(v)) fail(v, path, s);
    v.forEach((x, i) => {
      if (x === null) nullEntry(`${path}[${i}]`, s.arr);
      checkShape(x, s.arr, `${path}[${i}]`);
    });
    return;
  }
  if (!isObject(v)) fail(v, path, s);
  if ('mapOf' in s) {
    for (const [k, x] of Object.entries(v)) {
      if (x === null) {
        const zero = zeroOf(s.mapOf);
        if (zero !== undefined) v[k] = zero;
      } else {
        checkShape(x, s.mapOf, `${path}.${k}`);
      }
    }
    return;
  }
  for (const [k, sub] of Object.entries(s.obj)) {
    if (!Object.hasOwn(v, k)) continue;
    if (v[k] === null && (typeof sub === 'string' ? ['string', 'bool', 'int'].includes(sub) : 'obj' in sub)) delete v[k];
    else checkShape(v[k], sub, path ? `${path}.${k}` : k);
  }
}

/**
 * docker's StrSlice fields take a bare string as a one-element list; the engine sees
 * lists only (a spread string would become one argument per character).
 */
export function normalizeStrSlices(body: Record<string, unknown>): void {
  for (const k of ['Cmd', 'Entrypoint', 'Shell']) if (typeof body[k] === 'string') body[k] = [body[k]];
  const hc = body['Healthcheck'];
  if (isObject(hc) && typeof hc['Test'] === 'string') hc['Test'] = [hc['Test']];
  // Go's HealthConfig omits zero durations and retries: docker-py (compose's
  // `healthcheck: {disable: true}`) sends them as null, which inspect must not echo.
  if (isObject(hc)) for (const k of ['Interval', 'Timeout', 'StartPeriod', 'StartInterval', 'Retries']) if (hc[k] === null || hc[k] === 0) delete hc[k];
}

/**
 * Go's decoder keeps only the struct's fields: a key matches its field exactly or,
 * failing that, case-insensitively (`memory` sets Memory), a later key overriding an
 * earlier one; anything else is dropped. Done on the body (Config), HostConfig and
 * NetworkingConfig, so junk is neither stored nor echoed back by inspect. Nested
 * objects (mounts, endpoints, health checks) are left as they are: their lists of
 * fields grow with every API version and the engine reads only what it knows.
 */
export function dropUnknownFields(body: Record<string, unknown>): void {
  pick(body, CREATE_BODY);
  const top = CREATE_BODY as Obj;
  for (const k of ['HostConfig', 'NetworkingConfig']) {
    const v = body[k];
    if (isObject(v)) pick(v, top.obj[k]!);
  }
}

function pick(v: Record<string, unknown>, shape: Shape): void {
  if (typeof shape !== 'object' || !('obj' in shape)) return;
  const known = Object.keys(shape.obj);
  const folded = new Map(known.map((k) => [k.toLowerCase(), k]));
  const out: Record<string, unknown> = {};
  for (const [k, val] of Object.entries(v)) {
    const field = Object.hasOwn(shape.obj, k) ? k : folded.get(k.toLowerCase());
    if (field !== undefined) out[field] = val;
  }
  for (const k of Object.keys(v)) delete v[k];
  Object.assign(v, out);
}
