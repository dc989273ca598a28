// The one way a background read is scheduled in the UI: a RefreshScheduler with the shared backoff,
// stretched while the window is unfocused and (for a view's data) paused while the view is hidden.
import * as vscode from 'vscode';
import { RefreshScheduler, RefreshSchedulerOptions } from './refreshScheduler';

/** Backoff and unfocused stretching every poller shares. */
export const POLL_DEFAULTS = { unfocusedFactor: 5, backoffBaseMs: 5_000, backoffMaxMs: 5 * 60_000 } as const;

export interface PollerOptions extends Pick<RefreshSchedulerOptions, 'task' | 'maxDelayMs' | 'minIntervalMs'> {
  /** Pauses while this view is hidden. */
  view?: { readonly visible: boolean; readonly onDidChangeVisibility: vscode.Event<{ readonly visible: boolean }> };
  /** Starts disabled (enable with setEnabled). */
  enabled?: boolean;
}

export class Poller extends RefreshScheduler implements vscode.Disposable {
  private readonly listeners: vscode.Disposable[] = [];

  constructor(o: PollerOptions) {
    super({ ...POLL_DEFAULTS, task: o.task, maxDelayMs: o.maxDelayMs, minIntervalMs: o.minIntervalMs });
    if (o.enabled === false) this.setEnabled(false);
    this.setFocused(vscode.window.state.focused);
    this.listeners.push(vscode.window.onDidChangeWindowState((s) => this.setFocused(s.focused)));
    if (o.view) {
      const view = o.view;
      this.setVisible(view.visible);
      this.listeners.push(view.onDidChangeVisibility((e) => this.setVisible(e.visible)));
    }
  }

  override dispose(): void {
    super.dispose();
    for (const l of this.listeners) l.dispose();
  }
}
