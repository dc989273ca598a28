// The fetch every request goes through: a timeout on every request, one abort for all on dispose,
// the server's clock (Date header) for skew correction, and Retry-After for backoff.

export interface FetchObservation {
  status: number;
  serverDate: number | null;
  retryAfterMs: number | null;
}

export interface GuardedFetch {
  fetch: typeof fetch;
  abortAll(): void;
  readonly inFlight: number;
  readonly requestCount: number;
}

export function parseRetryAfter(value: string | null, now = Date.now()): number | null {
  if (!value) return null;
  const secs = Number(value);
  if (Number.isFinite(secs) && secs >= 0) return Math.min(secs * 1000, 3600_000);
  const at = Date.parse(value);
  return Number.isFinite(at) ? Math.min(Math.max(0, at - now), 3600_000) : null;
}

export function createGuardedFetch(opts: { timeoutMs: number; onResponse?: (o: FetchObservation) => void; base?: typeof fetch }): GuardedFetch {
  const base = opts.base ?? fetch;
  const disposed = new AbortController();
  let inFlight = 0;
  let requestCount = 0;
  const guarded = (async (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => {
    if (disposed.signal.aborted) throw new DOMException('The extension is shutting down', 'AbortError');
    const signals = [disposed.signal, AbortSignal.timeout(opts.timeoutMs)];
    if (init?.signal) signals.push(init.signal);
    inFlight++;
    requestCount++;
    try {
      const res = await base(input, { ...init, signal: AbortSignal.any(signals) });
      const date = res.headers.get('date');
      const parsed = date ? Date.parse(date) : NaN;
      const serverDate = Number.isFinite(parsed) ? parsed : null;
      opts.onResponse?.({
        status: res.status,
        serverDate,
        // An HTTP-date Retry-After is relative to the server's clock, not ours.
        retryAfterMs: parseRetryAfter(res.headers.get('retry-after'), serverDate ?? Date.now()),
      });
      return res;
    } finally {
      inFlight--;
    }
  }) as typeof fetch;
  return {
    fetch: guarded,
    abortAll: () => disposed.abort(),
    get inFlight() { return inFlight; },
    get requestCount() { return requestCount; },
  };
}
