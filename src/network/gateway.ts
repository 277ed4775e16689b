/**
 * The endpoint that leads a container out: its default route goes through it.
 */
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
