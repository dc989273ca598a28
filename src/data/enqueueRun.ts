// Enqueueing a run, with the CLI hook's pre-checks and (for SESSION_START) convergence. No `vscode`
// import: the session-start controller, the Trigger command, the integration tests and the
// benchmarks all run this same code against a TelemetryBackend.
import { REASON_DUPLICATE_SESSION_START } from '../domain/run';
import { ActiveRun, AutoTriggerMode, decideSessionTrigger, duplicatesToCancel, FreshRun, NewRunMetadata } from '../domain/sessionTrigger';
import type { BackendError, TelemetryBackend } from './backend';

export interface EnqueueRequest {
  scopeId: string;
  triggeredBy: 'SESSION_START' | 'MANUAL';
  /** Staleness applies only in whenStale mode (SESSION_START); dedup always applies. */
  mode: Exclude<AutoTriggerMode, 'off'>;
  stalenessMs: number;
  dedupMs: number;
  metadata: NewRunMetadata;
  newId?: () => string;
}

export type EnqueueOutcome =
  | { kind: 'skipped-fresh'; run: FreshRun }
  | { kind: 'already-active'; run: ActiveRun }
  | { kind: 'enqueued'; runId: string; correlationId: string; duplicatesCancelled: number; convergence: 'checked' | 'not-needed' | { error: BackendError } }
  | { kind: 'deduplicated'; runId: string; winner: string }
  | { kind: 'failed'; stage: 'staleness check' | 'dedup check' | 'enqueue'; error: BackendError };

export async function enqueueRun(backend: TelemetryBackend, req: EnqueueRequest): Promise<EnqueueOutcome> {
  const newId = req.newId ?? (() => globalThis.crypto.randomUUID());
  const serverNow = () => Date.now() + backend.clockOffsetMs();

  // Round trip 1: staleness and dedup, in parallel.
  const now = serverNow();
  const [fresh, active] = await Promise.all([
    req.mode === 'whenStale' ? backend.findFreshRun(req.scopeId, new Date(now - req.stalenessMs)) : Promise.resolve({ ok: true as const, value: null }),
    backend.findActiveRuns(req.scopeId, new Date(now - req.dedupMs)),
  ]);
  if (!fresh.ok) return { kind: 'failed', stage: 'staleness check', error: fresh.error };
  if (!active.ok) return { kind: 'failed', stage: 'dedup check', error: active.error };
  const decision = decideSessionTrigger(req.mode, fresh.value, active.value);
  if (decision.kind === 'skip-active') return { kind: 'already-active', run: decision.run };
  if (decision.kind === 'skip-fresh') return { kind: 'skipped-fresh', run: decision.run };

  // Round trip 2: the insert.
  const runId = newId();
  const correlationId = newId();
  const inserted = await backend.insertRun({ runId, correlationId, scopeId: req.scopeId, triggeredBy: req.triggeredBy, metadata: req.metadata });
  if (!inserted.ok) return { kind: 'failed', stage: 'enqueue', error: inserted.error };
  if (req.triggeredBy !== 'SESSION_START') return { kind: 'enqueued', runId, correlationId, duplicatesCancelled: 0, convergence: 'not-needed' };

  // Convergence (after the row exists; see domain/sessionTrigger.ts for why this settles on one run).
  const after = await backend.findActiveRuns(req.scopeId, new Date(serverNow() - req.dedupMs));
  if (!after.ok) return { kind: 'enqueued', runId, correlationId, duplicatesCancelled: 0, convergence: { error: after.error } };
  const candidates = after.value.some((r) => r.runId === runId) ? after.value : [...after.value, inserted.value];
  const { winner, losers } = duplicatesToCancel(candidates);
  let cancelled = 0;
  if (losers.length) {
    const res = await backend.cancelRuns(losers.map((l) => l.runId), REASON_DUPLICATE_SESSION_START);
    cancelled = res.ok ? res.value.length : 0;
  }
  if (winner && winner.runId !== runId) return { kind: 'deduplicated', runId, winner: winner.runId };
  return { kind: 'enqueued', runId, correlationId, duplicatesCancelled: cancelled, convergence: 'checked' };
}
