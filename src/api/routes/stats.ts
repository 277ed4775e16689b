/**
 * GET /containers/{id}/stats: docker's stats JSON, streamed one sample a second
 * (newline-delimited) or a single document with stream=false (one-shot=true skips
 * the second sample). Headers go out before the first sample is read.
 */
import { notImplemented } from '../../common/errors.js';
import type { Router } from '../router.js';
import { sendJson, startStream, writeAndDrain } from '../http-util.js';
import { qBool } from '../query.js';

export function registerStats(r: Router): void {
  r.add('GET', '/containers/{id}/stats', async (ctx) => {
    const { containers } = ctx.deps;
    if (!containers.stats) throw notImplemented('stats are not available');
    const stream = qBool(ctx.query, 'stream', true);
    const oneShot = qBool(ctx.query, 'one-shot', false);
    const ac = new AbortController();
    ctx.res.on('close', () => ac.abort());
    const samples = await containers.stats(ctx.params.id!, { stream, oneShot }, ac.signal);
    if (!stream) {
      for await (const s of samples) {
        if (!ctx.res.destroyed) sendJson(ctx.res, 200, s);
        return;
      }
      return;
    }
    startStream(ctx.res, 200, 'application/json');
    try {
      for await (const s of samples) {
        if (ac.signal.aborted) break;
        await writeAndDrain(ctx.res, JSON.stringify(s) + '\n');
      }
    } finally {
      if (!ctx.res.writableEnded) ctx.res.end();
    }
  });
}
