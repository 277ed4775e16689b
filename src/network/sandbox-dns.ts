/**
 * Which network a container's 127.0.0.11 leads to. The redirect (dns-redirect.ts)
 * sends queries to one user network's gateway, the primary's at start. Docker keeps
 * the embedded DNS while any user network is attached, so when the container leaves
 * that network the redirect moves to the gateway of another user network it is still
 * on (and, if it had none left, to the next one it joins).
 */
import { hasEmbeddedDns } from './dns-names.js';
import { DOCKER_DNS, installDnsRedirect } from './dns-redirect.js';
import { inNetns } from './netns.js';
import type { NetworkRecord, SandboxState } from './types.js';

/** A sandbox as persisted: dnsNetwork is the id of the network 127.0.0.11 leads to. */
export type DnsSandbox = SandboxState & { dnsNetwork?: string };

export class SandboxDns {
  #broken = false;

  constructor(private readonly warn: (msg: string) => void) {}

  /**
   * At setUp, with the thread in the new netns: 127.0.0.11 when the redirect could be
   * installed, the gateway (still served) otherwise.
   */
  install(sb: DnsSandbox, network: NetworkRecord, gateway: string): string {
    if (this.#broken) return gateway;
    try {
      installDnsRedirect(gateway);
      sb.dnsNetwork = network.Id;
      return DOCKER_DNS;
    } catch (err) {
      // Names still resolve through the gateway; say why once, not at every start.
      this.#broken = true;
      this.warn(`berthd: 127.0.0.11 cannot be redirected in containers (${(err as Error).message}); resolv.conf names the network's gateway instead`);
      return gateway;
    }
  }

  /**
   * A connect to a user network of a container that had no embedded DNS (it started on
   * the default bridge): dockerd starts the resolver then, so 127.0.0.11 is redirected
   * to that network's gateway from now on. Returns whether the sandbox changed.
   */
  join(sb: DnsSandbox, network: NetworkRecord, gateway: string): boolean {
    if (sb.resolver || !hasEmbeddedDns(network)) return false;
    sb.resolver = inNetns(sb.SandboxKey, () => this.install(sb, network, gateway));
    return true;
  }

  /**
   * After a connect or disconnect: if the network 127.0.0.11 leads to is no longer
   * attached, point it at another attached user network. Returns whether it moved.
   */
  follow(sb: DnsSandbox, network: (name: string) => NetworkRecord): boolean {
    if (sb.resolver !== DOCKER_DNS) return false;
    const eps = Object.entries(sb.Networks);
    if (sb.dnsNetwork && eps.some(([, ep]) => ep.NetworkID === sb.dnsNetwork)) return false;
    const next = eps.find(([name]) => hasEmbeddedDns(network(name)));
    if (!next) {
      // Nothing to lead to now; the next user network connected takes it.
      sb.dnsNetwork = undefined;
      return false;
    }
    const [, ep] = next;
    inNetns(sb.SandboxKey, () => installDnsRedirect(ep.Gateway, true));
    sb.dnsNetwork = ep.NetworkID;
    return true;
  }
}
