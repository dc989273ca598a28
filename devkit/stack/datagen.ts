// Data generator: many realistic runs in one INSERT … SELECT FROM generate_series (deterministic for
// a seed), and a small hand-made demo seed for one workspace scope. Connects as the superuser.
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { Bottleneck, DimensionType, makeAnalysis, makeRng, uuidFrom } from './analysisShapes';

export interface GenerateOptions {
  rows?: number; // default 100_000, up to 1_000_000
  scopes?: number; // default 1_000
  seed?: number; // default 42
  globalShare?: number; // share with scope_id NULL, default 0.02
  activeShare?: number; // share QUEUED/RUNNING, default 0.002
  scopePrefix?: string; // default '/home/dev/projects/project-'
  days?: number; // triggered_at spread over this many days, default 90
}

export function scopeIdFor(i: number, prefix = '/home/dev/projects/project-'): string {
  return `${prefix}${String(i).padStart(4, '0')}`;
}

/** Inserts `rows` runs; returns how many and how long it took. */
export async function generateRuns(
  databaseUrl: string,
  o: GenerateOptions = {},
): Promise<{ rows: number; ms: number }> {
  const rows = Math.min(o.rows ?? 100_000, 1_000_000);
  const scopes = Math.max(1, o.scopes ?? 1000);
  const seed = o.seed ?? 42;
  const t0 = Date.now();
  const c = new Client({ connectionString: databaseUrl });
  await c.connect();
  try {
    await c.query('SELECT setseed($1)', [((seed % 1000) / 1000) * 2 - 1]);
    // s.r1 decides the status, s.r2 the scope, s.r3 the category, s.r4 timing.
    const r = await c.query(
      `WITH s AS (
         SELECT g, random() AS r1, random() AS r2, random() AS r3, random() AS r4,
                now() - make_interval(secs => random() * $3::double precision * 86400) AS trig
         FROM generate_series(1, $1::integer) AS g
       ), k AS (
         SELECT s.*,
           CASE
             WHEN r1 < $5::double precision / 2 THEN 'QUEUED'
             WHEN r1 < $5::double precision THEN 'RUNNING'
             WHEN r1 < 0.80 THEN 'SUCCEEDED'
             WHEN r1 < 0.89 THEN 'FAILED'
             WHEN r1 < 0.94 THEN 'TIMED_OUT'
             WHEN r1 < 0.985 THEN 'CANCELLED'
             ELSE 'FAILED_ENQUEUE'
           END AS st,
           -- The analyzer's three dimensions only (bottleneck-analyzer.js DIMENSION_COLUMNS), each with its own keys.
           (ARRAY['phase','gate','subagent'])[1 + floor(r3 * 3)::int] AS cat,
           floor(r4 * 4)::int AS ki,
           (1000 + floor(r4 * 120000))::int AS dur
         FROM s
       ), k2 AS (
         SELECT k.*,
           CASE cat WHEN 'phase' THEN (ARRAY['LEAD','PLAN','EXEC','LEAD_FINAL'])[1 + ki]
                    WHEN 'gate' THEN (ARRAY['GATE_PRD_REQUIRED','GATE_DESIGN_REVIEW','GATE_SECURITY_SCAN','GATE_RETROSPECTIVE'])[1 + ki]
                    ELSE (ARRAY['DESIGN','DATABASE','TESTING','SECURITY'])[1 + ki] END AS dkey,
           -- ratio >= the default threshold 3.0, to 2 decimals as the analyzer's Math.round(x * 100) / 100 does (double precision, halves up)
           round((12000 * (3 + r3 * 3))::numeric) AS observed,
           (3 + floor(r4 * 100))::int AS samples
         FROM k
       )
       INSERT INTO public.telemetry_analysis_runs
         (run_id, scope_type, scope_id, status, triggered_by, triggered_at, started_at, finished_at, correlation_id,
          output_ref, findings_count, top_bottleneck_category, reason_code, error_class, error_message, duration_ms, metadata, created_at, updated_at)
       SELECT
         md5($6::text || ':' || g)::uuid,
         CASE WHEN r2 < $4::double precision THEN (CASE WHEN r2 < $4::double precision / 2 THEN 'global' ELSE 'workspace' END)
              WHEN r2 > 0.97 THEN 'user' ELSE 'workspace' END,
         CASE WHEN r2 < $4::double precision THEN NULL ELSE $7::text || lpad((g % $2::integer)::text, 4, '0') END,
         st,
         (ARRAY['SESSION_START','SESSION_START','SESSION_START','MANUAL','SCHEDULED','CLI'])[1 + floor(r3 * 6)::int],
         trig,
         CASE WHEN st IN ('QUEUED','FAILED_ENQUEUE') THEN NULL ELSE trig + make_interval(secs => 1 + r4 * 5) END,
         CASE WHEN st IN ('QUEUED','RUNNING') THEN NULL
              WHEN st = 'FAILED_ENQUEUE' THEN trig
              ELSE trig + make_interval(secs => 1 + r4 * 5) + make_interval(secs => dur / 1000.0) END,
         md5('c' || $6::text || ':' || g)::uuid::text,
         CASE WHEN st = 'SUCCEEDED' AND r3 >= 0.1 THEN jsonb_build_object(
                'bottlenecks', jsonb_build_array(jsonb_build_object(
                  'dimension_type', cat, 'dimension_key', dkey, 'dimension_name', dkey,
                  'observed_p50_ms', observed, 'p50_ms', observed, 'baseline_p50_ms', 12000, 'baseline_ms', 12000,
                  'ratio', floor(observed::float8 / 12000 * 100 + 0.5) / 100, 'sample_count', samples,
                  'exceedance_count', greatest(3, ceil(samples / 2.0)::int),
                  'first_seen_at', NULL, 'last_seen_at', NULL,
                  'evidence_trace_ids', (SELECT jsonb_agg(md5('t' || g || ':' || i)::uuid) FROM generate_series(1, least(5, samples)) AS i),
                  'improvement_id', NULL)),
                'traces_scanned', 50 + floor(r4 * 3000), 'dimensions_evaluated', 12, 'items_created', 0)
              WHEN st = 'SUCCEEDED' THEN jsonb_build_object('bottlenecks', '[]'::jsonb, 'traces_scanned', 0, 'dimensions_evaluated', 0, 'items_created', 0)
              ELSE NULL END,
         CASE WHEN st = 'SUCCEEDED' AND r3 >= 0.1 THEN 1 WHEN st IN ('SUCCEEDED') THEN 0 ELSE 0 END,
         CASE WHEN st = 'SUCCEEDED' AND r3 >= 0.1 THEN cat ELSE NULL END,
         CASE WHEN st = 'SUCCEEDED' AND r3 < 0.1 THEN 'INSUFFICIENT_DATA' WHEN st = 'CANCELLED' THEN 'USER_CANCELLED' ELSE NULL END,
         CASE WHEN st = 'FAILED' THEN 'DatabaseError' WHEN st = 'TIMED_OUT' THEN 'TimeoutError' WHEN st = 'FAILED_ENQUEUE' THEN 'EnqueueError' ELSE NULL END,
         CASE WHEN st = 'FAILED' THEN 'connect ECONNREFUSED (password=***)' WHEN st = 'TIMED_OUT' THEN 'TIMEOUT'
              WHEN st = 'FAILED_ENQUEUE' THEN 'insert failed: could not reach database' ELSE NULL END,
         CASE WHEN st IN ('SUCCEEDED','FAILED','TIMED_OUT') THEN dur ELSE NULL END,
         jsonb_build_object('timeout_ms', 120000, 'generated', true),
         trig,
         trig
       FROM k2`,
      [
        rows,
        scopes,
        o.days ?? 90,
        o.globalShare ?? 0.02,
        o.activeShare ?? 0.002,
        String(seed),
        o.scopePrefix ?? '/home/dev/projects/project-',
      ],
    );
    await c.query('ANALYZE public.telemetry_analysis_runs');
    return { rows: r.rowCount ?? 0, ms: Date.now() - t0 };
  } finally {
    await c.end();
  }
}

/**
 * A dozen-odd runs for one workspace scope covering every status, with top bottleneck categories
 * phase / gate / subagent (the analyzer's only dimensions), plus one global run. Findings are what
 * the analyzer can write (analysisShapes.ts makeAnalysis): one bottleneck per key, ratio >= 3 to two
 * decimals, worst first, at most 5 evidence ids; every improvement item refused by the database as in
 * production (improvement_id null, `create_failed` errors kept by the extension; the oldest run is the
 * hook's, which drops them). Returns the run_ids by label.
 */
export async function seedDemoScope(databaseUrl: string, scopeId: string, seed = 7): Promise<Record<string, string>> {
  const rng = makeRng(seed);
  const now = Date.now();
  const min = 60_000;
  const ids: Record<string, string> = {};
  type Row = Record<string, unknown>;
  const rows: Row[] = [];
  const base = (label: string, agoMin: number, extra: Row): void => {
    const run_id = randomUUID();
    ids[label] = run_id;
    const triggered = new Date(now - agoMin * min);
    rows.push({
      run_id,
      scope_type: 'workspace',
      scope_id: scopeId,
      triggered_by: 'SESSION_START',
      triggered_at: triggered.toISOString(),
      correlation_id: randomUUID(),
      metadata: { timeout_ms: 120000 },
      ...extra,
    });
  };
  const done = (agoMin: number, durMs: number) => {
    const started = new Date(now - agoMin * min + 3000);
    return {
      started_at: started.toISOString(),
      finished_at: new Date(started.getTime() + durMs).toISOString(),
      duration_ms: durMs,
    };
  };
  const success = (label: string, agoMin: number, category: DimensionType, n: number, keepErrors = true) => {
    const out = makeAnalysis(rng, n, category, keepErrors);
    base(label, agoMin, {
      status: 'SUCCEEDED',
      ...done(agoMin, 20_000 + Math.floor(rng() * 60_000)),
      output_ref: out,
      findings_count: out.bottlenecks.length,
      top_bottleneck_category: out.bottlenecks[0]?.dimension_type ?? null,
    });
  };
  success('succeeded_phase', 60 * 24 * 9, 'phase', 3, false);
  success('succeeded_gate', 60 * 24 * 6, 'gate', 5);
  success('succeeded_subagent', 60 * 24 * 3, 'subagent', 2);
  success('succeeded_phase_recent', 60 * 30, 'phase', 4);
  success('succeeded_gate_recent', 90, 'gate', 7);
  base('succeeded_no_findings', 60 * 24 * 2, {
    status: 'SUCCEEDED',
    ...done(60 * 24 * 2, 15_000),
    output_ref: { bottlenecks: [], traces_scanned: 812, dimensions_evaluated: 12, items_created: 0 },
    findings_count: 0,
    top_bottleneck_category: null,
  });
  base('insufficient_data', 60 * 24 * 4, {
    status: 'SUCCEEDED',
    ...done(60 * 24 * 4, 4_000),
    output_ref: { bottlenecks: [], traces_scanned: 0, dimensions_evaluated: 0, items_created: 0 },
    findings_count: 0,
    top_bottleneck_category: null,
    reason_code: 'INSUFFICIENT_DATA',
  });
  base('failed', 60 * 24 * 5, {
    status: 'FAILED',
    ...done(60 * 24 * 5, 9_000),
    error_class: 'DatabaseError',
    error_message: 'connect ECONNREFUSED 10.0.4.12:5432 (host=db.internal user=analyzer password=***)',
  });
  // The hook's timeout (auto-trigger.js: Promise.race with new Error('TIMEOUT')).
  base('timed_out', 60 * 24 * 7, {
    status: 'TIMED_OUT',
    ...done(60 * 24 * 7, 120_000),
    error_class: 'TimeoutError',
    error_message: 'TIMEOUT',
  });
  // The analyzer's trace read failed (its errors: ['db_connection_error: …'], 0 traces): the extension
  // writes FAILED with that error where the hook would write SUCCEEDED + INSUFFICIENT_DATA.
  base('failed_trace_read', 60 * 24 * 1, {
    status: 'FAILED',
    ...done(60 * 24 * 1, 2_000),
    error_class: 'db_connection_error',
    error_message:
      'db_connection_error: fetchAllPaginated: page at offset 0 failed: canceling statement due to statement timeout',
  });
  base('cancelled', 60 * 24 * 8, {
    status: 'CANCELLED',
    finished_at: new Date(now - (60 * 24 * 8 - 1) * min).toISOString(),
    reason_code: 'USER_CANCELLED',
    triggered_by: 'MANUAL',
  });
  base('failed_enqueue', 60 * 24 * 10, {
    status: 'FAILED_ENQUEUE',
    finished_at: new Date(now - 60 * 24 * 10 * min).toISOString(),
    error_class: 'EnqueueError',
    error_message: 'insert failed: could not reach database',
  });
  base('running_overdue', 25, {
    status: 'RUNNING',
    started_at: new Date(now - 24 * min).toISOString(),
    triggered_by: 'CLI',
  });
  base('queued', 0.2, { status: 'QUEUED', triggered_by: 'MANUAL' });
  const globalOut = makeAnalysis(rng, 2, 'phase');
  base('global_succeeded', 60 * 24 * 12, {
    scope_type: 'global',
    scope_id: null,
    triggered_by: 'SCHEDULED',
    status: 'SUCCEEDED',
    ...done(60 * 24 * 12, 44_000),
    output_ref: globalOut,
    findings_count: globalOut.bottlenecks.length,
    top_bottleneck_category: globalOut.bottlenecks[0]?.dimension_type ?? null,
  });

  const c = new Client({ connectionString: databaseUrl });
  await c.connect();
  try {
    await c.query(
      `INSERT INTO public.telemetry_analysis_runs
         (run_id, scope_type, scope_id, status, triggered_by, triggered_at, started_at, finished_at, correlation_id, output_ref,
          findings_count, top_bottleneck_category, reason_code, error_class, error_message, duration_ms, metadata, created_at)
       SELECT run_id, scope_type, scope_id, status, triggered_by, triggered_at, started_at, finished_at, correlation_id, output_ref,
              coalesce(findings_count, 0), top_bottleneck_category, reason_code, error_class, error_message, duration_ms, metadata, triggered_at
       FROM jsonb_to_recordset($1::jsonb) AS x(run_id uuid, scope_type text, scope_id text, status text, triggered_by text,
            triggered_at timestamptz, started_at timestamptz, finished_at timestamptz, correlation_id text, output_ref jsonb,
            findings_count integer, top_bottleneck_category text, reason_code text, error_class text, error_message text,
            duration_ms integer, metadata jsonb)`,
      [JSON.stringify(rows)],
    );
    // The evidence behind the findings: a span per evidence trace id, in that run's lookback day
    // (created before the run started), of the bottleneck's dimension and about its observed p50.
    await insertSpans(c, evidenceSpans(rows, rng));
  } finally {
    await c.end();
  }
  return ids;
}

/** Inserts spans (one JSON record each: ids, names, duration_ms, created_at…); start/end come from created_at and the duration. */
export async function insertSpans(c: Client, spans: readonly Record<string, unknown>[]): Promise<void> {
  await c.query(
    `INSERT INTO public.workflow_trace_log
       (trace_id, span_id, workflow_execution_id, sd_id, phase, gate_name, subagent_name, span_name, span_type,
        start_time_ms, end_time_ms, duration_ms, queue_wait_ms, attributes, created_at)
     SELECT trace_id, span_id, workflow_execution_id, sd_id, phase, gate_name, subagent_name, span_name, span_type,
          (extract(epoch FROM created_at) * 1000)::bigint - duration_ms, (extract(epoch FROM created_at) * 1000)::bigint,
          duration_ms, queue_wait_ms, attributes, created_at
     FROM jsonb_to_recordset($1::jsonb) AS x(trace_id uuid, span_id uuid, workflow_execution_id text, sd_id text, phase text,
        gate_name text, subagent_name text, span_name text, span_type text, duration_ms bigint, queue_wait_ms bigint,
        attributes jsonb, created_at timestamptz)`,
    [JSON.stringify(spans)],
  );
}

/**
 * Spans whose trace ids are the demo runs' evidence_trace_ids. Few (at most 5 per bottleneck) and in
 * each run's own lookback, so an analysis of today's traces (generateTraces) still finds only its slow keys.
 * Shaped as upstream's writers shape them (see evidenceSpanShape).
 */
function evidenceSpans(rows: Record<string, unknown>[], rng: () => number): Record<string, unknown>[] {
  const spans: Record<string, unknown>[] = [];
  for (const row of rows) {
    const out = row.output_ref as { bottlenecks?: Bottleneck[] } | undefined;
    const startedAt = Date.parse(String(row.started_at ?? row.triggered_at));
    for (const b of out?.bottlenecks ?? []) {
      for (const traceId of b.evidence_trace_ids) {
        const createdAt = startedAt - 60_000 - Math.floor(rng() * 22 * 3_600_000);
        spans.push(evidenceSpanShape(rng, traceId, b, createdAt));
      }
    }
  }
  return spans;
}

/** The handoff types whose executors write spans (EHG_Engineer scripts/modules/handoff/executors/*). */
export const HANDOFF_TYPES = [
  'LEAD-TO-PLAN',
  'PLAN-TO-EXEC',
  'EXEC-TO-PLAN',
  'PLAN-TO-LEAD',
  'LEAD-FINAL-APPROVAL',
] as const;

/**
 * One span of a bottleneck's dimension in trace `traceId`, as upstream writes it: workflow_execution_id
 * `<HANDOFF-TYPE>-<sd_id>-<ms>` (BaseExecutor.js), sd_id from the trace context; a gate span is
 * `gate.execute` / `gate` with attributes gate_name, gate_runner_class, result (ValidationOrchestrator.js);
 * attributes.sd_key is never stored (the writer's allow-list drops it), queue_wait_ms stays NULL (no
 * writer gives a pickup time). Upstream writes no phase or subagent column: those spans are the demo's
 * (phase: a `step.executeSpecific` / `phase` span; subagent: `subagent.execute` / `subagent`).
 */
export function evidenceSpanShape(
  rng: () => number,
  traceId: string,
  b: Pick<Bottleneck, 'dimension_type' | 'dimension_key' | 'observed_p50_ms'>,
  createdAtMs: number,
): Record<string, unknown> {
  const column = { phase: 'phase', gate: 'gate_name', subagent: 'subagent_name' } as Record<string, string>;
  const sd = `SD-DEMO-${String(1 + Math.floor(rng() * 40)).padStart(3, '0')}`;
  const handoff = HANDOFF_TYPES[Math.floor(rng() * HANDOFF_TYPES.length)];
  const duration = Math.round(b.observed_p50_ms * (0.7 + rng() * 0.6));
  const names: Record<string, [string, string]> = {
    gate: ['gate.execute', 'gate'],
    phase: ['step.executeSpecific', 'phase'],
    subagent: ['subagent.execute', 'subagent'],
  };
  const [spanName, spanType] = names[b.dimension_type] ?? [`${b.dimension_type}.execute`, b.dimension_type];
  return {
    trace_id: traceId,
    span_id: uuidFrom(rng),
    workflow_execution_id: `${handoff}-${sd}-${createdAtMs - duration - 5_000}`,
    sd_id: sd,
    [column[b.dimension_type]]: b.dimension_key,
    span_name: spanName,
    span_type: spanType,
    duration_ms: duration,
    queue_wait_ms: null,
    attributes:
      b.dimension_type === 'gate'
        ? {
            gate_name: b.dimension_key,
            gate_runner_class: 'ValidationOrchestrator',
            result: rng() < 0.8 ? 'passed' : 'failed',
          }
        : { step_name: spanName },
    created_at: new Date(createdAtMs).toISOString(),
  };
}

export interface TraceOptions {
  /** Spans over the baseline window (default 3,000: past PostgREST's 1,000 max-rows, so the analyzer pages). */
  spans?: number;
  /** Baseline window in days (default 7); the slow spans fall in the last day (the analyzer's lookback). */
  days?: number;
  /** Keys that are slow in the last day, `type:key` (default one phase, one gate, one subagent). */
  slow?: readonly string[];
  /** How much slower (default 5×). */
  slowFactor?: number;
  seed?: number;
}

export const DEFAULT_SLOW_KEYS = ['phase:EXEC', 'gate:GATE_PRD_REQUIRED', 'subagent:TESTING'] as const;

/**
 * Fills workflow_trace_log with spans of phases, gates and subagents over the baseline window,
 * in which the `slow` ones take `slowFactor` times their usual duration during the last day, so the
 * analyzer (the workspace's own, or the fixture's stand-in) finds exactly those as bottlenecks.
 */
export async function generateTraces(
  databaseUrl: string,
  o: TraceOptions = {},
): Promise<{ spans: number; ms: number }> {
  const t0 = Date.now();
  const spans = o.spans ?? 3000;
  const slow = [...(o.slow ?? DEFAULT_SLOW_KEYS)];
  const c = new Client({ connectionString: databaseUrl });
  await c.connect();
  try {
    await c.query('SELECT setseed($1)', [(((o.seed ?? 11) % 1000) / 1000) * 2 - 1]);
    const r = await c.query(
      `WITH s AS (
         SELECT g, random() AS r1, random() AS r2, random() AS r3,
                now() - make_interval(secs => random() * $2::double precision * 86400) AS at
         FROM generate_series(1, $1::integer) AS g
       ), k AS (
         SELECT s.*,
           (ARRAY['phase','gate','subagent'])[1 + floor(r1 * 3)::int] AS dtype,
           floor(r2 * 4)::int AS ki
         FROM s
       ), n AS (
         SELECT k.*,
           CASE dtype WHEN 'phase' THEN (ARRAY['LEAD','PLAN','EXEC','LEAD_FINAL'])[1 + ki]
                      WHEN 'gate' THEN (ARRAY['GATE_PRD_REQUIRED','GATE_DESIGN_REVIEW','GATE_SECURITY_SCAN','GATE_RETROSPECTIVE'])[1 + ki]
                      ELSE (ARRAY['DESIGN','DATABASE','TESTING','SECURITY'])[1 + ki] END AS dkey,
           (4000 + ki * 6000)::double precision AS base_ms
         FROM k
       )
       INSERT INTO public.workflow_trace_log
         (trace_id, span_id, workflow_execution_id, sd_id, phase, gate_name, subagent_name, span_name, span_type,
          start_time_ms, end_time_ms, duration_ms, created_at)
       SELECT md5('trace' || g)::uuid, md5('span' || g)::uuid, 'wf-' || (g % 200), 'SD-DEMO-' || lpad((g % 40)::text, 3, '0'),
              CASE WHEN dtype = 'phase' THEN dkey END, CASE WHEN dtype = 'gate' THEN dkey END, CASE WHEN dtype = 'subagent' THEN dkey END,
              dtype || ':' || dkey, dtype,
              (extract(epoch FROM at) * 1000)::bigint,
              (extract(epoch FROM at) * 1000)::bigint + dur, dur, at
       FROM (
         SELECT n.*, round(base_ms * (0.8 + r3 * 0.4)
                  * CASE WHEN at > now() - interval '1 day' AND (dtype || ':' || dkey) = ANY($3::text[]) THEN $4::double precision ELSE 1 END)::bigint AS dur
         FROM n
       ) x`,
      [spans, o.days ?? 7, slow, o.slowFactor ?? 5],
    );
    return { spans: r.rowCount ?? 0, ms: Date.now() - t0 };
  } finally {
    await c.end();
  }
}
