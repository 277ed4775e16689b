/**
 * The endpoint that leads a container out: its default route goes through it and its
 * published ports lead to it.
 */
import type { NftPort } from './nft.js';
import type { EndpointState, NetworkRecord, SandboxState } from './types.js';

/**
 * The first endpoint, in the order the container joined its networks, on a network
 * that is not --internal (an internal network has nowhere to route to); undefined when
 * there is none. Join order, so the container's --network leads as long as it can and
 * joining another network never moves a running container's way out (dockerd ranks
 * the candidates by network name instead; compose's alphabetical joins agree with it).
 * `except`: the endpoint being disconnected, to choose its successor.
 */
export function gatewayOf(sb: Pick<SandboxState, 'Networks'>, network: (name: string) => NetworkRecord | undefined, except?: EndpointState): EndpointState | undefined {
  for (const [name, ep] of Object.entries(sb.Networks)) {
    const n = network(name);
    if (ep !== except && n?.Driver === 'bridge' && !n.Internal) return ep;
  }
  return undefined;
}

export interface WayOutDriver {
  unpublish(ports: NftPort[]): Promise<void>;
  movePorts(from: NftPort[], to: NftPort[]): Promise<void>;
  setDefaultRoute(sandboxKey: string, gateway: string): void;
}

/**
 * The endpoint leading sb out is leaving: its ports and default route move to `next`
 * (same host ports: they stay this container's), or go when there is none. Left as
 * they were, the ports would lead to the freed address, which the next container
 * to join that network gets. Called before the lease is released.
 */
export async function moveWayOut(driver: WayOutDriver, sb: Pick<SandboxState, 'SandboxKey' | 'Ports'> & { nft: NftPort[] }, next: EndpointState | undefined): Promise<void> {
  const old = sb.nft;
  if (!next) {
    sb.nft = [];
    sb.Ports = {};
    await driver.unpublish(old);
    return;
  }
  sb.nft = old.map((p) => ({ ...p, ip: next.IPAddress }));
  await driver.movePorts(old, sb.nft);
  driver.setDefaultRoute(sb.SandboxKey, next.Gateway);
}
