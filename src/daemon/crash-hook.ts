/**
 * Crash injection for tests: with BERTH_TEST_CRASH_AT=<phase> berthd SIGKILLs itself
 * the moment a container operation reaches that phase mark (berth:container:phase),
 * so tests can prove that a crash at any step loses nothing and start-up reconcile
 * leaves nothing half-done. Inert (no subscriber) when the variable is unset.
 */
import { subscribe } from 'node:diagnostics_channel';

export function installCrashHook(env: NodeJS.ProcessEnv = process.env): void {
  const at = env['BERTH_TEST_CRASH_AT'];
  if (!at) return;
  subscribe('berth:container:phase', (msg) => {
    if ((msg as { phase?: string }).phase === at) process.kill(process.pid, 'SIGKILL');
  });
}
