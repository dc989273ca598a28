// Malformed and hostile rows, written straight into the database as a compromised or buggy writer
// could: Markdown command links and HTML in every text field, unknown statuses and breaker states,
// nulls in every nullable column, 10,000-character strings and a 1 MB output_ref. Used by the
// in-host fault suite (tree items and documents) and by the browser security tests (rendered hovers).
// No `vscode` import: the runner loads this file too.
import { randomUUID } from 'crypto';

export const LINK = '[x](command:workbench.action.quit)';
export const IMG = '<img src=x onerror=alert(1)>';
export const ANCHOR = '<a href="command:workbench.action.quit">open</a>';
/** Every kind of active markup at once, plus a theme icon and an entity. */
export const HOSTILE = `${LINK} ${IMG} ${ANCHOR} $(alert) **b** &amp; ![i](https://example.invalid/x.png)`;
/** A 10,000-character string that starts with the hostile markup. */
export const LONG = `${HOSTILE} ${'long '.repeat(2_000)}`.slice(0, 10_000);

const KNOWN_STATUSES = "'QUEUED','RUNNING','SUCCEEDED','FAILED','TIMED_OUT','CANCELLED','FAILED_ENQUEUE'";
const KNOWN_TRIGGERS = "'SESSION_START','MANUAL','SCHEDULED','CLI'";

export type Query = (text: string, params?: unknown[]) => Promise<unknown[]>;

export interface HostileRuns {
  /** SUCCEEDED, hostile markup in every text field and in its bottlenecks. */
  markup: string;
  /** A status and a trigger outside the CHECK lists, with markup. */
  unknownStatus: string;
  /** Every nullable column null (still in the workspace scope). */
  nulls: string;
  /** Every nullable column null, scope_id too (a global run: only under All Scopes). */
  globalNulls: string;
  /** 10,000 characters in every text column. */
  long: string;
  /** A scope_id of 10,000 characters (only under All Scopes). */
  longScope: string;
  /** SUCCEEDED with an output_ref over 1 MB. */
  hugeOutput: string;
  all: string[];
}

/**
 * Inserts the hostile runs for `scope`. The status and trigger CHECK constraints are dropped for the
 * insert and put back NOT VALID (enforced for new rows, the hostile rows tolerated) until
 * removeHostileRuns() deletes them and validates the constraints again.
 */
export async function insertHostileRuns(
  query: Query,
  scope: string,
  newestAt = "now() + interval '2 minutes'",
): Promise<HostileRuns> {
  const ids = {
    markup: randomUUID(),
    unknownStatus: randomUUID(),
    nulls: randomUUID(),
    globalNulls: randomUUID(),
    long: randomUUID(),
    longScope: randomUUID(),
    hugeOutput: randomUUID(),
  };
  const bottleneck = {
    dimension_type: HOSTILE,
    dimension_key: HOSTILE,
    observed_p50_ms: HOSTILE,
    baseline_p50_ms: null,
    ratio: 'NaN',
    sample_count: -1,
    exceedance_count: null,
    evidence_trace_ids: [HOSTILE],
    improvement_id: HOSTILE,
  };
  await query(
    'alter table telemetry_analysis_runs drop constraint if exists telemetry_analysis_runs_status_check, drop constraint if exists telemetry_analysis_runs_triggered_by_check',
  );
  try {
    await query(
      `insert into telemetry_analysis_runs (run_id, scope_type, scope_id, status, triggered_by, triggered_at, started_at, finished_at, duration_ms, findings_count, top_bottleneck_category, reason_code, error_class, error_message, correlation_id, output_ref, metadata)
       values ($1, 'workspace', $2, 'SUCCEEDED', 'CLI', ${newestAt}, now(), now(), 1234, 3, $3, $3, $3, $4, $3, $5, $6)`,
      [
        ids.markup,
        scope,
        HOSTILE,
        `${HOSTILE}\n${HOSTILE}\n\`\`\`\n${HOSTILE}`,
        JSON.stringify({
          bottlenecks: [bottleneck, { ...bottleneck, ratio: 99 }],
          traces_scanned: HOSTILE,
          items_created: HOSTILE,
        }),
        JSON.stringify({ timeout_ms: HOSTILE, note: HOSTILE }),
      ],
    );
    await query(
      `insert into telemetry_analysis_runs (run_id, scope_type, scope_id, status, triggered_by, triggered_at, error_message, top_bottleneck_category)
       values ($1, 'workspace', $2, $3, $4, ${newestAt} - interval '1 second', $5, $5)`,
      [ids.unknownStatus, scope, `EXPLODED ${LINK}`, `ROBOT ${IMG}`, HOSTILE],
    );
    await query(
      `insert into telemetry_analysis_runs (run_id, scope_type, scope_id, status, triggered_by, triggered_at, started_at, finished_at, correlation_id, output_ref, findings_count, top_bottleneck_category, reason_code, error_class, error_message, duration_ms, metadata)
       values ($1, 'workspace', $2, 'SUCCEEDED', 'CLI', ${newestAt} - interval '2 seconds', null, null, null, null, null, null, null, null, null, null, null),
              ($3, 'workspace', null, 'FAILED', 'CLI', ${newestAt} - interval '3 seconds', null, null, null, null, null, null, null, null, null, null, null)`,
      [ids.nulls, scope, ids.globalNulls],
    );
    await query(
      `insert into telemetry_analysis_runs (run_id, scope_type, scope_id, status, triggered_by, triggered_at, started_at, finished_at, duration_ms, findings_count, top_bottleneck_category, reason_code, error_class, error_message, correlation_id, output_ref, metadata)
       values ($1, 'workspace', $2, $3, $3, ${newestAt} - interval '4 seconds', now(), now(), 2147483647, 2147483647, $3, $3, $3, $3, $3, $4, $5),
              ($6, 'workspace', $3, 'FAILED', 'CLI', ${newestAt} - interval '5 seconds', now(), now(), 1, 0, null, null, $3, $3, null, null, null)`,
      [
        ids.long,
        scope,
        LONG,
        JSON.stringify({ bottlenecks: [{ ...bottleneck, dimension_type: LONG, dimension_key: LONG }], note: LONG }),
        JSON.stringify({ timeout_ms: LONG }),
        ids.longScope,
      ],
    );
    // ~1.1 MB: 1,500 bottlenecks of ~650 bytes and 100 kB of padding.
    await query(
      `insert into telemetry_analysis_runs (run_id, scope_type, scope_id, status, triggered_by, triggered_at, started_at, finished_at, duration_ms, findings_count, top_bottleneck_category, output_ref)
       values ($1, 'workspace', $2, 'SUCCEEDED', 'SCHEDULED', ${newestAt} - interval '6 seconds', now(), now(), 5000, 1500, 'gate',
         jsonb_build_object(
           'bottlenecks', (select jsonb_agg(jsonb_build_object('dimension_type', 'gate', 'dimension_key', 'K' || i || repeat('x', 560), 'observed_p50_ms', 1000 + i, 'baseline_p50_ms', 500,
                             'ratio', 3.0 - i / 1000.0, 'sample_count', 3, 'exceedance_count', 1, 'evidence_trace_ids', jsonb_build_array('t1', 't2'), 'improvement_id', null) order by i)
                           from generate_series(1, 1500) i),
           'pad', repeat('p', 100000), 'traces_scanned', 1, 'dimensions_evaluated', 1, 'items_created', 0))`,
      [ids.hugeOutput, scope],
    );
  } finally {
    await query(
      `alter table telemetry_analysis_runs
         add constraint telemetry_analysis_runs_status_check check (status = any (array[${KNOWN_STATUSES}])) not valid,
         add constraint telemetry_analysis_runs_triggered_by_check check (triggered_by = any (array[${KNOWN_TRIGGERS}])) not valid`,
    );
  }
  return { ...ids, all: Object.values(ids) };
}

/** Deletes the hostile runs and validates the CHECK constraints again. */
export async function removeHostileRuns(query: Query, runs: HostileRuns | undefined): Promise<void> {
  if (runs) await query('delete from telemetry_analysis_runs where run_id = any($1::uuid[])', [runs.all]);
  await query(
    'alter table telemetry_analysis_runs validate constraint telemetry_analysis_runs_status_check, validate constraint telemetry_analysis_runs_triggered_by_check',
  );
}

/** Puts hostile values into the heartbeat row (call with the scheduler simulator silenced). */
export async function writeHostileHeartbeat(query: Query): Promise<void> {
  await query(
    `update eva_scheduler_heartbeat set circuit_breaker_state = $1, paused_reason = $2, instance_id = $3, last_poll_at = now(), next_poll_at = now() + interval '1 hour',
       metadata = jsonb_build_object('observe_only', $2::text, 'build_provenance', jsonb_build_object('git_sha', $2::text, 'node_version', $3::text, 'stamped_at', $2::text)), updated_at = now()
     where id = 1`,
    [`MELTED ${LINK}`, HOSTILE, LONG],
  );
}

/** Nulls in every nullable heartbeat column. */
export async function writeNullHeartbeat(query: Query): Promise<void> {
  await query(
    'update eva_scheduler_heartbeat set last_poll_at = null, next_poll_at = null, circuit_breaker_state = null, paused_reason = null, metadata = null, updated_at = now() where id = 1',
  );
}
