#!/usr/bin/env node
/**
 * berthd: the daemon entry point. Flags like dockerd's (see config.ts).
 */
import { loadConfig, USAGE } from './config.js';
import { startDaemon } from './daemon.js';
import { BERTH_VERSION } from './system.js';
import { errorMessage } from '../common/errors.js';
import { installCrashHook } from './crash-hook.js';

async function main(): Promise<void> {
  const cfg = await loadConfig(process.argv.slice(2));
  if (cfg === 'help') {
    process.stdout.write(USAGE);
    return;
  }
  if (cfg === 'version') {
    process.stdout.write(`berthd version ${BERTH_VERSION}\n`);
    return;
  }
  if (process.getuid?.() !== 0) throw new Error('berthd needs root: it mounts filesystems and manages cgroups and namespaces');
  installCrashHook();
  const d = await startDaemon(cfg);
  process.stderr.write(`berthd ${BERTH_VERSION}: API listening on ${d.sockets.join(', ')} (data root ${cfg.dataRoot}, exec root ${cfg.execRoot})\n`);
  let stopping = false;
  const stop = (sig: string) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`berthd: ${sig}, shutting down (containers keep running)\n`);
    d.shutdown().finally(() => process.exit(0));
    setTimeout(() => process.exit(0), 5000).unref();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGPIPE', () => {});
}

main().catch((err) => {
  process.stderr.write(`berthd: ${errorMessage(err)}\n`);
  process.exit(1);
});
