// The Analysis Runs view: owns the TreeView, its message, description and context keys, and the
// poller that reads the list while the view is visible. It follows the connection, the model and the
// analysis runner through their own events.
import * as vscode from 'vscode';
import type { ConnectionManager } from '../platform/connection';
import { Poller } from '../platform/poller';
import type { AnalysisRunner } from '../runs/analysisRunner';
import type { RunComparisons } from '../runs/runComparisons';
import type { DrillDown } from '../runs/drillDown';
import { ACTIVE_POLL_MS, IDLE_POLL_MS, RunsModel } from '../runs/runsModel';
import { loadMore } from '../runs/runPages';
import { RunsNode, RunsTreeProvider } from './runsTree';
import { computeViewDescription, computeViewMessage, computeViewState, ContextKeys, ViewState } from './viewState';

export const RUNS_VIEW_ID = 'ehgTelemetry.runs';
/** The "updated N min ago" description ages while nothing else changes. */
const FRESHNESS_TICK_MS = 30_000;

export class RunsView implements vscode.Disposable {
  readonly tree: RunsTreeProvider;
  private readonly treeView: vscode.TreeView<RunsNode>;
  private readonly poller: Poller;
  private readonly keys = new ContextKeys();
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly connection: ConnectionManager,
    private readonly model: RunsModel,
    comparisons: RunComparisons,
    private readonly analysis: AnalysisRunner,
    drill?: DrillDown,
  ) {
    this.tree = new RunsTreeProvider(model, connection, undefined, comparisons, drill);
    this.treeView = vscode.window.createTreeView<RunsNode>(RUNS_VIEW_ID, {
      treeDataProvider: this.tree,
      showCollapseAll: true,
    });
    this.poller = new Poller({
      task: () => model.load(),
      maxDelayMs: 15 * 60_000,
      minIntervalMs: 5_000,
      view: this.treeView,
      enabled: false,
    });
    let pageSize = connection.snapshot.settings.pageSize;
    const freshness = setInterval(() => {
      if (this.treeView.visible) this.update();
    }, FRESHNESS_TICK_MS);
    this.disposables.push(
      this.tree,
      this.treeView,
      this.poller,
      { dispose: () => clearInterval(freshness) },
      analysis.onDidChange(() => this.update()),
      model.onDidChange(() => {
        this.update();
        if (this.treeView.visible && model.loadedOnce) comparisons.prefetchNewest(model.runs);
      }),
      // A new backend (the only change that can make one appear or go) is read at once, if someone can
      // see it; other changes just re-render.
      connection.onDidChangeBackend((snap) => {
        this.poller.setEnabled(snap.backend !== null);
        if (snap.backend && this.treeView.visible) void this.poller.refreshNow();
      }),
      connection.onDidChange(() => {
        this.update();
        // Another page size changes what the list holds: read it again (a new backend is read above).
        const size = connection.snapshot.settings.pageSize;
        if (size === pageSize) return;
        pageSize = size;
        if (connection.snapshot.backend && this.treeView.visible) void this.poller.refreshNow();
      }),
    );
    this.update();
  }

  get visible(): boolean {
    return this.treeView.visible;
  }
  get message(): string | undefined {
    return this.treeView.message;
  }
  get state(): ViewState {
    return computeViewState(this.connection, this.model);
  }

  /** Reads the list now, with the view's progress indicator. */
  refresh(): Thenable<void> {
    return vscode.window.withProgress({ location: { viewId: RUNS_VIEW_ID } }, () => this.poller.refreshNow());
  }

  /** Reads the list now, visible or not (e.g. a run the model must show has ended). */
  refreshNow(): Promise<void> {
    return this.poller.refreshNow();
  }

  /** Reads the list now if someone can see it (otherwise it is read when the view is shown). */
  refreshIfVisible(): Promise<void> {
    return this.treeView.visible ? this.poller.refreshNow() : Promise.resolve();
  }

  /** One more page, read by the poller (after a read in flight, never beside it). */
  loadMore(): Promise<void> {
    return loadMore(this.model.pages, this.model.hasMore, this.poller);
  }

  async reveal(runId: string): Promise<void> {
    const node = this.tree.nodeFor(runId);
    if (node && this.treeView.visible) await this.treeView.reveal(node, { select: true, focus: false });
  }

  private update(): void {
    const snap = this.connection.snapshot;
    const model = this.model;
    this.keys.set('ehgTelemetry.state', this.state);
    this.keys.set('ehgTelemetry.configured', snap.backend !== null);
    this.keys.set('ehgTelemetry.canWrite', snap.backend !== null && snap.canWrite !== false);
    this.keys.set('ehgTelemetry.hasActiveRuns', model.hasActiveRuns);
    this.keys.set('ehgTelemetry.scope', model.scope);
    this.treeView.message = computeViewMessage(this.connection, model, vscode.workspace.isTrusted, [
      ...this.analysis.noAnalyzer.values(),
    ]);
    this.treeView.description = computeViewDescription(
      model,
      new Date(),
      model.hasActiveRuns ? ACTIVE_POLL_MS : IDLE_POLL_MS,
    );
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
