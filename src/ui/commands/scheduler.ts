// Scheduler commands: Show Scheduler Details (the heartbeat's facts, with Refresh, Open Log and
// Configure Connection… as actions).
import * as vscode from 'vscode';
import { formatAge } from '../../domain/format';
import { heartbeatFacts, presentHealth } from '../../domain/heartbeatFormat';
import type { ConnectionManager } from '../../platform/connection';
import type { Log } from '../../platform/log';
import type { SchedulerMonitor } from '../../scheduler/schedulerMonitor';
import { command, Command, withProgress } from './shared';

export interface SchedulerCommandParts {
  connection: ConnectionManager;
  monitor: SchedulerMonitor;
  log: Log;
}

type Item = vscode.QuickPickItem & { action?: 'refresh' | 'log' | 'configure' };

export function schedulerCommands(d: SchedulerCommandParts): Command[] {
  return [command(d.log, 'showSchedulerDetails', () => showSchedulerDetails(d))];
}

async function showSchedulerDetails(d: SchedulerCommandParts): Promise<unknown> {
  const pick = await vscode.window.showQuickPick(detailItems(d), {
    title: vscode.l10n.t('EHG Telemetry: EVA Scheduler'),
    placeHolder: vscode.l10n.t('Scheduler heartbeat and circuit breaker'),
    matchOnDescription: true,
  });
  if (pick?.action === 'refresh') {
    await withProgress(
      { location: vscode.ProgressLocation.Window, title: vscode.l10n.t('EHG Telemetry: reading the heartbeat…') },
      () => d.monitor.refreshNow(),
    );
    return vscode.commands.executeCommand('ehgTelemetry.showSchedulerDetails');
  }
  if (pick?.action === 'log') d.log.show();
  if (pick?.action === 'configure') return vscode.commands.executeCommand('ehgTelemetry.configureConnection');
}

function detailItems(d: SchedulerCommandParts): Item[] {
  const health = d.monitor.health;
  const p = presentHealth(health);
  const now = d.monitor.serverNow();
  const facts = 'heartbeat' in health ? heartbeatFacts(health.heartbeat, now, d.monitor.history) : [];
  const readAt = d.monitor.lastReadAt;
  return [
    { label: `$(${p.icon}) ${p.text}`, detail: p.explanation },
    ...(facts.length ? [{ label: vscode.l10n.t('Heartbeat'), kind: vscode.QuickPickItemKind.Separator } as Item] : []),
    ...facts.map(([k, v]) => ({ label: k, description: v })),
    { label: vscode.l10n.t('Actions'), kind: vscode.QuickPickItemKind.Separator },
    {
      label: vscode.l10n.t('$(refresh) Refresh'),
      description: readAt ? vscode.l10n.t('last read {0}', formatAge(readAt, now)) : undefined,
      action: 'refresh',
    },
    { label: vscode.l10n.t('$(output) Open Log'), action: 'log' },
    ...(d.connection.snapshot.backend
      ? []
      : [{ label: vscode.l10n.t('$(plug) Configure Connection…'), action: 'configure' } as Item]),
  ];
}
