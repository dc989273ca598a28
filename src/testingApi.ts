// A read-only window into what the UI shows, for the in-editor test suites. Not exported in
// production mode.
import * as vscode from 'vscode';
import type { SupabaseBackend } from './data/supabaseBackend';
import type { ConnectionManager } from './platform/connection';
import type { FailureNotifier } from './ui/failureNotifier';
import type { RunsModel } from './ui/runsModel';
import type { RunsTreeProvider } from './ui/runsTree';
import type { RunWatcher } from './ui/runWatcher';
import type { RunComparisons } from './ui/runComparisons';
import type { SchedulerMonitor } from './ui/schedulerMonitor';
import type { SessionStartController } from './ui/sessionStart';
import type { AnalysisRunner, ExecutionRecord } from './ui/analysisRunner';
import type { SchedulerStatusBar } from './ui/statusBar';

export interface TestTreeItem {
  label: string;
  description: string;
  tooltip: string;
  contextValue: string;
  iconId: string;
  iconColor?: string;
  runId?: string;
  children?: Array<{ label: string; description?: string }>;
}

export interface TestingApi {
  settle(): Promise<void>;
  runsTree(opts?: { expand?: boolean }): Promise<TestTreeItem[]>;
  statusBar(): {
    text: string;
    tooltip: string;
    backgroundColor?: string;
    name: string;
    accessibilityLabel: string;
    command?: string;
    state: string;
  };
  state(): { viewState: string; connection: string; canWrite: boolean | null; trusted: boolean; envRead: boolean };
  lastDocument(): string | undefined;
  decisions(): Array<{ scopeId: string; decision: string; runId?: string }>;
  notifications(): number;
  requests(): number;
  heartbeatReads(): number;
  /** Requests made to compare runs with their previous run (at most one per run). */
  comparisonRequests(): number;
  refreshRuns(): Promise<void>;
  refreshHeartbeat(): Promise<void>;
  /** Runs this window executes now, and the last executions (child load time, memory, end). */
  analysis(): { active: string[]; history: ExecutionRecord[]; noAnalyzer: string[]; viewMessage: string | undefined };
}

interface Parts {
  connection: ConnectionManager;
  model: RunsModel;
  tree: RunsTreeProvider;
  statusBar: SchedulerStatusBar;
  sessionStart: SessionStartController;
  notifier: FailureNotifier;
  watcher: RunWatcher;
  comparisons: RunComparisons;
  monitor: SchedulerMonitor;
  backends: Set<SupabaseBackend>;
  analysis: AnalysisRunner;
  viewMessage: () => string | undefined;
  lastDocument: () => string | undefined;
  viewState: () => string;
}

function text(v: string | vscode.TreeItemLabel | vscode.MarkdownString | undefined | boolean): string {
  if (v === undefined || typeof v === 'boolean') return '';
  if (typeof v === 'string') return v;
  if ('value' in v) return v.value;
  return v.label;
}

export function createTestingApi(p: Parts): TestingApi {
  return {
    async settle() {
      await p.connection.refresh();
      await p.sessionStart.settle();
    },
    async runsTree(opts) {
      const roots = await p.tree.getChildren();
      const out: TestTreeItem[] = [];
      for (const node of roots) {
        const item = p.tree.getTreeItem(node);
        const icon = item.iconPath instanceof vscode.ThemeIcon ? item.iconPath : undefined;
        const entry: TestTreeItem = {
          label: text(item.label),
          description: text(item.description),
          tooltip: text(item.tooltip),
          contextValue: item.contextValue ?? '',
          iconId: icon?.id ?? '',
          iconColor: icon?.color?.id,
          runId: node.kind === 'run' ? node.run.runId : undefined,
        };
        if (opts?.expand && node.kind === 'run') {
          const kids = await p.tree.getChildren(node);
          entry.children = kids.map((k) => {
            const ki = p.tree.getTreeItem(k);
            return { label: text(ki.label), description: text(ki.description) || undefined };
          });
        }
        out.push(entry);
      }
      return out;
    },
    statusBar() {
      const item = p.statusBar.view;
      return {
        text: item.text,
        tooltip: text(item.tooltip),
        backgroundColor: item.backgroundColor?.id,
        name: item.name ?? '',
        accessibilityLabel: item.accessibilityInformation?.label ?? '',
        command: typeof item.command === 'string' ? item.command : item.command?.command,
        state: p.statusBar.state,
      };
    },
    state() {
      const snap = p.connection.snapshot;
      return {
        viewState: p.viewState(),
        connection: snap.state.kind,
        canWrite: snap.canWrite,
        trusted: vscode.workspace.isTrusted,
        envRead: p.connection.hasReadEnv,
      };
    },
    lastDocument: p.lastDocument,
    decisions: () =>
      p.sessionStart.decisions.map((d) => ({ scopeId: d.scopeId, decision: d.decision, runId: d.runId })),
    notifications: () => p.notifier.notificationsShown + p.watcher.notificationsShown,
    requests: () => [...p.backends].reduce((n, b) => n + b.requestCount, 0),
    heartbeatReads: () => p.monitor.readCount,
    comparisonRequests: () => p.comparisons.requests,
    refreshRuns: async () => {
      await p.model.load();
    },
    refreshHeartbeat: () => p.monitor.refreshNow(),
    analysis: () => ({
      active: p.analysis.activeRunIds,
      history: p.analysis.history.map((h) => ({ ...h })),
      noAnalyzer: [...p.analysis.noAnalyzer.values()],
      viewMessage: p.viewMessage(),
    }),
  };
}
