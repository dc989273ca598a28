// When what a view shows counts as out of date: older than its refresh interval, plus a little
// slack for the request itself (errors, backoff and an unfocused window all stretch the interval).
export const FRESHNESS_SLACK_MS = 15_000;

export function isStale(loadedAt: Date | null, now: Date, intervalMs: number): boolean {
  return loadedAt !== null && now.getTime() - loadedAt.getTime() > intervalMs + FRESHNESS_SLACK_MS;
}
