// What the command groups share: the guard that reports an unexpected failure, the usual messages
// (no connection, a backend error, a notice with its actions), picking a run, opening a run's
// details, and progress whose Cancel stops the wait.
import * as vscode from 'vscode';
import type { BackendError, TelemetryBackend } from '../../data/backend';
import type { RunSummary } from '../../domain/run';
import { runLabel } from '../../domain/runFormat';
import { signalOf, unlessAborted } from '../../platform/cancellation';
import type { ConnectionManager } from '../../platform/connection';
import type { Log } from '../../platform/log';
import type { RunsModel } from '../../runs/runsModel';
import type { Notice } from '../../runs/startWording';
import { notConnectedText } from '../../runs/startWording';
import type { CommandHandler, CommandId } from '../lazyCommands';
import { error, info, notify, warn, warnModal, warnWithDetail } from '../notify';
import { runDocumentUri, RunDocumentProvider } from '../runDocument';

/** A modal confirmation: resolves to the action chosen (undefined when dismissed). */
export type Confirm = (message: string, detail: string | undefined, action: string) => Thenable<string | undefined>;

export const confirmModal: Confirm = warnModal;

export type Command = [CommandId, CommandHandler];

/** A command whose unexpected failure is logged and shown (with "Show Log"), never thrown. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- command arguments come from VS Code untyped
export function command(log: Log, id: CommandId, fn: (...args: any[]) => unknown): Command {
  return [
    id,
    async (...args: unknown[]) => {
      try {
        return await fn(...args);
      } catch (e) {
        log.error(`Command ${id} failed`, e);
        errorWithLog(log, vscode.l10n.t('EHG Telemetry: {0} failed unexpectedly. See the log for details.', id));
      }
    },
  ];
}

/** An error with "Show Log", which opens the log. */
export function errorWithLog(log: Log, text: string): void {
  const showLog = vscode.l10n.t('Show Log');
  void error(text, showLog).then((c) => c === showLog && log.show());
}

/** A warning with "Configure…", which opens Configure Connection. */
export function offerConfigure(text: string): void {
  const configure = vscode.l10n.t('Configure…');
  void warn(text, configure).then(
    (c) => c === configure && vscode.commands.executeCommand('ehgTelemetry.configureConnection'),
  );
}

/** The backend, or (none) a warning that says why, with "Configure…". */
export function requireBackend(connection: ConnectionManager): TelemetryBackend | undefined {
  const b = connection.snapshot.backend;
  if (!b) offerConfigure(notConnectedText(connection.snapshot.state));
  return b ?? undefined;
}

export function showError(log: Log, e: BackendError): void {
  log.warn(e.message);
  errorWithLog(log, vscode.l10n.t('EHG Telemetry: {0}', e.message));
}

/** Shows a notice (runs/startWording.ts); not awaited: the command ends now, the choice is handled later. */
export function showNotice(n: Notice, parts: { log: Log; documents: RunDocumentProvider }): void {
  const labels = n.actions.map((a) => a.label);
  const shown =
    n.detail !== undefined
      ? warnWithDetail(n.text, { detail: n.detail }, ...labels)
      : notify(n.severity, n.text, ...labels);
  void shown.then((choice) => {
    const a = n.actions.find((x) => x.label === choice);
    if (!a) return;
    switch (a.does) {
      case 'configure':
        return vscode.commands.executeCommand('ehgTelemetry.configureConnection');
      case 'manageTrust':
        return vscode.commands.executeCommand('workbench.trust.manage');
      case 'openAnalysisSettings':
        return vscode.commands.executeCommand('workbench.action.openSettings', 'ehgTelemetry.analysis');
      case 'showLog':
        return parts.log.show();
      case 'showRun':
        return openRunDocument(parts.documents, a.runId);
    }
  });
}

/** The run a tree row (RunsNode) or `{ runId }` names. */
export function runIdOf(arg: unknown): string | undefined {
  if (!arg || typeof arg !== 'object') return undefined;
  const a = arg as { kind?: string; run?: RunSummary; runId?: unknown };
  if (a.kind === 'run' && a.run) return a.run.runId;
  return typeof a.runId === 'string' ? a.runId : undefined;
}

export async function pickRun(
  model: RunsModel,
  filter: (r: RunSummary) => boolean,
  placeHolder: string,
): Promise<string | undefined> {
  const runs = model.runs.filter(filter);
  if (runs.length === 0) {
    void info(
      model.loadedOnce
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
}

export function openRunDocument(
  documents: RunDocumentProvider,
  runId: string,
  at?: { dimensionType: string; dimensionKey: string },
): Promise<void> {
  // With a bottleneck (the Trends page's link): the document opens at its drill-down section.
  const line = at
    ? (text: string) =>
        text.split('\n').findIndex((l) => l.startsWith('### ') && l.includes(`${at.dimensionType}:${at.dimensionKey}`))
    : undefined;
  return openVirtualDocument(documents, runDocumentUri(runId), vscode.l10n.t('Loading run details…'), line);
}

/** Opens one of the provider's read-only Markdown documents, read afresh. */
export async function openVirtualDocument(
  documents: RunDocumentProvider,
  uri: vscode.Uri,
  title: string,
  lineOf?: (text: string) => number,
): Promise<void> {
  await withProgress({ location: vscode.ProgressLocation.Window, title }, async () => {
    documents.invalidate(uri);
    const doc = await vscode.workspace.openTextDocument(uri);
    const md = doc.languageId === 'markdown' ? doc : await vscode.languages.setTextDocumentLanguage(doc, 'markdown');
    const line = lineOf ? lineOf(md.getText()) : -1;
    const at = line >= 0 ? new vscode.Range(line, 0, line, 0) : undefined;
    const editor = await vscode.window.showTextDocument(md, { preview: true, selection: at });
    if (at) editor.revealRange(at, vscode.TextEditorRevealType.AtTop);
  });
}

/**
 * window.withProgress, cancellable: `task` gets the token as an AbortSignal (to abort what heeds it);
 * a cancel stops the wait at once and resolves to undefined, quietly.
 */
export async function withProgress<T>(
  options: Omit<vscode.ProgressOptions, 'cancellable'>,
  task: (signal: AbortSignal) => PromiseLike<T>,
): Promise<T | undefined> {
  return vscode.window.withProgress({ ...options, cancellable: true }, async (_progress, token) => {
    const signal = signalOf(token);
    const r = await unlessAborted(Promise.resolve(task(signal)), signal);
    return r.cancelled ? undefined : r.value;
  });
}
