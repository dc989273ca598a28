// Enqueueing a run, with the CLI hook's pre-checks and (for SESSION_START) convergence. No `vscode`
// import: the session-start controller, the Trigger command, the integration tests and the
// benchmarks all run this same code against a TelemetryBackend.
import { REASON_CLAIM_FAILED, REASON_DUPLICATE_SESSION_START } from '../domain/run';
import {
  ActiveRun,
  AutoTriggerMode,
  claimStands,
  decideSessionTrigger,
  duplicatesToCancel,
  FreshRun,
  NewRunMetadata,
} from '../domain/sessionTrigger';
import type { RunnerInfo } from '../domain/analysisRun';
import type { BackendError, TelemetryBackend } from './backend';
import { claimRunWithRetry } from './lifecycleWrites';

export interface EnqueueRequest {
  scopeId: string;
  triggeredBy: 'SESSION_START' | 'MANUAL';
  /** Staleness applies only in whenStale mode (SESSION_START); dedup always applies. */
  mode: Exclude<AutoTriggerMode, 'off'>;
  stalenessMs: number;
  dedupMs: number;
  metadata: NewRunMetadata;
  newId?: () => string;
  /**
   * Executing the run ourselves (executor "workspace"): called once the checks say "enqueue" and
   * before the insert; a run is only inserted when it resolves ok (the analyzer loaded in its
   * child process), so no run is enqueued that nobody will execute. Then our run is claimed
   * (QUEUED → RUNNING) before the outcome says "enqueued".
   */
  execute?: { prepare: () => Promise<{ ok: true; runner: RunnerInfo } | { ok: false; reason: string }> };
}

export interface Claim {
  startedAt: Date;
  metadata: Record<string, unknown>;
}

export type EnqueueOutcome =
  | { kind: 'skipped-fresh'; run: FreshRun }
  | { kind: 'already-active'; run: ActiveRun }
  | {
      kind: 'enqueued';
      runId: string;
      correlationId: string;
      duplicatesCancelled: number;
      convergence: 'checked' | 'not-needed' | { error: BackendError };
      claim?: Claim;
    }
  | { kind: 'deduplicated'; runId: string; winner: string; stage?: 'claim' }
  | { kind: 'no-analyzer'; reason: string }
  | { kind: 'failed'; stage: 'staleness check' | 'dedup check' | 'enqueue'; error: BackendError };

export async function enqueueRun(backend: TelemetryBackend, req: EnqueueRequest): Promise<EnqueueOutcome> {
  const newId = req.newId ?? (() => globalThis.crypto.randomUUID());
  const serverNow = () => Date.now() + backend.clockOffsetMs();

  // Round trip 1: staleness and dedup, in parallel.
  const now = serverNow();
  const [fresh, active] = await Promise.all([
    req.mode === 'whenStale'
      ? backend.findFreshRun(req.scopeId, new Date(now - req.stalenessMs))
      : Promise.resolve({ ok: true as const, value: null }),
    backend.findActiveRuns(req.scopeId, new Date(now - req.dedupMs)),
  ]);
  if (!fresh.ok) return { kind: 'failed', stage: 'staleness check', error: fresh.error };
  if (!active.ok) return { kind: 'failed', stage: 'dedup check', error: active.error };
  const decision = decideSessionTrigger(req.mode, fresh.value, active.value);
  if (decision.kind === 'skip-active') return { kind: 'already-active', run: decision.run };
  if (decision.kind === 'skip-fresh') return { kind: 'skipped-fresh', run: decision.run };

  let runner: RunnerInfo | null = null;
  if (req.execute) {
    const prepared = await req.execute.prepare();
    if (!prepared.ok) return { kind: 'no-analyzer', reason: prepared.reason };
    runner = prepared.runner;
  }

  // Round trip 2: the insert.
  const runId = newId();
  const correlationId = newId();
  const inserted = await backend.insertRun({
    runId,
    correlationId,
    scopeId: req.scopeId,
    triggeredBy: req.triggeredBy,
    metadata: req.metadata,
  });
  if (!inserted.ok) return { kind: 'failed', stage: 'enqueue', error: inserted.error };
  if (req.triggeredBy !== 'SESSION_START') {
    const out = {
      kind: 'enqueued' as const,
      runId,
      correlationId,
      duplicatesCancelled: 0,
      convergence: 'not-needed' as const,
    };
    if (!runner) return out;
    // A MANUAL run passed the dedup check and is never cancelled by convergence: claim it.
    const claim = await claimRun(backend, runId, req.metadata, runner, inserted.value.triggeredAt);
    if (!claim.ok) return { kind: 'failed', stage: 'enqueue', error: claim.error };
    return claim.value
      ? { ...out, claim: claim.value }
      : { kind: 'deduplicated', runId, winner: runId, stage: 'claim' };
  }

  // Convergence (after the row exists; see domain/sessionTrigger.ts for why this settles on one run).
  // A window that was slow between its pre-check and its insert may find the winner already
  // finished (no longer active): in whenStale mode a run that succeeded meanwhile is a winner too.
  const [after, freshAfter] = await Promise.all([
    backend.findActiveRuns(req.scopeId, new Date(serverNow() - req.dedupMs)),
    freshSince(backend, req),
  ]);
  if (!after.ok)
    return { kind: 'enqueued', runId, correlationId, duplicatesCancelled: 0, convergence: { error: after.error } };
  if (freshAfter) {
    await backend.cancelRuns([runId], REASON_DUPLICATE_SESSION_START, ['QUEUED']);
    return { kind: 'deduplicated', runId, winner: freshAfter.runId };
  }
  const candidates = after.value.some((r) => r.runId === runId) ? after.value : [...after.value, inserted.value];
  const { winner, losers } = duplicatesToCancel(candidates);
  let cancelled = 0;
  if (losers.length) {
    // Only QUEUED losers: a claimed run is given up by its own window (claimStands), never by another.
    const res = await backend.cancelRuns(
      losers.map((l) => l.runId),
      REASON_DUPLICATE_SESSION_START,
      ['QUEUED'],
    );
    cancelled = res.ok ? res.value.length : 0;
  }
  if (winner && winner.runId !== runId) {
    if (!losers.some((l) => l.runId === runId))
      await backend.cancelRuns([runId], REASON_DUPLICATE_SESSION_START, ['QUEUED']);
    return { kind: 'deduplicated', runId, winner: winner.runId };
  }
  const out = {
    kind: 'enqueued' as const,
    runId,
    correlationId,
    duplicatesCancelled: cancelled,
    convergence: 'checked' as const,
  };
  if (!runner) return out;

  // Claim before executing, then re-check: see domain/sessionTrigger.ts.
  const claim = await claimRun(backend, runId, req.metadata, runner, inserted.value.triggeredAt);
  if (!claim.ok) return { kind: 'failed', stage: 'enqueue', error: claim.error };
  if (!claim.value) return { kind: 'deduplicated', runId, winner: '(cancelled before the claim)', stage: 'claim' };
  const [recheck, freshNow] = await Promise.all([
    backend.findActiveRuns(req.scopeId, new Date(serverNow() - req.dedupMs)),
    freshSince(backend, req),
  ]);
  if (freshNow) {
    await backend.cancelRuns([runId], REASON_DUPLICATE_SESSION_START, ['RUNNING']);
    return { kind: 'deduplicated', runId, winner: freshNow.runId, stage: 'claim' };
  }
  if (recheck.ok) {
    const rows = recheck.value.some((r) => r.runId === runId) ? recheck.value : [];
    if (!claimStands(runId, rows)) {
      await backend.cancelRuns([runId], REASON_DUPLICATE_SESSION_START, ['RUNNING']);
      const w = duplicatesToCancel(rows).winner;
      return { kind: 'deduplicated', runId, winner: w?.runId ?? '(our run was cancelled)', stage: 'claim' };
    }
  }
  // A failed re-check keeps the claim: the convergence read already chose us.
  return { ...out, claim: claim.value };
}

/** whenStale only: a run that succeeded within the staleness window (null on errors: the check is best effort). */
async function freshSince(backend: TelemetryBackend, req: EnqueueRequest): Promise<FreshRun | null> {
  if (req.mode !== 'whenStale') return null;
  const r = await backend.findFreshRun(req.scopeId, new Date(Date.now() + backend.clockOffsetMs() - req.stalenessMs));
  return r.ok ? r.value : null;
}

/** QUEUED → RUNNING with metadata.runner; value null when the run was not QUEUED any more. */
async function claimRun(
  backend: TelemetryBackend,
  runId: string,
  metadata: NewRunMetadata,
  runner: RunnerInfo,
  triggeredAt: Date,
): Promise<{ ok: true; value: Claim | null } | { ok: false; error: BackendError }> {
  // The server clock is known only to the second (Date header): never start before the row's own triggered_at.
  const startedAt = new Date(Math.max(Date.now() + backend.clockOffsetMs(), triggeredAt.getTime() + 1));
  const merged = { ...metadata, runner };
  const r = await claimRunWithRetry(backend, runId, startedAt, merged);
  if (!r.ok) {
    // Nobody else executes a QUEUED run: take ours back rather than leave it queued for ever.
    await backend.cancelRuns([runId], REASON_CLAIM_FAILED, ['QUEUED']);
    return r;
  }
  return { ok: true, value: r.value ? { startedAt, metadata: merged } : null };
}
