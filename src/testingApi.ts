// Test hooks: a read-only window into what the UI shows, for the in-editor test suites, plus the
// counters they read. This module exists only in the test build (esbuild.js `--test`, into
// dist-test/): extension.ts requires it behind `__EHG_TEST_HOOKS__`, which the production build
// defines as false, so the branch and this module are removed from dist/extension.js and the VSIX.
// Everything here observes the product from outside, through the events its parts fire and the
// parts it is handed (each backend's onRequest, the confirmation); the product keeps no state for tests.
import * as vscode from 'vscode';
import type { ConnectionManager } from './platform/connection';
import type { Confirm } from './ui/commands';
import type { NotificationPrefs } from './ui/notificationPrefs';
import type { RunComparisons } from './runs/runComparisons';
import type { RunsNode, RunsTreeProvider } from './ui/runsTree';
import type { SchedulerMonitor } from './scheduler/schedulerMonitor';
import type { SessionStartController } from './runs/sessionStart';
import type { AnalysisRunner, ExecutionRecord } from './runs/analysisRunner';
import type { SchedulerStatusBar } from './ui/statusBar';
import { RUN_DOC_SCHEME, RunDocumentProvider } from './ui/runDocument';

export interface TestTreeItem {
  label: string;
  description: string;
  tooltip: string;
  contextValue: string;
  iconId: string;
  iconColor?: string;
  runId?: string;
  children?: TestTreeChild[];
}

/** A row under a run (and, with expandBottlenecks, the rows under a bottleneck row). */
export interface TestTreeChild {
  label: string;
  description?: string;
  contextValue?: string;
  tooltip?: string;
  /** What clicking the row runs. */
  command?: { command: string; arguments?: unknown[] };
  children?: TestTreeChild[];
}

export interface TestingApi {
  settle(): Promise<void>;
  /** The tree as drawn; `expand` reads each run's rows, `expandBottlenecks` also each bottleneck's rows. */
  runsTree(opts?: { expand?: boolean; expandBottlenecks?: boolean; runId?: string }): Promise<TestTreeItem[]>;
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
  /** The text of the run details document shown last. */
  lastDocument(): string | undefined;
  decisions(): Array<{ scopeId: string; decision: string; runId?: string }>;
  notifications(): number;
  requests(): number;
  heartbeatReads(): number;
  /** What the scheduler monitor remembers (server clock, ISO) and its clock offset, for a failure message. */
  schedulerMemory(): { revivalSeenSince: string | null; verdictSince: string | null; clockOffsetMs: number | null };
  /** Requests made to compare runs with their previous run (at most one per run). */
  comparisonRequests(): number;
  refreshRuns(): Promise<void>;
  refreshHeartbeat(): Promise<void>;
  /** Runs this window executes now, and the last executions (child load time, memory, end). */
  analysis(): { active: string[]; history: ExecutionRecord[]; noAnalyzer: string[]; viewMessage: string | undefined };
  /**
   * The next modal confirmation (e.g. Cancel Run's) is answered with `answer` (the button's title,
   * undefined = dismissed) instead of being shown. A modal cannot be answered from the extension host.
   */
  answerNextConfirmation(answer: string | undefined): void;
}

/** What the hooks read once activate() has built everything. */
export interface Parts {
  connection: ConnectionManager;
  tree: RunsTreeProvider;
  comparisons: RunComparisons;
  /** Reads the runs list now (through the view's poller). */
  refreshRuns: () => Promise<void>;
  statusBar: SchedulerStatusBar;
  prefs: NotificationPrefs;
  monitor: SchedulerMonitor;
  analysis: AnalysisRunner;
  documents: RunDocumentProvider;
  viewMessage: () => string | undefined;
  viewState: () => string;
}

export interface TestHooks {
  /** Every backend's onRequest: counts the requests of all of them. */
  countRequest: () => void;
  /** The confirmation the commands use: answered by answerNextConfirmation() when one is pending. */
  confirm(real: Confirm): Confirm;
  /** The session start, when it is built (after activate() has returned): its decisions and attempts. */
  observeSessionStart(sessionStart: SessionStartController): void;
  attach(parts: Parts): TestingApi;
}

function text(v: string | vscode.TreeItemLabel | vscode.MarkdownString | undefined | boolean): string {
  if (v === undefined || typeof v === 'boolean') return '';
  if (typeof v === 'string') return v;
  if ('value' in v) return v.value;
  return v.label;
}

export function createTestHooks(): TestHooks {
  let requests = 0;
  const answers: Array<string | undefined> = [];
  const decisions: Array<{ scopeId: string; decision: string; runId?: string }> = [];
  const inFlight = new Set<Promise<void>>();

  return {
    countRequest: () => {
      requests++;
    },
    confirm(real) {
      return (...args) => (answers.length ? Promise.resolve(answers.shift()) : real(...args));
    },
    observeSessionStart(sessionStart) {
      // Every decision the session start logs (repeats of the same skip are not logged).
      sessionStart.onDidDecide(({ scopeId, code, fields }) => {
        decisions.push({
          scopeId,
          decision: code,
          runId: typeof fields.run_id === 'string' ? fields.run_id : undefined,
        });
        if (decisions.length > 200) decisions.shift();
      });
      sessionStart.onDidAttempt((attempt) => {
        inFlight.add(attempt);
        void attempt.finally(() => inFlight.delete(attempt));
      });
    },
    attach: (p) => testingApi(p, { requests: () => requests, answers, decisions, inFlight }),
  };
}

/** What the hooks collected, for the TestingApi. */
interface Observed {
  requests: () => number;
  answers: Array<string | undefined>;
  decisions: Array<{ scopeId: string; decision: string; runId?: string }>;
  inFlight: Set<Promise<void>>;
}

function testingApi(p: Parts, o: Observed): TestingApi {
  let notifications = 0;
  let comparisonRequests = 0;
  p.prefs.onDidShow(() => notifications++);
  p.comparisons.onDidRequest(() => comparisonRequests++);
  // The text of each run document as provided, so that reading the shown one costs nothing.
  const provided = new Map<string, string>();
  p.documents.onDidProvide(({ uri, text }) => {
    provided.delete(uri.toString());
    provided.set(uri.toString(), text);
    if (provided.size > 20) provided.delete(provided.keys().next().value!);
  });
  return {
    async settle() {
      await p.connection.refresh();
      while (o.inFlight.size) await Promise.allSettled([...o.inFlight]);
    },
    runsTree: (opts) => readTree(p.tree, opts ?? {}),
    statusBar: () => readStatusBar(p.statusBar),
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
    lastDocument() {
      // The run document in the active editor: shown, not only rendered.
      const active = vscode.window.activeTextEditor?.document;
      if (active?.uri.scheme !== RUN_DOC_SCHEME) return undefined;
      return provided.get(active.uri.toString()) ?? active.getText();
    },
    decisions: () => [...o.decisions],
    notifications: () => notifications,
    requests: () => o.requests(),
    heartbeatReads: () => p.monitor.readCount,
    schedulerMemory: () => {
      const h = p.monitor.history;
      return {
        revivalSeenSince: h.revivalSeenSince?.toISOString() ?? null,
        verdictSince: h.verdictSince ? `${h.verdictSince.kind} since ${h.verdictSince.since.toISOString()}` : null,
        clockOffsetMs: p.connection.snapshot.backend?.clockOffsetMs() ?? null,
      };
    },
    comparisonRequests: () => comparisonRequests,
    refreshRuns: () => p.refreshRuns(),
    refreshHeartbeat: () => p.monitor.refreshNow(),
    analysis: () => ({
      active: p.analysis.activeRunIds,
      history: p.analysis.history.map((h) => ({ ...h })),
      noAnalyzer: [...p.analysis.noAnalyzer.values()],
      viewMessage: p.viewMessage(),
    }),
    answerNextConfirmation(answer) {
      o.answers.push(answer);
    },
  };
}

async function readTree(
  tree: RunsTreeProvider,
  opts: { expand?: boolean; expandBottlenecks?: boolean; runId?: string },
): Promise<TestTreeItem[]> {
  const expand = opts.expand === true || opts.expandBottlenecks === true;
  const roots = tree.getChildren();
  // Rows are read side by side: each waits for its own load, and a redraw of one reads all again.
  return Promise.all(roots.map((node) => readRoot(tree, node, expand, opts)));
}

async function readRoot(
  tree: RunsTreeProvider,
  node: RunsNode,
  expand: boolean,
  opts: { expandBottlenecks?: boolean; runId?: string },
): Promise<TestTreeItem> {
  const item = tree.getTreeItem(node);
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
  if (expand && node.kind === 'run' && (opts.runId === undefined || opts.runId === node.run.runId))
    entry.children = await readChildren(tree, node, opts.expandBottlenecks === true);
  return entry;
}

/**
 * A row's children as the view shows them once read: the tree answers at once with "Loading…" (or
 * the last children shown) and redraws the row when its load answers, so this reads again after
 * each redraw until no row is loading and nothing redraws for a moment (at most 30 s).
 */
async function settledChildren(tree: RunsTreeProvider, node: RunsNode): Promise<RunsNode[]> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const redrawn = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        sub.dispose();
        resolve(false);
      }, 200);
      const sub = tree.onDidChangeTreeData(() => {
        clearTimeout(timer);
        sub.dispose();
        resolve(true);
      });
    });
    const kids = tree.getChildren(node);
    const again = await redrawn;
    if ((!again && !kids.some((k) => k.kind === 'loading')) || Date.now() > deadline) return kids;
  }
}

async function readChildren(tree: RunsTreeProvider, node: RunsNode, deeper: boolean): Promise<TestTreeChild[]> {
  return Promise.all((await settledChildren(tree, node)).map((k) => readChild(tree, k, deeper)));
}

async function readChild(tree: RunsTreeProvider, k: RunsNode, deeper: boolean): Promise<TestTreeChild> {
  const ki = tree.getTreeItem(k);
  const child: TestTreeChild = {
    label: text(ki.label),
    description: text(ki.description) || undefined,
    contextValue: ki.contextValue,
    tooltip: text(ki.tooltip),
    command: ki.command ? { command: ki.command.command, arguments: ki.command.arguments } : undefined,
  };
  if (deeper && k.kind === 'bottleneck') child.children = await readChildren(tree, k, false);
  return child;
}

function readStatusBar(statusBar: SchedulerStatusBar): ReturnType<TestingApi['statusBar']> {
  const item = statusBar.view;
  return {
    text: item.text,
    tooltip: text(item.tooltip),
    backgroundColor: item.backgroundColor?.id,
    name: item.name ?? '',
    accessibilityLabel: item.accessibilityInformation?.label ?? '',
    command: typeof item.command === 'string' ? item.command : item.command?.command,
    state: statusBar.state,
  };
}
