// The runs this window started, by session start or Trigger Analysis Run: marked in the tree and
// watched until they finish; the list is read again when one is added or ends.
import * as vscode from 'vscode';
import type { AnalysisRunner } from './analysisRunner';
import type { RunsView } from './runsView';
import type { RunWatcher } from './runWatcher';

export class StartedRuns implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[];

  constructor(
    private readonly view: RunsView,
    private readonly watcher: RunWatcher,
    analysis: AnalysisRunner,
  ) {
    this.disposables = [
      // A run this window executed has ended: the watcher looks now instead of at its next poll.
      analysis.onDidEndRun(() => {
        watcher.checkNow();
        void view.refreshIfVisible();
      }),
      watcher.onDidFinish(() => void view.refreshNow()),
    ];
  }

  /**
   * Resolves when the list has been read again: always, with the view's progress, for a run the user
   * started (Trigger); only while the view is visible for one started in the background.
   */
  add(runId: string, refresh: 'with-progress' | 'if-visible'): Promise<void> {
    this.view.tree.mine.add(runId);
    this.watcher.watch(runId);
    return refresh === 'with-progress' ? Promise.resolve(this.view.refresh()) : this.view.refreshIfVisible();
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
