// Analysis runs (table telemetry_analysis_runs): types and parsing of untrusted rows.
import { AnalyzerErrorGroup, analyzerErrorsOf } from './analyzerErrors';
import { t } from './l10n';
import { cleanMultiline, cleanText, isRecord, parseNumber, parseTimestamp } from './text';

export const RUN_STATUSES = [
  'QUEUED',
  'RUNNING',
  'SUCCEEDED',
  'FAILED',
  'TIMED_OUT',
  'CANCELLED',
  'FAILED_ENQUEUE',
] as const;
export type KnownRunStatus = (typeof RUN_STATUSES)[number];
/** A status outside the CHECK list (a newer backend, or a hand-edited row) is kept as UNKNOWN. */
export type RunStatus = KnownRunStatus | 'UNKNOWN';

export const TRIGGER_SOURCES = ['SESSION_START', 'MANUAL', 'SCHEDULED', 'CLI'] as const;
export type TriggerSource = (typeof TRIGGER_SOURCES)[number];

/** The one definition of "active" (queued or running): the data layer's filters use it too. */
export const ACTIVE_STATUSES: readonly KnownRunStatus[] = ['QUEUED', 'RUNNING'];

/** Reason codes this extension writes. */
export const REASON_DUPLICATE_SESSION_START = 'DUPLICATE_SESSION_START';
export const REASON_CANCELLED_FROM_EDITOR = 'CANCELLED_FROM_EDITOR';
/** Our run could not be claimed for execution (the backend failed): cancelled so it does not stay QUEUED. */
export const REASON_CLAIM_FAILED = 'CLAIM_FAILED';
/** Our claimed run was not started: the window that claimed it closed or reloaded first (e.g. during the CLI-hook hold). */
export const REASON_WINDOW_CLOSED = 'WINDOW_CLOSED';
export const REASON_INSUFFICIENT_DATA = 'INSUFFICIENT_DATA';

/**
 * Columns the runs list selects: plain columns only (no output_ref, no error_message, no JSON path).
 * PostgreSQL evaluates the select list for every run of the scope before it sorts them by
 * triggered_at (no contract index orders a scope's runs by it), so a JSON path here is paid for every
 * run the scope ever had: at 1M rows (about 950 runs per scope) the paths were 40 % of the query.
 */
export const RUN_LIST_COLUMNS = [
  'run_id',
  'scope_type',
  'scope_id',
  'status',
  'triggered_by',
  'triggered_at',
  'started_at',
  'finished_at',
  'findings_count',
  'top_bottleneck_category',
  'reason_code',
  'error_class',
  'duration_ms',
] as const;

/**
 * What a row also shows from the JSON columns: the run's timeout (metadata) and its worst bottleneck
 * (output_ref.bottlenecks[0]; the analyzer stores them worst first, and its dimension_type is the
 * top_bottleneck_category column). Read for the listed runs only, by run_id, and only when a run is
 * new or its status changed (see RunHeadCache).
 */
export const RUN_HEAD_COLUMNS = [
  'run_id',
  'timeout_ms:metadata->timeout_ms',
  'top_key:output_ref->bottlenecks->0->>dimension_key',
  'top_ratio:output_ref->bottlenecks->0->ratio',
] as const;

/** Both at once, for the few runs read by id (a watched run, a run just triggered). */
export const RUN_SUMMARY_COLUMNS = [...RUN_LIST_COLUMNS, ...RUN_HEAD_COLUMNS.slice(1)] as const;

/**
 * The JSON heads of runs already read, keyed by run_id and stamped with the status and finish time
 * they were read at: a run's heads change only when its status does (the finish writes output_ref).
 * Least recently used entries go past `capacity`.
 */
export class RunHeadCache {
  private readonly entries = new Map<string, { stamp: string; head: Record<string, unknown> }>();
  constructor(private readonly capacity = 1000) {}

  private static idOf(row: Record<string, unknown>): string | null {
    return typeof row.run_id === 'string' ? row.run_id : null;
  }

  private static stamp(row: Record<string, unknown>): string {
    return `${String(row.status)}|${String(row.finished_at)}`;
  }

  /** The run_ids of `rows` whose heads are not known for their current status. */
  missing(rows: readonly Record<string, unknown>[]): string[] {
    const out: string[] = [];
    for (const row of rows) {
      const id = RunHeadCache.idOf(row);
      if (id === null) continue;
      if (this.entries.get(id)?.stamp !== RunHeadCache.stamp(row)) out.push(id);
    }
    return out;
  }

  /** Stores heads read for `rows` (each head row carries its run_id). */
  store(rows: readonly Record<string, unknown>[], heads: readonly unknown[]): void {
    const byId = new Map<string, Record<string, unknown>>();
    for (const h of heads) if (isRecord(h) && typeof h.run_id === 'string') byId.set(h.run_id, h);
    for (const row of rows) {
      const id = RunHeadCache.idOf(row);
      if (id === null) continue;
      // A run the heads query did not return (deleted, or hidden by RLS since) gets empty heads, so
      // it is not asked for again until its status changes.
      this.entries.delete(id);
      this.entries.set(id, { stamp: RunHeadCache.stamp(row), head: byId.get(id) ?? {} });
    }
    for (const id of this.entries.keys()) {
      if (this.entries.size <= this.capacity) break;
      this.entries.delete(id);
    }
  }

  /** The list row with its heads merged in (the list row's own columns win). */
  merge(row: Record<string, unknown>): Record<string, unknown> {
    const id = RunHeadCache.idOf(row);
    const e = id === null ? undefined : this.entries.get(id);
    return e && e.stamp === RunHeadCache.stamp(row) ? { ...e.head, ...row } : row;
  }

  get size(): number {
    return this.entries.size;
  }
}

export interface RunSummary {
  runId: string;
  scopeType: string | null;
  scopeId: string | null;
  status: RunStatus;
  /** The status text as stored, for display when it is not one we know. */
  rawStatus: string | null;
  triggeredBy: string | null;
  triggeredAt: Date | null;
  startedAt: Date | null;
  finishedAt: Date | null;
  findingsCount: number | null;
  topBottleneckCategory: string | null;
  reasonCode: string | null;
  errorClass: string | null;
  durationMs: number | null;
  timeoutMs: number | null;
  /** The first stored bottleneck (worst, as the analyzer writes them), when the list query selected it. */
  topBottleneck?: { dimensionType: string; dimensionKey: string; ratio: number | null } | null;
}

export function parseRunStatus(value: unknown): RunStatus {
  return typeof value === 'string' && (RUN_STATUSES as readonly string[]).includes(value)
    ? (value as KnownRunStatus)
    : 'UNKNOWN';
}

export function isActive(status: RunStatus): boolean {
  return status !== 'UNKNOWN' && ACTIVE_STATUSES.includes(status);
}

/** Parses one row of the list query. Returns null for rows without a usable run_id. */
export function parseRunSummary(row: unknown): RunSummary | null {
  if (!isRecord(row)) return null;
  const runId = cleanText(row.run_id, 64);
  if (!runId) return null;
  const timeout = parseNumber(row.timeout_ms ?? (isRecord(row.metadata) ? row.metadata.timeout_ms : null));
  return {
    runId,
    scopeType: cleanText(row.scope_type, 40),
    scopeId: cleanText(row.scope_id, 1000),
    status: parseRunStatus(row.status),
    rawStatus: cleanText(row.status, 40),
    triggeredBy: cleanText(row.triggered_by, 40),
    triggeredAt: parseTimestamp(row.triggered_at),
    startedAt: parseTimestamp(row.started_at),
    finishedAt: parseTimestamp(row.finished_at),
    findingsCount: nonNegative(parseNumber(row.findings_count)),
    topBottleneckCategory: cleanText(row.top_bottleneck_category, 80),
    reasonCode: cleanText(row.reason_code, 80),
    errorClass: cleanText(row.error_class, 120),
    durationMs: nonNegative(parseNumber(row.duration_ms)),
    timeoutMs: timeout !== null && timeout > 0 ? timeout : null,
    topBottleneck: parseTopBottleneck(row),
  };
}

function parseTopBottleneck(row: Record<string, unknown>): RunSummary['topBottleneck'] {
  const key = cleanText(row.top_key, 200);
  if (!key) return null;
  return {
    dimensionType: cleanText(row.top_type, 60) ?? cleanText(row.top_bottleneck_category, 60) ?? 'unknown',
    dimensionKey: key,
    ratio: parseNumber(row.top_ratio),
  };
}

function nonNegative(n: number | null): number | null {
  return n !== null && n >= 0 ? n : null;
}

// ---- Findings (output_ref) ---------------------------------------------------------------------

export interface Bottleneck {
  dimensionType: string;
  dimensionKey: string;
  observedP50Ms: number | null;
  baselineP50Ms: number | null;
  ratio: number | null;
  sampleCount: number | null;
  exceedanceCount: number | null;
  evidenceTraceIds: string[];
  improvementId: string | null;
}

/** What expanding a run shows. */
export type RunOutcome =
  | {
      kind: 'bottlenecks';
      items: Bottleneck[];
      total: number;
      tracesScanned: number | null;
      analyzerErrors?: AnalyzerErrorGroup[];
    }
  | { kind: 'no-bottlenecks'; tracesScanned: number | null; analyzerErrors?: AnalyzerErrorGroup[] }
  | { kind: 'insufficient-data'; tracesScanned: number | null; analyzerErrors?: AnalyzerErrorGroup[] }
  | { kind: 'error'; errorClass: string | null; message: string | null }
  | { kind: 'cancelled'; reasonCode: string | null }
  | { kind: 'pending'; status: 'QUEUED' | 'RUNNING' }
  | { kind: 'unknown-status'; rawStatus: string | null }
  | { kind: 'malformed'; detail: string };

export const MAX_BOTTLENECKS_SHOWN = 5;
/** Upper bound on array elements examined in untrusted output_ref, whatever its size. */
const MAX_BOTTLENECKS_SCANNED = 1000;

export function parseBottleneck(value: unknown): Bottleneck | null {
  if (!isRecord(value)) return null;
  const dimensionType = cleanText(value.dimension_type, 60) ?? 'unknown';
  const dimensionKey = cleanText(value.dimension_key, 200) ?? 'unknown';
  const ids = Array.isArray(value.evidence_trace_ids) ? value.evidence_trace_ids.slice(0, 5) : [];
  return {
    dimensionType,
    dimensionKey,
    observedP50Ms: parseNumber(value.observed_p50_ms),
    baselineP50Ms: parseNumber(value.baseline_p50_ms),
    ratio: parseNumber(value.ratio),
    sampleCount: parseNumber(value.sample_count),
    exceedanceCount: parseNumber(value.exceedance_count),
    evidenceTraceIds: ids.map((id) => cleanText(id, 80)).filter((id): id is string => id !== null),
    improvementId: cleanText(value.improvement_id, 80),
  };
}

/** Worst first: by ratio, then observed p50 (the analyzer's order; re-applied because rows are untrusted). */
export function compareBottlenecks(a: Bottleneck, b: Bottleneck): number {
  return (
    (b.ratio ?? -Infinity) - (a.ratio ?? -Infinity) || (b.observedP50Ms ?? -Infinity) - (a.observedP50Ms ?? -Infinity)
  );
}

export interface RunDetailFields {
  status: RunStatus;
  rawStatus: string | null;
  reasonCode: string | null;
  errorClass: string | null;
  errorMessage: string | null;
  outputRef: unknown;
}

export function parseRunDetailFields(row: unknown): RunDetailFields | null {
  if (!isRecord(row)) return null;
  return {
    status: parseRunStatus(row.status),
    rawStatus: cleanText(row.status, 40),
    reasonCode: cleanText(row.reason_code, 80),
    errorClass: cleanText(row.error_class, 120),
    errorMessage: cleanMultiline(row.error_message, 4000),
    outputRef: row.output_ref,
  };
}

/** Decides what an expanded run shows, from its status, reason code, error and output_ref. */
export function describeOutcome(d: RunDetailFields): RunOutcome {
  switch (d.status) {
    case 'QUEUED':
    case 'RUNNING':
      return { kind: 'pending', status: d.status };
    case 'FAILED':
    case 'TIMED_OUT':
    case 'FAILED_ENQUEUE':
      return { kind: 'error', errorClass: d.errorClass, message: d.errorMessage };
    case 'CANCELLED':
      return { kind: 'cancelled', reasonCode: d.reasonCode };
    case 'UNKNOWN':
      return { kind: 'unknown-status', rawStatus: d.rawStatus };
    case 'SUCCEEDED':
      return describeFindings(d.outputRef, d.reasonCode);
  }
}

function describeFindings(outputRef: unknown, reasonCode: string | null): RunOutcome {
  const outcome = findingsOf(outputRef, reasonCode);
  if (outcome.kind === 'malformed') return outcome;
  // The analyzer's errors kept next to the findings (output_ref.errors), e.g. refused improvement items.
  const { groups } = analyzerErrorsOf(outputRef);
  return groups.length > 0 ? { ...outcome, analyzerErrors: groups } : outcome;
}

function findingsOf(
  outputRef: unknown,
  reasonCode: string | null,
): RunOutcome & { kind: 'bottlenecks' | 'no-bottlenecks' | 'insufficient-data' | 'malformed' } {
  const ref = isRecord(outputRef) ? outputRef : null;
  const tracesScanned = ref ? parseNumber(ref.traces_scanned) : null;
  if (reasonCode === REASON_INSUFFICIENT_DATA || tracesScanned === 0)
    return { kind: 'insufficient-data', tracesScanned };
  if (outputRef === null || outputRef === undefined) return { kind: 'no-bottlenecks', tracesScanned };
  if (!ref) return { kind: 'malformed', detail: t('output_ref is not an object') };
  const raw = ref.bottlenecks;
  if (raw === undefined || raw === null) return { kind: 'no-bottlenecks', tracesScanned };
  if (!Array.isArray(raw)) return { kind: 'malformed', detail: t('output_ref.bottlenecks is not a list') };
  const parsed = raw
    .slice(0, MAX_BOTTLENECKS_SCANNED)
    .map(parseBottleneck)
    .filter((b): b is Bottleneck => b !== null)
    .sort(compareBottlenecks);
  if (parsed.length === 0) return { kind: 'no-bottlenecks', tracesScanned };
  return { kind: 'bottlenecks', items: parsed.slice(0, MAX_BOTTLENECKS_SHOWN), total: raw.length, tracesScanned };
}

export type RunHint = 'never-started' | 'waiting-for-worker' | 'overdue';

/**
 * A QUEUED run older than the dedup window was never started: nothing executes QUEUED runs upstream
 * (the process that inserts one executes it), so it will stay QUEUED and can be cancelled. Younger
 * than that but past the warning, it may still be waiting for whatever executes it.
 */
export function runHint(run: RunSummary, now: Date, queuedWarningMs: number, dedupMs = Infinity): RunHint | null {
  if (run.status === 'QUEUED' && run.triggeredAt) {
    const age = now.getTime() - run.triggeredAt.getTime();
    if (age > dedupMs) return 'never-started';
    if (age > queuedWarningMs) return 'waiting-for-worker';
  }
  if (run.status === 'RUNNING' && run.timeoutMs !== null) {
    const start = run.startedAt ?? run.triggeredAt;
    if (start && now.getTime() - start.getTime() > run.timeoutMs) return 'overdue';
  }
  return null;
}
