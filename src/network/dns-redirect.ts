/**
 * Docker's 127.0.0.11 inside a container on a user-defined network. Apps hard-code
 * it (nginx `resolver 127.0.0.11`), so resolv.conf names it and the container's own
 * netns carries a tiny nft table that sends 127.0.0.11:53 (UDP and TCP) on to the
 * embedded DNS listening on the primary network's gateway, masqueraded to the
 * container's address so the server still knows who asks (dns-names.ts findAsker).
 *
 * Why this and not docker's listener inside each netns: berthd is one Node thread;
 * a socket per container made through setns would need fd hand-over that dgram lacks,
 * and a listener per container costs fds and memory at 100 containers. The table is
 * written with libnftables in-process while the thread is in the new netns: ~0.3 ms,
 * no process, and nothing to clean up (it dies with the netns).
 *
 * route_localnet lets the kernel route a packet whose source is 127.0.0.1 out of eth0
 * after the DNAT (and accept the reply). It would also let a neighbour on the bridge
 * reach the container's loopback services (kube-proxy's CVE-2020-8558): the raw
 * prerouting rule drops any packet for 127/8 that did not come in on lo, before NAT,
 * so only replies to our own DNAT (which arrive for the container's address) pass.
 */
import { writeFileSync } from 'node:fs';
import { nftRunSync } from './nft-lib.js';
import { ipv4Bytes } from './netlink.js';

export const DOCKER_DNS = '127.0.0.11';

export function redirectScript(gateway: string): string {
  ipv4Bytes(gateway); // validates: the address goes into a script
  return `table ip berth_dns {
  chain prerouting {
    type filter hook prerouting priority raw; policy accept;
    iifname != "lo" ip daddr 127.0.0.0/8 drop
  }
  chain output {
    type nat hook output priority -100; policy accept;
    ip daddr ${DOCKER_DNS} meta l4proto { tcp, udp } th dport 53 dnat to ${gateway}:53
  }
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    ip saddr 127.0.0.0/8 ip daddr ${gateway} ct status dnat masquerade
  }
}
`;
}

/**
 * Install the redirect in the netns the calling thread is in now (synchronous).
 * replace: swap an existing table for the new one in one transaction (the container
 * left the network the old gateway belongs to).
 */
export function installDnsRedirect(gateway: string, replace = false): void {
  writeFileSync('/proc/sys/net/ipv4/conf/all/route_localnet', '1');
  const drop = replace ? 'table ip berth_dns {}\ndelete table ip berth_dns\n' : '';
  nftRunSync(drop + redirectScript(gateway));
}
