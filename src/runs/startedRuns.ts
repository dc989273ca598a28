// The runs this window started, by session start or Trigger Analysis Run. Fires onDidStart for each;
// the runs view marks it and the run watcher follows it until it ends (wired in app.ts).
import * as vscode from 'vscode';

export interface StartedRun {
  runId: string;
  /** 'user': Trigger Analysis Run (the command reads the list itself, with progress); 'session': session start. */
  by: 'user' | 'session';
}

export class StartedRuns implements vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<StartedRun>();
  /** A run was started by this window. */
  readonly onDidStart = this.emitter.event;

  add(run: StartedRun): void {
    this.emitter.fire(run);
  }

  dispose(): void {
    this.emitter.dispose();
  }
}
