// The notification shown once when a run this window started has finished: how many findings, the
// worst, and which bottlenecks are new since the previous SUCCEEDED run of the scope. Pure, so its
// wording is table-tested; the UI only shows it (src/ui/runWatcher.ts).
import { findingsText, formatRatio } from './format';
import { t } from './l10n';
import type { RunSummary } from './run';
import { BottleneckChange, newBottlenecks, RunComparison } from './runComparison';
import { cleanText, notificationText } from './text';

/** At most this many new bottlenecks are named; the rest are counted ("… and 2 more"). */
export const MAX_NAMED_NEW = 3;

export type FinishedRun = Pick<RunSummary, 'status' | 'findingsCount' | 'topBottleneckCategory' | 'errorClass'>;

/** Whether a finished run of this window is worth a notification: findings, a failure or a timeout. */
export function wantsCompletionNotice(run: Pick<RunSummary, 'status' | 'findingsCount'>): boolean {
  return (
    (run.status === 'SUCCEEDED' && (run.findingsCount ?? 0) > 0) ||
    run.status === 'FAILED' ||
    run.status === 'TIMED_OUT'
  );
}

/** "gate:GATE_X 3.2×, phase:LEAD 2.0×" (at most MAX_NAMED_NEW, then "… and N more"). Plain text. */
export function newBottlenecksText(changes: readonly BottleneckChange[]): string {
  const names = changes
    .slice(0, MAX_NAMED_NEW)
    .map((c) => `${plain(`${c.dimensionType}:${c.dimensionKey}`, 120)} ${formatRatio(c.ratioNow)}`)
    .join(', ');
  return changes.length > MAX_NAMED_NEW ? t('{0} and {1} more', names, changes.length - MAX_NAMED_NEW) : names;
}

/**
 * The completion notification's text. `comparison` is the comparison with the previous run (null
 * when it is unknown: not compared, or the request failed): then nothing is said about what is new.
 * A first run of its scope ({ kind: 'first' }) has nothing to be new against, so nothing is said either.
 */
export function completionMessage(run: FinishedRun, comparison: RunComparison | null): string {
  const errorClass = run.errorClass ? plain(run.errorClass, 120) : null;
  if (run.status === 'TIMED_OUT')
    return errorClass
      ? t('EHG Telemetry: analysis run timed out ({0}).', errorClass)
      : t('EHG Telemetry: analysis run timed out.');
  if (run.status !== 'SUCCEEDED')
    return errorClass
      ? t('EHG Telemetry: analysis run failed ({0}).', errorClass)
      : t('EHG Telemetry: analysis run failed.');
  const findings = findingsText(run.findingsCount ?? 0);
  const worst = run.topBottleneckCategory ? plain(run.topBottleneckCategory, 80) : null;
  const compared = comparison?.kind === 'compared' ? comparison : null;
  const fresh = compared ? newBottlenecks(compared) : [];
  if (!compared)
    return worst
      ? t('EHG Telemetry: analysis finished with {0} (worst: {1}).', findings, worst)
      : t('EHG Telemetry: analysis finished with {0}.', findings);
  if (fresh.length === 0)
    return worst
      ? t(
          'EHG Telemetry: analysis finished with {0} (worst: {1}); no new bottlenecks since the previous run.',
          findings,
          worst,
        )
      : t('EHG Telemetry: analysis finished with {0}; no new bottlenecks since the previous run.', findings);
  const names = newBottlenecksText(fresh);
  return worst
    ? t(
        'EHG Telemetry: analysis finished with {0} (worst: {1}); new since the previous run: {2}.',
        findings,
        worst,
        names,
      )
    : t('EHG Telemetry: analysis finished with {0}; new since the previous run: {1}.', findings, names);
}

/** Database text as one bounded line that a notification shows as it is (no link). */
function plain(text: string, max: number): string {
  return notificationText(cleanText(text, max) ?? '');
}
