/**
 * run/create --use-api-socket, done client-side as docker's CLI does it: the daemon's
 * socket is bind-mounted at /var/run/docker.sock (berthd's own socket, the one this CLI
 * talks to, where docker hard-codes /var/run/docker.sock), and the user's registry
 * credentials are copied after create into /run/secrets/docker/config.json, with
 * DOCKER_CONFIG pointing there, unless the container sets DOCKER_CONFIG itself.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from './client.js';
import { CliError } from './errors.js';
import { configDir } from './commands/login-store.js';
import type { CreateContainerRequest } from './wire.js';

const SOCKET_IN_CONTAINER = '/var/run/docker.sock';
const CONFIG_IN_CONTAINER = '/run/secrets/docker/config.json';
/** Far above any real CLI config (docker's are a few KiB). */
const MAX_CONFIG = 16 << 20;

type Auths = Record<string, { auth?: string; identitytoken?: string }>;

function authsOf(text: string, where: string): Auths {
  let v: unknown;
  // Not the parser's message: Node quotes the text's first bytes, and a config.json
  // symlinked to another file (/etc/shadow) would print them.
  try { v = JSON.parse(text); } catch { throw new CliError(`resolving credentials failed: failed to read credentials from ${where}: it is not valid JSON`, 1); }
  const auths = v && typeof v === 'object' ? (v as { auths?: unknown }).auths : undefined;
  if (!auths || typeof auths !== 'object') return {};
  const out: Auths = {};
  for (const [k, a] of Object.entries(auths as Record<string, unknown>)) {
    if (!a || typeof a !== 'object') continue;
    const { auth, identitytoken } = a as { auth?: unknown; identitytoken?: unknown };
    if (typeof auth === 'string' || typeof identitytoken === 'string') {
      out[k] = { ...(typeof auth === 'string' ? { auth } : {}), ...(typeof identitytoken === 'string' ? { identitytoken } : {}) };
    }
  }
  return out;
}

/** docker's readCredentials: $DOCKER_AUTH_CONFIG when it holds any, else the CLI config's auths. */
export function readApiSocketCredentials(env: NodeJS.ProcessEnv = process.env): Auths {
  const fromEnv = env.DOCKER_AUTH_CONFIG ? authsOf(env.DOCKER_AUTH_CONFIG, 'DOCKER_AUTH_CONFIG') : {};
  if (Object.keys(fromEnv).length) return fromEnv;
  let text: string;
  const file = join(configDir(), 'config.json');
  // A config.json of gigabytes, or a symlink to /dev/zero or a FIFO, must not be read at all.
  try {
    const st = statSync(file);
    if (!st.isFile()) throw new CliError(`resolving credentials failed: ${file} is not a regular file`, 1);
    if (st.size > MAX_CONFIG) throw new CliError(`resolving credentials failed: ${file} is larger than ${MAX_CONFIG} bytes`, 1);
  } catch (e) {
    if (e instanceof CliError) throw e;
    return {};
  }
  try { text = readFileSync(file, 'utf8'); } catch { return {}; }
  return authsOf(text, join(configDir(), 'config.json'));
}

export interface ApiSocket { inject(id: string): Promise<string[]> }

/**
 * Adds the socket mount (and DOCKER_CONFIG when there are credentials) to the create
 * body; `inject` copies the credentials in after create and returns warnings.
 */
export function prepareApiSocket(client: Client, body: CreateContainerRequest, env: NodeJS.ProcessEnv = process.env): ApiSocket {
  const socket = client.endpoint.socketPath;
  if (!socket) throw new CliError('flag --use-api-socket needs berthd on a unix socket (-H unix://PATH)', 1);
  const hc = (body.HostConfig ??= {});
  hc.Mounts = [...(hc.Mounts ?? []), { Type: 'bind', Source: socket, Target: SOCKET_IN_CONTAINER, BindOptions: {} }];
  const envList = (body.Env ??= []);
  if (envList.some((e) => e.startsWith('DOCKER_CONFIG='))) return { inject: async () => [] };
  const auths = readApiSocketCredentials(env);
  if (!Object.keys(auths).length) return { inject: async () => [] };
  envList.push(`DOCKER_CONFIG=${CONFIG_IN_CONTAINER.slice(0, CONFIG_IN_CONTAINER.lastIndexOf('/'))}`);
  return {
    async inject(id) {
      try {
        const json = Buffer.from(JSON.stringify({ auths }, null, '\t'));
        // Loaded here, not at the top: this module is part of every `berth run`.
        const { default: tar } = await import('tar-stream');
        const pack = tar.pack();
        pack.entry({ name: CONFIG_IN_CONTAINER.slice(1), size: json.length, mode: 0o600 }, json);
        pack.finalize();
        const chunks: Buffer[] = [];
        for await (const c of pack) chunks.push(c as Buffer);
        await client.json('PUT', `/containers/${encodeURIComponent(id)}/archive`, { query: { path: '/' }, body: Buffer.concat(chunks), headers: { 'Content-Type': 'application/x-tar' } });
        return [];
      } catch (e) {
        return [`injecting docker config.json into container failed: ${(e as Error).message}`];
      }
    },
  };
}
