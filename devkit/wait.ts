// Waiting in tests, benchmarks and scripts: one `sleep`, one `waitFor`, one `observeQuietFor`, one `processAlive`.
// Plain Node with no imports, so it loads anywhere: the e2e runner, the integration suites, the scripts,
// and the in-host suites inside VS Code's extension host (compiled by tsc next to them in out/).

/** Whether a process with this pid is alive (signal 0: nothing is sent). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Waits `ms` on purpose, to show that something does NOT happen within that time (no second insert,
 * no request, no second notification). There is no condition to await for an absence, so this is the
 * one fixed wait tests may use; `why` names what must stay quiet (it is for the reader and the stack).
 */
export function observeQuietFor(ms: number, why: string): Promise<void> {
  void why;
  return sleep(ms);
}

export interface WaitOptions<T> {
  /** What must come true, for the error: "timed out after … waiting for <message>". */
  message: string;
  /** Accepts the value read; without it, any truthy value ends the wait. */
  until?: (value: T) => boolean;
  timeoutMs?: number;
  intervalMs?: number;
  /** How the last value is shown in the error (default: JSON). */
  describe?: (value: T) => string;
}

export class WaitTimeoutError extends Error {
  override name = 'WaitTimeoutError';
}

function show(value: unknown): string {
  if (value === undefined) return 'undefined';
  try {
    const text = JSON.stringify(value, null, 2);
    return text.length > 4_000 ? `${text.slice(0, 4_000)}… (${text.length} characters)` : text;
  } catch {
    return Object.prototype.toString.call(value);
  }
}

/**
 * Reads `condition` every `intervalMs` until `until` accepts its value (or, without `until`, until
 * the value is truthy) and returns that value. A read that throws counts as "not yet". On timeout
 * it fails naming what never came true and the last value (or error) seen.
 */
export async function waitFor<T>(condition: () => T | PromiseLike<T>, opts: WaitOptions<T>): Promise<T> {
  const { message, timeoutMs = 30_000, intervalMs = 250 } = opts;
  const accept = opts.until ?? ((v: T) => Boolean(v));
  const deadline = Date.now() + timeoutMs;
  let reads = 0;
  let last: { value: T } | undefined;
  let lastErr: unknown;
  for (;;) {
    try {
      const value = await condition();
      reads++;
      if (accept(value)) return value;
      last = { value };
      lastErr = undefined;
    } catch (err) {
      reads++;
      lastErr = err;
    }
    if (Date.now() >= deadline) {
      const seen =
        lastErr !== undefined
          ? `error: ${lastErr instanceof Error ? lastErr.message : show(lastErr)}`
          : last
            ? (opts.describe ?? show)(last.value)
            : 'nothing (no read finished)';
      throw new WaitTimeoutError(
        `timed out after ${timeoutMs} ms waiting for ${message} (${reads} reads); last seen: ${seen}`,
      );
    }
    await sleep(Math.max(0, Math.min(intervalMs, deadline - Date.now())));
  }
}
