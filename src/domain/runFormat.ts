// Labels for runs and findings. Pure strings; escaping for Markdown happens where Markdown is built.
import { formatAge, formatDuration, formatRatio, plural } from './format';
import { Bottleneck, isActive, REASON_INSUFFICIENT_DATA, RunHint, RunOutcome, RunSummary } from './run';
import { cleanText } from './text';

export function statusLabel(run: Pick<RunSummary, 'status' | 'rawStatus'>): string {
  switch (run.status) {
    case 'QUEUED':
      return 'Queued';
    case 'RUNNING':
      return 'Running';
    case 'SUCCEEDED':
      return 'Succeeded';
    case 'FAILED':
      return 'Failed';
    case 'TIMED_OUT':
      return 'Timed out';
    case 'CANCELLED':
      return 'Cancelled';
    case 'FAILED_ENQUEUE':
      return 'Enqueue failed';
    case 'UNKNOWN':
      return `Unknown status (${run.rawStatus ?? 'empty'})`;
  }
}

export function triggerLabel(triggeredBy: string | null): string {
  switch (triggeredBy) {
    case 'SESSION_START':
      return 'session start';
    case 'MANUAL':
      return 'manual';
    case 'SCHEDULED':
      return 'scheduled';
    case 'CLI':
      return 'CLI';
    case null:
      return 'unknown trigger';
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
      return elapsed === null ? statusLabel(run) : `${statusLabel(run)} · ${formatDuration(elapsed)}`;
    }
    case 'FAILED':
    case 'TIMED_OUT':
    case 'FAILED_ENQUEUE':
      return run.errorClass ? `${statusLabel(run)}: ${run.errorClass}` : statusLabel(run);
    case 'SUCCEEDED': {
      const top = run.topBottleneck;
      if (top) return `${top.dimensionType}:${top.dimensionKey} ${formatRatio(top.ratio)}`;
      if (run.reasonCode === REASON_INSUFFICIENT_DATA) return 'Insufficient data';
      if (run.topBottleneckCategory) return run.topBottleneckCategory;
      return run.findingsCount === 0 || run.findingsCount === null
        ? 'No bottlenecks'
        : plural(run.findingsCount, 'finding');
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
    parts.push(plural(run.findingsCount, 'finding'));
  if (run.durationMs !== null && !isActive(run.status)) parts.push(formatDuration(run.durationMs));
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
      if (outcome.total > outcome.items.length)
        lines.push(`… and ${outcome.total - outcome.items.length} more (Show Run Details)`);
      return lines;
    }
    case 'no-bottlenecks':
      return [
        `No bottlenecks${outcome.tracesScanned !== null ? ` (${plural(outcome.tracesScanned, 'trace')} scanned)` : ''}`,
      ];
    case 'insufficient-data':
      return ['Insufficient data: no traces to analyse yet'];
    case 'error':
      return [`${outcome.errorClass ?? 'Error'}: ${cleanText(outcome.message, 300) ?? 'no message recorded'}`];
    case 'cancelled':
      return [`Cancelled${outcome.reasonCode ? ` (${outcome.reasonCode})` : ''}`];
    case 'pending':
      return [
        outcome.status === 'QUEUED'
          ? 'Queued: waiting for a worker to pick it up'
          : 'Running: findings appear when it finishes',
      ];
    case 'unknown-status':
      return [`Unknown status "${outcome.rawStatus ?? ''}": this extension may be older than the backend`];
    case 'malformed':
      return [`Findings could not be read: ${outcome.detail}`];
  }
}
