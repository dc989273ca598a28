// The EVA scheduler status-bar item: one state → one text, codicon, background and tooltip.
import * as vscode from 'vscode';
import type { SchedulerHealth } from '../domain/heartbeat';
import { heartbeatFacts, presentHealth } from '../domain/heartbeatFormat';
import { SafeMarkdown } from './markdown';
import type { SchedulerMonitor } from './schedulerMonitor';

export const STATUS_BAR_ID = 'ehgTelemetry.scheduler';

export class SchedulerStatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private readonly subscription: vscode.Disposable;
  private lastState = 'loading';

  constructor(private readonly monitor: SchedulerMonitor) {
    this.item = vscode.window.createStatusBarItem(STATUS_BAR_ID, vscode.StatusBarAlignment.Left, 20);
    this.item.name = 'EHG Scheduler';
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
    this.item.accessibilityInformation = {
      label: `EVA scheduler: ${p.text.replace(/^EVA: ?/, '') || 'loading'}. ${p.explanation}`,
      role: 'button',
    };
    const md = new SafeMarkdown()
      .raw(`**EVA scheduler — ${p.text.replace(/^EVA: ?/, '') || 'loading'}**\n\n`)
      .line(p.explanation)
      .raw('\n');
    if ('heartbeat' in h) {
      for (const [label, value] of heartbeatFacts(h.heartbeat, this.monitor.serverNow())) md.field(label, value);
    }
    // Freshness: when the heartbeat was last read successfully (errors and backoff keep the old value).
    const readAt = this.monitor.lastReadAt;
    md.field(vscode.l10n.t('Heartbeat last read'), readAt ? readAt.toLocaleTimeString() : vscode.l10n.t('not yet'));
    md.raw('\n*Click for details, refresh and the log.*');
    this.item.tooltip = md.build();
  }

  dispose(): void {
    this.subscription.dispose();
    this.item.dispose();
  }
}
