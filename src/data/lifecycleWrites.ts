// The guarded lifecycle writes of a run this extension executes (claim, finish), tried again when
// they fail in a way a retry may cure (unreachable, timeout, 429, 5xx; see isTransient). One lost
// write would lose an analysis result, or leave our run QUEUED for ever.
//
// A guarded write whose answer was lost may have landed: the retry then finds the guard false
// (no longer QUEUED / RUNNING). So after a failed attempt a false answer is checked against the row.
import type { RunnerInfo, FinishFields } from '../domain/analysisRun';
import { backoffDelayMs } from '../domain/backoff';
import { isRecord, parseTimestamp } from '../domain/text';
import { ok, Result, TelemetryBackend } from './backend';
import { isTransient } from './errors';

export interface RetryOptions {
  /** Attempts in all (default 3). */
  attempts?: number;
  /** First pause, doubled after each failure (default 1 s); a Retry-After answer is honoured. */
  baseMs?: number;
  /** Longest pause (default 10 s). */
  maxMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

const sleepMs = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Calls `call` until it succeeds, fails for a reason a retry cannot cure, or `attempts` are used up. */
export async function retryTransient<T>(
  call: () => Promise<Result<T>>,
  o: RetryOptions = {},
): Promise<{ result: Result<T>; failures: number }> {
  const attempts = Math.max(1, o.attempts ?? 3);
  const baseMs = o.baseMs ?? 1_000;
  const maxMs = o.maxMs ?? 10_000;
  let result = await call();
  let failures = 0;
  while (!result.ok && isTransient(result.error) && ++failures < attempts) {
    // A write that loses a result must not wait longer than maxMs, whatever Retry-After asks.
    await (o.sleep ?? sleepMs)(
      Math.min(maxMs, backoffDelayMs(failures, { baseMs, maxMs, retryAfterMs: result.error.retryAfterMs })),
    );
    result = await call();
  }
  return { result, failures };
}

/**
 * A guarded write tried again on transient failures. When an attempt failed and a later one finds
 * the guard false, the first may have landed with its answer lost: `landed` tells from the row.
 */
async function guardedWriteWithRetry(
  backend: TelemetryBackend,
  runId: string,
  write: () => Promise<Result<boolean>>,
  landed: (row: Record<string, unknown>) => boolean,
  o?: RetryOptions,
): Promise<Result<boolean>> {
  const { result, failures } = await retryTransient(write, o);
  if (!result.ok || result.value || failures === 0) return result;
  const row = await backend.getRunRow(runId);
  return ok(row.ok && row.value !== null && landed(row.value));
}

/** finishRun, tried again on a transient failure. true: the row now holds this finish. */
export async function finishRunWithRetry(
  backend: TelemetryBackend,
  runId: string,
  fields: FinishFields,
  o?: RetryOptions,
): Promise<Result<boolean>> {
  return guardedWriteWithRetry(
    backend,
    runId,
    () => backend.finishRun(runId, fields),
    (row) =>
      row.status === fields.status && parseTimestamp(row.finished_at)?.getTime() === Date.parse(fields.finished_at),
    o,
  );
}

/** claimRun, tried again on a transient failure. true: the run is RUNNING with our runner. */
export async function claimRunWithRetry(
  backend: TelemetryBackend,
  runId: string,
  startedAt: Date,
  metadata: Record<string, unknown> & { runner: RunnerInfo },
  o?: RetryOptions,
): Promise<Result<boolean>> {
  return guardedWriteWithRetry(
    backend,
    runId,
    () => backend.claimRun(runId, startedAt, metadata),
    (row) => {
      const runner = isRecord(row.metadata) ? row.metadata.runner : null;
      return (
        row.status === 'RUNNING' &&
        isRecord(runner) &&
        runner.window_id === metadata.runner.window_id &&
        runner.activation_id === metadata.runner.activation_id &&
        parseTimestamp(row.started_at)?.getTime() === startedAt.getTime()
      );
    },
    o,
  );
}
