// Command palette and tree actions. Every command reports its own failures in plain words with a
// fix; none throws. A bundle of its own (dist/commands.js), loaded on the first command: the commands
// are registered at activation by lazyCommands.ts, which calls these handlers.
import * as vscode from 'vscode';
import { notificationText } from '../domain/text';
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
import { disposeTrends, showTrends } from './trendsPanel';

/** A modal confirmation: resolves to the action chosen (undefined when dismissed). */
export type Confirm = (message: string, detail: string | undefined, action: string) => Thenable<string | undefined>;

export const confirmModal: Confirm = (message, detail, action) =>
  vscode.window.showWarningMessage(message, { modal: true, detail }, action);

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
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- command arguments come from VS Code untyped
  const reg = (id: CommandId, fn: (...args: any[]) => unknown): [CommandId, CommandHandler] => [
    id,
    async (...args: unknown[]) => {
      try {
        return await fn(...args);
      } catch (e) {
        d.log.error(`Command ${id} failed`, e);
        void vscode.window
          .showErrorMessage(`EHG Telemetry: ${id} failed unexpectedly. See the log for details.`, 'Show Log')
          .then((c) => c && d.log.show());
      }
    },
  ];

  const requireBackend = (): TelemetryBackend | undefined => {
    const b = d.connection.snapshot.backend;
    if (!b) {
      const s = d.connection.snapshot.state;
      const why =
        s.kind === 'restricted'
          ? 'This workspace is in Restricted Mode, so its .env is not read.'
          : s.kind === 'invalid'
            ? s.message
            : 'No connection is configured.';
      void vscode.window
        .showWarningMessage(notificationText(`EHG Telemetry: ${why}`), 'Configure…')
        .then((c) => c && vscode.commands.executeCommand('ehgTelemetry.configureConnection'));
    }
    return b ?? undefined;
  };

  const showError = (e: BackendError) => {
    d.log.warn(e.message);
    void vscode.window
      .showErrorMessage(notificationText(`EHG Telemetry: ${e.message}`), 'Show Log')
      .then((c) => c && d.log.show());
  };

  const pickRun = async (filter: (r: RunSummary) => boolean, placeHolder: string): Promise<string | undefined> => {
    const runs = d.model.runs.filter(filter);
    if (runs.length === 0) {
      void vscode.window.showInformationMessage(
        d.model.loadedOnce
          ? 'EHG Telemetry: no matching runs are loaded.'
          : 'EHG Telemetry: runs are not loaded yet; open the Analysis Runs view or run Refresh.',
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
      { location: vscode.ProgressLocation.Window, title: 'Loading run details…' },
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
        title: 'EHG Telemetry: Configure Connection (1/2)',
        prompt: 'URL of the EHG_Engineer Supabase project',
        placeHolder: 'https://abcd.supabase.co',
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
        title: 'EHG Telemetry: Configure Connection (2/2)',
        prompt: `Key for ${check.origin}. A service-role key can enqueue and cancel runs; the anon key is read-only. It is stored in the OS keychain (SecretStorage) and sent only to ${check.origin}.`,
        password: true,
        ignoreFocusOut: true,
        validateInput: (v) => (v.trim() ? null : 'Enter a key.'),
      });
      if (key === undefined) return;
      const trimmed = key.trim();
      const caps = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `EHG Telemetry: testing ${check.origin}…` },
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
      const summary = `${mark(caps.readRuns.ok)} read runs · ${mark(caps.readHeartbeat.ok)} read the heartbeat · ${mark(caps.writeRuns.ok)} write runs`;
      d.log.info(
        `Connection test for ${check.origin} (key role ${caps.role}): ${caps.readRuns.detail}; ${caps.readHeartbeat.detail}; ${caps.writeRuns.detail}`,
      );
      if (!caps.readRuns.ok) {
        const choice = await vscode.window.showWarningMessage(
          notificationText(`EHG Telemetry: ${caps.readRuns.detail}`),
          { modal: true, detail: summary },
          'Save Anyway',
          'Re-enter',
        );
        if (choice === 'Re-enter') return vscode.commands.executeCommand('ehgTelemetry.configureConnection');
        if (choice !== 'Save Anyway') return;
      }
      await d.credentials.store(check.origin, trimmed);
      await vscode.workspace
        .getConfiguration(SECTION)
        .update('supabaseUrl', check.url, vscode.ConfigurationTarget.Global);
      await d.connection.refresh();
      if (caps.readRuns.ok) d.connection.setCanWrite(caps.writeRuns.ok);
      const extra = caps.writeRuns.ok ? '' : ' Read-only: runs cannot be started or cancelled with this key.';
      void vscode.window.showInformationMessage(
        notificationText(`EHG Telemetry: connected to ${check.origin}. ${summary}.${extra}`),
      );
    }),

    reg('clearCredentials', async () => {
      const origins = d.credentials.origins;
      const choice = await vscode.window.showWarningMessage(
        'Remove the stored key(s) and the URL setting?',
        {
          modal: true,
          detail: origins.length
            ? `Keys stored for: ${origins.join(', ')}. A workspace .env is not changed.`
            : 'No key is stored; the URL setting will be cleared.',
        },
        'Clear',
      );
      if (choice !== 'Clear') return;
      await d.credentials.clear();
      await vscode.workspace
        .getConfiguration(SECTION)
        .update('supabaseUrl', undefined, vscode.ConfigurationTarget.Global);
      await d.connection.refresh();
      void vscode.window.showInformationMessage('EHG Telemetry: credentials cleared.');
    }),

    reg('triggerRun', async () => {
      if (!vscode.workspace.isTrusted) {
        void vscode.window
          .showInformationMessage(
            'EHG Telemetry: runs cannot be started in Restricted Mode. Trust this workspace to enable it.',
            'Manage Trust',
          )
          .then((c) => c && vscode.commands.executeCommand('workbench.trust.manage'));
        return;
      }
      const backend = requireBackend();
      if (!backend) return;
      if (d.connection.snapshot.canWrite === false) {
        void vscode.window
          .showWarningMessage(
            'EHG Telemetry: this key is read-only, so runs cannot be started. Configure a service-role key.',
            'Configure…',
          )
          .then((c) => c && vscode.commands.executeCommand('ehgTelemetry.configureConnection'));
        return;
      }
      const folders = vscode.workspace.workspaceFolders ?? [];
      if (folders.length === 0) {
        void vscode.window.showInformationMessage(
          'EHG Telemetry: open a folder first; runs are scoped to a workspace folder.',
        );
        return;
      }
      const folder =
        folders.length === 1
          ? folders[0]
          : (
              await vscode.window.showQuickPick(
                folders.map((f) => ({ label: f.name, description: f.uri.fsPath, folder: f })),
                { placeHolder: 'Analyse which folder?' },
              )
            )?.folder;
      if (!folder) return;
      const { scopeId } = folderSettings(folder);
      const settings = d.connection.snapshot.settings;
      await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Window, title: 'EHG Telemetry: starting an analysis run…' },
        async () => {
          const { outcome, execution } = await d.analysis.enqueue(folder, backend, {
            scopeId,
            triggeredBy: 'MANUAL',
            mode: 'always',
            stalenessMs: settings.stalenessMs,
            dedupMs: settings.dedupMs,
            metadata: runMetadata(settings.runTimeoutMs, d.extensionVersion),
          });
          if (outcome.kind === 'no-analyzer') {
            d.log.info(
              `Manual run not started for ${JSON.stringify(scopeId)}: skipped_no_analyzer (${outcome.reason})`,
            );
            void vscode.window
              .showWarningMessage(
                notificationText(`EHG Telemetry: no run was started: ${outcome.reason}.`),
                {
                  detail:
                    'Runs are executed with the folder\'s own EHG_Engineer analyzer (ehgTelemetry.analysis.analyzerPath). Open the EHG_Engineer checkout, or set ehgTelemetry.analysis.executor to "external" if a worker claims queued runs.',
                },
                'Open Settings',
              )
              .then(
                (c) => c && vscode.commands.executeCommand('workbench.action.openSettings', 'ehgTelemetry.analysis'),
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
            void vscode.window
              .showInformationMessage(
                notificationText(
                  `EHG Telemetry: an analysis run is already ${a.status.toLowerCase()} for ${folder.name} (triggered ${formatAge(a.triggeredAt, new Date())}).`,
                ),
                'Show Run',
              )
              .then((c) => c && openRunDocument(a.runId));
            return;
          }
          if (outcome.kind !== 'enqueued') return;
          const runId = outcome.runId;
          d.log.info(
            `Manual run enqueued: run_id=${runId} scope=${JSON.stringify(scopeId)}${execution ? ` executed by this window (analysis process ${execution.process.pid ?? '?'})` : ' (executor external: left QUEUED for a worker)'}`,
          );
          vscode.window.setStatusBarMessage(
            execution ? '$(sync~spin) EHG Telemetry: analysis running' : '$(check) EHG Telemetry: analysis run queued',
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
      const runId = runIdOf(arg) ?? (await pickRun((r) => isActive(r.status), 'Cancel which run?'));
      if (!runId) return;
      if (d.connection.snapshot.canWrite === false) {
        void vscode.window
          .showWarningMessage(
            'EHG Telemetry: this key is read-only, so runs cannot be cancelled. Configure a service-role key.',
            'Configure…',
          )
          .then((c) => c && vscode.commands.executeCommand('ehgTelemetry.configureConnection'));
        return;
      }
      const run = d.model.find(runId);
      const choice = await d.confirm(
        `Cancel analysis run ${runId}?`,
        run
          ? `${statusLabel(run)}, triggered ${formatAge(run.triggeredAt, new Date())}. A run this window executes is stopped at once; an analysis the CLI hook runs ignores a cancel.`
          : undefined,
        'Cancel Run',
      );
      if (choice !== 'Cancel Run') return;
      const res = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Window, title: 'EHG Telemetry: cancelling…' },
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
          void vscode.window.showWarningMessage(
            'EHG Telemetry: nothing was cancelled: this key is not allowed to change runs (row-level security).',
          );
        } else {
          void vscode.window.showInformationMessage('EHG Telemetry: the run had already finished; nothing to cancel.');
        }
      } else {
        d.log.info(`Cancelled run ${runId} (reason_code=${REASON_CANCELLED_FROM_EDITOR})`);
        vscode.window.setStatusBarMessage('$(check) EHG Telemetry: run cancelled', 5000);
      }
      await refreshRuns();
    }),

    reg('showRunDetails', async (arg?: RunArg) => {
      if (!requireBackend()) return;
      const runId = runIdOf(arg) ?? (await pickRun(() => true, 'Show which run?'));
      if (runId) await openRunDocument(runId);
    }),

    reg('copyRunId', async (arg?: RunArg) => {
      const runId = runIdOf(arg) ?? (await pickRun(() => true, 'Copy the ID of which run?'));
      if (!runId) return;
      await vscode.env.clipboard.writeText(runId);
      vscode.window.setStatusBarMessage(`$(check) Copied run ID ${runId}`, 3000);
    }),

    reg('showSchedulerDetails', async () => {
      const health = d.monitor.health;
      const p = presentHealth(health);
      const now = d.monitor.serverNow();
      const facts = 'heartbeat' in health ? heartbeatFacts(health.heartbeat, now) : [];
      const readAt = d.monitor.lastReadAt;
      type Item = vscode.QuickPickItem & { action?: 'refresh' | 'log' | 'configure' };
      const items: Item[] = [
        { label: `$(${p.icon}) ${p.text}`, detail: p.explanation },
        ...(facts.length ? [{ label: 'Heartbeat', kind: vscode.QuickPickItemKind.Separator } as Item] : []),
        ...facts.map(([k, v]) => ({ label: k, description: v })),
        { label: 'Actions', kind: vscode.QuickPickItemKind.Separator },
        {
          label: '$(refresh) Refresh',
          description: readAt ? `last read ${formatAge(readAt, now)}` : undefined,
          action: 'refresh',
        },
        { label: '$(output) Open Log', action: 'log' },
        ...(d.connection.snapshot.backend
          ? []
          : [{ label: '$(plug) Configure Connection…', action: 'configure' } as Item]),
      ];
      const pick = await vscode.window.showQuickPick(items, {
        title: 'EHG Telemetry: EVA Scheduler',
        placeHolder: 'Scheduler heartbeat and circuit breaker',
        matchOnDescription: true,
      });
      if (pick?.action === 'refresh') {
        await vscode.window.withProgress(
          { location: vscode.ProgressLocation.Window, title: 'EHG Telemetry: reading the heartbeat…' },
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
