/**
 * berth's one nftables table. Networks (rare changes) rewrite the table in one
 * atomic transaction; published ports (every container with -p) are elements of
 * two maps, added and removed with one `nft` call, never a rule per container.
 */
import { spawn } from 'node:child_process';
import { BerthError } from '../common/errors.js';

export interface NftNetwork { bridge: string; subnet: string; internal: boolean }
export interface NftPort { hostIp: string; proto: 'tcp' | 'udp'; hostPort: number; ip: string; port: number }

/** Run nft with a script on stdin; rejects with nft's own message. */
export function nft(script: string, args: string[] = ['-f', '-']): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn('nft', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    p.stdout.on('data', (d: Buffer) => out.push(d));
    p.stderr.on('data', (d: Buffer) => err.push(d));
    p.on('error', (e) => reject(new BerthError('UNAVAILABLE', `nft: ${e.message}: install Debian's nftables package`)));
    p.on('close', (code) => {
      if (code === 0) resolve(Buffer.concat(out).toString());
      else reject(new BerthError('INTERNAL', `nft failed: ${Buffer.concat(err).toString().trim().split('\n')[0]}`));
    });
    p.stdin.end(script);
  });
}

const q = (s: string) => JSON.stringify(s);

export function portElement(p: NftPort): { map: 'pub_ip' | 'pub_any'; key: string; value: string } {
  const value = `${p.ip} . ${p.port}`;
  if (p.hostIp && p.hostIp !== '0.0.0.0') return { map: 'pub_ip', key: `${p.hostIp} . ${p.proto} . ${p.hostPort}`, value };
  return { map: 'pub_any', key: `${p.proto} . ${p.hostPort}`, value };
}

/**
 * The whole table: created if absent, replaced atomically otherwise.
 *
 * raw_prerouting: the bridges have route_localnet=1 (bridge-driver.ts ensure: DNAT of the
 * host's own 127.0.0.1 to a container needs it), which also makes the kernel accept a
 * packet for 127.0.0.0/8 that a container sends to its gateway, so host services bound to
 * loopback only would be reachable from containers (CVE-2020-8558). Such packets are
 * dropped at priority raw, before conntrack and NAT; a drop in any base chain is final,
 * whatever other tables (docker's) accept. Replies to the host's own DNATed connections
 * are addressed to the gateway (they were masqueraded) and pass.
 */
export function tableScript(table: string, nets: NftNetwork[], ports: NftPort[]): string {
  const bridges = nets.map((n) => q(n.bridge));
  const masq = nets.filter((n) => !n.internal).map((n) => n.subnet);
  const all = nets.map((n) => n.subnet);
  const fwd: string[] = [];
  for (const n of nets) {
    if (n.internal) {
      fwd.push(`iifname ${q(n.bridge)} oifname != ${q(n.bridge)} drop`, `oifname ${q(n.bridge)} iifname != ${q(n.bridge)} drop`);
    } else {
      // Networks are isolated from each other, like docker's DOCKER-ISOLATION chains.
      fwd.push(`iifname ${q(n.bridge)} oifname @bridges oifname != ${q(n.bridge)} drop`);
    }
  }
  const el = (map: 'pub_ip' | 'pub_any') => ports.map(portElement).filter((e) => e.map === map).map((e) => `${e.key} : ${e.value}`);
  const elems = (xs: string[]) => (xs.length ? ` elements = { ${xs.join(', ')} };` : '');
  return `table ip ${table} {}
delete table ip ${table}
table ip ${table} {
  set bridges { type ifname;${elems(bridges)} }
  set subnets { type ipv4_addr; flags interval;${elems(all)} }
  set masq_subnets { type ipv4_addr; flags interval;${elems(masq)} }
  map pub_ip { type ipv4_addr . inet_proto . inet_service : ipv4_addr . inet_service;${elems(el('pub_ip'))} }
  map pub_any { type inet_proto . inet_service : ipv4_addr . inet_service;${elems(el('pub_any'))} }
  chain raw_prerouting {
    type filter hook prerouting priority raw; policy accept;
    iifname @bridges ip daddr 127.0.0.0/8 drop
  }
  chain pub {
    meta l4proto { tcp, udp } dnat ip to ip daddr . meta l4proto . th dport map @pub_ip
    meta l4proto { tcp, udp } dnat ip to meta l4proto . th dport map @pub_any
  }
  chain prerouting {
    type nat hook prerouting priority dstnat;
    fib daddr type local jump pub
  }
  chain output {
    type nat hook output priority -100;
    fib daddr type local jump pub
  }
  chain postrouting {
    type nat hook postrouting priority srcnat;
    ip saddr @masq_subnets oifname != @bridges masquerade
    ct status dnat ip saddr 127.0.0.0/8 masquerade
    ct status dnat ip saddr @subnets oifname @bridges masquerade
  }
  chain forward {
    type filter hook forward priority filter; policy accept;
    ct status dnat accept
    ${fwd.join('\n    ')}
  }
}
`;
}

export function portsScript(table: string, op: 'add' | 'delete', ports: NftPort[]): string {
  return ports.map((p) => {
    const e = portElement(p);
    return op === 'add' ? `add element ip ${table} ${e.map} { ${e.key} : ${e.value} }` : `delete element ip ${table} ${e.map} { ${e.key} }`;
  }).join('\n') + '\n';
}

export async function deleteTable(table: string): Promise<void> {
  await nft(`table ip ${table} {}\ndelete table ip ${table}\n`).catch(() => {});
}
