// Runs the in-host tests insert directly (as the worker or the CLI would), with known contents.
import { randomUUID } from 'crypto';
import { sql } from './helpers';

export const GATE_BOTTLENECK = {
  dimension_type: 'gate',
  dimension_key: 'GATE_PRD_REQUIRED',
  observed_p50_ms: 45_000,
  baseline_p50_ms: 12_000,
  ratio: 3.2,
  sample_count: 14,
  exceedance_count: 9,
  evidence_trace_ids: ['trace-a', 'trace-b'],
  improvement_id: null,
};
export const PHASE_BOTTLENECK = {
  dimension_type: 'phase',
  dimension_key: 'LEAD',
  observed_p50_ms: 30_000,
  baseline_p50_ms: 15_000,
  ratio: 2.0,
  sample_count: 20,
  exceedance_count: 6,
  evidence_trace_ids: ['trace-c'],
  improvement_id: null,
};

export interface SeededRun {
  runId: string;
  status: string;
  topCategory: string | null;
}

/** Inserts a finished or active run for `scope`, `minutesAgo` minutes back. */
export async function insertRun(
  scope: string,
  kind: 'succeeded' | 'failed' | 'running' | 'insufficient',
  minutesAgo: number,
): Promise<SeededRun> {
  const runId = randomUUID();
  const at = `now() - interval '${Math.round(minutesAgo * 60)} seconds'`;
  switch (kind) {
    case 'succeeded':
      await sql(
        `insert into telemetry_analysis_runs (run_id, scope_type, scope_id, status, triggered_by, triggered_at, started_at, finished_at, duration_ms, findings_count, top_bottleneck_category, output_ref, correlation_id)
         values ($1, 'workspace', $2, 'SUCCEEDED', 'CLI', ${at}, ${at}, ${at} + interval '41 seconds', 41000, 2, 'gate', $3, $4)`,
        [
          runId,
          scope,
          JSON.stringify({
            bottlenecks: [GATE_BOTTLENECK, PHASE_BOTTLENECK],
            traces_scanned: 120,
            dimensions_evaluated: 4,
            items_created: 0,
          }),
          randomUUID(),
        ],
      );
      return { runId, status: 'SUCCEEDED', topCategory: 'gate' };
    case 'insufficient':
      await sql(
        `insert into telemetry_analysis_runs (run_id, scope_type, scope_id, status, triggered_by, triggered_at, started_at, finished_at, duration_ms, findings_count, reason_code, output_ref)
         values ($1, 'workspace', $2, 'SUCCEEDED', 'SCHEDULED', ${at}, ${at}, ${at} + interval '2 seconds', 2000, 0, 'INSUFFICIENT_DATA', $3)`,
        [
          runId,
          scope,
          JSON.stringify({ bottlenecks: [], traces_scanned: 0, dimensions_evaluated: 0, items_created: 0 }),
        ],
      );
      return { runId, status: 'SUCCEEDED', topCategory: null };
    case 'failed':
      await sql(
        `insert into telemetry_analysis_runs (run_id, scope_type, scope_id, status, triggered_by, triggered_at, started_at, finished_at, duration_ms, error_class, error_message)
         values ($1, 'workspace', $2, 'FAILED', 'CLI', ${at}, ${at}, ${at} + interval '3 seconds', 3000, 'QueryError', 'relation "traces" does not exist')`,
        [runId, scope],
      );
      return { runId, status: 'FAILED', topCategory: null };
    case 'running':
      await sql(
        `insert into telemetry_analysis_runs (run_id, scope_type, scope_id, status, triggered_by, triggered_at, started_at, metadata)
         values ($1, 'workspace', $2, 'RUNNING', 'MANUAL', ${at}, ${at}, '{"timeout_ms":120000}')`,
        [runId, scope],
      );
      return { runId, status: 'RUNNING', topCategory: null };
  }
}
