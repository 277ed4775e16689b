/** Node fires a setTimeout above 2^31-1 ms at once (TimeoutOverflowWarning): long waits are chained. */
const MAX_TIMER_MS = 0x7fffffff;

/** An unref'd sleep that also honours waits beyond Node's timer range (docker stop -t 3000000). */
export function sleep(ms: number): Promise<void> {
  if (ms <= MAX_TIMER_MS) return new Promise((r) => setTimeout(r, Math.max(0, ms)).unref());
  return new Promise<void>((r) => setTimeout(r, MAX_TIMER_MS).unref()).then(() => sleep(ms - MAX_TIMER_MS));
}
