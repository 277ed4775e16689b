/**
 * The `docker ps` filters answered here, from the listed summary and the record: volume,
 * network, publish and expose (dockerd's daemon/list.go semantics). The service answers
 * the others; these were accepted but ignored before.
 */
import { invalidArgument } from '../../common/errors.js';
import type { ContainerRecord } from '../../containers/types.js';
import type { containerSummaryWire } from '../wire/container.js';

type Summary = ReturnType<typeof containerSummaryWire>;

/** "80", "80/udp", "8000-8002/tcp" → the set of "port/proto" keys they name. */
function portSet(values: string[], key: string): Set<string> {
  const out = new Set<string>();
  for (const v of values) {
    const m = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/.exec(v);
    if (!m) throw invalidArgument(`invalid filter '${key}=${v}'`);
    const lo = Number(m[1]);
    const hi = m[2] !== undefined ? Number(m[2]) : lo;
    if (hi < lo || hi > 65535) throw invalidArgument(`invalid filter '${key}=${v}'`);
    for (let p = lo; p <= hi; p++) out.add(`${p}/${m[3] ?? 'tcp'}`);
  }
  return out;
}

/** "80" → "80/tcp": the keys of PortBindings and ExposedPorts may leave the protocol out. */
function portKeys(map: Record<string, unknown> | null | undefined): string[] {
  return Object.keys(map ?? {}).map((k) => (k.includes('/') ? k : `${k}/tcp`).toLowerCase());
}

/** A predicate for the filters in `raw` this file answers, or undefined when none is given. */
export function summaryFilter(raw: Record<string, string[]>): ((s: Summary, c: Pick<ContainerRecord, 'HostConfig' | 'Config'>) => boolean) | undefined {
  const volume = raw.volume ?? [];
  const network = raw.network ?? [];
  const publish = raw.publish?.length ? portSet(raw.publish, 'publish') : undefined;
  const expose = raw.expose?.length ? portSet(raw.expose, 'expose') : undefined;
  if (!volume.length && !network.length && !publish && !expose) return undefined;
  return (s, c) => {
    // A mount matches by volume name, source path or destination path.
    if (volume.length && !(s.Mounts ?? []).some((m) => volume.some((v) => v === m.Name || v === m.Source || v === m.Destination))) return false;
    if (network.length) {
      const nets = Object.entries(s.NetworkSettings?.Networks ?? {});
      if (!nets.some(([name, n]) => network.some((v) => v === name || (v.length > 0 && ((n as { NetworkID?: string }).NetworkID ?? '').startsWith(v))))) return false;
    }
    // dockerd: both name container ports, publish one the container asks to publish
    // (HostConfig.PortBindings, running or not), expose one it exposes (Config.ExposedPorts,
    // where the docker CLI also puts every -p port). Each filter needs one hit of its own.
    if (publish && !portKeys(c.HostConfig.PortBindings).some((k) => publish.has(k))) return false;
    if (expose && !portKeys(c.Config.ExposedPorts).some((k) => expose.has(k))) return false;
    return true;
  };
}
