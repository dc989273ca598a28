// Runs left RUNNING by a runner that is gone (the CLI hook's process ended mid-analysis, a child
// killed together with its host while blocked): once started_at + timeout_ms + grace has passed,
// no runner can still be working on them (every runner enforces its timeout), so they are marked
// TIMED_OUT with reason_code ORPHANED_PAST_TIMEOUT, guarded on status = RUNNING.
import { isOrphaned, ORPHAN_GRACE_MS, orphanFinish } from '../domain/analysisRun';
import type { BackendError, TelemetryBackend } from './backend';

export async function markOrphanedRuns(
  backend: TelemetryBackend,
  scopeIds: readonly string[],
  graceMs = ORPHAN_GRACE_MS,
): Promise<{ ok: true; marked: string[] } | { ok: false; error: BackendError }> {
  const now = Date.now() + backend.clockOffsetMs();
  // Any run past its timeout was triggered at least `grace` ago; the timeout itself is checked per row.
  const candidates = await backend.findStaleRunning(scopeIds, new Date(now - graceMs));
  if (!candidates.ok) return candidates;
  const marked: string[] = [];
  for (const run of candidates.value) {
    if (!isOrphaned(run, now, graceMs)) continue;
    const r = await backend.finishRun(run.runId, orphanFinish(run, now));
    if (!r.ok) return r;
    if (r.value) marked.push(run.runId);
  }
  return { ok: true, marked };
}
