/**
 * The registry client's public shapes: credentials, options, and what a fetch returns.
 */
import type { Readable } from 'node:stream';

/** docker's AuthConfig (X-Registry-Auth, config.json), the fields a registry uses. */
export interface Credentials {
  username?: string;
  password?: string;
  /** A refresh token from a previous login (OAuth2 grant_type=refresh_token). */
  identitytoken?: string;
  /** A bearer token to send as is. */
  registrytoken?: string;
}

export interface RegistryClientOptions {
  /** Hosts (host or host:port, or CIDR ranges) that may be reached over plain HTTP. */
  insecureRegistries?: string[];
  /** Attempts for a request that failed with a network error or a 5xx (default 3). */
  attempts?: number;
  /** Milliseconds of silence (no headers, no body bytes) before a request is given up (default 30 s). */
  idleTimeoutMs?: number;
  /** First retry delay in ms, doubled each time (default 500). */
  backoffMs?: number;
  /** User-Agent sent to registries. */
  userAgent?: string;
}

/** What a session needs to know to talk to one repository. */
export interface RepositoryRef {
  /** Registry host[:port] as written in the reference ("docker.io" means Docker Hub). */
  domain: string;
  /** Repository path ("library/busybox"). */
  path: string;
}

export interface FetchedManifest {
  mediaType: string;
  /** Digest of the bytes received (verified against the requested digest). */
  digest: string;
  bytes: Buffer;
}

export interface BlobStream {
  /** The body; its consumer verifies digest and size. */
  stream: Readable;
  /** Content-Length when the registry sent one. */
  size?: number;
}

export type Access = 'pull' | 'push';
