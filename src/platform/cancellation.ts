// A command's progress token as an AbortSignal, and waiting that stops when it fires. No `vscode`
// import (the token is taken by its shape), so the plumbing is unit-tested.

/** The shape of vscode.CancellationToken this needs. */
export interface CancellationTokenLike {
  readonly isCancellationRequested: boolean;
  onCancellationRequested(listener: () => unknown): { dispose(): unknown };
}

/** An AbortSignal that aborts when the token is cancelled (at once if it already is). */
export function signalOf(token: CancellationTokenLike | undefined): AbortSignal {
  const controller = new AbortController();
  if (!token) return controller.signal;
  if (token.isCancellationRequested) controller.abort();
  else {
    const sub = token.onCancellationRequested(() => {
      sub.dispose();
      controller.abort();
    });
  }
  return controller.signal;
}

/** `work`'s result, or `cancelled` once the signal aborts first (the work itself goes on unless it heeds the signal). */
export function unlessAborted<T>(
  work: Promise<T>,
  signal: AbortSignal,
): Promise<{ cancelled: false; value: T } | { cancelled: true }> {
  if (signal.aborted) return Promise.resolve({ cancelled: true });
  return new Promise((resolve, reject) => {
    const onAbort = () => resolve({ cancelled: true });
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve({ cancelled: false, value });
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}
