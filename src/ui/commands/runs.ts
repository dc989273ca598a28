// Run commands: Trigger Analysis Run (through runs/startRun.ts, its outcome worded by
// runs/startWording.ts), Refresh, Cancel Run, Show Run Details, Copy Run ID, the scope filter, Load More.
import * as vscode from 'vscode';
import { formatAge } from '../../domain/format';
import { isActive, REASON_CANCELLED_FROM_EDITOR } from '../../domain/run';
import { statusLabel } from '../../domain/runFormat';
import type { ConnectionManager } from '../../platform/connection';
import type { Log } from '../../platform/log';
import type { AnalysisRunner } from '../../runs/analysisRunner';
import type { DrillDown } from '../../runs/drillDown';
import type { RunsModel, ScopeFilter } from '../../runs/runsModel';
import { startRun, StartRunParts } from '../../runs/startRun';
import { wordStart } from '../../runs/startWording';
import { info, warn } from '../notify';
import type { RunDocumentProvider } from '../runDocument';
import type { RunsView } from '../runsView';
import {
  command,
  Command,
  Confirm,
  offerConfigure,
  openRunDocument,
  pickRun,
  requireBackend,
  runIdOf,
  showError,
  showNotice,
  withProgress,
} from './shared';

export interface RunCommandParts {
  connection: ConnectionManager;
  model: RunsModel;
  view: RunsView;
  documents: RunDocumentProvider;
  log: Log;
  analysis: Pick<AnalysisRunner, 'cancel'>;
  /** What startRun needs (Trigger Analysis Run). */
  start: StartRunParts;
  /** Reads the scheduler heartbeat now (Refresh reads both). */
  refreshHeartbeat: () => Promise<void>;
  /** Asks before a destructive action (Cancel Run). */
  confirm: Confirm;
  /** Refresh drops its cached evidence and items, so that expanding a bottleneck reads them again. */
  drill: Pick<DrillDown, 'clear'>;
}

export function runCommands(d: RunCommandParts): Command[] {
  const setScope = async (scope: ScopeFilter) => {
    await d.model.setScope(scope);
    await d.view.refresh();
  };
  return [
    command(d.log, 'triggerRun', () => triggerRun(d)),
    command(d.log, 'refresh', async () => {
      if (!requireBackend(d.connection)) return;
      d.drill.clear();
      await Promise.all([d.view.refresh(), d.refreshHeartbeat()]);
    }),
    // Always asks first: no argument skips the confirmation (any extension can run this command).
    command(d.log, 'cancelRun', (arg?: unknown) => cancelRun(d, arg)),
    command(d.log, 'showRunDetails', async (arg?: unknown) => {
      if (!requireBackend(d.connection)) return;
      const runId = runIdOf(arg) ?? (await pickRun(d.model, () => true, vscode.l10n.t('Show which run?')));
      if (runId) await openRunDocument(d.documents, runId, bottleneckOf(arg));
    }),
    command(d.log, 'copyRunId', async (arg?: unknown) => {
      const runId = runIdOf(arg) ?? (await pickRun(d.model, () => true, vscode.l10n.t('Copy the ID of which run?')));
      if (!runId) return;
      await vscode.env.clipboard.writeText(runId);
      vscode.window.setStatusBarMessage(vscode.l10n.t('$(check) Copied run ID {0}', runId), 3000);
    }),
    command(d.log, 'showWorkspaceRuns', () => setScope('workspace')),
    command(d.log, 'showAllScopes', () => setScope('all')),
    command(d.log, 'loadMore', () =>
      withProgress({ location: { viewId: 'ehgTelemetry.runs' } }, () => d.view.loadMore()),
    ),
  ];
}

async function triggerRun(d: RunCommandParts): Promise<void> {
  const o = await startRun(d.start, {
    trigger: 'MANUAL',
    folder: pickFolder,
    during: (enqueue) =>
      withProgress(
        { location: vscode.ProgressLocation.Window, title: vscode.l10n.t('EHG Telemetry: starting an analysis run…') },
        enqueue,
      ),
  });
  // A cancelled wait ('dismissed'): the run, if any, goes on and is followed; nothing more is said.
  const w = wordStart(o, 'MANUAL');
  if (w.readOnly) d.connection.markReadOnly();
  if (w.log) d.log[w.log.level](w.log.line);
  if (w.status) vscode.window.setStatusBarMessage(w.status, 5000);
  if (w.notice) showNotice(w.notice, d);
  if (o.kind !== 'enqueued') return;
  await d.view.refresh();
  await d.view.reveal(o.runId);
}

/** The only folder, or the one the user picks (undefined when dismissed). */
async function pickFolder(): Promise<vscode.WorkspaceFolder | undefined> {
  const folders = vscode.workspace.workspaceFolders ?? [];
  if (folders.length === 1) return folders[0];
  const pick = await vscode.window.showQuickPick(
    folders.map((f) => ({ label: f.name, description: f.uri.fsPath, folder: f })),
    { placeHolder: vscode.l10n.t('Analyse which folder?') },
  );
  return pick?.folder;
}

async function cancelRun(d: RunCommandParts, arg: unknown): Promise<void> {
  const backend = requireBackend(d.connection);
  if (!backend) return;
  const runId = runIdOf(arg) ?? (await pickRun(d.model, (r) => isActive(r.status), vscode.l10n.t('Cancel which run?')));
  if (!runId) return;
  if (d.connection.snapshot.canWrite === false) {
    offerConfigure(
      vscode.l10n.t('EHG Telemetry: this key is read-only, so runs cannot be cancelled. Configure a service-role key.'),
    );
    return;
  }
  const run = d.model.find(runId);
  const cancelLabel = vscode.l10n.t('Cancel Run');
  const choice = await d.confirm(
    vscode.l10n.t('Cancel analysis run {0}?', runId),
    run
      ? vscode.l10n.t(
          '{0}, triggered {1}. A run this window executes is stopped at once; an analysis the CLI hook runs ignores a cancel.',
          statusLabel(run),
          formatAge(run.triggeredAt, new Date()),
        )
      : undefined,
    cancelLabel,
  );
  if (choice !== cancelLabel) return;
  const res = await withProgress(
    { location: vscode.ProgressLocation.Window, title: vscode.l10n.t('EHG Telemetry: cancelling…') },
    async () => {
      // A run this window executes: its analysis process is killed first, so nothing is written after the cancel.
      await d.analysis.cancel(runId);
      return backend.cancelRuns([runId], REASON_CANCELLED_FROM_EDITOR);
    },
  );
  // Stopped waiting: the cancel write goes on and the list shows its result at the next refresh.
  if (!res) return;
  if (!res.ok) {
    if (res.error.kind === 'permission') d.connection.markReadOnly();
    return showError(d.log, res.error);
  }
  if (res.value.length > 0) {
    d.log.info(`Cancelled run ${runId} (reason_code=${REASON_CANCELLED_FROM_EDITOR})`);
    vscode.window.setStatusBarMessage(vscode.l10n.t('$(check) EHG Telemetry: run cancelled'), 5000);
  } else if (backend.role === 'anon' || backend.role === 'authenticated') {
    d.connection.markReadOnly();
    void warn(
      vscode.l10n.t(
        'EHG Telemetry: nothing was cancelled: this key is not allowed to change runs (row-level security).',
      ),
    );
  } else {
    void info(vscode.l10n.t('EHG Telemetry: the run had already finished; nothing to cancel.'));
  }
  await d.view.refresh();
}

/** The bottleneck a caller (the Trends page) asks the details to open at: two strings, else none. */
function bottleneckOf(arg: unknown): { dimensionType: string; dimensionKey: string } | undefined {
  if (!arg || typeof arg !== 'object') return undefined;
  const a = arg as { dimensionType?: unknown; dimensionKey?: unknown };
  return typeof a.dimensionType === 'string' && typeof a.dimensionKey === 'string'
    ? { dimensionType: a.dimensionType, dimensionKey: a.dimensionKey }
    : undefined;
}
