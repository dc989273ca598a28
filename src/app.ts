// The extension's parts, built and wired. Each part follows the others through their own events.
// extension.ts loads this bundle (dist/app.js) one tick after activate() has returned.
import * as vscode from 'vscode';
import type { TelemetryBackend } from './data/backend';
import { ConnectionManager } from './platform/connection';
import { CredentialStore } from './platform/credentialStore';
import { Log } from './platform/log';
import { folderSettings } from './platform/settings';
import { AnalysisRunner } from './runs/analysisRunner';
import { DrillDown } from './runs/drillDown';
import { RunComparisons } from './runs/runComparisons';
import { RunsModel } from './runs/runsModel';
import { RunWatcher } from './runs/runWatcher';
import { StartedRuns } from './runs/startedRuns';
import type { StartRunParts } from './runs/startRun';
import type { SessionStartController } from './runs/sessionStart';
import { SchedulerMonitor } from './scheduler/schedulerMonitor';
import type { CommandParts, Confirm } from './ui/commands';
import { showAnalysisStatus } from './ui/analysisStatus';
import { notifyCompletions } from './ui/completionNotifier';
import { FailureNotifier } from './ui/failureNotifier';
import { NotificationPrefs, registerNotificationCommands } from './ui/notificationPrefs';
import { RunDocumentProvider, RUN_DOC_SCHEME } from './ui/runDocument';
import { RunsView } from './ui/runsView';
import { SchedulerStatusBar } from './ui/statusBar';
import { publishStoredKeyContext } from './ui/storedKeys';
import { registerLazyCommands } from './ui/lazyCommands';
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

type CreateBackend = (o: { url: string; origin: string; key: string; timeoutMs: number }) => TelemetryBackend;

/**
 * Builds the parts and wires them (extension.ts calls it just after activate() has returned). Nothing
 * here awaits I/O; the first requests start one tick later still.
 */
export function wire(context: vscode.ExtensionContext): EhgTelemetryApi {
  const rawVersion = (context.extension.packageJSON as { version?: unknown }).version;
  const version = typeof rawVersion === 'string' ? rawVersion : '0.0.0';
  const hooks: TestHooks | undefined = __EHG_TEST_HOOKS__
    ? // eslint-disable-next-line @typescript-eslint/no-require-imports -- inside the dead branch, so the production bundle has no trace of it
      (require('./testingApi') as typeof import('./testingApi')).createTestHooks()
    : undefined;
  const onRequest = __EHG_TEST_HOOKS__ && hooks ? hooks.countRequest : undefined;
  const createBackend: CreateBackend = (o) =>
    new (loadSupabaseBackend().SupabaseBackend)({ ...o, clientInfo: `ehg-telemetry-vscode/${version}`, onRequest });
  const p = buildParts(context, version, createBackend);
  const modal: Confirm = (...args) => loadCommands().confirmModal(...args);
  const confirm = __EHG_TEST_HOOKS__ && hooks ? hooks.confirm(modal) : modal;
  // Disposed in this order (VS Code disposes subscriptions first to last): the analysis runner before
  // the connection, so that a held run's cancel is still sent through the open backend.
  const closeAnalysis = () => p.analysis.close();
  closers.add(closeAnalysis);
  context.subscriptions.push(
    { dispose: () => closers.delete(closeAnalysis) },
    ...[p.log, p.credentials, p.analysis, p.connection, p.model, p.comparisons, p.drill, p.view, p.monitor, p.prefs],
    ...[p.statusBar, p.watcher, p.started, p.documents],
    ...followStartedRuns(p),
    showAnalysisStatus(p.analysis),
    notifyCompletions(p.watcher.onDidFinish, p.connection, p.comparisons, p.prefs),
    vscode.workspace.registerTextDocumentContentProvider(RUN_DOC_SCHEME, p.documents),
    p.credentials.onDidChange(() => publishStoredKeyContext(p.credentials)),
    registerNotificationCommands(p.prefs),
    registerLazyCommands(() => loadCommands().createCommandHandlers(commandParts(p, context, createBackend, confirm))),
  );
  publishStoredKeyContext(p.credentials);
  // Everything that touches secrets, files or the network starts a tick later still, once VS Code has
  // the API this returns (and the extension counts as active).
  const startTimer = setTimeout(() => {
    p.monitor.start();
    const sessionStart = newSessionStart(p);
    context.subscriptions.push(sessionStart);
    if (__EHG_TEST_HOOKS__ && hooks) hooks.observeSessionStart(sessionStart);
    sessionStart.start();
    void p.connection.refresh();
  }, 0);
  context.subscriptions.push({ dispose: () => clearTimeout(startTimer) });
  if (__EHG_TEST_HOOKS__ && hooks) return { testing: hooks.attach(testParts(p)) };
  return {};
}

type Parts = ReturnType<typeof buildParts>;

/** Every part, built; none has started reading yet. */
function buildParts(context: vscode.ExtensionContext, version: string, createBackend: CreateBackend) {
  const log = new Log();
  const credentials = new CredentialStore(context.secrets, context.globalState);
  const connection = new ConnectionManager(credentials, log, createBackend);
  const prefs = new NotificationPrefs(context.globalState);
  const notifier = new FailureNotifier(log, prefs);
  const model = new RunsModel(connection, notifier, workspaceScopeIds, context.workspaceState);
  const comparisons = new RunComparisons(connection, model);
  const drill = new DrillDown(connection);
  const analysis = new AnalysisRunner(connection, log, context.extensionPath, version);
  const view = new RunsView(connection, model, comparisons, analysis, drill);
  const monitor = new SchedulerMonitor(connection, notifier);
  const statusBar = new SchedulerStatusBar(monitor);
  const watcher = new RunWatcher(connection, model, log);
  const started = new StartedRuns();
  const documents = new RunDocumentProvider(connection, drill);
  const start: StartRunParts = { connection, analysis, started, extensionVersion: version };
  return {
    log,
    credentials,
    connection,
    prefs,
    notifier,
    model,
    comparisons,
    drill,
    analysis,
    view,
    monitor,
    statusBar,
    watcher,
    started,
    documents,
    start,
  };
}

/**
 * A run this window started is marked in the tree and watched until it ends; the list is read again
 * when one starts in the background (Trigger reads it itself, with progress) and when one ends.
 */
function followStartedRuns(p: Parts): vscode.Disposable[] {
  return [
    p.started.onDidStart((run) => {
      p.view.tree.mine.add(run.runId);
      p.watcher.watch(run.runId);
      if (run.by === 'session') void p.view.refreshIfVisible();
    }),
    // A run this window executed has ended: the watcher looks now instead of at its next poll.
    p.analysis.onDidEndRun(() => {
      p.watcher.checkNow();
      void p.view.refreshIfVisible();
    }),
    p.watcher.onDidFinish(() => void p.view.refreshNow()),
  ];
}

/** Each command group's parts (ui/commands/index.ts). */
function commandParts(
  p: Parts,
  context: vscode.ExtensionContext,
  createBackend: CreateBackend,
  confirm: Confirm,
): CommandParts {
  const { connection, log, model } = p;
  return {
    connection: { connection, credentials: p.credentials, createBackend, log },
    runs: {
      ...{ connection, model, view: p.view, documents: p.documents, log, analysis: p.analysis, start: p.start },
      refreshHeartbeat: () => p.monitor.refreshNow(),
      confirm,
      drill: p.drill,
    },
    scheduler: { connection, monitor: p.monitor, log },
    trends: { extensionUri: context.extensionUri, connection, model, log },
    drillDown: { connection, model, drill: p.drill, documents: p.documents, log },
  };
}

/** What the test hooks read (test build only). */
function testParts(p: Parts) {
  const { connection, statusBar, prefs, monitor, analysis, documents, comparisons, view } = p;
  return {
    ...{ connection, tree: view.tree, statusBar, prefs, monitor, analysis, documents, comparisons },
    refreshRuns: () => view.refreshNow(),
    viewMessage: () => view.message,
    viewState: () => view.state,
  };
}

/** What deactivate() waits for (bounded): each wired window's AnalysisRunner.close(). */
const closers = new Set<() => Promise<void>>();

/**
 * For extension.ts deactivate(), which VS Code calls before it disposes the subscriptions and then
 * awaits (5 s at most for all extensions): a run claimed and held for the CLI hook is cancelled
 * rather than left RUNNING with no owner (AnalysisRunner.close, ≤ CLOSE_WAIT_MS). Never rejects.
 */
export function beforeDeactivate(): Promise<void> {
  return Promise.all([...closers].map((close) => close().catch(() => undefined))).then(() => undefined);
}

/** SESSION_START for every folder (its own bundle, loaded after the wiring). */
function newSessionStart(p: Parts): SessionStartController {
  const { SessionStartController } = loadSessionStart();
  return new SessionStartController(p.start, p.log, p.notifier);
}

/** The scope_id of each workspace folder (This Workspace). */
function workspaceScopeIds(): string[] {
  return (vscode.workspace.workspaceFolders ?? []).map((f) => folderSettings(f).scopeId);
}

/**
 * Code that the first frame does not need is in bundles of its own (esbuild.js), required on first
 * use: the command bodies and the trends panel (dist/commands.js) on the first command, the session
 * start (dist/sessionStart.js) just after the wiring.
 */
function loadCommands(): typeof import('./ui/commands') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('./ui/commands') as typeof import('./ui/commands');
}

function loadSessionStart(): typeof import('./runs/sessionStart') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('./runs/sessionStart') as typeof import('./runs/sessionStart');
}

/**
 * supabase-js is most of the code this extension ships (~200 KB minified). It is a separate bundle
 * (dist/supabaseBackend.js, see esbuild.js) loaded when the first connection is made, after
 * the wiring, so that only the extension's own code is parsed before the first frame.
 */
function loadSupabaseBackend(): typeof import('./data/supabaseBackend') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('./data/supabaseBackend') as typeof import('./data/supabaseBackend');
}
