// The EVA scheduler status-bar item: one state → one text, codicon, background and tooltip.
import * as vscode from 'vscode';
import type { SchedulerHealth } from '../domain/heartbeat';
import { heartbeatFacts, presentHealth } from '../domain/heartbeatFormat';
import { escapeMarkdown } from '../domain/text';
import { SafeMarkdown } from './markdown';
import './l10n';
import type { SchedulerMonitor } from '../scheduler/schedulerMonitor';

export const STATUS_BAR_ID = 'ehgTelemetry.scheduler';

export class SchedulerStatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private readonly subscription: vscode.Disposable;
  private lastState = 'loading';

  constructor(private readonly monitor: SchedulerMonitor) {
    this.item = vscode.window.createStatusBarItem(STATUS_BAR_ID, vscode.StatusBarAlignment.Left, 20);
    this.item.name = vscode.l10n.t('EHG Scheduler');
    this.item.command = 'ehgTelemetry.showSchedulerDetails';
    this.subscription = monitor.onDidChange((h) => this.render(h));
    this.render(monitor.health);
    this.item.show();
  }

  get state(): string {
    return this.lastState;
  }
  get view(): vscode.StatusBarItem {
    return this.item;
  }

  private render(h: SchedulerHealth): void {
    const p = presentHealth(h);
    this.lastState = h.kind;
    this.item.text = `$(${p.icon}) ${p.text}`;
    this.item.backgroundColor =
      p.severity === 'error'
        ? new vscode.ThemeColor('statusBarItem.errorBackground')
        : p.severity === 'warning'
          ? new vscode.ThemeColor('statusBarItem.warningBackground')
          : undefined;
    // The state without the "EVA:" of the status-bar text (whose own translation may say it otherwise).
    const state = p.text.replace(/^EVA: ?/, '') || vscode.l10n.t('loading');
    this.item.accessibilityInformation = {
      label: vscode.l10n.t('EVA scheduler: {0}. {1}', state, p.explanation),
      role: 'button',
    };
    const md = new SafeMarkdown()
      .raw(`**${escapeMarkdown(vscode.l10n.t('EVA scheduler — {0}', state))}**\n\n`)
      .line(p.explanation)
      .raw('\n');
    if ('heartbeat' in h) {
      for (const [label, value] of heartbeatFacts(h.heartbeat, this.monitor.serverNow(), this.monitor.history))
        md.field(label, value);
    }
    // Freshness: when the heartbeat was last read successfully (errors and backoff keep the old value).
    const readAt = this.monitor.lastReadAt;
    md.field(vscode.l10n.t('Heartbeat last read'), readAt ? readAt.toLocaleTimeString() : vscode.l10n.t('not yet'));
    md.raw(`\n*${escapeMarkdown(vscode.l10n.t('Click for details, refresh and the log.'))}*`);
    this.item.tooltip = md.build();
  }

  dispose(): void {
    this.subscription.dispose();
    this.item.dispose();
  }
}
