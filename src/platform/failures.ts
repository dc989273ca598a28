// What a background read reports: a failed request, or that requests succeed again. The rooms that
// read (runs/, scheduler/) report through this; ui/failureNotifier.ts turns an episode of failures
// into at most one pop-up.
import type { BackendError } from '../data/backend';

export interface FailureReporter {
  /** A request failed (source: what was being done, for the log). */
  failure(source: string, error: BackendError): void;
  /** A request succeeded: a failure episode, if any, has ended. */
  success(): void;
}
