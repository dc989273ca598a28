// Command palette and tree actions. Every command reports its own failures in plain words with a
// fix; none throws. A bundle of its own (dist/commands.js), loaded on the first command: the commands
// are registered at activation by lazyCommands.ts, which calls these handlers.
import * as vscode from 'vscode';
import type { BackendError, TelemetryBackend } from '../data/backend';
import { checkProjectUrl } from '../domain/credentials';
import { formatAge } from '../domain/format';
import { heartbeatFacts, presentHealth } from '../domain/heartbeatFormat';
import { isActive, REASON_CANCELLED_FROM_EDITOR, RunSummary } from '../domain/run';
import { runLabel, statusLabel } from '../domain/runFormat';
import type { ConnectionManager } from '../platform/connection';
import type { CredentialStore } from '../platform/credentialStore';
import type { Log } from '../platform/log';
import { folderSettings, readSettings, SECTION } from '../platform/settings';
import { runDocumentUri, RunDocumentProvider } from './runDocument';
import { runMetadata } from './sessionStart';
import type { RunsModel, ScopeFilter } from './runsModel';
import type { RunsNode } from './runsTree';
import type { RunsView } from './runsView';
import type { SchedulerMonitor } from './schedulerMonitor';
import type { AnalysisRunner } from './analysisRunner';
import type { StartedRuns } from './startedRuns';
import type { CommandHandler, CommandHandlers, CommandId } from './lazyCommands';
import { error, info, warn, warnModal, warnWithDetail } from './notify';
import { disposeTrends, showTrends } from './trendsPanel';

/** A modal confirmation: resolves to the action chosen (undefined when dismissed). */
export type Confirm = (message: string, detail: string | undefined, action: string) => Thenable<string | undefined>;

export const confirmModal: Confirm = warnModal;

/** The example in the URL box: a URL, not words, so it is not translated. */
const EXAMPLE_URL = 'https://abcd.supabase.co';

export interface CommandDeps {
  context: vscode.ExtensionContext;
  connection: ConnectionManager;
  model: RunsModel;
  view: RunsView;
  started: StartedRuns;
  monitor: SchedulerMonitor;
  documents: RunDocumentProvider;
  log: Log;
  createBackend: (o: { url: string; origin: string; key: string; timeoutMs: number }) => TelemetryBackend;
  analysis: AnalysisRunner;
  extensionVersion: string;
  credentials: CredentialStore;
  /** Asks before a destructive action (Cancel Run). */
  confirm: Confirm;
}

type RunArg = RunsNode | { runId?: string } | undefined;

function runIdOf(arg: unknown): string | undefined {
  if (!arg || typeof arg !== 'object') return undefined;
  const a = arg as { kind?: string; run?: RunSummary; runId?: unknown };
  if (a.kind === 'run' && a.run) return a.run.runId;
  return typeof a.runId === 'string' ? a.runId : undefined;
}

export function createCommandHandlers(d: CommandDeps): CommandHandlers {
  /** An error with "Show Log", which opens the log. */
  const errorWithLog = (text: string) => {
    const showLog = vscode.l10n.t('Show Log');
    void error(text, showLog).then((c) => c === showLog && d.log.show());
  };

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- command arguments come from VS Code untyped
  const reg = (id: CommandId, fn: (...args: any[]) => unknown): [CommandId, CommandHandler] => [
    id,
    async (...args: unknown[]) => {
      try {
        return await fn(...args);
      } catch (e) {
        d.log.error(`Command ${id} failed`, e);
        errorWithLog(vscode.l10n.t('EHG Telemetry: {0} failed unexpectedly. See the log for details.', id));
      }
    },
  ];

  /** A warning with "Configure…", which opens Configure Connection. */
  const offerConfigure = (text: string) => {
    const configure = vscode.l10n.t('Configure…');
    void warn(text, configure).then(
      (c) => c === configure && vscode.commands.executeCommand('ehgTelemetry.configureConnection'),
    );
  };

  const requireBackend = (): TelemetryBackend | undefined => {
    const b = d.connection.snapshot.backend;
    if (!b) {
      const s = d.connection.snapshot.state;
      const text =
        s.kind === 'restricted'
          ? vscode.l10n.t('EHG Telemetry: This workspace is in Restricted Mode, so its .env is not read.')
          : s.kind === 'invalid'
            ? vscode.l10n.t('EHG Telemetry: {0}', s.message)
            : vscode.l10n.t('EHG Telemetry: No connection is configured.');
      offerConfigure(text);
    }
    return b ?? undefined;
  };

  const showError = (e: BackendError) => {
    d.log.warn(e.message);
    errorWithLog(vscode.l10n.t('EHG Telemetry: {0}', e.message));
  };

  const pickRun = async (filter: (r: RunSummary) => boolean, placeHolder: string): Promise<string | undefined> => {
    const runs = d.model.runs.filter(filter);
    if (runs.length === 0) {
      void info(
        d.model.loadedOnce
          ? vscode.l10n.t('EHG Telemetry: no matching runs are loaded.')
          : vscode.l10n.t('EHG Telemetry: runs are not loaded yet; open the Analysis Runs view or run Refresh.'),
      );
      return undefined;
    }
    const now = new Date();
    const pick = await vscode.window.showQuickPick(
      runs.map((r) => ({
        label: runLabel(r, now),
        description: r.topBottleneckCategory ?? '',
        detail: r.runId,
        runId: r.runId,
      })),
      { placeHolder, matchOnDetail: true },
    );
    return pick?.runId;
  };

  const refreshRuns = () => d.view.refresh();

  const openRunDocument = async (runId: string) => {
    const uri = runDocumentUri(runId);
    await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Window, title: vscode.l10n.t('Loading run details…') },
      async () => {
        d.documents.invalidate(uri);
        const doc = await vscode.workspace.openTextDocument(uri);
        const md =
          doc.languageId === 'markdown' ? doc : await vscode.languages.setTextDocumentLanguage(doc, 'markdown');
        await vscode.window.showTextDocument(md, { preview: true });
      },
    );
  };

  const handlers = Object.fromEntries([
    reg('configureConnection', async () => {
      const settings = readSettings().settings;
      const snap = d.connection.snapshot;
      const url = await vscode.window.showInputBox({
        title: vscode.l10n.t('EHG Telemetry: Configure Connection (1/2)'),
        prompt: vscode.l10n.t('URL of the EHG_Engineer Supabase project'),
        placeHolder: EXAMPLE_URL,
        value: settings.supabaseUrl || (snap.state.kind === 'configured' ? snap.state.url : ''),
        ignoreFocusOut: true,
        validateInput: (v) => {
          const c = checkProjectUrl(v);
          if (!c.ok) return c.message;
          return c.warning ? { message: c.warning, severity: vscode.InputBoxValidationSeverity.Warning } : null;
        },
      });
      if (url === undefined) return;
      const check = checkProjectUrl(url);
      if (!check.ok) return;
      const key = await vscode.window.showInputBox({
        title: vscode.l10n.t('EHG Telemetry: Configure Connection (2/2)'),
        prompt: vscode.l10n.t(
          'Key for {0}. A service-role key can enqueue and cancel runs; the anon key is read-only. It is stored in the OS keychain (SecretStorage) and sent only to {0}.',
          check.origin,
        ),
        password: true,
        ignoreFocusOut: true,
        validateInput: (v) => (v.trim() ? null : vscode.l10n.t('Enter a key.')),
      });
      if (key === undefined) return;
      const trimmed = key.trim();
      const caps = await vscode.window.withProgress(
        {
          location: vscode.ProgressLocation.Notification,
          title: vscode.l10n.t('EHG Telemetry: testing {0}…', check.origin),
        },
        async () => {
          const probe = d.createBackend({
            url: check.url,
            origin: check.origin,
            key: trimmed,
            timeoutMs: settings.requestTimeoutMs,
          });
          try {
            return await probe.probeCapabilities();
          } finally {
            probe.dispose();
          }
        },
      );
      const mark = (ok: boolean) => (ok ? '✓' : '✗');
      const summary = vscode.l10n.t(
        '{0} read runs · {1} read the heartbeat · {2} write runs',
        mark(caps.readRuns.ok),
        mark(caps.readHeartbeat.ok),
        mark(caps.writeRuns.ok),
      );
      d.log.info(
        `Connection test for ${check.origin} (key role ${caps.role}): ${caps.readRuns.detail}; ${caps.readHeartbeat.detail}; ${caps.writeRuns.detail}`,
      );
      if (!caps.readRuns.ok) {
        const saveAnyway = vscode.l10n.t('Save Anyway');
        const reenter = vscode.l10n.t('Re-enter');
        const choice = await warnModal(
          vscode.l10n.t('EHG Telemetry: {0}', caps.readRuns.detail),
          summary,
          saveAnyway,
          reenter,
        );
        if (choice === reenter) return vscode.commands.executeCommand('ehgTelemetry.configureConnection');
        if (choice !== saveAnyway) return;
      }
      await d.credentials.store(check.origin, trimmed);
      await vscode.workspace
        .getConfiguration(SECTION)
        .update('supabaseUrl', check.url, vscode.ConfigurationTarget.Global);
      await d.connection.refresh();
      if (caps.readRuns.ok) d.connection.setCanWrite(caps.writeRuns.ok);
      void info(
        caps.writeRuns.ok
          ? vscode.l10n.t('EHG Telemetry: connected to {0}. {1}.', check.origin, summary)
          : vscode.l10n.t(
              'EHG Telemetry: connected to {0}. {1}. Read-only: runs cannot be started or cancelled with this key.',
              check.origin,
              summary,
            ),
      );
    }),

    reg('clearCredentials', async () => {
      const origins = d.credentials.origins;
      const clear = vscode.l10n.t('Clear');
      const choice = await warnModal(
        vscode.l10n.t('Remove the stored key(s) and the URL setting?'),
        origins.length
          ? vscode.l10n.t('Keys stored for: {0}. A workspace .env is not changed.', origins.join(', '))
          : vscode.l10n.t('No key is stored; the URL setting will be cleared.'),
        clear,
      );
      if (choice !== clear) return;
      await d.credentials.clear();
      await vscode.workspace
        .getConfiguration(SECTION)
        .update('supabaseUrl', undefined, vscode.ConfigurationTarget.Global);
      await d.connection.refresh();
      void info(vscode.l10n.t('EHG Telemetry: credentials cleared.'));
    }),

    reg('triggerRun', async () => {
      if (!vscode.workspace.isTrusted) {
        const manageTrust = vscode.l10n.t('Manage Trust');
        void info(
          vscode.l10n.t('EHG Telemetry: runs cannot be started in Restricted Mode. Trust this workspace to enable it.'),
          manageTrust,
        ).then((c) => c === manageTrust && vscode.commands.executeCommand('workbench.trust.manage'));
        return;
      }
      const backend = requireBackend();
      if (!backend) return;
      if (d.connection.snapshot.canWrite === false) {
        offerConfigure(
          vscode.l10n.t(
            'EHG Telemetry: this key is read-only, so runs cannot be started. Configure a service-role key.',
          ),
        );
        return;
      }
      const folders = vscode.workspace.workspaceFolders ?? [];
      if (folders.length === 0) {
        void info(vscode.l10n.t('EHG Telemetry: open a folder first; runs are scoped to a workspace folder.'));
        return;
      }
      const folder =
        folders.length === 1
          ? folders[0]
          : (
              await vscode.window.showQuickPick(
                folders.map((f) => ({ label: f.name, description: f.uri.fsPath, folder: f })),
                { placeHolder: vscode.l10n.t('Analyse which folder?') },
              )
            )?.folder;
      if (!folder) return;
      const { scopeId } = folderSettings(folder);
      const settings = d.connection.snapshot.settings;
      await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Window, title: vscode.l10n.t('EHG Telemetry: starting an analysis run…') },
        async () => {
          const { outcome, execution } = await d.analysis.enqueue(folder, backend, {
            scopeId,
            triggeredBy: 'MANUAL',
            mode: 'always',
            stalenessMs: settings.stalenessMs,
            dedupMs: settings.dedupMs,
            metadata: runMetadata(settings.runTimeoutMs, d.extensionVersion, d.analysis.windowId),
          });
          if (outcome.kind === 'no-analyzer') {
            d.log.info(
              `Manual run not started for ${JSON.stringify(scopeId)}: skipped_no_analyzer (${outcome.reason})`,
            );
            const openSettings = vscode.l10n.t('Open Settings');
            void warnWithDetail(
              vscode.l10n.t('EHG Telemetry: no run was started: {0}.', outcome.reason),
              {
                detail: vscode.l10n.t(
                  'Runs are executed with the folder\'s own EHG_Engineer analyzer (ehgTelemetry.analysis.analyzerPath). Open the EHG_Engineer checkout, or set ehgTelemetry.analysis.executor to "external" if a worker claims queued runs.',
                ),
              },
              openSettings,
            ).then(
              (c) =>
                c === openSettings &&
                vscode.commands.executeCommand('workbench.action.openSettings', 'ehgTelemetry.analysis'),
            );
            return;
          }
          if (outcome.kind === 'failed') {
            if (outcome.error.kind === 'permission') d.connection.markReadOnly();
            return showError(outcome.error);
          }
          if (outcome.kind === 'already-active') {
            const a = outcome.run;
            // Not awaited: the command (and its progress indicator) ends now; the choice is handled later.
            const age = formatAge(a.triggeredAt, new Date());
            const showRun = vscode.l10n.t('Show Run');
            void info(
              a.status === 'RUNNING'
                ? vscode.l10n.t(
                    'EHG Telemetry: an analysis run is already running for {0} (triggered {1}).',
                    folder.name,
                    age,
                  )
                : a.status === 'QUEUED'
                  ? vscode.l10n.t(
                      'EHG Telemetry: an analysis run is already queued for {0} (triggered {1}).',
                      folder.name,
                      age,
                    )
                  : // Only QUEUED and RUNNING runs are active; any other status is the database's own word.
                    vscode.l10n.t(
                      'EHG Telemetry: an analysis run is already {0} for {1} (triggered {2}).',
                      a.status.toLowerCase(),
                      folder.name,
                      age,
                    ),
              showRun,
            ).then((c) => (c === showRun ? openRunDocument(a.runId) : undefined));
            return;
          }
          if (outcome.kind !== 'enqueued') return;
          const runId = outcome.runId;
          d.log.info(
            `Manual run enqueued: run_id=${runId} scope=${JSON.stringify(scopeId)}${execution ? ` executed by this window (analysis process ${execution.process.pid ?? '?'})` : ' (executor external: left QUEUED for a worker)'}`,
          );
          vscode.window.setStatusBarMessage(
            execution
              ? vscode.l10n.t('$(sync~spin) EHG Telemetry: analysis running')
              : vscode.l10n.t('$(check) EHG Telemetry: analysis run queued'),
            5000,
          );
          await d.started.add(runId, 'with-progress');
          await d.view.reveal(runId);
        },
      );
    }),

    reg('refresh', async () => {
      if (!requireBackend()) return;
      await Promise.all([refreshRuns(), d.monitor.refreshNow()]);
    }),

    // Always asks first: no argument skips the confirmation (any extension can run this command).
    reg('cancelRun', async (arg?: RunArg) => {
      const backend = requireBackend();
      if (!backend) return;
      const runId = runIdOf(arg) ?? (await pickRun((r) => isActive(r.status), vscode.l10n.t('Cancel which run?')));
      if (!runId) return;
      if (d.connection.snapshot.canWrite === false) {
        offerConfigure(
          vscode.l10n.t(
            'EHG Telemetry: this key is read-only, so runs cannot be cancelled. Configure a service-role key.',
          ),
        );
        return;
      }
      const run = d.model.find(runId);
      const cancelRun = vscode.l10n.t('Cancel Run');
      const choice = await d.confirm(
        vscode.l10n.t('Cancel analysis run {0}?', runId),
        run
          ? vscode.l10n.t(
              '{0}, triggered {1}. A run this window executes is stopped at once; an analysis the CLI hook runs ignores a cancel.',
              statusLabel(run),
              formatAge(run.triggeredAt, new Date()),
            )
          : undefined,
        cancelRun,
      );
      if (choice !== cancelRun) return;
      const res = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Window, title: vscode.l10n.t('EHG Telemetry: cancelling…') },
        async () => {
          // A run this window executes: its analysis process is killed first, so nothing is written after the cancel.
          await d.analysis.cancel(runId);
          return backend.cancelRuns([runId], REASON_CANCELLED_FROM_EDITOR);
        },
      );
      if (!res.ok) {
        if (res.error.kind === 'permission') d.connection.markReadOnly();
        return showError(res.error);
      }
      if (res.value.length === 0) {
        if (backend.role === 'anon' || backend.role === 'authenticated') {
          d.connection.markReadOnly();
          void warn(
            vscode.l10n.t(
              'EHG Telemetry: nothing was cancelled: this key is not allowed to change runs (row-level security).',
            ),
          );
        } else {
          void info(vscode.l10n.t('EHG Telemetry: the run had already finished; nothing to cancel.'));
        }
      } else {
        d.log.info(`Cancelled run ${runId} (reason_code=${REASON_CANCELLED_FROM_EDITOR})`);
        vscode.window.setStatusBarMessage(vscode.l10n.t('$(check) EHG Telemetry: run cancelled'), 5000);
      }
      await refreshRuns();
    }),

    reg('showRunDetails', async (arg?: RunArg) => {
      if (!requireBackend()) return;
      const runId = runIdOf(arg) ?? (await pickRun(() => true, vscode.l10n.t('Show which run?')));
      if (runId) await openRunDocument(runId);
    }),

    reg('copyRunId', async (arg?: RunArg) => {
      const runId = runIdOf(arg) ?? (await pickRun(() => true, vscode.l10n.t('Copy the ID of which run?')));
      if (!runId) return;
      await vscode.env.clipboard.writeText(runId);
      vscode.window.setStatusBarMessage(vscode.l10n.t('$(check) Copied run ID {0}', runId), 3000);
    }),

    reg('showSchedulerDetails', async () => {
      const health = d.monitor.health;
      const p = presentHealth(health);
      const now = d.monitor.serverNow();
      const facts = 'heartbeat' in health ? heartbeatFacts(health.heartbeat, now, d.monitor.history) : [];
      const readAt = d.monitor.lastReadAt;
      type Item = vscode.QuickPickItem & { action?: 'refresh' | 'log' | 'configure' };
      const items: Item[] = [
        { label: `$(${p.icon}) ${p.text}`, detail: p.explanation },
        ...(facts.length
          ? [{ label: vscode.l10n.t('Heartbeat'), kind: vscode.QuickPickItemKind.Separator } as Item]
          : []),
        ...facts.map(([k, v]) => ({ label: k, description: v })),
        { label: vscode.l10n.t('Actions'), kind: vscode.QuickPickItemKind.Separator },
        {
          label: vscode.l10n.t('$(refresh) Refresh'),
          description: readAt ? vscode.l10n.t('last read {0}', formatAge(readAt, now)) : undefined,
          action: 'refresh',
        },
        { label: vscode.l10n.t('$(output) Open Log'), action: 'log' },
        ...(d.connection.snapshot.backend
          ? []
          : [{ label: vscode.l10n.t('$(plug) Configure Connection…'), action: 'configure' } as Item]),
      ];
      const pick = await vscode.window.showQuickPick(items, {
        title: vscode.l10n.t('EHG Telemetry: EVA Scheduler'),
        placeHolder: vscode.l10n.t('Scheduler heartbeat and circuit breaker'),
        matchOnDescription: true,
      });
      if (pick?.action === 'refresh') {
        await vscode.window.withProgress(
          { location: vscode.ProgressLocation.Window, title: vscode.l10n.t('EHG Telemetry: reading the heartbeat…') },
          () => d.monitor.refreshNow(),
        );
        return vscode.commands.executeCommand('ehgTelemetry.showSchedulerDetails');
      }
      if (pick?.action === 'log') d.log.show();
      if (pick?.action === 'configure') return vscode.commands.executeCommand('ehgTelemetry.configureConnection');
    }),

    reg('showWorkspaceRuns', () => setScope('workspace')),
    reg('showAllScopes', () => setScope('all')),
    reg('openLog', () => d.log.show()),
    reg('loadMore', () =>
      vscode.window.withProgress({ location: { viewId: 'ehgTelemetry.runs' } }, () => d.model.loadMore()),
    ),
    reg('showTrends', (arg?: unknown) => showTrends(d.context.extensionUri, d.connection, d.model, arg)),
  ]) as Record<CommandId, CommandHandler>;
  return Object.assign(handlers, { dispose: () => disposeTrends() });

  async function setScope(scope: ScopeFilter): Promise<void> {
    await d.model.setScope(scope);
    await refreshRuns();
  }
}
