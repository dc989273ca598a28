// Labels for runs and findings. Pure strings; escaping for Markdown happens where Markdown is built.
import { formatAge, formatDuration, formatRatio, plural } from './format';
import { Bottleneck, RunHint, RunOutcome, RunSummary } from './run';
import { cleanText } from './text';

export function statusLabel(run: Pick<RunSummary, 'status' | 'rawStatus'>): string {
  switch (run.status) {
    case 'QUEUED': return 'Queued';
    case 'RUNNING': return 'Running';
    case 'SUCCEEDED': return 'Succeeded';
    case 'FAILED': return 'Failed';
    case 'TIMED_OUT': return 'Timed out';
    case 'CANCELLED': return 'Cancelled';
    case 'FAILED_ENQUEUE': return 'Enqueue failed';
    case 'UNKNOWN': return `Unknown status (${run.rawStatus ?? 'empty'})`;
  }
}

export function triggerLabel(triggeredBy: string | null): string {
  switch (triggeredBy) {
    case 'SESSION_START': return 'session start';
    case 'MANUAL': return 'manual';
    case 'SCHEDULED': return 'scheduled';
    case 'CLI': return 'CLI';
    case null: return 'unknown trigger';
    default: return triggeredBy;
  }
}

/**
 * Tree label: "5m ago · session start". The status is the row's icon (and its accessible name), so
 * the label stays short enough for the description (the bottleneck category) to be seen in a
 * normal-width side bar. A status the extension does not know is spelled out.
 */
export function runLabel(run: RunSummary, now: Date): string {
  const head = run.status === 'UNKNOWN' ? `${statusLabel(run)} · ` : '';
  return `${head}${formatAge(run.triggeredAt, now)} · ${triggerLabel(run.triggeredBy)}`;
}

/** Tree description: "gate · 3 findings · 1m 12s" (parts omitted when unknown). */
export function runDescription(run: RunSummary, hint: string | null): string {
  const parts: string[] = [];
  if (run.topBottleneckCategory) parts.push(run.topBottleneckCategory);
  if (run.status === 'SUCCEEDED' && run.findingsCount !== null) parts.push(plural(run.findingsCount, 'finding'));
  if ((run.status === 'FAILED' || run.status === 'TIMED_OUT' || run.status === 'FAILED_ENQUEUE') && run.errorClass) parts.push(run.errorClass);
  if (run.durationMs !== null) parts.push(formatDuration(run.durationMs));
  if (hint) parts.push(hint);
  return parts.join(' · ');
}

export function hintLabel(hint: RunHint | null): string | null {
  if (hint === 'never-started') return 'never started';
  if (hint === 'waiting-for-worker') return 'waiting for a worker';
  if (hint === 'overdue') return 'overdue';
  return null;
}

/** "3.2× gate:GATE_PRD_REQUIRED — p50 45.0 s vs 12.0 s" */
export function bottleneckLabel(b: Bottleneck): string {
  return `${formatRatio(b.ratio)} ${b.dimensionType}:${b.dimensionKey} — p50 ${formatDuration(b.observedP50Ms)} vs ${formatDuration(b.baselineP50Ms)}`;
}

/** One line per child row of an expanded run. */
export function outcomeLines(outcome: RunOutcome): string[] {
  switch (outcome.kind) {
    case 'bottlenecks': {
      const lines = outcome.items.map(bottleneckLabel);
      if (outcome.total > outcome.items.length) lines.push(`… and ${outcome.total - outcome.items.length} more (Show Run Details)`);
      return lines;
    }
    case 'no-bottlenecks':
      return [`No bottlenecks${outcome.tracesScanned !== null ? ` (${plural(outcome.tracesScanned, 'trace')} scanned)` : ''}`];
    case 'insufficient-data':
      return ['Insufficient data: no traces to analyse yet'];
    case 'error':
      return [`${outcome.errorClass ?? 'Error'}: ${cleanText(outcome.message, 300) ?? 'no message recorded'}`];
    case 'cancelled':
      return [`Cancelled${outcome.reasonCode ? ` (${outcome.reasonCode})` : ''}`];
    case 'pending':
      return [outcome.status === 'QUEUED' ? 'Queued: waiting for a worker to pick it up' : 'Running: findings appear when it finishes'];
    case 'unknown-status':
      return [`Unknown status "${outcome.rawStatus ?? ''}": this extension may be older than the backend`];
    case 'malformed':
      return [`Findings could not be read: ${outcome.detail}`];
  }
}
