export type { Credentials, RegistryClientOptions, RepositoryRef, FetchedManifest, BlobStream, Access } from './types.js';
export { createRegistryClient, RepoSession, MANIFEST_ACCEPT, type RegistryClient } from './client.js';
export { RegistryError } from './errors.js';
export { decodeAuthHeader, credentialsFrom } from './auth-config.js';
export { allowsHttp, authKey, isLoopback, HUB_AUTH_KEY } from './endpoint.js';
export { parseChallenges } from './auth.js';
