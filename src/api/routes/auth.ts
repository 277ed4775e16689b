/** `POST /auth`: docker login asks the daemon to check credentials against a registry. */
import type { Router } from '../router.js';
import { invalidArgument, notImplemented } from '../../common/errors.js';
import { readJson, sendJson } from '../http-util.js';

export function registerAuth(r: Router): void {
  r.add('POST', '/auth', async (ctx) => {
    const body = await readJson<Record<string, unknown>>(ctx.req, {});
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw invalidArgument('invalid JSON body: want an AuthConfig object');
    const login = ctx.deps.images.login;
    if (typeof login !== 'function') throw notImplemented('this berthd has no registry client; login is not available');
    const server = typeof body.serveraddress === 'string' ? body.serveraddress : '';
    // The service decodes credentials the way it does X-Registry-Auth.
    const header = Buffer.from(JSON.stringify(body)).toString('base64url');
    await login.call(ctx.deps.images, server, header);
    sendJson(ctx.res, 200, { Status: 'Login Succeeded', IdentityToken: '' });
  });
}
