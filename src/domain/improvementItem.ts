// The protocol_improvement_queue item that tracks a bottleneck, and why there is none. Pure: no
// `vscode`, no I/O. Rows and run outputs are untrusted: every field is bounded and typed.
//
// Upstream facts (EHG_Engineer lib/telemetry/bottleneck-analyzer.js step 5, see the issue 20 notes):
//  - the analyzer sets a bottleneck's improvement_id only when its insert succeeded;
//  - it skips an item (improvement_id stays null, the matched item's id is not recorded) when an item
//    for `<type>:<key>` is open (PENDING / APPROVED / IN_PROGRESS) or was created within the cooldown
//    (24 h by default); its own payload carries dedupe_key 'telemetry_bottleneck:<type>:<key>';
//  - a refused insert is `create_failed:<dimension_key>: <message>` in its errors (in production every
//    insert is refused: the lineage trigger and the CHECKs);
//  - once the run's limit is reached every later bottleneck (in ratio order) is counted in
//    items_skipped_rate_limit; a failed daily count (GUARD_UNAVAILABLE) makes the limit 0;
//  - the queue is readable by authenticated and service-role keys; anon sees zero rows.
import type { Bottleneck } from './run';
import { compareBottlenecks, parseBottleneck } from './run';
import type { KeyRole } from './credentials';
import { analyzerErrorsOf, parseAnalyzerError } from './analyzerErrors';
import { isUuid } from './evidence';
import { cleanText, isRecord, parseNumber, parseTimestamp } from './text';

/** The status CHECK of protocol_improvement_queue. */
export const ITEM_STATUSES = ['PENDING', 'APPROVED', 'SD_CREATED', 'APPLIED', 'REJECTED', 'SUPERSEDED'] as const;
/** What the analyzer's dedupe counts as open (IN_PROGRESS is not a legal status: it never matches). */
export const OPEN_ITEM_STATUSES = ['PENDING', 'APPROVED', 'IN_PROGRESS'] as const;
/** The analyzer's cooldown_hours default (telemetry_thresholds global row). */
export const DEFAULT_COOLDOWN_HOURS = 24;
/** The analyzer's source_type for its own items. */
export const ANALYZER_SOURCE_TYPE = 'TELEMETRY_AUTO_ANALYSIS';

export interface ImprovementItem {
  id: string;
  /** Raw, bounded; may be unknown (e.g. IN_PROGRESS, which the analyzer's dedupe looks for but the CHECK forbids). */
  status: string;
  knownStatus: boolean;
  description: string | null;
  sourceType: string | null;
  improvementType: string | null;
  createdAt: Date | null;
  reviewedAt: Date | null;
  reviewedBy: string | null;
  appliedAt: Date | null;
  assignedSdId: string | null;
  evidenceCount: number | null;
  /** payload.dedupe_key */
  dedupeKey: string | null;
  /** payload.run_id */
  runId: string | null;
}

export type NoItemReason = 'refused' | 'rate-limit' | 'guard-unavailable' | 'auto-create-off' | 'unknown';

export type ItemAnswer =
  /** improvement_id set, row read. */
  | { kind: 'item'; item: ImprovementItem }
  /** improvement_id null; an older open/cooldown item for the same dimension was the reason. */
  | { kind: 'deduplicated'; item: ImprovementItem }
  /** improvement_id set but no row (deleted, or hidden). */
  | { kind: 'missing'; id: string }
  | { kind: 'none'; reason: NoItemReason; detail: string | null }
  /** anon cannot read the queue. */
  | { kind: 'needs-key'; role: string }
  | { kind: 'error'; message: string };

/** Columns read for an item (no payload document: only its dedupe_key and run_id). */
export const ITEM_COLUMNS = [
  'id',
  'status',
  'description',
  'source_type',
  'improvement_type',
  'created_at',
  'reviewed_at',
  'reviewed_by',
  'applied_at',
  'assigned_sd_id',
  'evidence_count',
  'dedupe_key:payload->>dedupe_key',
  'run_id:payload->>run_id',
] as const;

/** The analyzer's payload.dedupe_key for a dimension. */
export function dedupeKeyOf(dimensionType: string, dimensionKey: string): string {
  return `telemetry_bottleneck:${dimensionType}:${dimensionKey}`;
}

/** Whether a key can read the queue at all (anon: RLS answers zero rows). */
export function canReadItems(role: KeyRole): boolean {
  return role !== 'anon';
}

export function parseImprovementItem(row: unknown): ImprovementItem | null {
  if (!isRecord(row) || !isUuid(row.id)) return null;
  const status = cleanText(row.status, 40) || '—';
  const payload = isRecord(row.payload) ? row.payload : null;
  const count = parseNumber(row.evidence_count);
  return {
    id: row.id.toLowerCase(),
    status,
    knownStatus: (ITEM_STATUSES as readonly string[]).includes(status),
    description: cleanText(row.description, 500) || null,
    sourceType: cleanText(row.source_type, 60) || null,
    improvementType: cleanText(row.improvement_type, 60) || null,
    createdAt: parseTimestamp(row.created_at),
    reviewedAt: parseTimestamp(row.reviewed_at),
    reviewedBy: cleanText(row.reviewed_by, 120) || null,
    appliedAt: parseTimestamp(row.applied_at),
    assignedSdId: cleanText(row.assigned_sd_id, 60) || null,
    evidenceCount: count !== null && count >= 0 ? Math.floor(count) : null,
    dedupeKey: cleanText(row.dedupe_key ?? payload?.dedupe_key, 300) || null,
    runId: cleanText(row.run_id ?? payload?.run_id, 64) || null,
  };
}

/** The answer for an item read by id (null: no row, deleted or hidden from this key, or no usable row). */
export function itemAnswer(id: string, item: ImprovementItem | null): ItemAnswer {
  return item ? { kind: 'item', item } : { kind: 'missing', id };
}

// ---- Why a bottleneck has no item ---------------------------------------------------------------

/** What the run's output_ref says about one bottleneck's item, besides a deduplicating item. */
export interface RunItemFacts {
  /** The database's message when the analyzer's insert for this key was refused (bounded). */
  refused: string | null;
  /** The insert never reached the database (network, timeout): its message. */
  unreachable: string | null;
  /** The bottleneck fell past the run's item limit (items_skipped_rate_limit, counted from the end). */
  rateLimited: boolean;
  /** The analyzer could not count today's items (GUARD_UNAVAILABLE): its limit was 0. */
  guardUnavailable: boolean;
  /** The run was analysed with auto-create off (output_ref.enable_auto_create === false). */
  autoCreateOff: boolean;
}

const MAX_SCANNED = 1000;

/** Reads what output_ref records about the item of bottleneck `b` (untrusted; any shape). */
export function runItemFacts(outputRef: unknown, b: Pick<Bottleneck, 'dimensionType' | 'dimensionKey'>): RunItemFacts {
  const facts: RunItemFacts = {
    refused: null,
    unreachable: null,
    rateLimited: false,
    guardUnavailable: false,
    autoCreateOff: false,
  };
  if (!isRecord(outputRef)) return facts;
  const prefix = `create_failed:${b.dimensionKey}: `;
  const { entries } = analyzerErrorsOf(outputRef);
  for (const entry of entries) {
    if (/\bGUARD_UNAVAILABLE\b/.test(entry)) facts.guardUnavailable = true;
    if (!entry.startsWith(prefix)) continue;
    const e = parseAnalyzerError(entry);
    const message = cleanText(entry.slice(prefix.length), 300) || null;
    if (e.kind === 'item-unreachable') facts.unreachable ??= message;
    else facts.refused ??= message ?? '—';
  }
  if (outputRef.guard_unavailable === true) facts.guardUnavailable = true;
  facts.autoCreateOff = outputRef.enable_auto_create === false;
  facts.rateLimited = pastRunLimit(outputRef, b);
  return facts;
}

/**
 * Once the analyzer's run limit is reached it holds for every later bottleneck, so the rate-limited
 * ones are the last items_skipped_rate_limit of the ratio-ordered list.
 */
function pastRunLimit(
  outputRef: Record<string, unknown>,
  b: Pick<Bottleneck, 'dimensionType' | 'dimensionKey'>,
): boolean {
  const skipped = parseNumber(outputRef.items_skipped_rate_limit);
  if (skipped === null || skipped < 1 || !Array.isArray(outputRef.bottlenecks)) return false;
  const list = outputRef.bottlenecks
    .slice(0, MAX_SCANNED)
    .map(parseBottleneck)
    .filter((x): x is Bottleneck => x !== null)
    .sort(compareBottlenecks);
  const at = list.findIndex((x) => x.dimensionType === b.dimensionType && x.dimensionKey === b.dimensionKey);
  return at >= 0 && at >= list.length - Math.floor(skipped);
}

/**
 * Whether the run's own output decides why there is no item, so no dedupe lookup is needed. Each of
 * these is exact when recorded, and each excludes the dedupe in the analyzer's loop: with auto-create
 * off it checks nothing, a rate-limited bottleneck is skipped before the dedupe reads, and a refused
 * insert came after them.
 */
export function decidedByRun(facts: RunItemFacts): boolean {
  return facts.refused !== null || facts.autoCreateOff || facts.rateLimited || facts.guardUnavailable;
}

/**
 * "Why no item", first match wins: what the run recorded (refused · auto-create off · guard unavailable
 * / rate limit), then the item the analyzer's dedupe would have matched, else unknown.
 */
export function resolveNoItem(facts: RunItemFacts, dedupedInto: ImprovementItem | null): ItemAnswer {
  if (facts.refused !== null) return { kind: 'none', reason: 'refused', detail: facts.refused };
  if (facts.autoCreateOff) return { kind: 'none', reason: 'auto-create-off', detail: null };
  if (facts.guardUnavailable) return { kind: 'none', reason: 'guard-unavailable', detail: null };
  if (facts.rateLimited) return { kind: 'none', reason: 'rate-limit', detail: null };
  if (dedupedInto) return { kind: 'deduplicated', item: dedupedInto };
  return { kind: 'none', reason: 'unknown', detail: facts.unreachable };
}

/**
 * Whether `item` is what the analyzer's dedupe would have matched for a run started at `startedAt`:
 * created before the run, and open (by its status now) or created within the cooldown before it.
 */
export function wouldDeduplicate(
  item: ImprovementItem,
  startedAt: Date | null,
  cooldownHours = DEFAULT_COOLDOWN_HOURS,
): boolean {
  if (startedAt === null) return (OPEN_ITEM_STATUSES as readonly string[]).includes(item.status);
  if (item.createdAt === null || item.createdAt.getTime() >= startedAt.getTime()) return false;
  return (
    (OPEN_ITEM_STATUSES as readonly string[]).includes(item.status) ||
    item.createdAt.getTime() >= startedAt.getTime() - cooldownHours * 3_600_000
  );
}

/** A `type:key` the analyzer's ILIKE pattern can be rebuilt from inside a PostgREST filter safely. */
export function safeLikeTag(dimensionType: string, dimensionKey: string): string | null {
  const safe = /^[A-Za-z0-9_.-]{1,120}$/;
  return safe.test(dimensionType) && safe.test(dimensionKey) ? `${dimensionType}:${dimensionKey}` : null;
}
