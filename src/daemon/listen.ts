import { connect } from 'node:net';
import { chmod, mkdir, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Server } from 'node:http';
import { BerthError } from '../common/errors.js';

/** Is something answering on this unix socket? */
function answering(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

/** Listen on a unix socket (mode 0660), replacing a stale socket file but never a live one. */
export async function listenUnix(server: Server, url: string): Promise<string> {
  const path = url.replace(/^unix:\/\//, '');
  await mkdir(dirname(path), { recursive: true, mode: 0o711 });
  if (await answering(path)) {
    throw new BerthError('ALREADY_EXISTS', `another daemon is already listening on ${path}; stop it or pass a different -H`);
  }
  await rm(path, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });
  await chmod(path, 0o660);
  return path;
}
