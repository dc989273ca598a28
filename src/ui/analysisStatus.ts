// The status bar item shown while this window runs an analysis (runs/analysisRunner.ts): a spinner
// with the count, and a click that cancels the first run.
import * as vscode from 'vscode';
import type { AnalysisRunner } from '../runs/analysisRunner';

export function showAnalysisStatus(analysis: Pick<AnalysisRunner, 'onDidChangeRunning'>): vscode.Disposable {
  const item = vscode.window.createStatusBarItem('ehgTelemetry.analysis', vscode.StatusBarAlignment.Left, 0);
  item.name = vscode.l10n.t('EHG Telemetry analysis');
  const subscription = analysis.onDidChangeRunning((ids) => render(item, ids));
  return vscode.Disposable.from(subscription, item);
}

function render(item: vscode.StatusBarItem, ids: string[]): void {
  if (ids.length === 0) {
    item.hide();
    return;
  }
  item.text = `$(sync~spin) ${ids.length > 1 ? vscode.l10n.t('EHG analysis ({0})', ids.length) : vscode.l10n.t('EHG analysis')}`;
  item.tooltip = vscode.l10n.t(
    "EHG Telemetry is running the workspace's analyzer for run {0}. Click to cancel it.",
    ids[0],
  );
  item.command = {
    title: vscode.l10n.t('Cancel Run'),
    command: 'ehgTelemetry.cancelRun',
    arguments: [{ runId: ids[0] }],
  };
  item.accessibilityInformation = { label: vscode.l10n.t('EHG Telemetry analysis running; activate to cancel it') };
  item.show();
}
