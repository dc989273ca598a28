// The "Analysis Runs" tree: recent runs with status, age, trigger and top bottleneck category;
// expanding a run fetches and shows its findings or its error.
import * as vscode from 'vscode';
import { formatDuration } from '../domain/format';
import { isActive, RunStatus, RunSummary, runHint } from '../domain/run';
import { hintLabel, outcomeLines, runDescription, runLabel, statusLabel, triggerLabel } from '../domain/runFormat';
import type { ConnectionManager } from '../platform/connection';
import { SafeMarkdown } from './markdown';
import type { RunsModel } from './runsModel';

export type RunsNode =
  | { kind: 'run'; run: RunSummary }
  | { kind: 'detail'; runId: string; index: number; text: string; tone: 'finding' | 'error' | 'info' }
  | { kind: 'load-more' }
  | { kind: 'notice'; text: string };

const STATUS_ICONS: Record<RunStatus, [string, string]> = {
  QUEUED: ['clock', 'charts.yellow'],
  RUNNING: ['sync~spin', 'charts.blue'],
  SUCCEEDED: ['pass', 'testing.iconPassed'],
  FAILED: ['error', 'testing.iconFailed'],
  TIMED_OUT: ['watch', 'charts.orange'],
  CANCELLED: ['circle-slash', 'disabledForeground'],
  FAILED_ENQUEUE: ['cloud-upload', 'list.errorForeground'],
  UNKNOWN: ['question', 'list.warningForeground'],
};

export function statusIcon(status: RunStatus): vscode.ThemeIcon {
  const [id, color] = STATUS_ICONS[status];
  return new vscode.ThemeIcon(id, new vscode.ThemeColor(color));
}

export class RunsTreeProvider implements vscode.TreeDataProvider<RunsNode>, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<RunsNode | undefined>();
  readonly onDidChangeTreeData = this.emitter.event;
  private readonly nodes = new Map<string, RunsNode & { kind: 'run' }>();
  private readonly subscription: vscode.Disposable;
  /** Runs this window enqueued (marked in contextValue and the tooltip). */
  readonly mine = new Set<string>();

  constructor(
    private readonly model: RunsModel,
    private readonly connection: ConnectionManager,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.subscription = model.onDidChange((change) => {
      if (change.structural) {
        this.nodes.clear();
        this.emitter.fire(undefined);
        return;
      }
      for (const id of change.changed) {
        const node = this.nodes.get(id);
        const run = model.find(id);
        if (node && run) {
          node.run = run;
          this.emitter.fire(node);
        }
      }
    });
  }

  getChildren(element?: RunsNode): RunsNode[] | Promise<RunsNode[]> {
    if (!element) return this.rootNodes();
    if (element.kind === 'run') return this.detailNodes(element.run);
    return [];
  }

  private rootNodes(): RunsNode[] {
    // Empty only when there is truly nothing to show; the welcome view then explains why
    // (not configured / unreachable / error / no runs), driven by the ehgTelemetry.state context key.
    if (!this.model.loadedOnce) return [];
    const out: RunsNode[] = this.model.runs.map((run) => {
      let node = this.nodes.get(run.runId);
      if (!node) {
        node = { kind: 'run', run };
        this.nodes.set(run.runId, node);
      } else node.run = run;
      return node;
    });
    if (this.model.hasMore) out.push({ kind: 'load-more' });
    return out;
  }

  private async detailNodes(run: RunSummary): Promise<RunsNode[]> {
    const res = await this.model.outcome(run);
    if (!res.ok) return [{ kind: 'notice', text: `Couldn't load findings: ${res.error.message}` }];
    const o = res.outcome;
    // Bottleneck rows are findings; the trailing "… and N more" row (and everything else) is not.
    const toneOf = (index: number): 'finding' | 'error' | 'info' => (o.kind === 'bottlenecks' ? (index < o.items.length ? 'finding' : 'info') : o.kind === 'error' ? 'error' : 'info');
    return outcomeLines(o).map((text, index) => ({ kind: 'detail', runId: run.runId, index, text, tone: toneOf(index) }));
  }

  getTreeItem(node: RunsNode): vscode.TreeItem {
    switch (node.kind) {
      case 'run':
        return this.runItem(node.run);
      case 'detail': {
        const item = new vscode.TreeItem(node.text, vscode.TreeItemCollapsibleState.None);
        item.id = `detail:${node.runId}:${node.index}`;
        item.contextValue = 'detail';
        item.tooltip = node.text;
        item.iconPath = new vscode.ThemeIcon(node.tone === 'finding' ? 'flame' : node.tone === 'error' ? 'warning' : 'info');
        return item;
      }
      case 'load-more': {
        const item = new vscode.TreeItem('Load more…', vscode.TreeItemCollapsibleState.None);
        item.id = 'load-more';
        item.contextValue = 'loadMore';
        item.iconPath = new vscode.ThemeIcon('ellipsis');
        item.command = { command: 'ehgTelemetry.loadMore', title: 'Load More Runs' };
        return item;
      }
      case 'notice': {
        const item = new vscode.TreeItem(node.text, vscode.TreeItemCollapsibleState.None);
        item.contextValue = 'notice';
        item.iconPath = new vscode.ThemeIcon('warning');
        item.tooltip = node.text;
        return item;
      }
    }
  }

  private runItem(run: RunSummary): vscode.TreeItem {
    const now = this.now();
    const settings = this.connection.snapshot.settings;
    const hint = hintLabel(runHint(run, now, settings.queuedWarningMs, settings.dedupMs));
    const item = new vscode.TreeItem(runLabel(run, now), vscode.TreeItemCollapsibleState.Collapsed);
    item.id = `run:${run.runId}`;
    item.description = runDescription(run, hint);
    item.iconPath = statusIcon(run.status);
    const flags = ['run', `status-${run.status.toLowerCase()}`];
    if (isActive(run.status)) flags.push('cancellable');
    if (this.mine.has(run.runId)) flags.push('mine');
    item.contextValue = flags.join(' ');
    item.tooltip = this.tooltip(run, hint);
    item.accessibilityInformation = { label: `Analysis run ${statusLabel(run)}, ${item.label as string}${item.description ? `, ${item.description}` : ''}`, role: 'treeitem' };
    return item;
  }

  private tooltip(run: RunSummary, hint: string | null): vscode.MarkdownString {
    const md = new SafeMarkdown()
      .raw(`**Analysis run** ${this.mine.has(run.runId) ? '(enqueued by this window)' : ''}\n\n`)
      .field('Status', statusLabel(run))
      .field('Run ID', run.runId)
      .field('Trigger', triggerLabel(run.triggeredBy))
      .field('Scope', run.scopeId === null ? 'global' : `${run.scopeType ?? '?'}: ${run.scopeId}`)
      .field('Triggered', run.triggeredAt?.toISOString())
      .field('Started', run.startedAt?.toISOString())
      .field('Finished', run.finishedAt?.toISOString())
      .field('Duration', run.durationMs === null ? null : formatDuration(run.durationMs))
      .field('Findings', run.findingsCount)
      .field('Top bottleneck category', run.topBottleneckCategory)
      .field('Reason', run.reasonCode)
      .field('Error class', run.errorClass);
    if (hint) md.field('Note', hint);
    return md.build();
  }

  getParent(node: RunsNode): RunsNode | undefined {
    if (node.kind === 'detail') return this.nodes.get(node.runId);
    return undefined;
  }

  /** The node for a run id, if it is loaded (for reveal()). */
  nodeFor(runId: string): RunsNode | undefined {
    return this.nodes.get(runId);
  }

  dispose(): void {
    this.subscription.dispose();
    this.emitter.dispose();
  }
}
