// The extension's parts, built and wired. Each part follows the others through their own events.
// extension.ts loads this bundle (dist/app.js) one tick after activate() has returned.
import * as vscode from 'vscode';
import { ConnectionManager } from './platform/connection';
import { CredentialStore } from './platform/credentialStore';
import { Log } from './platform/log';
import { folderSettings } from './platform/settings';
import { AnalysisRunner } from './ui/analysisRunner';
import type { Confirm } from './ui/commands';
import { FailureNotifier } from './ui/failureNotifier';
import { NotificationPrefs, registerNotificationCommands } from './ui/notificationPrefs';
import { RunComparisons } from './ui/runComparisons';
import { RunDocumentProvider, RUN_DOC_SCHEME } from './ui/runDocument';
import { RunsModel } from './ui/runsModel';
import { RunsView } from './ui/runsView';
import { RunWatcher } from './ui/runWatcher';
import { SchedulerMonitor } from './ui/schedulerMonitor';
import { SchedulerStatusBar } from './ui/statusBar';
import { StartedRuns } from './ui/startedRuns';
import { publishStoredKeyContext } from './ui/storedKeys';
import { registerLazyCommands } from './ui/lazyCommands';
import type { SessionStartController } from './ui/sessionStart';
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

type BackendOptions = { url: string; origin: string; key: string; timeoutMs: number };

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
  const newBackend = (o: BackendOptions) =>
    new (loadSupabaseBackend().SupabaseBackend)({ ...o, clientInfo: `ehg-telemetry-vscode/${version}` });
  const createBackend = __EHG_TEST_HOOKS__ && hooks ? hooks.observeBackends(newBackend) : newBackend;
  const log = new Log();
  const credentials = new CredentialStore(context.secrets, context.globalState);
  const connection = new ConnectionManager(credentials, log, createBackend);
  const prefs = new NotificationPrefs(context.globalState);
  const notifier = new FailureNotifier(log, prefs);
  const model = new RunsModel(connection, notifier, workspaceScopeIds, context.workspaceState);
  const comparisons = new RunComparisons(connection, model);
  const analysis = new AnalysisRunner(connection, log, context.extensionPath, version);
  const closeAnalysis = () => analysis.close();
  const view = new RunsView(connection, model, comparisons, analysis);
  const monitor = new SchedulerMonitor(connection, notifier);
  const statusBar = new SchedulerStatusBar(monitor);
  const watcher = new RunWatcher(connection, model, log, { comparisons, prefs });
  const started = new StartedRuns(view, watcher, analysis);
  const documents = new RunDocumentProvider(connection);
  const modal: Confirm = (...args) => loadCommands().confirmModal(...args);
  const confirm = __EHG_TEST_HOOKS__ && hooks ? hooks.confirm(modal) : modal;
  const deps = {
    context,
    connection,
    credentials,
    model,
    view,
    started,
    monitor,
    documents,
    log,
    createBackend,
    analysis,
    confirm,
  };
  // Disposed in this order (VS Code disposes subscriptions first to last): the analysis runner before
  // the connection, so that a held run's cancel is still sent through the open backend.
  closers.add(closeAnalysis);
  context.subscriptions.push(
    { dispose: () => closers.delete(closeAnalysis) },
    ...[
      log,
      credentials,
      analysis,
      connection,
      model,
      comparisons,
      view,
      monitor,
      statusBar,
      watcher,
      started,
      documents,
    ],
    vscode.workspace.registerTextDocumentContentProvider(RUN_DOC_SCHEME, documents),
    credentials.onDidChange(() => publishStoredKeyContext(credentials)),
    registerNotificationCommands(prefs),
    registerLazyCommands(() => loadCommands().createCommandHandlers({ ...deps, extensionVersion: version })),
  );
  publishStoredKeyContext(credentials);
  // Everything that touches secrets, files or the network starts a tick later still, once VS Code has
  // the API this returns (and the extension counts as active).
  const startTimer = setTimeout(() => {
    monitor.start();
    const sessionStart = newSessionStart(connection, log, notifier, version, started, analysis);
    context.subscriptions.push(sessionStart);
    if (__EHG_TEST_HOOKS__ && hooks) hooks.observeSessionStart(sessionStart);
    sessionStart.start();
    void connection.refresh();
  }, 0);
  context.subscriptions.push({ dispose: () => clearTimeout(startTimer) });
  if (__EHG_TEST_HOOKS__ && hooks) {
    const parts = { connection, model, tree: view.tree, statusBar, prefs, monitor, analysis, documents };
    return { testing: hooks.attach({ ...parts, viewMessage: () => view.message, viewState: () => view.state }) };
  }
  return {};
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
function newSessionStart(
  connection: ConnectionManager,
  log: Log,
  notifier: FailureNotifier,
  extensionVersion: string,
  started: StartedRuns,
  analysis: AnalysisRunner,
): SessionStartController {
  const { SessionStartController } = loadSessionStart();
  return new SessionStartController(connection, log, notifier, { extensionVersion }, started, analysis);
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

function loadSessionStart(): typeof import('./ui/sessionStart') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('./ui/sessionStart') as typeof import('./ui/sessionStart');
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
