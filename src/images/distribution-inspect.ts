/**
 * GET /distribution/{name}/json (docker-py's images.get_registry_data, `docker buildx
 * imagetools`-like checks): the registry's descriptor for a reference and the platforms
 * it offers, without pulling. Like dockerd: an index lists its manifests' platforms; a
 * single manifest's platform is read from its config blob.
 */
import { invalidArgument, notImplemented } from '../common/errors.js';
import { decodeAuthHeader, type RegistryClient } from '../registry-client/index.js';
import { MediaType, type Index, type Manifest } from '../oci/image-spec.js';
import { parseReference, withDefaultTag } from './reference.js';
import { parseJson } from './pull.js';

export interface DistributionInspect {
  Descriptor: { mediaType: string; digest: string; size: number };
  Platforms: Array<{ architecture: string; os: string; variant?: string; 'os.version'?: string; 'os.features'?: string[] }>;
}

const INDEX_TYPES = new Set<string>([MediaType.OciIndex, MediaType.DockerManifestList]);
const MANIFEST_TYPES = new Set<string>([MediaType.OciManifest, MediaType.DockerManifest]);
const MAX_CONFIG = 8 << 20;


export async function distributionInspect(registry: RegistryClient, name: string, auth: string | undefined, signal?: AbortSignal): Promise<DistributionInspect> {
  const ref = withDefaultTag(parseReference(name));
  const session = registry.session({ domain: ref.domain, path: ref.path }, decodeAuthHeader(auth), 'pull');
  const m = await session.getManifest(ref.digest ?? ref.tag!, signal);
  const Descriptor = { mediaType: m.mediaType, digest: m.digest, size: m.bytes.length };
  if (INDEX_TYPES.has(m.mediaType)) {
    const index = parseJson<Index>(m.bytes, 'manifest list');
    const Platforms = (Array.isArray(index.manifests) ? index.manifests : [])
      .filter((d) => d?.platform && typeof d.platform.os === 'string' && typeof d.platform.architecture === 'string')
      .map((d) => ({ ...d.platform! }));
    return { Descriptor, Platforms };
  }
  if (!MANIFEST_TYPES.has(m.mediaType)) throw notImplemented(`unsupported manifest media type "${m.mediaType}" for ${name}`);
  const manifest = parseJson<Manifest>(m.bytes, 'manifest');
  if (!manifest.config || typeof manifest.config.digest !== 'string') throw invalidArgument(`manifest ${m.digest} has no config descriptor`);
  const cfg = parseJson<{ os?: string; architecture?: string; variant?: string }>(await session.getBlobBytes(manifest.config.digest, manifest.config.size, MAX_CONFIG, signal), 'image config');
  const Platforms = cfg.os && cfg.architecture ? [{ architecture: cfg.architecture, os: cfg.os, ...(cfg.variant ? { variant: cfg.variant } : {}) }] : [];
  return { Descriptor, Platforms };
}
