// Wording for a bottleneck's drill-down: its evidence spans, its improvement item (or why it has
// none), and the read-only item document. Pure strings; the tree escapes tooltips through
// SafeMarkdown and the documents put every database value in a code span (codeSpan).
import type { EvidenceAnswer, EvidenceSpan } from './evidence';
import { formatAge, formatDuration, formatRatio } from './format';
import type { ImprovementItem, ItemAnswer } from './improvementItem';
import { t } from './l10n';
import type { Bottleneck } from './run';
import { codeSpan } from './runReport';
import { cleanText, escapeMarkdown } from './text';

/** A label/value pair for a tooltip or a document (the value is database text: escape it where shown). */
export type Field = [label: string, value: string | null];

/** One child row of an expanded bottleneck that is not a span or the item: a notice. */
export interface NoticeRow {
  text: string;
  tone: 'info' | 'warning' | 'error';
  /** What to do about it (the row's tooltip). */
  hint?: string;
}

function needsKeyHint(): string {
  return t('Configure a service-role key with "EHG Telemetry: Configure Connection…" to read them.');
}

function retryHint(): string {
  return t('Run "EHG Telemetry: Refresh" to try again.');
}

const LABEL_MAX = 160;

/** The SD (key when the span carries one, else its id) and the span name: `SD-2026-001 · gate.execute`. */
export function evidenceSpanLabel(s: EvidenceSpan): string {
  const sd = cleanText(s.sdKey, 60) ?? cleanText(s.sdId, 60) ?? t('no SD');
  const name = cleanText(s.spanName, 100) ?? t('unnamed span');
  return cleanText(t('{0} · {1}', sd, name), LABEL_MAX) ?? '';
}

/** "4.3 s · 4.8× p50 0.9 s · 5m ago": the span's duration against the run's baseline p50, and when. */
export function evidenceSpanDescription(s: EvidenceSpan, baselineP50Ms: number | null, now: Date): string {
  const parts = [formatDuration(s.durationMs)];
  if (s.durationMs !== null && baselineP50Ms !== null && baselineP50Ms > 0)
    parts.push(t('{0} p50 {1}', formatRatio(s.durationMs / baselineP50Ms), formatDuration(baselineP50Ms)));
  else if (baselineP50Ms !== null) parts.push(t('p50 {0}', formatDuration(baselineP50Ms)));
  parts.push(formatAge(s.createdAt, now));
  return parts.join(' · ');
}

/** What a span's tooltip and the documents show about it. */
export function evidenceSpanFields(s: EvidenceSpan): Field[] {
  return [
    [t('Trace ID'), cleanText(s.traceId, 80)],
    [t('Span ID'), cleanText(s.spanId, 80)],
    [t('SD key'), cleanText(s.sdKey, 120)],
    [t('SD ID'), cleanText(s.sdId, 120)],
    [t('Workflow execution'), cleanText(s.workflowExecutionId, 200)],
    [t('Span'), cleanText(s.spanName, 200)],
    [t('Span type'), cleanText(s.spanType, 60)],
    [t('Duration'), s.durationMs === null ? null : formatDuration(s.durationMs)],
    [t('Queue wait'), s.queueWaitMs === null ? t('not recorded') : formatDuration(s.queueWaitMs)],
    [t('Recorded'), s.createdAt?.toISOString() ?? null],
  ];
}

/**
 * The rows an evidence answer adds besides its spans: how many are gone, or why there are none.
 * Never "no evidence" when the truth is "couldn't load" or "this key can't read it".
 */
export function evidenceNotices(a: EvidenceAnswer): NoticeRow[] {
  switch (a.kind) {
    case 'spans': {
      const out: NoticeRow[] = [];
      if (a.missing > 0)
        out.push({
          text:
            a.missing === 1 && a.requested === 1
              ? t('The evidence span is gone (retention)')
              : t('{0} of {1} evidence spans are gone (retention)', a.missing, a.requested),
          tone: 'warning',
          hint: t('Spans older than the hot window (about 90 days) are moved out of workflow_trace_log.'),
        });
      if (a.spans.length === 0 && a.missing < a.requested)
        out.push({ text: t('The evidence traces hold no span of this bottleneck'), tone: 'info' });
      return out;
    }
    case 'no-evidence-ids':
      return [{ text: t('The analyzer recorded no evidence traces for this bottleneck'), tone: 'info' }];
    case 'unsupported-dimension':
      return [
        {
          text: t(
            'No evidence for "{0}" bottlenecks: spans are recorded for phases, gates and sub-agents',
            cleanText(a.dimensionType, 60) ?? '',
          ),
          tone: 'info',
        },
      ];
    case 'needs-service-key':
      return [
        {
          text: t(
            'Needs a key that can read traces (service role); this key is {0}',
            cleanText(a.role, 40) ?? t('unknown'),
          ),
          tone: 'warning',
          hint: needsKeyHint(),
        },
      ];
    case 'error':
      return [
        {
          text: t("Couldn't load evidence: {0}", cleanText(a.message, 300) ?? t('no message')),
          tone: 'error',
          hint: retryHint(),
        },
      ];
  }
}

/** An item's status as the table's CHECK names it; one it does not allow is said so. */
export function itemStatusText(item: Pick<ImprovementItem, 'status' | 'knownStatus'>): string {
  const status = cleanText(item.status, 40) ?? '';
  return item.knownStatus ? status : t('{0} (not a status the table allows)', status);
}

function shortId(id: string): string {
  return cleanText(id, 80)?.slice(0, 8) ?? '';
}

/** "created 3d ago · reviewed by alice 2d ago · applied 1d ago · SD SD-X" (parts omitted when unknown). */
export function itemDescription(item: ImprovementItem, now: Date): string {
  const parts = [t('created {0}', formatAge(item.createdAt, now))];
  const by = cleanText(item.reviewedBy, 60);
  if (by || item.reviewedAt)
    parts.push(
      by
        ? item.reviewedAt
          ? t('reviewed by {0} {1}', by, formatAge(item.reviewedAt, now))
          : t('reviewed by {0}', by)
        : t('reviewed {0}', formatAge(item.reviewedAt, now)),
    );
  if (item.appliedAt) parts.push(t('applied {0}', formatAge(item.appliedAt, now)));
  const sd = cleanText(item.assignedSdId, 50);
  if (sd) parts.push(t('SD {0}', sd));
  return parts.join(' · ');
}

/** Every field of an item, for its tooltip and its document. */
export function itemFields(item: ImprovementItem): Field[] {
  return [
    [t('Item ID'), cleanText(item.id, 80)],
    [t('Status'), itemStatusText(item)],
    [t('Description'), cleanText(item.description, 500)],
    [t('Source type'), cleanText(item.sourceType, 80)],
    [t('Improvement type'), cleanText(item.improvementType, 80)],
    [t('Created'), item.createdAt?.toISOString() ?? null],
    [t('Reviewed'), item.reviewedAt?.toISOString() ?? null],
    [t('Reviewed by'), cleanText(item.reviewedBy, 120)],
    [t('Applied'), item.appliedAt?.toISOString() ?? null],
    [t('Assigned SD'), cleanText(item.assignedSdId, 80)],
    [t('Evidence count'), item.evidenceCount === null ? null : String(item.evidenceCount)],
    [t('Dedupe key'), cleanText(item.dedupeKey, 200)],
    [t('Created by run'), cleanText(item.runId, 80)],
  ];
}

/** The item row of an expanded bottleneck; `itemId` when Show Improvement Item applies to it. */
export interface ItemRow {
  label: string;
  description: string;
  tone: 'item' | 'info' | 'warning' | 'error';
  itemId?: string;
  fields: Field[];
  /** What to do about it, or what it means (the tooltip of a row without fields). */
  hint?: string;
}

export function itemRow(a: ItemAnswer, now: Date): ItemRow {
  switch (a.kind) {
    case 'item':
      return {
        label: t('Improvement item {0}', itemStatusText(a.item)),
        description: itemDescription(a.item, now),
        tone: 'item',
        itemId: a.item.id,
        fields: itemFields(a.item),
      };
    case 'deduplicated':
      return {
        label: t('Deduplicated into item {0} ({1})', shortId(a.item.id), itemStatusText(a.item)),
        description: itemDescription(a.item, now),
        tone: 'item',
        itemId: a.item.id,
        fields: itemFields(a.item),
      };
    case 'missing':
      return {
        label: t('Improvement item {0} is gone (deleted, or hidden from this key)', shortId(a.id)),
        description: '',
        tone: 'warning',
        fields: [[t('Item ID'), cleanText(a.id, 80)]],
      };
    case 'none':
      return noItemRow(a.reason, cleanText(a.detail, 300));
    case 'needs-key':
      return {
        label: t('Needs a key that can read improvement items; this key is {0}', cleanText(a.role, 40) ?? t('unknown')),
        description: '',
        tone: 'warning',
        fields: [],
        hint: t(
          'Configure an authenticated or service-role key with "EHG Telemetry: Configure Connection…" to read them.',
        ),
      };
    case 'error':
      return {
        label: t("Couldn't load the improvement item: {0}", cleanText(a.message, 300) ?? t('no message')),
        description: '',
        tone: 'error',
        fields: [],
        hint: retryHint(),
      };
  }
}

function noItemRow(reason: Extract<ItemAnswer, { kind: 'none' }>['reason'], detail: string | null): ItemRow {
  const label = {
    refused: t('No improvement item: the database refused it'),
    'rate-limit': t('No improvement item: the per-run or per-day limit was reached'),
    'guard-unavailable': t('No improvement item: the rate-limit check was unavailable'),
    'auto-create-off': t('No improvement item: auto-create is off'),
    unknown: t('No improvement item recorded (this run did not store why)'),
  }[reason];
  const hint = {
    refused: t(
      "The table's CHECK constraints or triggers refused the analyzer's insert; the detail is the database's message.",
    ),
    'rate-limit': t(
      'The analyzer files at most max_per_run items per run and max_per_day per day (telemetry_thresholds).',
    ),
    'guard-unavailable': t("The analyzer could not count today's items, so it created none."),
    'auto-create-off': t(
      'enable_auto_create is off in telemetry_thresholds, or the run was started with auto-create off.',
    ),
    unknown: t('The analyzer keeps no reason on the run; no earlier item for this bottleneck was found.'),
  }[reason];
  return {
    label,
    description: detail ?? '',
    tone: reason === 'refused' ? 'error' : 'info',
    fields: detail ? [[t('Detail'), detail]] : [],
    hint,
  };
}

/** The read-only "Show Improvement Item" document. Every database value is a code span. */
export function renderItemDocument(a: ItemAnswer, requestedId: string, now: Date): string {
  const lines = [t('# Improvement item {0}', codeSpan(cleanText(requestedId, 80) ?? '')), ''];
  if (a.kind === 'item' || a.kind === 'deduplicated') {
    lines.push(t('Status: {0}, {1}', codeSpan(itemStatusText(a.item)), codeSpan(itemDescription(a.item, now))), '');
    lines.push(...fieldLines(itemFields(a.item)), '');
    lines.push(t('Table: {0}', codeSpan('protocol_improvement_queue')), '');
  } else {
    const row = itemRow(a, now);
    lines.push(codeSpan(row.label), '');
    if (row.description) lines.push(codeSpan(row.description), '');
    if (row.hint) lines.push(escapeMarkdown(row.hint), '');
  }
  return lines.join('\n');
}

/** "- **Label:** `value`" lines (— for a missing value). */
export function fieldLines(fields: readonly Field[]): string[] {
  return fields.map(([label, value]) =>
    t('- **{0}:** {1}', label, value === null || value === '' ? '—' : codeSpan(value)),
  );
}

/** A bottleneck's drill-down in Show Run Details: its evidence and its item, as Markdown lines. */
export function drillDownLines(b: Bottleneck, evidence: EvidenceAnswer, item: ItemAnswer, now: Date): string[] {
  const lines = [t('### {0}', codeSpan(`${b.dimensionType}:${b.dimensionKey}`)), ''];
  if (evidence.kind === 'spans')
    for (const s of evidence.spans)
      lines.push(
        t('- {0} — {1}', codeSpan(evidenceSpanLabel(s)), codeSpan(evidenceSpanDescription(s, b.baselineP50Ms, now))),
        t('  - trace {0}, workflow execution {1}', codeSpan(s.traceId), codeSpan(s.workflowExecutionId ?? '—')),
      );
  // Each notice with what to do about it (which key, Refresh): the hint, escaped like the rest.
  for (const n of evidenceNotices(evidence))
    lines.push(n.hint ? `- ${codeSpan(n.text)} ${escapeMarkdown(n.hint)}` : `- ${codeSpan(n.text)}`);
  const row = itemRow(item, now);
  lines.push(
    row.description
      ? t('- Item: {0} — {1}', codeSpan(row.label), codeSpan(row.description))
      : t('- Item: {0}', codeSpan(row.label)),
  );
  if (row.hint) lines.push(`  - ${escapeMarkdown(row.hint)}`);
  lines.push('');
  return lines;
}
