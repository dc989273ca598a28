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
  | { kind: 'skip'; code: 'skipped_disabled' | 'skipped_not_configured' | 'skipped_restricted' | 'skipped_read_only'; reason: string };

/** Everything that can be decided without the network. */
export function gateSessionTrigger(i: TriggerGateInput): TriggerGate {
  if (!i.trusted) return { kind: 'skip', code: 'skipped_restricted', reason: 'workspace is not trusted (restricted mode)' };
  if (i.mode === 'off') return { kind: 'skip', code: 'skipped_disabled', reason: 'ehgTelemetry.autoTrigger is "off"' };
  if (i.disabledByEnv) return { kind: 'skip', code: 'skipped_disabled', reason: 'TELEMETRY_AUTO_ANALYSIS_ENABLED=false in .env' };
  if (!i.configured) return { kind: 'skip', code: 'skipped_not_configured', reason: 'no connection configured' };
  if (i.canWrite === false) return { kind: 'skip', code: 'skipped_read_only', reason: 'the key is read-only (anon); a service-role key is needed to enqueue runs' };
  return { kind: 'proceed' };
}

export interface FreshRun { runId: string; finishedAt: Date }
export interface ActiveRun { runId: string; status: string; triggeredBy: string | null; triggeredAt: Date; scopeId: string | null }

export type TriggerDecision =
  | { kind: 'enqueue' }
  | { kind: 'skip-fresh'; run: FreshRun }
  | { kind: 'skip-active'; run: ActiveRun };

/**
 * After the two pre-checks (run in parallel: one round trip): dedup always applies; staleness only in
 * `whenStale` mode. The queries already restrict to the scope (or global) and to the windows.
 */
export function decideSessionTrigger(mode: Exclude<AutoTriggerMode, 'off'>, fresh: FreshRun | null, active: readonly ActiveRun[]): TriggerDecision {
  const winner = pickWinner(active);
  if (winner) return { kind: 'skip-active', run: winner };
  if (mode === 'whenStale' && fresh) return { kind: 'skip-fresh', run: fresh };
  return { kind: 'enqueue' };
}

/**
 * Convergence. The hook's check-then-insert is racy: two windows starting together both see
 * nothing and both insert. We keep the cheap pre-check (it avoids most inserts) and add a
 * post-insert re-check:
 *
 *  1. insert our run;
 *  2. read every active run for the scope (or global) triggered within the dedup window;
 *  3. the winner is the earliest by (triggered_at, run_id): a total order every window computes
 *     the same way from the same rows;
 *  4. cancel every SESSION_START loser that we can see (not only our own) with
 *     reason_code = DUPLICATE_SESSION_START. Runs of other triggers (MANUAL, CLI…) are never cancelled.
 *
 * Why this converges: the window whose insert commits last re-reads after every other insert has
 * committed, so it sees the full set and cancels all losers. A window that saw only a subset can
 * only have cancelled losers of that subset, and the global winner is the minimum of every subset
 * containing it, so no window ever cancels it. The cancel is guarded by `status in (QUEUED, RUNNING)`
 * so it never overwrites a finished run.
 */
export function pickWinner<T extends Pick<ActiveRun, 'runId' | 'triggeredAt'>>(runs: readonly T[]): T | null {
  let best: T | null = null;
  for (const r of runs) {
    if (!best || compareRunOrder(r, best) < 0) best = r;
  }
  return best;
}

export function compareRunOrder(a: Pick<ActiveRun, 'runId' | 'triggeredAt'>, b: Pick<ActiveRun, 'runId' | 'triggeredAt'>): number {
  return a.triggeredAt.getTime() - b.triggeredAt.getTime() || (a.runId < b.runId ? -1 : a.runId > b.runId ? 1 : 0);
}

export function duplicatesToCancel(active: readonly ActiveRun[]): { winner: ActiveRun | null; losers: ActiveRun[] } {
  const winner = pickWinner(active);
  if (!winner) return { winner: null, losers: [] };
  return { winner, losers: active.filter((r) => r.runId !== winner.runId && r.triggeredBy === 'SESSION_START') };
}

export interface NewRunMetadata {
  timeout_ms: number;
  source: { extension: string; extension_version: string; vscode_version: string; window_id: string; app_host: string };
}

/** The structured decision line (one per scope per attempt), in the hook's key=value style. */
export function decisionLine(code: TriggerDecisionCode, fields: Record<string, string | number | boolean | null | undefined>): string {
  const parts = [`decision=${code}`];
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined) continue;
    parts.push(`${k}=${typeof v === 'string' ? JSON.stringify(v) : String(v)}`);
  }
  return `telemetry-auto-trigger ${parts.join(' ')}`;
}
