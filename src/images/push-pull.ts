/**
 * Gives an image service its registry side: pull and push over one registry client,
 * sharing the distribution cache (blob sources, gzip twins) and the daemon-wide
 * download limit. Kept apart from service.ts so local image handling stays usable
 * (and testable) without any network code.
 */
import type { ContentStore } from '../content/index.js';
import type { LayerSnapshotter } from '../snapshots/index.js';
import type { EventBus } from '../events/index.js';
import { createRegistryClient, decodeAuthHeader, type RegistryClient, type RegistryClientOptions } from '../registry-client/index.js';
import type { LocalImageService } from './service.js';
import { Puller, type PullOptions } from './pull.js';
import { Pusher, type PushOptions } from './push.js';
import { DistributionCache } from './push-cache.js';
import type { ProgressMessage } from './pull-progress.js';
import { distributionInspect, type DistributionInspect } from './distribution-inspect.js';

export interface ImageDistribution {
  pull(ref: string, opts: PullOptions): AsyncIterable<ProgressMessage>;
  push(name: string, opts: PushOptions): AsyncIterable<ProgressMessage>;
  /** Check credentials against a registry (docker's POST /auth). */
  login(serverAddress: string, auth: string | undefined, signal?: AbortSignal): Promise<void>;
  /** The registry's descriptor and platforms for a reference (GET /distribution/{name}/json). */
  distributionInspect(name: string, auth: string | undefined, signal?: AbortSignal): Promise<DistributionInspect>;
}

export interface DistributionOptions {
  root: string;
  content: ContentStore;
  snapshots: LayerSnapshotter;
  events?: EventBus;
  registry?: RegistryClient;
  registryOptions?: RegistryClientOptions;
  /** PATCH chunk size for big blobs on push. */
  chunkSize?: number;
}

export function withDistribution<T extends LocalImageService>(images: T, o: DistributionOptions): T & ImageDistribution {
  const registry = o.registry ?? createRegistryClient(o.registryOptions);
  const cache = new DistributionCache(o.root, o.content);
  const puller = new Puller({ content: o.content, snapshots: o.snapshots, registry, images, events: o.events, cache });
  const pusher = new Pusher({ content: o.content, registry, cache, images, events: o.events, chunkSize: o.chunkSize });
  const dist: ImageDistribution = {
    pull: (ref, opts) => puller.pull(ref, opts),
    push: (name, opts) => pusher.push(name, opts),
    login: (server, auth, signal) => loginCheck(registry, server, auth, signal),
    distributionInspect: (name, auth, signal) => distributionInspect(registry, name, auth, signal),
  };
  // The methods are added to the instance itself: its private state stays reachable.
  return Object.assign(images, dist);
}

async function loginCheck(registry: RegistryClient, server: string, auth: string | undefined, signal?: AbortSignal): Promise<void> {
  const domain = normalizeServer(server);
  const creds = decodeAuthHeader(auth);
  await registry.session({ domain, path: 'library/ping' }, creds, 'pull').ping(signal);
}

/** "https://index.docker.io/v1/" and friends to the host docker uses. */
export function normalizeServer(server: string): string {
  const s = server.trim().replace(/^https?:\/\//, '').replace(/\/.*$/, '');
  if (!s || s === 'index.docker.io' || s === 'registry-1.docker.io') return 'docker.io';
  return s;
}
