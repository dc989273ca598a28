// Labels for runs and findings. Pure strings; escaping for Markdown happens where Markdown is built.
import { AnalyzerErrorGroup, Refusal } from './analyzerErrors';
import { findingsText, formatAge, formatDuration, formatRatio, tracesText } from './format';
import { t } from './l10n';
import { Bottleneck, isActive, REASON_INSUFFICIENT_DATA, RunHint, RunOutcome, RunSummary } from './run';
import { cleanText } from './text';

export function statusLabel(run: Pick<RunSummary, 'status' | 'rawStatus'>): string {
  switch (run.status) {
    case 'QUEUED':
      return t('Queued');
    case 'RUNNING':
      return t('Running');
    case 'SUCCEEDED':
      return t('Succeeded');
    case 'FAILED':
      return t('Failed');
    case 'TIMED_OUT':
      return t('Timed out');
    case 'CANCELLED':
      return t('Cancelled');
    case 'FAILED_ENQUEUE':
      return t('Enqueue failed');
    case 'UNKNOWN':
      return run.rawStatus === null ? t('Unknown status (empty)') : t('Unknown status ({0})', run.rawStatus);
  }
}

export function triggerLabel(triggeredBy: string | null): string {
  switch (triggeredBy) {
    case 'SESSION_START':
      return t('session start');
    case 'MANUAL':
      return t('manual');
    case 'SCHEDULED':
      return t('scheduled');
    case 'CLI':
      return 'CLI';
    case null:
      return t('unknown trigger');
    default:
      return triggeredBy;
  }
}

/**
 * Tree label: what the run found, so that it is what a normal-width side bar shows in full:
 * `gate:GATE_PRD_REQUIRED 3.2×` for a run with findings, `Running · 1m 12s` for an active one,
 * `Failed: DatabaseError`, `No bottlenecks`, `Insufficient data`. The status is also the row's
 * icon (and its accessible name). Age, trigger and counts are in the description.
 */
export function runLabel(run: RunSummary, now: Date): string {
  switch (run.status) {
    case 'QUEUED':
    case 'RUNNING': {
      const since = run.status === 'RUNNING' ? (run.startedAt ?? run.triggeredAt) : run.triggeredAt;
      const elapsed = since ? Math.max(0, now.getTime() - since.getTime()) : null;
      return elapsed === null ? statusLabel(run) : t('{0} · {1}', statusLabel(run), formatDuration(elapsed));
    }
    case 'FAILED':
    case 'TIMED_OUT':
    case 'FAILED_ENQUEUE':
      return run.errorClass ? t('{0}: {1}', statusLabel(run), run.errorClass) : statusLabel(run);
    case 'SUCCEEDED': {
      const top = run.topBottleneck;
      if (top) return `${top.dimensionType}:${top.dimensionKey} ${formatRatio(top.ratio)}`;
      if (run.reasonCode === REASON_INSUFFICIENT_DATA) return t('Insufficient data');
      if (run.topBottleneckCategory) return run.topBottleneckCategory;
      return run.findingsCount === 0 || run.findingsCount === null
        ? t('No bottlenecks')
        : findingsText(run.findingsCount);
    }
    case 'CANCELLED':
    case 'UNKNOWN':
      return statusLabel(run);
  }
}

/** Tree description: "5m ago · session start · 3 findings · 1m 12s" (parts omitted when unknown). */
export function runDescription(run: RunSummary, hint: string | null, now?: Date): string {
  const parts: string[] = [];
  if (now) parts.push(formatAge(run.triggeredAt, now), triggerLabel(run.triggeredBy));
  // Without a top bottleneck in the label, the category is said here.
  if (run.topBottleneckCategory && !(run.status === 'SUCCEEDED' && run.topBottleneck))
    parts.push(run.topBottleneckCategory);
  if (run.status === 'SUCCEEDED' && run.findingsCount !== null && run.findingsCount > 0)
    parts.push(findingsText(run.findingsCount));
  if (run.durationMs !== null && !isActive(run.status)) parts.push(formatDuration(run.durationMs));
  if (hint) parts.push(hint);
  return parts.join(' · ');
}

export function hintLabel(hint: RunHint | null): string | null {
  if (hint === 'never-started') return t('never started');
  if (hint === 'waiting-for-worker') return t('waiting for a worker');
  if (hint === 'overdue') return t('overdue');
  return null;
}

/** "3.2× gate:GATE_PRD_REQUIRED — p50 45.0 s vs 12.0 s" */
export function bottleneckLabel(b: Bottleneck): string {
  return t(
    '{0} {1}:{2} — p50 {3} vs {4}',
    formatRatio(b.ratio),
    b.dimensionType,
    b.dimensionKey,
    formatDuration(b.observedP50Ms),
    formatDuration(b.baselineP50Ms),
  );
}

/** One line per child row of an expanded run. */
export function outcomeLines(outcome: RunOutcome): string[] {
  switch (outcome.kind) {
    case 'bottlenecks': {
      const lines = outcome.items.map(bottleneckLabel);
      if (outcome.total > outcome.items.length)
        lines.push(t('… and {0} more (Show Run Details)', outcome.total - outcome.items.length));
      return lines;
    }
    case 'no-bottlenecks':
      return [
        outcome.tracesScanned !== null
          ? t('No bottlenecks ({0} scanned)', tracesText(outcome.tracesScanned))
          : t('No bottlenecks'),
      ];
    case 'insufficient-data':
      return [t('Insufficient data: no traces to analyse yet')];
    case 'error':
      return [errorLine(outcome.errorClass, outcome.message)];
    case 'cancelled':
      return [outcome.reasonCode ? t('Cancelled ({0})', outcome.reasonCode) : t('Cancelled')];
    case 'pending':
      return [
        outcome.status === 'QUEUED'
          ? t('Queued: waiting for a worker to pick it up')
          : t('Running: findings appear when it finishes'),
      ];
    case 'unknown-status':
      return [t('Unknown status "{0}": this extension may be older than the backend', outcome.rawStatus ?? '')];
    case 'malformed':
      return [t('Findings could not be read: {0}', outcome.detail)];
  }
}

/**
 * "db_connection_error: connect ECONNREFUSED …": the class once. The analyzer's own messages already
 * start with their class (`db_connection_error: …`), so it is not put in front a second time.
 */
export function errorLine(errorClass: string | null, message: string | null): string {
  const text = cleanText(message, 300);
  if (text === null) return t('{0}: {1}', errorClass ?? t('Error'), t('no message recorded'));
  if (errorClass && text.toLowerCase().startsWith(`${errorClass.toLowerCase()}:`)) return text;
  return t('{0}: {1}', errorClass ?? t('Error'), text);
}

function refusalText(r: Refusal): string {
  switch (r.kind) {
    case 'check':
      return t('check constraint {0}', r.constraint);
    case 'not-null':
      return t('column {0} must not be null', r.column);
    case 'unique':
      return t('unique constraint {0}', r.constraint);
    case 'foreign-key':
      return t('foreign key {0}', r.constraint);
    case 'row-level-security':
      return t('row-level security');
    case 'permission':
      return t('permission denied');
    case 'message':
      return r.text;
  }
}

/** One line per group of the analyzer's errors kept on the run (output_ref.errors). */
export function analyzerErrorLines(groups: readonly AnalyzerErrorGroup[] | undefined): string[] {
  return (groups ?? []).map((g) => {
    switch (g.kind) {
      case 'items-refused':
        return g.count === 1
          ? t('An improvement item could not be created: the database refused it ({0})', refusalText(g.refusal))
          : t(
              '{0} improvement items could not be created: the database refused them ({1})',
              g.count,
              refusalText(g.refusal),
            );
      case 'items-unreachable':
        return g.count === 1
          ? t('An improvement item could not be created: the database was not reached ({0})', g.message)
          : t('{0} improvement items could not be created: the database was not reached ({1})', g.count, g.message);
      case 'trace-read':
        return t('The analyzer could not read traces: {0}', g.message);
      case 'other': {
        const text = g.code ? `${g.code}: ${g.message}` : g.message;
        return g.count === 1 ? t('Analyzer error: {0}', text) : t('{0} analyzer errors: {1}', g.count, text);
      }
      case 'more':
        return t('… and {0} more analyzer errors (Show Run Details)', g.count);
      case 'not-stored':
        return t('… and {0} more analyzer errors, not stored', g.count);
    }
  });
}
