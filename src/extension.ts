// Entry point: build the parts, wire them, push disposables. Nothing here awaits I/O, so
// activation never waits on the network; the first requests start after activate() returns.
import * as vscode from 'vscode';
import { ConnectionManager } from './platform/connection';
import { Log } from './platform/log';
import { RefreshScheduler } from './platform/refreshScheduler';
import { confirmModal, registerCommands, SCOPE_STATE_KEY, STORED_ORIGINS_KEY } from './ui/commands';
import { FailureNotifier } from './ui/failureNotifier';
import { RunDocumentProvider, RUN_DOC_SCHEME } from './ui/runDocument';
import { ACTIVE_POLL_MS, IDLE_POLL_MS, RunsModel, ScopeFilter } from './ui/runsModel';
import { RunsNode, RunsTreeProvider } from './ui/runsTree';
import { RunWatcher } from './ui/runWatcher';
import { RunComparisons } from './ui/runComparisons';
import { NotificationPrefs, registerNotificationCommands } from './ui/notificationPrefs';
import { registerTrendsCommand } from './ui/trendsPanel';
import { SchedulerMonitor } from './ui/schedulerMonitor';
import { SessionStartController } from './ui/sessionStart';
import { AnalysisRunner } from './ui/analysisRunner';
import { SchedulerStatusBar } from './ui/statusBar';
import { computeViewDescription, computeViewMessage, computeViewState, ContextKeys } from './ui/viewState';
import { folderSettings } from './platform/settings';
import type { TestHooks, TestingApi } from './testingApi';

/**
 * true only in the test build (esbuild.js --test, dist-test/): the production build defines it as
 * false, so every `if (__EHG_TEST_HOOKS__)` branch and the test hooks module are removed from it.
 */
declare const __EHG_TEST_HOOKS__: boolean;

export interface EhgTelemetryApi {
  /** Only in the test build (dist-test/), never in the VSIX. */
  testing?: TestingApi;
}

export function activate(context: vscode.ExtensionContext): EhgTelemetryApi {
  const rawVersion = (context.extension.packageJSON as { version?: unknown }).version;
  const version = typeof rawVersion === 'string' ? rawVersion : '0.0.0';
  const log = new Log();
  const hooks: TestHooks | undefined = __EHG_TEST_HOOKS__
    ? // eslint-disable-next-line @typescript-eslint/no-require-imports -- inside the dead branch, so the production bundle has no trace of it
      (require('./testingApi') as typeof import('./testingApi')).createTestHooks()
    : undefined;
  const newBackend = (o: { url: string; origin: string; key: string; timeoutMs: number }) =>
    new (loadSupabaseBackend().SupabaseBackend)({ ...o, clientInfo: `ehg-telemetry-vscode/${version}` });
  const createBackend = __EHG_TEST_HOOKS__ && hooks ? hooks.observeBackends(newBackend) : newBackend;
  const connection = new ConnectionManager(context.secrets, log, createBackend);
  const prefs = new NotificationPrefs(context.globalState);
  const notifier = new FailureNotifier(log, prefs);
  const keys = new ContextKeys();
  const scopeIds = () => (vscode.workspace.workspaceFolders ?? []).map((f) => folderSettings(f).scopeId);
  const model = new RunsModel(
    connection,
    notifier,
    scopeIds,
    context.workspaceState.get<ScopeFilter>(SCOPE_STATE_KEY, 'workspace') === 'all' ? 'all' : 'workspace',
  );
  const comparisons = new RunComparisons(connection, model);
  const tree = new RunsTreeProvider(model, connection, undefined, comparisons);
  const treeView = vscode.window.createTreeView<RunsNode>('ehgTelemetry.runs', {
    treeDataProvider: tree,
    showCollapseAll: true,
  });
  const runsRefresh = new RefreshScheduler({
    task: () => model.load(),
    unfocusedFactor: 5,
    backoffBaseMs: 5_000,
    backoffMaxMs: 5 * 60_000,
    maxDelayMs: 15 * 60_000,
    minIntervalMs: 5_000,
  });
  const monitor = new SchedulerMonitor(connection, notifier);
  const statusBar = new SchedulerStatusBar(monitor);
  const watcher = new RunWatcher(connection, model, log, () => void runsRefresh.refreshNow(), { comparisons, prefs });
  const documents = new RunDocumentProvider(connection);
  const analysis = new AnalysisRunner(connection, log, context.extensionPath, version, () => {
    watcher.checkNow();
    if (treeView.visible) void runsRefresh.refreshNow();
  });
  const sessionStart = new SessionStartController(
    connection,
    log,
    notifier,
    { extensionVersion: version },
    (runId) => {
      tree.mine.add(runId);
      watcher.watch(runId);
      if (treeView.visible) void runsRefresh.refreshNow();
    },
    analysis,
  );
  let listGeneration = -1;

  const updateView = () => {
    const state = computeViewState(connection, model);
    const snap = connection.snapshot;
    keys.set('ehgTelemetry.state', state);
    keys.set('ehgTelemetry.configured', snap.backend !== null);
    keys.set('ehgTelemetry.canWrite', snap.backend !== null && snap.canWrite !== false);
    keys.set('ehgTelemetry.hasActiveRuns', model.hasActiveRuns);
    keys.set('ehgTelemetry.scope', model.scope);
    treeView.message = computeViewMessage(connection, model, vscode.workspace.isTrusted, [
      ...analysis.noAnalyzer.values(),
    ]);
    treeView.description = computeViewDescription(
      model,
      new Date(),
      model.hasActiveRuns ? ACTIVE_POLL_MS : IDLE_POLL_MS,
    );
  };
  const updateStoredKeys = () =>
    keys.set('ehgTelemetry.hasStoredKey', context.globalState.get<string[]>(STORED_ORIGINS_KEY, []).length > 0);

  runsRefresh.setVisible(treeView.visible);
  runsRefresh.setFocused(vscode.window.state.focused);
  runsRefresh.setEnabled(false);

  context.subscriptions.push(
    log,
    connection,
    model,
    comparisons,
    tree,
    treeView,
    monitor,
    statusBar,
    watcher,
    documents,
    sessionStart,
    analysis,
    { dispose: () => runsRefresh.dispose() },
    analysis.onDidChange(updateView),
    vscode.workspace.registerTextDocumentContentProvider(RUN_DOC_SCHEME, documents),
    treeView.onDidChangeVisibility((e) => runsRefresh.setVisible(e.visible)),
    vscode.window.onDidChangeWindowState((s) => runsRefresh.setFocused(s.focused)),
    model.onDidChange(updateView),
    model.onDidChange(() => {
      if (treeView.visible && model.loadedOnce) comparisons.prefetchNewest(model.runs);
    }),
    connection.onDidChange((snap) => {
      runsRefresh.setEnabled(snap.backend !== null);
      if (snap.generation !== listGeneration) {
        listGeneration = snap.generation;
        if (snap.backend && treeView.visible) void runsRefresh.refreshNow();
      }
      updateView();
    }),
    registerNotificationCommands(prefs),
    registerTrendsCommand(context.extensionUri, connection, model),
    registerCommands({
      context,
      connection,
      model,
      tree,
      treeView,
      runsRefresh,
      monitor,
      watcher,
      documents,
      log,
      createBackend,
      analysis,
      extensionVersion: version,
      onScopeChanged: updateView,
      onStoredKeysChanged: updateStoredKeys,
      confirm: __EHG_TEST_HOOKS__ && hooks ? hooks.confirm(confirmModal) : confirmModal,
    }),
  );
  updateView();
  updateStoredKeys();

  // Everything that touches secrets, files or the network starts after activate() has returned.
  const startTimer = setTimeout(() => {
    monitor.start();
    sessionStart.start();
    void connection.refresh();
  }, 0);
  context.subscriptions.push({ dispose: () => clearTimeout(startTimer) });
  // The view's "updated N min ago" ages while nothing else changes.
  const freshnessTimer = setInterval(() => {
    if (treeView.visible) updateView();
  }, 30_000);
  context.subscriptions.push({ dispose: () => clearInterval(freshnessTimer) });

  if (__EHG_TEST_HOOKS__ && hooks)
    return {
      testing: hooks.attach({
        connection,
        model,
        tree,
        statusBar,
        sessionStart,
        prefs,
        monitor,
        analysis,
        viewMessage: () => treeView.message,
        viewState: () => computeViewState(connection, model),
      }),
    };
  return {};
}

/**
 * supabase-js is most of the code this extension ships (~200 KB minified). It is a separate bundle
 * (dist/supabaseBackend.js, see esbuild.js) loaded when the first connection is made, after
 * activate() has returned, so activation only parses the extension's own code.
 */
function loadSupabaseBackend(): typeof import('./data/supabaseBackend') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('./data/supabaseBackend') as typeof import('./data/supabaseBackend');
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions (which also aborts requests in flight).
}
