// Tells the user once when a run this window started has finished with findings, failed or timed
// out (the run watcher fires onDidFinish), naming what is new since the previous run.
import * as vscode from 'vscode';
import { completionMessage } from '../domain/completionMessage';
import type { RunComparison } from '../domain/runComparison';
import type { RunSummary } from '../domain/run';
import type { ConnectionManager } from '../platform/connection';
import { RunComparisons } from '../runs/runComparisons';
import type { NotificationPrefs } from './notificationPrefs';
import './l10n';

export function notifyCompletions(
  finished: vscode.Event<RunSummary>,
  connection: ConnectionManager,
  comparisons: RunComparisons,
  prefs: NotificationPrefs,
): vscode.Disposable {
  /** The comparison with the previous run, for naming the new bottlenecks (null when none or it failed). */
  const newSincePrevious = async (run: RunSummary): Promise<RunComparison | null> => {
    if (!RunComparisons.comparable(run)) return null;
    const res = await comparisons.compare(run);
    return res.ok ? res.comparison : null;
  };
  const tell = async (run: RunSummary): Promise<void> => {
    const wanted =
      (run.status === 'SUCCEEDED' && (run.findingsCount ?? 0) > 0) ||
      run.status === 'FAILED' ||
      run.status === 'TIMED_OUT';
    if (!wanted || !connection.snapshot.settings.notifyOnCompletion) return;
    const kind = run.status === 'SUCCEEDED' ? 'runFinished' : 'runFailed';
    if (prefs.isMuted(kind)) return;
    const since = run.status === 'SUCCEEDED' ? await newSincePrevious(run) : null;
    const text = completionMessage(run, since);
    const showLabel = vscode.l10n.t('Show');
    const choice = await prefs.show(kind, run.status === 'SUCCEEDED' ? 'info' : 'warning', text, showLabel);
    if (choice === showLabel) void vscode.commands.executeCommand('ehgTelemetry.showRunDetails', { runId: run.runId });
  };
  return finished((run) => void tell(run));
}
