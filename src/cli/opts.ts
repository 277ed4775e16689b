/**
 * `run`/`create` flags, in four files: their declaration (run-flags.ts), their values
 * (flag-values.ts), the POST /containers/create body built from them (create-request.ts)
 * and docker's `--flag=false` form (bool-flags.ts). This module gathers them for commands.
 */
export { addContainerFlags, type RunFlags } from './run-flags.js';
export {
  parseEnv, readKVFile, parseBytes, parseCpus, parseIntFlag, parseUlimit, parseRestart, parseVolume, parseMount,
  parsePublish, parseDevice,
} from './flag-values.js';
export { buildCreateRequest, type CreateCall } from './create-request.js';
export { rewriteBoolFlags } from './bool-flags.js';
