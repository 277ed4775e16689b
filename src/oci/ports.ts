/** Exposed-port keys of image and container configs ("80/tcp", "8000-8010/udp", "53"). */

export type PortProto = 'tcp' | 'udp' | 'sctp';

/**
 * A key as ports 1-65535 and a protocol (tcp when none is given), or undefined when it is
 * not one. Port 0 is refused too: clients read these as a uint16 and treat 0 as "none".
 */
export function parseExposedPort(key: string): { from: number; to: number; proto: PortProto } | undefined {
  const m = /^(\d{1,5})(?:-(\d{1,5}))?(?:\/(tcp|udp|sctp))?$/i.exec(key);
  if (!m) return undefined;
  const from = Number(m[1]);
  const to = m[2] === undefined ? from : Number(m[2]);
  if (from < 1 || to > 65535 || to < from) return undefined;
  return { from, to, proto: (m[3]?.toLowerCase() ?? 'tcp') as PortProto };
}

/** The single ports a valid key stands for, as "PORT/PROTO" keys; [] for an invalid one. */
export function expandExposedPort(key: string): string[] {
  const p = parseExposedPort(key);
  if (!p) return [];
  const out: string[] = [];
  for (let n = p.from; n <= p.to; n++) out.push(`${n}/${p.proto}`);
  return out;
}
