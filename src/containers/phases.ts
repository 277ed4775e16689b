/**
 * Phase marks of the create, start, exit and remove paths ({ id, phase }) on the
 * `berth:container:phase` diagnostics channel: bench/profile times them, the daemon's
 * crash hook (BERTH_TEST_CRASH_AT) stops at them. Free when nobody subscribes.
 */
import { channel } from 'node:diagnostics_channel';

const phases = channel('berth:container:phase');

export function mark(id: string, phase: string): void {
  if (phases.hasSubscribers) phases.publish({ id, phase });
}
