// At most one pop-up per failure episode. An episode starts with the first failed request and ends
// with the next successful one; everything in between goes to the log and the view/status bar.
import * as vscode from 'vscode';
import type { BackendError } from '../data/backend';
import type { FailureReporter } from '../platform/failures';
import type { Log } from '../platform/log';
import type { NotificationPrefs } from './notificationPrefs';
import { warn } from './notify';

export class FailureNotifier implements FailureReporter {
  private inEpisode = false;

  constructor(
    private readonly log: Log,
    private readonly prefs?: NotificationPrefs,
  ) {}

  get failing(): boolean {
    return this.inEpisode;
  }

  failure(source: string, error: BackendError): void {
    if (error.kind === 'cancelled') return;
    this.log.warn(`${source}: ${error.message}${error.code ? ` [${error.code}]` : ''}`);
    if (this.inEpisode) return;
    this.inEpisode = true;
    if (this.prefs?.isMuted('backendProblem')) return;
    const configure = vscode.l10n.t('Configure…');
    const showLog = vscode.l10n.t('Show Log');
    // error.message can hold the server's own text: prefs.show and warn keep it from becoming a (command) link.
    const text = vscode.l10n.t('EHG Telemetry: {0}', error.message);
    const choice = this.prefs
      ? this.prefs.show('backendProblem', 'warning', text, configure, showLog)
      : warn(text, configure, showLog);
    void choice.then((c) => {
      if (c === configure) void vscode.commands.executeCommand('ehgTelemetry.configureConnection');
      else if (c === showLog) this.log.show();
    });
  }

  success(): void {
    if (!this.inEpisode) return;
    this.inEpisode = false;
    this.log.info('Backend reachable again.');
  }
}
