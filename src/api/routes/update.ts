/** POST /containers/{id}/update: resources and restart policy, 200 {"Warnings":[]}. */
import { invalidArgument, notImplemented } from '../../common/errors.js';
import type { Router } from '../router.js';
import { readJson, sendJson } from '../http-util.js';
import { checkShape } from '../wire/create-body.js';
import { UPDATE_BODY } from '../wire/bodies.js';

export function registerUpdate(r: Router): void {
  r.add('POST', '/containers/{id}/update', async (ctx) => {
    const { containers } = ctx.deps;
    if (!containers.update) throw notImplemented('update is not available');
    const body = await readJson<unknown>(ctx.req, {});
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw invalidArgument('update config must be a JSON object');
    // Go's decoder refuses a wrong type (a string RestartPolicy was silently ignored) and takes nulls as absent.
    checkShape(body, UPDATE_BODY);
    sendJson(ctx.res, 200, await containers.update(ctx.params.id!, body as Record<string, unknown>));
  });
}
