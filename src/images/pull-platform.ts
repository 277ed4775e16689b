/**
 * Choosing one manifest from an index / manifest list: the requested platform or
 * the host's, docker's way ("linux/arm64" matches variant v8 or none).
 */
import { invalidArgument, notFound } from '../common/errors.js';
import type { Descriptor, Platform } from '../oci/image-spec.js';
import { hostArchitecture } from './layers.js';

export interface WantedPlatform { os: string; architecture: string; variant?: string }

/** "linux/arm64/v8", "linux/amd64", "arm64" (os defaults to linux). */
export function parsePlatform(spec: string | undefined): WantedPlatform {
  if (!spec) return { os: 'linux', architecture: hostArchitecture() };
  const parts = spec.toLowerCase().split('/');
  if (parts.length > 3 || parts.some((p) => !/^[a-z0-9._-]+$/.test(p))) throw invalidArgument(`"${spec}": unknown platform format: want os/arch[/variant]`);
  if (parts.length === 1) return normalize({ os: 'linux', architecture: parts[0]! });
  return normalize({ os: parts[0]!, architecture: parts[1]!, variant: parts[2] });
}

function normalize(p: WantedPlatform): WantedPlatform {
  const arch = ({ x86_64: 'amd64', 'x86-64': 'amd64', aarch64: 'arm64', armhf: 'arm', armel: 'arm' } as Record<string, string>)[p.architecture] ?? p.architecture;
  let variant = p.variant;
  if (arch === 'arm64' && variant === 'v8') variant = undefined;
  return { os: p.os, architecture: arch, variant };
}

export function platformString(p: WantedPlatform): string {
  return `${p.os}/${p.architecture}${p.variant ? '/' + p.variant : ''}`;
}

function matches(want: WantedPlatform, have: Platform | undefined): boolean {
  if (!have) return false;
  const h = normalize({ os: have.os, architecture: have.architecture, variant: have.variant });
  if (h.os !== want.os || h.architecture !== want.architecture) return false;
  return !want.variant || want.variant === h.variant;
}

export function selectManifest(manifests: Descriptor[], want: WantedPlatform): Descriptor {
  const hits = manifests.filter((m) => matches(want, m.platform));
  if (hits.length === 0) throw notFound(`no matching manifest for ${platformString(want)} in the manifest list entries`);
  // Without a wanted variant, prefer the newest arm variant (v7 over v6), as containerd does.
  hits.sort((a, b) => (b.platform?.variant ?? '').localeCompare(a.platform?.variant ?? ''));
  return hits[0]!;
}
