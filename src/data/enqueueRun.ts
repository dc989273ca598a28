// Enqueueing a run, with the CLI hook's pre-checks and (for SESSION_START) convergence. No `vscode`
// import: the session-start controller, the Trigger command, the integration tests and the
// benchmarks all run this same code against a TelemetryBackend.
import { REASON_CLAIM_FAILED, REASON_DUPLICATE_SESSION_START, REASON_WINDOW_CLOSED } from '../domain/run';
import {
  ActiveRun,
  AutoTriggerMode,
  claimStands,
  competingHookRun,
  decideSessionTrigger,
  duplicatesToCancel,
  FreshRun,
  HOOK_HOLD_MS,
  hookYieldMessage,
  NewRunMetadata,
} from '../domain/sessionTrigger';
import { notBefore, RunnerInfo } from '../domain/analysisRun';
import type { BackendError, TelemetryBackend } from './backend';
import { claimRunWithRetry, retryTransient } from './lifecycleWrites';

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
  /**
   * A SESSION_START run we execute is held this long after our insert was answered (default
   * HOOK_HOLD_MS, domain/sessionTrigger.ts) before the final re-check for a CLI-hook run that missed
   * ours; only then does the analysis start.
   */
  hookHoldMs?: number;
  /**
   * Aborted when the window closes or reloads. Nothing is inserted after it; a run we claimed and
   * have not started (e.g. held for the CLI hook) stops waiting and is cancelled (WINDOW_CLOSED)
   * instead of being started by a window that is going away, or left RUNNING with no owner.
   */
  signal?: AbortSignal;
}

export interface Claim {
  /**
   * The row's started_at, written by the claim (server clock). A run held for the CLI hook keeps it
   * (other windows order claims by it), and its duration_ms is counted from it too, so that
   * finished_at - started_at = duration_ms, as the hook writes them (upstream
   * lib/telemetry/auto-trigger.js executeAnalysisAsync: durationMs = Date.now() - startedAt).
   */
  startedAt: Date;
  /**
   * performance.now() when startedAt was taken. The analysis starts later (after the hold, up to
   * HOOK_HOLD_MS): its start on the server clock is startedAt + the elapsed monotonic time, not a new
   * server-clock estimate, which may move by up to a second (Date header) and put that into duration_ms.
   */
  claimedAtPerf: number;
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
      /** How long the claimed run waited for a late CLI-hook insert before its analysis started. */
      hookWaitMs?: number;
    }
  | {
      kind: 'deduplicated';
      runId: string;
      winner: string;
      /** claim: after our claim; hook-hold: the final re-check after the hold. */
      stage?: 'claim' | 'hook-hold';
      /** The winner is a run the CLI hook wrote (no metadata.source). */
      winnerIsHook?: boolean;
    }
  | { kind: 'no-analyzer'; reason: string }
  /**
   * The signal was aborted before the analysis started: nothing was inserted (runId null), or our
   * claimed run was cancelled (WINDOW_CLOSED; cancelled false when that write failed or found the run
   * no longer RUNNING, with the error if it failed).
   */
  | { kind: 'abandoned'; runId: string | null; cancelled: boolean; error?: BackendError }
  | { kind: 'failed'; stage: 'staleness check' | 'dedup check' | 'enqueue' | 'hook check'; error: BackendError };

type Enqueued = Extract<EnqueueOutcome, { kind: 'enqueued' }>;

/** A step of enqueueRun either ends it with an outcome or hands the next step what it found. */
type Step<T> = { done: EnqueueOutcome } | { next: T };

/** Our inserted run, and what the steps after the insert share. */
interface InsertedRun {
  backend: TelemetryBackend;
  req: EnqueueRequest;
  runId: string;
  correlationId: string;
  /** Our row as the insert returned it (its triggered_at is the server's). */
  row: ActiveRun;
  /** performance.now() when the insert was answered: our row is committed from then on. */
  insertAnsweredAt: number;
  serverNow: () => number;
}

export async function enqueueRun(backend: TelemetryBackend, req: EnqueueRequest): Promise<EnqueueOutcome> {
  const newId = req.newId ?? (() => globalThis.crypto.randomUUID());
  const serverNow = () => Date.now() + backend.clockOffsetMs();

  // Round trip 1: staleness and dedup (and the hook's runs so far), in parallel.
  const now = serverNow();
  const hookSince = new Date(now - req.dedupMs);
  const checked = await checkBeforeInsert(backend, req, now, hookSince);
  if ('done' in checked) return checked.done;
  const hookBefore = checked.next;

  let runner: RunnerInfo | null = null;
  if (req.execute) {
    const prepared = await req.execute.prepare();
    if (!prepared.ok) return { kind: 'no-analyzer', reason: prepared.reason };
    runner = prepared.runner;
  }

  // Going away: nothing is inserted (the caller discards the prepared child).
  if (req.signal?.aborted) return { kind: 'abandoned', runId: null, cancelled: false };

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
  // Our row is committed by now (its answer is here): the hook's 5 s are counted from this moment.
  const run: InsertedRun = {
    backend,
    req,
    runId,
    correlationId,
    row: inserted.value,
    insertAnsweredAt: performance.now(),
    serverNow,
  };
  if (req.triggeredBy !== 'SESSION_START') return claimManualRun(run, runner);

  const converged = await converge(run, runner !== null);
  if ('done' in converged) return converged.done;
  const out: Enqueued = {
    kind: 'enqueued',
    runId,
    correlationId,
    duplicatesCancelled: converged.next,
    convergence: 'checked',
  };
  if (!runner) return out;
  // Going away after the insert: nobody would execute it, so it is not claimed but cancelled.
  if (req.signal?.aborted) return abandonRun(backend, runId, 'QUEUED', [run.row.triggeredAt]);

  const claimed = await claimAndRecheck(run, runner);
  if ('done' in claimed) return claimed.done;
  // A failed re-check keeps the claim: the convergence read already chose us.
  if (!hookBefore) return { ...out, claim: claimed.next };
  return holdForLateHookRun(run, out, claimed.next, hookBefore, hookSince);
}

/**
 * Round trip 1: a fresh run (whenStale), an active one (dedup) and, for a SESSION_START run we
 * execute, the CLI hook's runs so far (they race ours; the ones seen now are not contenders). Next:
 * those hook runs, or null when the hook is not watched.
 */
async function checkBeforeInsert(
  backend: TelemetryBackend,
  req: EnqueueRequest,
  now: number,
  hookSince: Date,
): Promise<Step<ActiveRun[] | null>> {
  const watchHook = req.triggeredBy === 'SESSION_START' && req.execute !== undefined;
  const [fresh, active, hookBefore] = await Promise.all([
    req.mode === 'whenStale'
      ? backend.findFreshRun(req.scopeId, new Date(now - req.stalenessMs))
      : Promise.resolve({ ok: true as const, value: null }),
    backend.findActiveRuns(req.scopeId, new Date(now - req.dedupMs)),
    watchHook ? backend.findHookRuns(req.scopeId, hookSince) : Promise.resolve(null),
  ]);
  if (!fresh.ok) return { done: { kind: 'failed', stage: 'staleness check', error: fresh.error } };
  if (!active.ok) return { done: { kind: 'failed', stage: 'dedup check', error: active.error } };
  if (hookBefore && !hookBefore.ok) return { done: { kind: 'failed', stage: 'dedup check', error: hookBefore.error } };
  const decision = decideSessionTrigger(req.mode, fresh.value, active.value);
  if (decision.kind === 'skip-active') return { done: { kind: 'already-active', run: decision.run } };
  if (decision.kind === 'skip-fresh') return { done: { kind: 'skipped-fresh', run: decision.run } };
  return { next: hookBefore ? hookBefore.value : null };
}

/** A MANUAL run passed the dedup check and is never cancelled by convergence: claim it when we execute it. */
async function claimManualRun(run: InsertedRun, runner: RunnerInfo | null): Promise<EnqueueOutcome> {
  const { backend, req, runId } = run;
  const ourTriggeredAt = run.row.triggeredAt;
  const out: Enqueued = {
    kind: 'enqueued',
    runId,
    correlationId: run.correlationId,
    duplicatesCancelled: 0,
    convergence: 'not-needed',
  };
  if (!runner) return out;
  if (req.signal?.aborted) return abandonRun(backend, runId, 'QUEUED', [ourTriggeredAt]);
  const claim = await claimRun(backend, runId, req.metadata, runner, ourTriggeredAt);
  if (!claim.ok) return { kind: 'failed', stage: 'enqueue', error: claim.error };
  if (!claim.value) return { kind: 'deduplicated', runId, winner: runId, stage: 'claim' };
  if (req.signal?.aborted) return abandonRun(backend, runId, 'RUNNING', [ourTriggeredAt, claim.value.startedAt]);
  return { ...out, claim: claim.value };
}

/**
 * Convergence (after the row exists; see domain/sessionTrigger.ts for why this settles on one run):
 * the QUEUED losers are cancelled, ours too when it lost. Next: how many duplicates were cancelled.
 * A window that was slow between its pre-check and its insert may find the winner already finished
 * (no longer active): in whenStale mode a run that succeeded meanwhile is a winner too.
 */
async function converge(run: InsertedRun, executing: boolean): Promise<Step<number>> {
  const { backend, req, runId } = run;
  const ourTriggeredAt = run.row.triggeredAt;
  const [after, freshAfter] = await Promise.all([
    backend.findActiveRuns(req.scopeId, new Date(run.serverNow() - req.dedupMs)),
    freshSince(backend, req),
  ]);
  if (!after.ok) {
    if (executing) {
      // We would execute it unconverged: take it back (nobody else executes a QUEUED run) and let the
      // caller retry, rather than leave it QUEUED for ever or risk a second analysis.
      await backend.cancelRuns([runId], REASON_CLAIM_FAILED, ['QUEUED'], {
        notBefore: [ourTriggeredAt],
        message: `Not executed: the check for other runs failed (${after.error.message}).`,
      });
      return { done: { kind: 'failed', stage: 'dedup check', error: after.error } };
    }
    const correlationId = run.correlationId;
    return {
      done: { kind: 'enqueued', runId, correlationId, duplicatesCancelled: 0, convergence: { error: after.error } },
    };
  }
  if (freshAfter) return { done: await yieldToFresh(backend, runId, freshAfter, 'QUEUED', [ourTriggeredAt]) };
  const candidates = after.value.some((r) => r.runId === runId) ? after.value : [...after.value, run.row];
  const { winner, losers } = duplicatesToCancel(candidates);
  let cancelled = 0;
  if (losers.length) {
    // Only QUEUED losers: a claimed run is given up by its own window (claimStands), never by another.
    const res = await backend.cancelRuns(
      losers.map((l) => l.runId),
      REASON_DUPLICATE_SESSION_START,
      ['QUEUED'],
      {
        notBefore: losers.map((l) => l.triggeredAt),
        message: winner && !winner.ours ? hookYieldMessage(winner.runId) : undefined,
      },
    );
    cancelled = res.ok ? res.value.length : 0;
  }
  if (winner && winner.runId !== runId) {
    if (!losers.some((l) => l.runId === runId))
      await backend.cancelRuns([runId], REASON_DUPLICATE_SESSION_START, ['QUEUED'], {
        notBefore: [ourTriggeredAt],
        message: winner.ours ? undefined : hookYieldMessage(winner.runId),
      });
    return { done: { kind: 'deduplicated', runId, winner: winner.runId, winnerIsHook: !winner.ours } };
  }
  return { next: cancelled };
}

/** Claim before executing, then re-check: see domain/sessionTrigger.ts. Next: our claim, when it stands. */
async function claimAndRecheck(run: InsertedRun, runner: RunnerInfo): Promise<Step<Claim>> {
  const { backend, req, runId } = run;
  const claim = await claimRun(backend, runId, req.metadata, runner, run.row.triggeredAt);
  if (!claim.ok) return { done: { kind: 'failed', stage: 'enqueue', error: claim.error } };
  if (!claim.value)
    return { done: { kind: 'deduplicated', runId, winner: '(cancelled before the claim)', stage: 'claim' } };
  const ours = [run.row.triggeredAt, claim.value.startedAt];
  if (req.signal?.aborted) return { done: await abandonRun(backend, runId, 'RUNNING', ours) };
  const [recheck, freshNow] = await Promise.all([
    backend.findActiveRuns(req.scopeId, new Date(run.serverNow() - req.dedupMs)),
    freshSince(backend, req),
  ]);
  if (freshNow) return { done: await yieldToFresh(backend, runId, freshNow, 'RUNNING', ours, 'claim') };
  if (recheck.ok) {
    const lost = await yieldIfClaimFalls(backend, runId, recheck.value, ours, 'claim');
    if (lost) return { done: lost };
  }
  if (req.signal?.aborted) return { done: await abandonRun(backend, runId, 'RUNNING', ours) };
  return { next: claim.value };
}

/**
 * The CLI hook checks for duplicates once and inserts one round trip later, within its 5 s budget;
 * a hook that checked before our row was visible inserts after the re-check. Hold our claimed run
 * until every such insert has landed, then look again (domain/sessionTrigger.ts HOOK_HOLD_MS).
 * A window closing meanwhile stops waiting: nobody would start the analysis after the hold.
 */
async function holdForLateHookRun(
  run: InsertedRun,
  out: Enqueued,
  claim: Claim,
  hookBefore: ActiveRun[],
  hookSince: Date,
): Promise<EnqueueOutcome> {
  const { backend, req, runId } = run;
  const ours = [run.row.triggeredAt, claim.startedAt];
  const holdUntil = run.insertAnsweredAt + (req.hookHoldMs ?? HOOK_HOLD_MS);
  if (!(await holdFor(holdUntil - performance.now(), req.signal))) return abandonRun(backend, runId, 'RUNNING', ours);
  const seen = new Set(hookBefore.map((r) => r.runId));
  const [late, activeNow] = await Promise.all([
    retryTransient(() => backend.findHookRuns(req.scopeId, hookSince)),
    backend.findActiveRuns(req.scopeId, new Date(run.serverNow() - req.dedupMs)),
  ]);
  if (!late.result.ok) {
    // Unable to tell whether the hook is executing this session start: not executing ours is the
    // side that never duplicates an analysis. Cancelled, not left RUNNING; the caller retries.
    await backend.cancelRuns([runId], REASON_CLAIM_FAILED, ['RUNNING'], {
      notBefore: ours,
      message: `Not executed: the check for a late CLI-hook run failed (${late.result.error.message}).`,
    });
    return { kind: 'failed', stage: 'hook check', error: late.result.error };
  }
  const hookRun = competingHookRun(seen, late.result.value);
  if (hookRun) {
    // Ours yields; the hook's run is never touched (the hook executes it whatever its status says).
    await backend.cancelRuns([runId], REASON_DUPLICATE_SESSION_START, ['RUNNING'], {
      notBefore: ours,
      message: hookYieldMessage(hookRun.runId),
    });
    return { kind: 'deduplicated', runId, winner: hookRun.runId, stage: 'hook-hold', winnerIsHook: true };
  }
  if (activeNow.ok) {
    // Windows too: every claim has long committed, so each window sees the same earliest claim.
    const lost = await yieldIfClaimFalls(backend, runId, activeNow.value, ours, 'hook-hold');
    if (lost) return lost;
  }
  if (req.signal?.aborted) return abandonRun(backend, runId, 'RUNNING', ours);
  // The analysis starts now, not at the claim. The row keeps the claim's started_at and updated_at
  // (other windows order claims by them) and duration_ms counts from that started_at: the hold is
  // part of the run's duration, as everything between the hook's RUNNING mark and its finish is.
  return { ...out, claim, hookWaitMs: Math.round(performance.now() - run.insertAnsweredAt) };
}

/** Waits `ms` (nothing when ≤ 0); false as soon as `signal` is aborted (at once if it already is). */
function holdFor(ms: number, signal: AbortSignal | undefined): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  if (ms <= 0) return Promise.resolve(true);
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * The window is going away before our run's analysis started: cancel it (guarded on its status —
 * QUEUED before our claim, RUNNING after it — and never before its own timestamps) rather than leave
 * it with no owner: a QUEUED row is executed by nobody, a RUNNING one waits for another window's
 * orphan sweep (started_at + timeout_ms + 5 min), and the CLI hook skips its own run for either.
 * One quick retry on a transient failure: the closing window has about 2 s for all of it.
 */
async function abandonRun(
  backend: TelemetryBackend,
  runId: string,
  status: 'QUEUED' | 'RUNNING',
  ours: readonly Date[],
): Promise<EnqueueOutcome> {
  const { result: r } = await retryTransient(
    () =>
      backend.cancelRuns([runId], REASON_WINDOW_CLOSED, [status], {
        notBefore: ours,
        message:
          'Not executed: the VS Code window that started this run closed or reloaded before its analysis started.',
      }),
    { attempts: 2, baseMs: 300, maxMs: 300 },
  );
  return r.ok
    ? { kind: 'abandoned', runId, cancelled: r.value.includes(runId) }
    : { kind: 'abandoned', runId, cancelled: false, error: r.error };
}

/** After our claim: cancel ours when another run beats it (claimStands); the outcome, or null when it stands. */
async function yieldIfClaimFalls(
  backend: TelemetryBackend,
  runId: string,
  active: readonly ActiveRun[],
  ours: readonly Date[],
  stage: 'claim' | 'hook-hold',
): Promise<EnqueueOutcome | null> {
  const rows = active.some((r) => r.runId === runId) ? active : [];
  if (claimStands(runId, rows)) return null;
  const w = duplicatesToCancel(rows).winner;
  const byHook = w !== null && w.runId !== runId && !w.ours;
  await backend.cancelRuns([runId], REASON_DUPLICATE_SESSION_START, ['RUNNING'], {
    notBefore: ours,
    message: byHook ? hookYieldMessage(w.runId) : undefined,
  });
  return { kind: 'deduplicated', runId, winner: w?.runId ?? '(our run was cancelled)', stage, winnerIsHook: byHook };
}

/**
 * Cancel ours for a run that finished since our check. Under load the CLI hook's run can be done before
 * we look again: then our row names it, as when it is still active (hookYieldMessage).
 */
async function yieldToFresh(
  backend: TelemetryBackend,
  runId: string,
  fresh: FreshRun,
  status: 'QUEUED' | 'RUNNING',
  notBefore: readonly Date[],
  stage?: 'claim',
): Promise<EnqueueOutcome> {
  const byHook = fresh.ours === false;
  await backend.cancelRuns([runId], REASON_DUPLICATE_SESSION_START, [status], {
    notBefore,
    message: byHook ? hookYieldMessage(fresh.runId) : undefined,
  });
  return {
    kind: 'deduplicated',
    runId,
    winner: fresh.runId,
    ...(stage ? { stage } : {}),
    ...(byHook ? { winnerIsHook: true } : {}),
  };
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
  const startedAt = notBefore(Date.now() + backend.clockOffsetMs(), [triggeredAt]);
  const claimedAtPerf = performance.now();
  const merged = { ...metadata, runner };
  const r = await claimRunWithRetry(backend, runId, startedAt, merged);
  if (!r.ok) {
    // Nobody else executes a QUEUED run: take ours back rather than leave it queued for ever.
    await backend.cancelRuns([runId], REASON_CLAIM_FAILED, ['QUEUED'], { notBefore: [triggeredAt] });
    return r;
  }
  return {
    ok: true,
    value: r.value ? { startedAt, claimedAtPerf, metadata: merged } : null,
  };
}
