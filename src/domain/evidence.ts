// A bottleneck's evidence: the workflow_trace_log spans behind its evidence_trace_ids. Pure: no
// `vscode`, no I/O. Rows are database text (untrusted): every field is bounded, single-line and typed.
//
// Upstream facts (EHG_Engineer, see the issue 20 research notes):
//  - evidence_trace_ids are the trace ids of the 5 newest spans of the dimension in the analyzer's
//    lookback, newest first: *trace* ids (one trace = one handoff execution), duplicates possible;
//  - the writer drops attributes.sd_key (an allow-list), so sd_id is the SD; sd_key only if present;
//  - workflow_trace_log is readable by the service role only (RLS): any other key gets 200 and zero
//    rows, so "needs a service-role key" is decided from the key's role, never from an empty answer;
//  - rows older than the 90-day hot window are archived and deleted: ids with no row are "gone".
import type { Bottleneck } from './run';
import type { KeyRole } from './credentials';
import { cleanText, isRecord, parseNumber, parseTimestamp } from './text';

export interface EvidenceSpan {
  traceId: string;
  spanId: string | null;
  /** workflow_trace_log.sd_id (upstream drops attributes.sd_key; it is used only if present). */
  sdId: string | null;
  /** attributes.sd_key when present, else null. */
  sdKey: string | null;
  workflowExecutionId: string | null;
  /** Bounded single line. */
  spanName: string;
  spanType: string | null;
  durationMs: number | null;
  queueWaitMs: number | null;
  createdAt: Date | null;
}

export type EvidenceAnswer =
  | {
      kind: 'spans';
      /** Newest first. */
      spans: EvidenceSpan[];
      /** Distinct valid trace ids asked for. */
      requested: number;
      /** Of those, ids with no row: gone (retention). */
      missing: number;
    }
  /** The bottleneck carries none. */
  | { kind: 'no-evidence-ids' }
  | { kind: 'unsupported-dimension'; dimensionType: string }
  /** The key's role cannot read workflow_trace_log (RLS answers 0 rows, not an error). */
  | { kind: 'needs-service-key'; role: string }
  /** Couldn't load (network, 401, 5xx, timeout…); the message says how to fix it. */
  | { kind: 'error'; message: string };

export type EvidenceColumn = 'phase' | 'gate_name' | 'subagent_name';

/** The analyzer's DIMENSION_COLUMNS. */
const DIMENSION_COLUMNS: Readonly<Record<string, EvidenceColumn>> = {
  phase: 'phase',
  gate: 'gate_name',
  subagent: 'subagent_name',
};

/** phase → 'phase', gate → 'gate_name', subagent → 'subagent_name'; anything else null. */
export function evidenceColumn(dimensionType: string): EvidenceColumn | null {
  return Object.prototype.hasOwnProperty.call(DIMENSION_COLUMNS, dimensionType)
    ? DIMENSION_COLUMNS[dimensionType]
    : null;
}

/** The columns the evidence query selects (no attributes document: only its sd_key). */
export const EVIDENCE_COLUMNS = [
  'trace_id',
  'span_id',
  'sd_id',
  'sd_key:attributes->>sd_key',
  'workflow_execution_id',
  'span_name',
  'span_type',
  'duration_ms',
  'queue_wait_ms',
  'created_at',
] as const;

/** Rows the evidence query asks for at most: 5 traces, each may hold the same gate a few times. */
export const MAX_EVIDENCE_ROWS = 50;
/** Trace ids examined per bottleneck, whatever the row holds (the analyzer stores at most 5). */
const MAX_TRACE_IDS = 20;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID.test(value);
}

/** The distinct valid trace ids (lower case, in order); anything that is not a uuid is ignored. */
export function distinctTraceIds(ids: readonly unknown[]): string[] {
  const out: string[] = [];
  for (const id of ids.slice(0, MAX_TRACE_IDS)) {
    if (!isUuid(id)) continue;
    const lower = id.toLowerCase();
    if (!out.includes(lower)) out.push(lower);
  }
  return out;
}

/** What to ask for, or the answer that needs no request. */
export type EvidencePlan =
  { kind: 'ask'; traceIds: string[]; column: EvidenceColumn; key: string } | { kind: 'answer'; answer: EvidenceAnswer };

/**
 * Decides, before any request, whether the evidence can be asked for: the bottleneck must carry
 * valid trace ids, its dimension must be one the analyzer maps to a column, and the key must be
 * able to read workflow_trace_log (service role; 'unknown' roles are asked and judged by the answer).
 */
export function planEvidence(b: Bottleneck, role: KeyRole): EvidencePlan {
  const traceIds = distinctTraceIds(b.evidenceTraceIds);
  if (traceIds.length === 0) return { kind: 'answer', answer: { kind: 'no-evidence-ids' } };
  const column = evidenceColumn(b.dimensionType);
  if (!column) return { kind: 'answer', answer: { kind: 'unsupported-dimension', dimensionType: b.dimensionType } };
  if (role === 'anon' || role === 'authenticated')
    return { kind: 'answer', answer: { kind: 'needs-service-key', role } };
  return { kind: 'ask', traceIds, column, key: b.dimensionKey };
}

/** One row of the evidence query; null when it has no valid trace id. */
export function parseEvidenceSpan(row: unknown): EvidenceSpan | null {
  if (!isRecord(row) || !isUuid(row.trace_id)) return null;
  const attributes = isRecord(row.attributes) ? row.attributes : null;
  return {
    traceId: row.trace_id.toLowerCase(),
    spanId: isUuid(row.span_id) ? row.span_id.toLowerCase() : null,
    sdId: cleanText(row.sd_id, 120) || null,
    sdKey: cleanText(row.sd_key ?? attributes?.sd_key, 120) || null,
    workflowExecutionId: cleanText(row.workflow_execution_id, 200) || null,
    spanName: cleanText(row.span_name, 200) || '—',
    spanType: cleanText(row.span_type, 60) || null,
    durationMs: nonNegative(parseNumber(row.duration_ms)),
    queueWaitMs: nonNegative(parseNumber(row.queue_wait_ms)),
    createdAt: parseTimestamp(row.created_at),
  };
}

function nonNegative(n: number | null): number | null {
  return n !== null && n >= 0 ? n : null;
}

/**
 * The answer for the rows read for `requested` (distinct valid ids): spans of those traces only,
 * newest first (no date last), at most MAX_EVIDENCE_ROWS; `missing` counts the ids with no row.
 * `role` is the key's: an 'unknown' role that got no row at all may simply not be allowed to see them.
 */
export function evidenceFromRows(
  requested: readonly string[],
  rows: readonly unknown[],
  role: KeyRole,
): EvidenceAnswer {
  const wanted = new Set(requested);
  const spans = rows
    .slice(0, MAX_EVIDENCE_ROWS * 4)
    .map(parseEvidenceSpan)
    .filter((s): s is EvidenceSpan => s !== null && wanted.has(s.traceId))
    .sort((a, b) => (b.createdAt?.getTime() ?? -Infinity) - (a.createdAt?.getTime() ?? -Infinity))
    .slice(0, MAX_EVIDENCE_ROWS);
  if (spans.length === 0 && role !== 'service_role') return { kind: 'needs-service-key', role };
  const found = new Set(spans.map((s) => s.traceId));
  return { kind: 'spans', spans, requested: wanted.size, missing: [...wanted].filter((id) => !found.has(id)).length };
}
