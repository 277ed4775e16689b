/**
 * The `docker ps` filters answered from the listed summary rather than the record:
 * volume, network, publish and expose (dockerd's daemon/list.go semantics). The
 * service answers the others; these were accepted but ignored before.
 */
import { invalidArgument } from '../../common/errors.js';
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

/** A predicate for the summary-level filters in `raw`, or undefined when none is given. */
export function summaryFilter(raw: Record<string, string[]>): ((s: Summary) => boolean) | undefined {
  const volume = raw.volume ?? [];
  const network = raw.network ?? [];
  const publish = raw.publish?.length ? portSet(raw.publish, 'publish') : undefined;
  const expose = raw.expose?.length ? portSet(raw.expose, 'expose') : undefined;
  if (!volume.length && !network.length && !publish && !expose) return undefined;
  return (s) => {
    // A mount matches by volume name, source path or destination path.
    if (volume.length && !(s.Mounts ?? []).some((m) => volume.some((v) => v === m.Name || v === m.Source || v === m.Destination))) return false;
    if (network.length) {
      const nets = Object.entries(s.NetworkSettings?.Networks ?? {});
      if (!nets.some(([name, n]) => network.some((v) => v === name || (v.length > 0 && ((n as { NetworkID?: string }).NetworkID ?? '').startsWith(v))))) return false;
    }
    // dockerd: publish names a host (public) port, expose a container port; one hit suffices.
    if (publish || expose) {
      const hit = (s.Ports ?? []).some((p) =>
        (publish !== undefined && p.PublicPort !== undefined && publish.has(`${p.PublicPort}/${p.Type}`)) ||
        (expose !== undefined && expose.has(`${p.PrivatePort}/${p.Type}`)));
      if (!hit) return false;
    }
    return true;
  };
}
