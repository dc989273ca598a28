// The indexes README.md ("Large tables") recommends beyond the table contract; the bench measures
// the lists with and without them, and test/unit/readmeIndexes.test.ts keeps the README's text equal.

/** Recommended for large tables (README): the contract has no index that serves "All Scopes". */
export const RECOMMENDED_INDEX_SQL =
  'CREATE INDEX idx_telemetry_runs_triggered_at ON public.telemetry_analysis_runs (triggered_at DESC, run_id DESC)';

/**
 * Recommended (README) for workspaces with a long history: idx_telemetry_runs_scope_status finds a
 * scope's runs but orders them by status, so "This Workspace" reads and sorts every run of the scope.
 */
export const RECOMMENDED_SCOPE_INDEX_SQL =
  'CREATE INDEX idx_telemetry_runs_scope_triggered_at ON public.telemetry_analysis_runs (scope_type, scope_id, triggered_at DESC, run_id DESC)';
