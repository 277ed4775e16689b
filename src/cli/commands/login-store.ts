/**
 * Registry credentials as docker keeps them: <config dir>/config.json, "auths" keyed
 * by registry ("https://index.docker.io/v1/" for Docker Hub) with base64 "user:pass".
 * The config dir is $BERTH_CONFIG, else $DOCKER_CONFIG, else ~/.docker, so berth and
 * the docker CLI share logins. Credential helpers (credsStore/credHelpers) are used
 * for reading when configured, as docker does.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { CliError } from '../errors.js';

import { childProcess } from '../child-process.js';

export const HUB_KEY = 'https://index.docker.io/v1/';

export interface AuthConfig {
  username?: string;
  password?: string;
  auth?: string;
  identitytoken?: string;
  registrytoken?: string;
  serveraddress?: string;
}

interface ConfigFile {
  auths?: Record<string, { auth?: string; identitytoken?: string }>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
  [k: string]: unknown;
}

export function configDir(): string {
  return process.env.BERTH_CONFIG || process.env.DOCKER_CONFIG || join(homedir(), '.docker');
}

function configPath(): string {
  return join(configDir(), 'config.json');
}

function readConfig(): ConfigFile {
  try {
    const v = JSON.parse(readFileSync(configPath(), 'utf8')) as unknown;
    return v && typeof v === 'object' ? (v as ConfigFile) : {};
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new CliError(`loading config file ${configPath()}: ${(e as Error).message}`, 1);
  }
}

function writeConfig(c: ConfigFile): void {
  const dir = configDir();
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = join(dir, `.config.json.${process.pid}`);
  // 0600: the file holds passwords (base64 is not encryption).
  writeFileSync(tmp, JSON.stringify(c, null, '\t') + '\n', { mode: 0o600 });
  renameSync(tmp, configPath());
}

/** The registry a reference names (docker's rule: a first component with '.', ':' or "localhost"). */
export function registryOf(ref: string): string {
  const slash = ref.indexOf('/');
  if (slash === -1) return 'docker.io';
  const first = ref.slice(0, slash);
  if (first.includes('.') || first.includes(':') || first === 'localhost') return first === 'index.docker.io' ? 'docker.io' : first;
  return 'docker.io';
}

/** config.json key for a registry host or a server address as typed. */
export function serverKey(server: string | undefined): string {
  if (!server) return HUB_KEY;
  const host = server.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
  if (host === 'docker.io' || host === 'index.docker.io' || host === 'registry-1.docker.io') return HUB_KEY;
  return host;
}

function fromHelper(helper: string, key: string): AuthConfig | undefined {
  if (!/^[a-zA-Z0-9_.-]+$/.test(helper)) return undefined;
  const r = childProcess().spawnSync(`docker-credential-${helper}`, ['get'], { input: key, encoding: 'utf8', timeout: 10_000 });
  if (r.status !== 0 || !r.stdout) return undefined;
  try {
    const j = JSON.parse(r.stdout) as { Username?: string; Secret?: string };
    if (j.Username === '<token>') return { identitytoken: j.Secret, serveraddress: key };
    return { username: j.Username, password: j.Secret, serveraddress: key };
  } catch {
    return undefined;
  }
}

/** Stored credentials for a registry host, or undefined (anonymous). */
export function credentialsFor(registry: string): AuthConfig | undefined {
  const key = serverKey(registry);
  const c = readConfig();
  const helper = c.credHelpers?.[key] ?? c.credsStore;
  if (helper) {
    const h = fromHelper(helper, key);
    if (h) return h;
  }
  const entry = c.auths?.[key] ?? c.auths?.[`https://${key}`] ?? c.auths?.[`http://${key}`];
  if (!entry) return undefined;
  const out: AuthConfig = { serveraddress: key };
  if (entry.auth) {
    const plain = Buffer.from(entry.auth, 'base64').toString('utf8');
    const i = plain.indexOf(':');
    if (i > 0) { out.username = plain.slice(0, i); out.password = plain.slice(i + 1); }
  }
  if (entry.identitytoken) out.identitytoken = entry.identitytoken;
  return out;
}

/** X-Registry-Auth for a reference: base64url JSON, "e30=" ({}) when anonymous. */
export function registryAuthHeader(ref: string): string {
  const a = credentialsFor(registryOf(ref));
  return a ? Buffer.from(JSON.stringify(a)).toString('base64url') : 'e30=';
}

export function storeCredentials(server: string, username: string, password: string, identitytoken?: string): string {
  const key = serverKey(server);
  const c = readConfig();
  c.auths ??= {};
  c.auths[key] = identitytoken ? { auth: Buffer.from(`${username}:`).toString('base64'), identitytoken } : { auth: Buffer.from(`${username}:${password}`).toString('base64') };
  writeConfig(c);
  return configPath();
}

/** Remove stored credentials; false when there were none. */
export function eraseCredentials(server: string): boolean {
  const key = serverKey(server);
  const c = readConfig();
  if (!c.auths?.[key]) return false;
  delete c.auths[key];
  writeConfig(c);
  return true;
}
