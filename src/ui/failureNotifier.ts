// At most one pop-up per failure episode. An episode starts with the first failed request and ends
// with the next successful one; everything in between goes to the log and the view/status bar.
import * as vscode from 'vscode';
import type { BackendError } from '../data/backend';
import type { Log } from '../platform/log';

export class FailureNotifier {
  private inEpisode = false;
  private shown = 0;

  constructor(private readonly log: Log) {}

  get notificationsShown(): number { return this.shown; }
  get failing(): boolean { return this.inEpisode; }

  failure(source: string, error: BackendError): void {
    if (error.kind === 'cancelled') return;
    this.log.warn(`${source}: ${error.message}${error.code ? ` [${error.code}]` : ''}`);
    if (this.inEpisode) return;
    this.inEpisode = true;
    this.shown++;
    void vscode.window.showWarningMessage(`EHG Telemetry: ${error.message}`, 'Configure…', 'Show Log').then((choice) => {
      if (choice === 'Configure…') void vscode.commands.executeCommand('ehgTelemetry.configureConnection');
      else if (choice === 'Show Log') this.log.show();
    });
  }

  success(): void {
    if (!this.inEpisode) return;
    this.inEpisode = false;
    this.log.info('Backend reachable again.');
  }
}
