// The evidence query (a bottleneck's drill-down) at 1M workflow_trace_log spans: the extension's own
// request (SupabaseBackend.readEvidenceSpans: trace_id=in.(≤5) & gate_name=eq.<key>) through the edge
// and PostgREST, with the plan PostgreSQL logged for PostgREST's SQL (see db.ts), next to two naive
// baselines measured the same way:
//   - the same traces without the dimension filter (select=*, filtering client-side): every span of the
//     five traces and every column comes back;
//   - the same request without idx_workflow_trace_log_trace_id (dropped, then built again).
import { MAX_EVIDENCE_ROWS } from '../../src/domain/evidence';
import { TRACE_TABLE } from '../../src/data/supabaseBackend';
import type { Stack } from '../../devkit/stack';
import { makeBackend, measure, MeasuredQuery } from './db';
import { log } from './util';

const TRACE_INDEX = 'idx_workflow_trace_log_trace_id';
const SPANS_PER_TRACE = 10;
const GATES = 40;

export interface EvidenceFigures {
  spans: number;
  generateMs: number;
  evidence: MeasuredQuery;
  naiveClientFilter: MeasuredQuery;
  withoutTraceIndex: MeasuredQuery;
}

/**
 * `spans` spans as upstream's writers shape them, SPANS_PER_TRACE to a trace (one handoff execution):
 * the root `workflow.execute`, five `step.*` spans (span_type phase, no phase column: upstream sets
 * none) and four `gate.execute` spans with gate_name, over the 90-day hot window. One INSERT … SELECT
 * generate_series, then VACUUM ANALYZE.
 */
async function generateSpans(stack: Stack, spans: number): Promise<number> {
  const t0 = Date.now();
  await stack.query('SELECT setseed(0.42)');
  await stack.query(
    `INSERT INTO public.workflow_trace_log
       (trace_id, span_id, parent_span_id, workflow_execution_id, sd_id, gate_name, span_name, span_type,
        start_time_ms, end_time_ms, duration_ms, attributes, created_at)
     SELECT md5('bench-trace' || t)::uuid, md5('bench-span' || g)::uuid,
            CASE WHEN k > 0 THEN md5('bench-span' || (g - k))::uuid END,
            (ARRAY['LEAD-TO-PLAN','PLAN-TO-EXEC','EXEC-TO-PLAN','PLAN-TO-LEAD','LEAD-FINAL-APPROVAL'])[1 + t % 5]
              || '-SD-BENCH-' || lpad((t % 997)::text, 3, '0') || '-' || (extract(epoch FROM at) * 1000)::bigint,
            'SD-BENCH-' || lpad((t % 997)::text, 3, '0'),
            CASE WHEN k >= 6 THEN 'GATE_' || lpad(((t * 7 + k) % $2)::text, 2, '0') END,
            CASE WHEN k = 0 THEN 'workflow.execute' WHEN k < 6 THEN 'step.s' || k ELSE 'gate.execute' END,
            CASE WHEN k = 0 THEN 'workflow' WHEN k < 6 THEN 'phase' ELSE 'gate' END,
            (extract(epoch FROM at) * 1000)::bigint, (extract(epoch FROM at) * 1000)::bigint + dur, dur,
            CASE WHEN k >= 6 THEN jsonb_build_object('gate_name', 'GATE_' || lpad(((t * 7 + k) % $2)::text, 2, '0'), 'result', 'passed')
                 ELSE '{}'::jsonb END,
            at
     FROM (
       SELECT g, g / $3 AS t, g % $3 AS k,
              now() - make_interval(secs => ((g / $3) * 7919 % 7776000)::double precision) AS at,
              (200 + (g * 31 % 5000))::bigint AS dur
       FROM generate_series(0, $1::integer - 1) AS g
     ) s`,
    [spans, GATES, SPANS_PER_TRACE],
  );
  await stack.query('VACUUM ANALYZE public.workflow_trace_log');
  return Date.now() - t0;
}

/** What the analyzer would have kept as evidence of a gate: the trace ids of its 5 newest spans. */
async function evidenceOf(stack: Stack, gate: string): Promise<string[]> {
  const rows = await stack.query<{ trace_id: string }>(
    `SELECT trace_id FROM public.workflow_trace_log WHERE gate_name = $1 ORDER BY created_at DESC, id LIMIT 5`,
    [gate],
  );
  return rows.map((r) => r.trace_id);
}

export async function measureEvidence(stack: Stack, spans = 1_000_000, reps = 5): Promise<EvidenceFigures> {
  await stack.query('DELETE FROM public.workflow_trace_log');
  log(`evidence: generating ${spans.toLocaleString('en')} workflow_trace_log spans`);
  const generateMs = await generateSpans(stack, spans);
  const [{ n }] = await stack.query<{ n: number }>('SELECT count(*)::int AS n FROM public.workflow_trace_log');
  log(`evidence: ${n.toLocaleString('en')} spans in ${generateMs} ms`);
  const gate = 'GATE_07';
  const ids = await evidenceOf(stack, gate);
  const backend = makeBackend(stack);
  try {
    const ours = () =>
      backend.readEvidenceSpans(ids, 'gate_name', gate).then((r) => {
        if (!r.ok) throw new Error(`evidence request failed: ${r.error.message}`);
        return r.value.length;
      });
    const evidence = await measure(stack, TRACE_TABLE, ours, reps);
    // Naive: the traces' every span and column, the dimension filtered in the client.
    const naiveClientFilter = await measure(
      stack,
      TRACE_TABLE,
      async () => {
        const r = await backend.supabase
          .from(TRACE_TABLE)
          .select('*')
          .in('trace_id', ids)
          .order('created_at', { ascending: false });
        if (r.error) throw new Error(`naive request failed: ${r.error.message}`);
        return (r.data as { gate_name: string | null }[]).filter((x) => x.gate_name === gate).length;
      },
      reps,
    );
    await stack.query(`DROP INDEX public.${TRACE_INDEX}`);
    let withoutTraceIndex: MeasuredQuery;
    try {
      await stack.query('ANALYZE public.workflow_trace_log');
      withoutTraceIndex = await measure(stack, TRACE_TABLE, ours, reps);
    } finally {
      await stack.query(`CREATE INDEX ${TRACE_INDEX} ON public.workflow_trace_log (trace_id)`);
      await stack.query('ANALYZE public.workflow_trace_log');
    }
    if (evidence.rowsReturned < 5 || evidence.rowsReturned > MAX_EVIDENCE_ROWS)
      throw new Error(`the evidence request returned ${evidence.rowsReturned} spans for 5 traces`);
    return { spans: n, generateMs, evidence, naiveClientFilter, withoutTraceIndex };
  } finally {
    backend.dispose();
    // The other sections run on this stack: the spans go again (TRUNCATE: no 1M-row delete).
    await stack.query('TRUNCATE public.workflow_trace_log');
  }
}
