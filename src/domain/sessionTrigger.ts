// The SESSION_START decision, following the EHG_Engineer CLI hook (scripts/hooks/telemetry-auto-trigger.cjs)
// with one addition: convergence, so that racing windows end with exactly one active run per scope.

export type AutoTriggerMode = 'whenStale' | 'always' | 'off';

/** Hook vocabulary for the one structured decision line, plus this extension's own outcomes. */
export type TriggerDecisionCode =
  | 'enqueued'
  | 'already_queued'
  | 'skipped_fresh'
  | 'enqueue_failed'
  | 'error_non_fatal'
  | 'deduplicated'
  | 'skipped_disabled'
  | 'skipped_not_configured'
  | 'skipped_restricted'
  | 'skipped_read_only'
  | 'skipped_no_analyzer'
  | 'claim_lost'
  | 'deferred_unreachable';

export interface TriggerGateInput {
  mode: AutoTriggerMode;
  trusted: boolean;
  configured: boolean;
  /** TELEMETRY_AUTO_ANALYSIS_ENABLED=false in the workspace's .env */
  disabledByEnv: boolean;
  /** false when the key is known to be read-only (anon). */
  canWrite: boolean | null;
}

export type TriggerGate =
  | { kind: 'proceed' }
  | {
      kind: 'skip';
      code: 'skipped_disabled' | 'skipped_not_configured' | 'skipped_restricted' | 'skipped_read_only';
      reason: string;
    };

/** Everything that can be decided without the network. */
export function gateSessionTrigger(i: TriggerGateInput): TriggerGate {
  if (!i.trusted)
    return { kind: 'skip', code: 'skipped_restricted', reason: 'workspace is not trusted (restricted mode)' };
  if (i.mode === 'off') return { kind: 'skip', code: 'skipped_disabled', reason: 'ehgTelemetry.autoTrigger is "off"' };
  if (i.disabledByEnv)
    return { kind: 'skip', code: 'skipped_disabled', reason: 'TELEMETRY_AUTO_ANALYSIS_ENABLED=false in .env' };
  if (!i.configured) return { kind: 'skip', code: 'skipped_not_configured', reason: 'no connection configured' };
  if (i.canWrite === false)
    return {
      kind: 'skip',
      code: 'skipped_read_only',
      reason: 'the key is read-only (anon); a service-role key is needed to enqueue runs',
    };
  return { kind: 'proceed' };
}

export interface FreshRun {
  runId: string;
  finishedAt: Date;
  /** Written by this extension (metadata.source present); false: the CLI hook's. Absent: not known. */
  ours?: boolean;
}
export interface ActiveRun {
  runId: string;
  status: string;
  triggeredBy: string | null;
  triggeredAt: Date;
  scopeId: string | null;
  /** Written by this extension (metadata.source present). The CLI hook's runs carry no source. */
  ours: boolean;
  /** updated_at: for a RUNNING run of ours, the server time of its claim. */
  updatedAt: Date | null;
}

export type TriggerDecision =
  { kind: 'enqueue' } | { kind: 'skip-fresh'; run: FreshRun } | { kind: 'skip-active'; run: ActiveRun };

/**
 * After the two pre-checks (run in parallel: one round trip): dedup always applies; staleness only in
 * `whenStale` mode. The queries already restrict to the scope (or global) and to the windows.
 */
export function decideSessionTrigger(
  mode: Exclude<AutoTriggerMode, 'off'>,
  fresh: FreshRun | null,
  active: readonly ActiveRun[],
): TriggerDecision {
  const winner = pickWinner(active);
  if (winner) return { kind: 'skip-active', run: winner };
  if (mode === 'whenStale' && fresh) return { kind: 'skip-fresh', run: fresh };
  return { kind: 'enqueue' };
}

/**
 * Convergence. The hook's check-then-insert is racy: two windows starting together both see
 * nothing and both insert. We keep the cheap pre-check (it avoids most inserts) and add a
 * post-insert re-check, then a claim:
 *
 *  1. insert our run (QUEUED);
 *  2. read every active run for the scope (or global) triggered within the dedup window and pick
 *     the winner with `duplicatesToCancel` below; cancel the QUEUED SESSION_START losers of ours
 *     (guarded on status = QUEUED, so a claimed run is never cancelled by this step);
 *  3. if we won, claim: QUEUED → RUNNING guarded on status = QUEUED (fails if someone cancelled us);
 *  4. re-check after the claim (`claimStands`): if another run that is already RUNNING beats ours,
 *     give ours up (CANCELLED) before any child starts.
 *
 * The winner, from one window's view of the rows:
 *  - a run we did not write (the CLI hook's) always wins: the hook executes its own run whatever
 *    its status says, so cancelling it would change nothing, and a second run of ours would only
 *    duplicate its analysis. Such runs are never cancelled;
 *  - else a run already claimed (RUNNING) wins over QUEUED ones, the earliest claim first
 *    (updated_at, then run_id);
 *  - else the earliest by (triggered_at, run_id).
 *
 * Why at most one claim stands: claims are serialised by the database (a guarded UPDATE). The
 * second claimer's re-check runs after the first claim committed, so it sees it; with "earliest
 * claim wins" it yields to the first. A window whose insert commits late (an early triggered_at
 * nobody saw) sees the RUNNING run at its re-check and yields too, since a claimed run beats a
 * queued one. The one race left is two claims whose server times (updated_at, the transaction's
 * start) are in the opposite order to their commits; then the first claimer's child may start
 * and is cancelled by the second, and the child stops without writing (its updates are guarded
 * on status = RUNNING). Ordering only by triggered_at could not see an insert that commits late.
 */
export function pickWinner<T extends Pick<ActiveRun, 'runId' | 'triggeredAt'>>(runs: readonly T[]): T | null {
  let best: T | null = null;
  for (const r of runs) {
    if (!best || compareRunOrder(r, best) < 0) best = r;
  }
  return best;
}

export function compareRunOrder(
  a: Pick<ActiveRun, 'runId' | 'triggeredAt'>,
  b: Pick<ActiveRun, 'runId' | 'triggeredAt'>,
): number {
  return a.triggeredAt.getTime() - b.triggeredAt.getTime() || (a.runId < b.runId ? -1 : a.runId > b.runId ? 1 : 0);
}

function compareClaimOrder(a: ActiveRun, b: ActiveRun): number {
  const ta = (a.updatedAt ?? a.triggeredAt).getTime();
  const tb = (b.updatedAt ?? b.triggeredAt).getTime();
  return ta - tb || (a.runId < b.runId ? -1 : a.runId > b.runId ? 1 : 0);
}

export function convergenceWinner(active: readonly ActiveRun[]): ActiveRun | null {
  const foreign = active.filter((r) => !r.ours);
  if (foreign.length) return pickWinner(foreign);
  const running = active.filter((r) => r.status === 'RUNNING');
  if (running.length) return running.reduce((best, r) => (compareClaimOrder(r, best) < 0 ? r : best));
  return pickWinner(active);
}

/** Losers are SESSION_START runs of ours; runs of other triggers (MANUAL…) and the hook's are never cancelled. */
export function duplicatesToCancel(active: readonly ActiveRun[]): { winner: ActiveRun | null; losers: ActiveRun[] } {
  const winner = convergenceWinner(active);
  if (!winner) return { winner: null, losers: [] };
  return {
    winner,
    losers: active.filter(
      (r) => r.runId !== winner.runId && r.ours && r.triggeredBy === 'SESSION_START' && r.status === 'QUEUED',
    ),
  };
}

/**
 * After our claim (our run is RUNNING): does it stand? It does unless another run wins by the rule
 * above — a run we did not write, or one of ours claimed earlier. QUEUED runs of ours never beat a
 * claimed one.
 */
export function claimStands(runId: string, active: readonly ActiveRun[]): boolean {
  const mine = active.find((r) => r.runId === runId);
  if (!mine) return false; // cancelled (or finished) under us
  const contenders = active.filter((r) => r.runId === runId || !r.ours || r.status === 'RUNNING');
  return convergenceWinner(contenders)?.runId === runId;
}

/**
 * The CLI hook's budget: .claude/settings.json registers scripts/hooks/telemetry-auto-trigger.cjs with
 * `"timeout": 5` (seconds). lib/telemetry/auto-trigger.js triggerIfStale() checks staleness, then
 * enqueueAnalysis() checks for duplicates (checkDuplicate, lines 67-85) and INSERTs one round trip later
 * (lines 114-126) — it never looks again and never yields. A hook whose dedup check ran before our row
 * was visible therefore inserts within 5 s of its own start, which was before our insert committed.
 */
export const HOOK_BUDGET_MS = 5_000;
/** An INSERT the hook sent just before its budget ran out still has to cross the network and commit. */
export const HOOK_HOLD_MARGIN_MS = 2_000;
/**
 * How long a claimed SESSION_START run of ours is held (not executed) after our insert was answered:
 * every hook that might have missed our row has inserted by then, so the re-check sees it.
 */
export const HOOK_HOLD_MS = HOOK_BUDGET_MS + HOOK_HOLD_MARGIN_MS;

/**
 * A run the CLI hook wrote, found by the final re-check, that our pre-check did not see: the hook
 * checked before our row was visible and inserted after. It executes whatever its status says, so ours
 * yields. Runs the pre-check already saw are earlier analyses (a finished hook run does not make the
 * hook skip, nor us); runs with metadata.source are ours (other windows), settled by convergence.
 */
export function competingHookRun(seenAtPreCheck: ReadonlySet<string>, rows: readonly ActiveRun[]): ActiveRun | null {
  return pickWinner(rows.filter((r) => !r.ours && !seenAtPreCheck.has(r.runId)));
}

/** error_message of our run when it yields to the CLI hook's (stored in the row: plain English, like the hook's). */
export function hookYieldMessage(hookRunId: string): string {
  return `Yielded to the CLI hook's run ${hookRunId} (scripts/hooks/telemetry-auto-trigger.cjs), which executes the analysis for this session start.`;
}

/** The log's reason for a `deduplicated` decision: who won, named. */
export function deduplicatedReason(o: {
  stage?: 'claim' | 'hook-hold';
  winner: string;
  winnerIsHook?: boolean;
}): string {
  if (o.winnerIsHook)
    return o.stage === 'hook-hold'
      ? `the CLI hook enqueued its own run (${o.winner}) after checking before ours was visible; ours was held and yields`
      : `the CLI hook enqueued first (run ${o.winner})`;
  return o.stage === 'claim' || o.stage === 'hook-hold'
    ? `another window claimed first (or a run finished meanwhile) (run ${o.winner})`
    : `another window enqueued first (run ${o.winner})`;
}

/**
 * The id naming this window in metadata.source.window_id and metadata.runner.window_id.
 * `vscode.env.sessionId` is a real per-window id in desktop VS Code, but code-server answers the
 * literal "someValue.sessionId" in every window; then (or when it is empty) the id generated once for
 * this activation is used instead.
 */
export function windowIdFor(sessionId: string | null | undefined, generated: string): string {
  const s = (sessionId ?? '').trim();
  if (!s || s === 'someValue.sessionId' || /^somevalue\./i.test(s)) return generated;
  return s;
}

export interface NewRunMetadata {
  timeout_ms: number;
  source: { extension: string; extension_version: string; vscode_version: string; window_id: string; app_host: string };
}

/** The structured decision line (one per scope per attempt), in the hook's key=value style. */
export function decisionLine(
  code: TriggerDecisionCode,
  fields: Record<string, string | number | boolean | null | undefined>,
): string {
  const parts = [`decision=${code}`];
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined) continue;
    parts.push(`${k}=${typeof v === 'string' ? JSON.stringify(v) : String(v)}`);
  }
  return `telemetry-auto-trigger ${parts.join(' ')}`;
}
