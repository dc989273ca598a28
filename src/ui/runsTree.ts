// The "Analysis Runs" tree: recent runs with status, age, trigger and top bottleneck category;
// expanding a run fetches and shows its findings or its error.
import * as vscode from 'vscode';
import { formatDuration } from '../domain/format';
import { isActive, RunStatus, RunSummary, runHint } from '../domain/run';
import {
  analyzerErrorLines,
  hintLabel,
  outcomeLines,
  runDescription,
  runLabel,
  statusLabel,
  triggerLabel,
} from '../domain/runFormat';
import type { ConnectionManager } from '../platform/connection';
import { SafeMarkdown } from './markdown';
import './l10n';
import type { RunsModel } from '../runs/runsModel';
import { bottleneckId } from '../domain/runComparison';
import { changeMark, comparisonSummary, resolvedLabel, RunComparisons } from '../runs/runComparisons';
import type { DrillDown } from '../runs/drillDown';
import {
  BottleneckNode,
  bottleneckTreeItem,
  drillDownChildren,
  DrillNode,
  drillTreeItem,
  parentId,
} from './drillDownTree';
import { RevalidatingChildren } from './revalidatingChildren';

export type RunsNode =
  | { kind: 'run'; run: RunSummary }
  | BottleneckNode
  | DrillNode
  | {
      kind: 'detail';
      runId: string;
      index: number;
      text: string;
      tone: 'finding' | 'error' | 'info' | 'resolved';
      mark?: string;
    }
  | { kind: 'load-more' }
  | { kind: 'list-cap'; shown: number }
  | { kind: 'notice'; text: string }
  /** Shown under a row the first time it is expanded, until its children are read. */
  | { kind: 'loading'; parent: RunsNode; text: string };

/** The parents whose children take a request: a run (findings) and a bottleneck (drill-down). */
type ExpandableNode = (RunsNode & { kind: 'run' }) | BottleneckNode;

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
  private readonly comparisonSubscription: vscode.Disposable | undefined;
  private readonly drillSubscription: vscode.Disposable | undefined;
  /** Runs this window enqueued (marked in contextValue and the tooltip). */
  readonly mine = new Set<string>();
  /** Children of runs and bottlenecks, answered at once and redrawn when a load brings a change. */
  private readonly children: RevalidatingChildren<ExpandableNode, RunsNode>;

  constructor(
    private readonly model: RunsModel,
    private readonly connection: ConnectionManager,
    private readonly now: () => Date = () => new Date(),
    private readonly comparisons?: RunComparisons,
    /** Expands a bottleneck into its evidence and improvement item (without it, bottleneck rows are leaves). */
    private readonly drill?: DrillDown,
  ) {
    // A comparison that became known changes its run's description.
    this.comparisonSubscription = comparisons?.onDidChange((id) => {
      const node = this.nodes.get(id);
      if (node) this.emitter.fire(node);
    });
    this.children = new RevalidatingChildren<ExpandableNode, RunsNode>({
      load: (p) => (p.kind === 'run' ? this.detailNodes(p.run) : this.drillNodes(p)),
      loading: (p) => [{ kind: 'loading', parent: p, text: vscode.l10n.t('Loading…') }],
      failed: (_p, error) => [
        {
          kind: 'notice',
          text: vscode.l10n.t("Couldn't load: {0}", error instanceof Error ? error.message : String(error)),
        },
      ],
      signature: (nodes) => nodes.map((n) => itemSignature(this.getTreeItem(n))).join('\n'),
      changed: (p) => this.emitter.fire(p),
    });
    // Refresh or a new backend dropped the drill-down answers: expanded bottlenecks read again.
    this.drillSubscription = drill?.onDidClear(() => this.emitter.fire(undefined));
    this.subscription = model.onDidChange((change) => {
      if (change.structural) {
        this.nodes.clear();
        const listed = new Set(model.runs.map((r) => r.runId));
        this.children.prune((_key, p) => listed.has(p.run.runId));
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

  // Synchronous on purpose (see revalidatingChildren.ts): a refresh while a row is expanding must
  // not make the extension host register that row's children twice.
  getChildren(element?: RunsNode): RunsNode[] {
    if (!element) return this.rootNodes();
    if (element.kind === 'run') return this.children.get(`run:${element.run.runId}`, element);
    if (element.kind === 'bottleneck' && this.drill) return this.children.get(parentId(element), element);
    return [];
  }

  private drillNodes(p: BottleneckNode): Promise<RunsNode[]> {
    return this.drill ? drillDownChildren(this.drill, p) : Promise.resolve([]);
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
    if (this.model.atListCap) out.push({ kind: 'list-cap', shown: this.model.runs.length });
    else if (this.model.hasMore) out.push({ kind: 'load-more' });
    return out;
  }

  private async detailNodes(run: RunSummary): Promise<RunsNode[]> {
    const res = await this.model.outcome(run);
    if (!res.ok) return [{ kind: 'notice', text: vscode.l10n.t("Couldn't load findings: {0}", res.error.message) }];
    const o = res.outcome;
    // Bottleneck rows are findings; the trailing "… and N more" row (and everything else) is not.
    const toneOf = (index: number): 'finding' | 'error' | 'info' =>
      o.kind === 'bottlenecks' ? (index < o.items.length ? 'finding' : 'info') : o.kind === 'error' ? 'error' : 'info';
    const nodes: RunsNode[] = outcomeLines(o).map((text, index) =>
      o.kind === 'bottlenecks' && index < o.items.length
        ? { kind: 'bottleneck', run, bottleneck: o.items[index], outcome: o, index, text }
        : { kind: 'detail', runId: run.runId, index, text, tone: toneOf(index) },
    );
    // What the analyzer reported but the findings do not say (e.g. improvement items the database refused).
    const errorLines =
      o.kind === 'bottlenecks' || o.kind === 'no-bottlenecks' || o.kind === 'insufficient-data'
        ? analyzerErrorLines(o.analyzerErrors)
        : [];
    for (const text of errorLines)
      nodes.push({ kind: 'detail', runId: run.runId, index: nodes.length, text, tone: 'error' });
    if (
      !this.comparisons ||
      !RunComparisons.comparable(run) ||
      !(o.kind === 'bottlenecks' || o.kind === 'no-bottlenecks' || o.kind === 'insufficient-data')
    )
      return nodes;
    return this.withComparison(run, o.kind === 'bottlenecks' ? o.items.map(bottleneckId) : [], nodes);
  }

  /** Marks each bottleneck row new / worse / better / unchanged and adds the resolved ones. */
  private async withComparison(run: RunSummary, shownIds: string[], nodes: RunsNode[]): Promise<RunsNode[]> {
    const cmp = await this.comparisons!.compare(run);
    if (!cmp.ok)
      return [
        ...nodes,
        { kind: 'notice', text: vscode.l10n.t("Couldn't compare with the previous run: {0}", cmp.error.message) },
      ];
    const c = cmp.comparison;
    if (c.kind === 'first')
      return [
        ...nodes,
        {
          kind: 'detail',
          runId: run.runId,
          index: nodes.length,
          text: vscode.l10n.t('First succeeded run of this scope: nothing to compare with'),
          tone: 'info',
        },
      ];
    const byId = new Map(c.changes.map((x) => [bottleneckId(x), x]));
    shownIds.forEach((id, i) => {
      const node = nodes[i];
      const change = byId.get(id);
      if ((node?.kind === 'detail' || node?.kind === 'bottleneck') && change) node.mark = changeMark(change);
    });
    const resolved = c.changes.filter((x) => x.kind === 'resolved');
    const shownResolved = resolved.slice(0, 5);
    let index = nodes.length;
    const out = [...nodes];
    for (const r of shownResolved)
      out.push({
        kind: 'detail',
        runId: run.runId,
        index: index++,
        text: resolvedLabel(r),
        tone: 'resolved',
        mark: changeMark(r),
      });
    if (resolved.length > shownResolved.length)
      out.push({
        kind: 'detail',
        runId: run.runId,
        index: index++,
        text: vscode.l10n.t('… and {0} more resolved', resolved.length - shownResolved.length),
        tone: 'info',
      });
    if (c.previousInsufficientData)
      out.push({
        kind: 'detail',
        runId: run.runId,
        index: index++,
        text: vscode.l10n.t('The previous run had insufficient data, so every bottleneck counts as new'),
        tone: 'info',
      });
    return out;
  }

  getTreeItem(node: RunsNode): vscode.TreeItem {
    switch (node.kind) {
      case 'run':
        return this.runItem(node.run);
      case 'bottleneck':
        return bottleneckTreeItem(node, this.drill !== undefined);
      case 'evidence':
      case 'improvement-item':
      case 'drill-notice':
        return drillTreeItem(node, this.now());
      case 'detail': {
        const item = new vscode.TreeItem(node.text, vscode.TreeItemCollapsibleState.None);
        item.id = `detail:${node.runId}:${node.index}`;
        item.contextValue = 'detail';
        item.tooltip = node.mark ? `${node.text} — ${node.mark}` : node.text;
        if (node.mark) item.description = node.mark;
        item.iconPath = new vscode.ThemeIcon(
          node.tone === 'finding'
            ? 'flame'
            : node.tone === 'error'
              ? 'warning'
              : node.tone === 'resolved'
                ? 'pass'
                : 'info',
        );
        return item;
      }
      case 'load-more': {
        const item = new vscode.TreeItem(vscode.l10n.t('Load more…'), vscode.TreeItemCollapsibleState.None);
        item.id = 'load-more';
        item.contextValue = 'loadMore';
        item.iconPath = new vscode.ThemeIcon('ellipsis');
        item.command = { command: 'ehgTelemetry.loadMore', title: vscode.l10n.t('Load More Runs') };
        return item;
      }
      case 'list-cap': {
        const item = new vscode.TreeItem(
          vscode.l10n.t('The newest {0} runs are shown', node.shown),
          vscode.TreeItemCollapsibleState.None,
        );
        item.id = 'list-cap';
        item.contextValue = 'listCap';
        item.iconPath = new vscode.ThemeIcon('info');
        item.tooltip = vscode.l10n.t(
          'Older runs are still in the database. The list stops at {0} runs so that each refresh stays one request.',
          node.shown,
        );
        return item;
      }
      case 'loading': {
        const item = new vscode.TreeItem(node.text, vscode.TreeItemCollapsibleState.None);
        item.contextValue = 'loading';
        item.iconPath = new vscode.ThemeIcon('loading~spin');
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
    item.description = [comparisonSummary(this.comparisons?.cached(run)), runDescription(run, hint, now)]
      .filter((p) => p)
      .join(' · ');
    item.iconPath = statusIcon(run.status);
    const flags = ['run', `status-${run.status.toLowerCase()}`];
    if (isActive(run.status)) flags.push('cancellable');
    if (this.mine.has(run.runId)) flags.push('mine');
    item.contextValue = flags.join(' ');
    item.tooltip = this.tooltip(run, hint);
    item.accessibilityInformation = {
      label: item.description
        ? vscode.l10n.t('Analysis run {0}, {1}, {2}', statusLabel(run), item.label as string, item.description)
        : vscode.l10n.t('Analysis run {0}, {1}', statusLabel(run), item.label as string),
      role: 'treeitem',
    };
    return item;
  }

  private tooltip(run: RunSummary, hint: string | null): vscode.MarkdownString {
    const md = new SafeMarkdown()
      .raw(
        `**${vscode.l10n.t('Analysis run')}** ${this.mine.has(run.runId) ? vscode.l10n.t('(enqueued by this window)') : ''}\n\n`,
      )
      .field(vscode.l10n.t('Status'), statusLabel(run))
      .field(vscode.l10n.t('Run ID'), run.runId)
      .field(vscode.l10n.t('Trigger'), triggerLabel(run.triggeredBy))
      .field(
        vscode.l10n.t('Scope'),
        run.scopeId === null ? vscode.l10n.t('global') : `${run.scopeType ?? '?'}: ${run.scopeId}`,
      )
      .field(vscode.l10n.t('Triggered'), run.triggeredAt?.toISOString())
      .field(vscode.l10n.t('Started'), run.startedAt?.toISOString())
      .field(vscode.l10n.t('Finished'), run.finishedAt?.toISOString())
      .field(vscode.l10n.t('Duration'), run.durationMs === null ? null : formatDuration(run.durationMs))
      .field(vscode.l10n.t('Findings'), run.findingsCount)
      .field(
        vscode.l10n.t('Top bottleneck'),
        run.topBottleneck
          ? `${run.topBottleneck.dimensionType}:${run.topBottleneck.dimensionKey}`
          : run.topBottleneckCategory,
      )
      .field(vscode.l10n.t('Since the previous run'), comparisonSummary(this.comparisons?.cached(run)) || null)
      .field(vscode.l10n.t('Reason'), run.reasonCode)
      .field(vscode.l10n.t('Error class'), run.errorClass);
    if (hint) md.field(vscode.l10n.t('Note'), hint);
    return md.build();
  }

  getParent(node: RunsNode): RunsNode | undefined {
    if (node.kind === 'detail') return this.nodes.get(node.runId);
    if (node.kind === 'bottleneck') return this.nodes.get(node.run.runId);
    if (
      node.kind === 'evidence' ||
      node.kind === 'improvement-item' ||
      node.kind === 'drill-notice' ||
      node.kind === 'loading'
    )
      return node.parent;
    return undefined;
  }

  /** The node for a run id, if it is loaded (for reveal()). */
  nodeFor(runId: string): RunsNode | undefined {
    return this.nodes.get(runId);
  }

  dispose(): void {
    this.children.dispose();
    this.comparisonSubscription?.dispose();
    this.drillSubscription?.dispose();
    this.subscription.dispose();
    this.emitter.dispose();
  }
}

/** What a row shows (label, description, tooltip, icon, menu, command): equal signatures draw the same. */
function itemSignature(item: vscode.TreeItem): string {
  const label = typeof item.label === 'string' ? item.label : (item.label?.label ?? '');
  const tooltip = typeof item.tooltip === 'string' ? item.tooltip : (item.tooltip?.value ?? '');
  const icon = item.iconPath instanceof vscode.ThemeIcon ? `${item.iconPath.id}|${item.iconPath.color?.id ?? ''}` : '';
  const command = item.command ? `${item.command.command}|${JSON.stringify(item.command.arguments ?? [])}` : '';
  return JSON.stringify([
    item.id ?? '',
    label,
    item.description ?? '',
    tooltip,
    icon,
    item.contextValue ?? '',
    command,
    item.collapsibleState ?? 0,
  ]);
}
