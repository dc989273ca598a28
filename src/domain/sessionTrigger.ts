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
