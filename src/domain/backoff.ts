// How long to wait before trying again: shared by the pollers (src/platform/refreshScheduler.ts),
// the session start's retries and the lifecycle writes of a run we execute (src/data/lifecycleWrites.ts).

/**
 * The delay before the next try after `failures` failures in a row (≥ 1): doubling from `baseMs`, at
 * most `maxMs`, and never sooner than the server's Retry-After. The one backoff every retry uses.
 */
export function backoffDelayMs(
  failures: number,
  o: { baseMs: number; maxMs: number; retryAfterMs?: number | null },
): number {
  const backoff = Math.min(o.maxMs, o.baseMs * 2 ** (Math.max(1, failures) - 1));
  const retryAfter = o.retryAfterMs ?? 0;
  return Number.isNaN(retryAfter) ? backoff : Math.max(backoff, retryAfter);
}
