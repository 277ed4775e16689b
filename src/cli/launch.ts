/**
 * The berth CLI's entry: bin/berth requires the CommonJS build of this file
 * (dist/berth-launch.cjs, scripts/bundle.mjs), which runs the CLI bundle beside it
 * (dist/berth-cli.cjs) with its V8 code cache (code-cache.ts). A run without a usable
 * cache writes one as it exits, so the next start is fast again. BERTH_CODE_CACHE=0 runs
 * without the cache (to measure it, or to rule it out).
 */
import { join } from 'node:path';
import { runBundle } from './code-cache.js';

// Bundled as CommonJS, __dirname is dist/ (this file as compiled by tsc is never run).
const run = runBundle(join(__dirname, 'berth-cli.cjs'), undefined, process.env.BERTH_CODE_CACHE !== '0');
if (run.status !== 'hit' && run.status !== 'disabled') process.once('exit', () => { run.save(); });
