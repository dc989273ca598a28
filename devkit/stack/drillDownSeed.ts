// The drill-down demo: one SUCCEEDED run of a workspace scope whose bottlenecks lead to evidence spans
// and improvement items in every status the queue's CHECK allows, plus one bottleneck deduplicated into
// an older open item, one refused, and one past the run's item limit. Connects as the superuser.
//
// Honest about what stands in: upstream's protocol_improvement_queue (devkit/stack/sql/007_analyzer_tables.sql,
// exactly upstream's schema) refuses every row the analyzer itself inserts — its lineage trigger wants a
// source_id, and its CHECKs allow neither source_type 'TELEMETRY_AUTO_ANALYSIS', nor improvement_type
// 'PERFORMANCE_BOTTLENECK', nor target_operation 'ANALYZE'. So no analyzer-filed item can exist in this
// stack (nor in production). The items here are filed through a legal source_type ('PLAN_TO_EXEC', with a
// source_id), improvement_type and target_operation, standing in for what the analyzer would file once
// upstream's CHECKs accept it; their description and payload (run_id, dimension, dedupe_key, evidence)
// are the analyzer's own (bottleneck-analyzer.js step 5). The run's improvement_id links are what the
// analyzer records after a successful insert. The run's output_ref also keeps the analyzer's
// items_skipped_rate_limit / items_skipped_dedupe counters, which the extension does not store today.
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { Bottleneck, ITEM_REFUSAL, makeBottleneck, makeRng, sortBottlenecks, uuidFrom } from './analysisShapes';
import { evidenceSpanShape, insertSpans } from './datagen';

type Status = 'PENDING' | 'APPROVED' | 'SD_CREATED' | 'APPLIED' | 'REJECTED' | 'SUPERSEDED';
type Fate =
  { kind: 'item'; status: Status } | { kind: 'deduplicated' } | { kind: 'refused' } | { kind: 'rate-limited' };

/**
 * Each bottleneck of the run, worst first (ratio factor), and what became of its item, in the analyzer's
 * order (rate limit, then dedupe, then the insert; a refused insert does not count): as with a global
 * telemetry_thresholds row of max_per_run 6 (the default is 3), six items are filed and the last
 * bottleneck is past the limit.
 */
const PLAN: readonly { type: 'phase' | 'gate' | 'subagent'; key: string; factor: number; fate: Fate; gone?: number }[] =
  [
    { type: 'gate', key: 'GATE_PRD_REQUIRED', factor: 7.8, fate: { kind: 'item', status: 'PENDING' }, gone: 2 },
    { type: 'gate', key: 'GATE_DESIGN_REVIEW', factor: 7.1, fate: { kind: 'item', status: 'APPROVED' } },
    { type: 'phase', key: 'EXEC', factor: 6.6, fate: { kind: 'item', status: 'SD_CREATED' } },
    { type: 'subagent', key: 'TESTING', factor: 6.0, fate: { kind: 'item', status: 'APPLIED' } },
    { type: 'gate', key: 'GATE_SECURITY_SCAN', factor: 5.4, fate: { kind: 'deduplicated' } },
    { type: 'subagent', key: 'DATABASE', factor: 4.9, fate: { kind: 'item', status: 'REJECTED' } },
    { type: 'subagent', key: 'SECURITY', factor: 4.6, fate: { kind: 'refused' } },
    { type: 'phase', key: 'PLAN', factor: 4.2, fate: { kind: 'item', status: 'SUPERSEDED' } },
    { type: 'gate', key: 'GATE_RETROSPECTIVE', factor: 3.3, fate: { kind: 'rate-limited' } },
  ];

export interface DrillDownSeed {
  runId: string;
  startedAt: Date;
  /** Item id by status (the items the run's bottlenecks link to). */
  items: Record<Status, string>;
  /** The older open item GATE_SECURITY_SCAN was deduplicated into. */
  dedupeItemId: string;
  /** Bottlenecks as stored, worst first. */
  bottlenecks: Bottleneck[];
  /** Evidence trace ids that have no span (gone by retention), by dimension key. */
  gone: Record<string, string[]>;
}

/** Minutes before now the drill-down run started (older than the demo's newest runs). */
const RUN_AGO_MIN = 5 * 60;

export async function seedDrillDown(databaseUrl: string, scopeId: string, seed = 20): Promise<DrillDownSeed> {
  const rng = makeRng(seed);
  const now = Date.now();
  const startedAt = new Date(now - RUN_AGO_MIN * 60_000);
  const runId = randomUUID();
  const items = {} as Record<Status, string>;
  const dedupeItemId = uuidFrom(rng);
  const gone: Record<string, string[]> = {};
  const itemRows: Record<string, unknown>[] = [];
  const bottlenecks = sortBottlenecks(
    PLAN.map((p) => {
      const baseline = 1000 * (2 + Math.floor(rng() * 10));
      const b = makeBottleneck(rng, p.type, p.key, baseline, Math.round(baseline * p.factor));
      b.evidence_trace_ids = Array.from({ length: 5 }, () => uuidFrom(rng));
      return b;
    }),
  );
  const fateOf = (b: Bottleneck) => PLAN.find((p) => p.type === b.dimension_type && p.key === b.dimension_key)!;
  // The same gate twice in one trace: the analyzer pushes the trace id twice.
  const design = bottlenecks.find((b) => b.dimension_key === 'GATE_DESIGN_REVIEW')!;
  design.evidence_trace_ids[1] = design.evidence_trace_ids[0];
  bottlenecks.forEach((b, i) => {
    const fate = fateOf(b).fate;
    if (fate.kind === 'item') {
      const id = uuidFrom(rng);
      items[fate.status] = id;
      b.improvement_id = id;
      itemRows.push(itemRow(rng, id, b, runId, fate.status, new Date(startedAt.getTime() + 20_000 + i * 700)));
    }
  });
  // The older open item: filed 12 days before this run by an earlier one (still PENDING, so the
  // analyzer's "open item" dedupe matches it whatever the cooldown).
  const scan = bottlenecks.find((b) => b.dimension_key === 'GATE_SECURITY_SCAN')!;
  itemRows.push(
    itemRow(rng, dedupeItemId, scan, randomUUID(), 'PENDING', new Date(startedAt.getTime() - 12 * 86_400_000)),
  );
  const spans: Record<string, unknown>[] = [];
  for (const b of bottlenecks) {
    const drop = fateOf(b).gone ?? 0;
    const ids = [...new Set(b.evidence_trace_ids)];
    gone[b.dimension_key] = ids.slice(ids.length - drop);
    ids.slice(0, ids.length - drop).forEach((traceId, i) => {
      // Newest first, as the analyzer read them: minutes apart, within the hour before the run.
      const at = startedAt.getTime() - 60_000 - i * 7 * 60_000;
      spans.push(evidenceSpanShape(rng, traceId, b, at));
      if (b === design && i === 0) spans.push(evidenceSpanShape(rng, traceId, b, at - 90_000));
      // The trace's root span (no dimension column): the evidence query must filter it out.
      spans.push({
        ...evidenceSpanShape(rng, traceId, b, at + 30_000),
        phase: null,
        gate_name: null,
        subagent_name: null,
        span_name: 'workflow.execute',
        span_type: 'workflow',
        attributes: {},
      });
    });
  }
  const output = {
    bottlenecks,
    traces_scanned: 4200 + Math.floor(rng() * 3000),
    dimensions_evaluated: 12,
    items_created: Object.keys(items).length,
    items_skipped_rate_limit: bottlenecks.filter((b) => fateOf(b).fate.kind === 'rate-limited').length,
    items_skipped_dedupe: 1,
    errors: bottlenecks
      .filter((b) => fateOf(b).fate.kind === 'refused')
      .map((b) => `create_failed:${b.dimension_key}: ${ITEM_REFUSAL}`),
  };
  await insert(databaseUrl, scopeId, runId, startedAt, output, itemRows, spans);
  return { runId, startedAt, items, dedupeItemId, bottlenecks, gone };
}

function itemRow(
  rng: () => number,
  id: string,
  b: Bottleneck,
  runId: string,
  status: Status,
  createdAt: Date,
): Record<string, unknown> {
  const tag = `${b.dimension_type}:${b.dimension_key}`;
  const reviewed = status !== 'PENDING' && status !== 'SD_CREATED';
  const day = 86_400_000;
  return {
    id,
    // Stand-ins for the analyzer's TELEMETRY_AUTO_ANALYSIS / PERFORMANCE_BOTTLENECK / ANALYZE (see the header).
    source_type: 'PLAN_TO_EXEC',
    source_id: uuidFrom(rng),
    improvement_type: { gate: 'VALIDATION_RULE', phase: 'PROTOCOL_SECTION' }[b.dimension_type] ?? 'SUB_AGENT_CONFIG',
    target_table: 'workflow_trace_log',
    target_operation: 'UPDATE',
    target_phase: 'ALL',
    description:
      `Bottleneck detected: ${tag} (${b.ratio}x baseline, p50=${b.observed_p50_ms}ms vs ` +
      `baseline=${b.baseline_p50_ms}ms, ${b.sample_count} samples)`,
    evidence_count: b.evidence_trace_ids.length,
    payload: {
      source: 'telemetry_auto_analysis',
      requires_review: true,
      run_id: runId,
      dimension_type: b.dimension_type,
      dimension_key: b.dimension_key,
      ratio: b.ratio,
      baseline_p50_ms: b.baseline_p50_ms,
      observed_p50_ms: b.observed_p50_ms,
      sample_count: b.sample_count,
      exceedance_count: b.exceedance_count,
      evidence_trace_ids: b.evidence_trace_ids,
      dedupe_key: `telemetry_bottleneck:${tag}`,
    },
    status,
    created_at: createdAt.toISOString(),
    // reviewed_fields_complete: every status but PENDING / SD_CREATED carries reviewer and time.
    reviewed_at: reviewed ? new Date(createdAt.getTime() + 0.2 * day).toISOString() : null,
    reviewed_by: reviewed ? 'chairman@ehg.example' : null,
    applied_at: status === 'APPLIED' ? new Date(createdAt.getTime() + 0.25 * day).toISOString() : null,
    assigned_sd_id: status === 'SD_CREATED' ? 'SD-DEMO-041' : null,
  };
}

async function insert(
  databaseUrl: string,
  scopeId: string,
  runId: string,
  startedAt: Date,
  output: Record<string, unknown> & { bottlenecks: Bottleneck[] },
  itemRows: Record<string, unknown>[],
  spans: Record<string, unknown>[],
): Promise<void> {
  const c = new Client({ connectionString: databaseUrl });
  await c.connect();
  try {
    await c.query('BEGIN');
    const finished = new Date(startedAt.getTime() + 41_000);
    await c.query(
      `INSERT INTO public.telemetry_analysis_runs
         (run_id, scope_type, scope_id, status, triggered_by, triggered_at, started_at, finished_at, correlation_id,
          output_ref, findings_count, top_bottleneck_category, duration_ms, metadata, created_at)
       VALUES ($1, 'workspace', $2, 'SUCCEEDED', 'MANUAL', $3, $4, $5, $6, $7, $8, $9, 41000, '{"timeout_ms":120000}', $3)`,
      [
        runId,
        scopeId,
        new Date(startedAt.getTime() - 3000).toISOString(),
        startedAt.toISOString(),
        finished.toISOString(),
        randomUUID(),
        JSON.stringify(output),
        output.bottlenecks.length,
        output.bottlenecks[0].dimension_type,
      ],
    );
    await c.query(
      `INSERT INTO public.protocol_improvement_queue
         (id, source_type, source_id, improvement_type, target_table, target_operation, target_phase, description,
          evidence_count, payload, status, created_at, reviewed_at, reviewed_by, applied_at, assigned_sd_id,
          auto_applicable, risk_tier, rollback_eligible)
       SELECT id, source_type, source_id, improvement_type, target_table, target_operation, target_phase, description,
              evidence_count, payload, status, created_at, reviewed_at, reviewed_by, applied_at, assigned_sd_id,
              false, 'GOVERNED', false
       FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, source_type text, source_id uuid, improvement_type text,
            target_table text, target_operation text, target_phase text, description text, evidence_count integer,
            payload jsonb, status text, created_at timestamptz, reviewed_at timestamptz, reviewed_by text,
            applied_at timestamptz, assigned_sd_id text)`,
      [JSON.stringify(itemRows)],
    );
    await insertSpans(c, spans);
    await c.query('COMMIT');
  } catch (e) {
    await c.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally {
    await c.end();
  }
}
