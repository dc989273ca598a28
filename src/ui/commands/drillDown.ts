// Drill-down commands: Show Improvement Item (a read-only document) on an item row, and Go to
// Definition on a gate or sub-agent bottleneck row (finds the declaration in the run's workspace
// folder without running workspace code; one candidate opens, several are a quick pick, none offers
// a workspace search).
import * as vscode from 'vscode';
import { hasDefinition } from '../../domain/definitions';
import type { Bottleneck, RunOutcome, RunSummary } from '../../domain/run';
import { cleanText, notificationText, pickText } from '../../domain/text';
import { signalOf } from '../../platform/cancellation';
import { DefinitionCandidate, DefinitionSearchResult, findDefinitions } from '../../platform/definitionSearch';
import type { ConnectionManager } from '../../platform/connection';
import type { Log } from '../../platform/log';
import { folderSettings } from '../../platform/settings';
import type { DrillDown } from '../../runs/drillDown';
import type { RunsModel } from '../../runs/runsModel';
import { info } from '../notify';
import { itemDocumentUri, RunDocumentProvider } from '../runDocument';
import { command, Command, openVirtualDocument, requireBackend } from './shared';

export interface DrillDownCommandParts {
  connection: ConnectionManager;
  model: RunsModel;
  drill: DrillDown;
  documents: RunDocumentProvider;
  log: Log;
}

export function drillDownCommands(d: DrillDownCommandParts): Command[] {
  return [
    command(d.log, 'showImprovementItem', async (arg?: unknown) => {
      const id = itemIdOf(arg);
      if (!id) {
        void info(vscode.l10n.t('EHG Telemetry: choose an improvement item row under an expanded bottleneck.'));
        return;
      }
      if (!requireBackend(d.connection)) return;
      await openVirtualDocument(d.documents, itemDocumentUri(id), vscode.l10n.t('Loading the improvement item…'));
    }),
    command(d.log, 'goToDefinition', (arg?: unknown) => goToDefinition(d, arg)),
  ];
}

/** The item a tree row (`{ row: { itemId } }`) or `{ itemId }` names. */
function itemIdOf(arg: unknown): string | undefined {
  if (!arg || typeof arg !== 'object') return undefined;
  const a = arg as { itemId?: unknown; row?: { itemId?: unknown } };
  const id = typeof a.itemId === 'string' ? a.itemId : a.row?.itemId;
  return typeof id === 'string' ? (cleanText(id, 80) ?? undefined) : undefined;
}

interface Target {
  run: RunSummary;
  bottleneck: Bottleneck;
  outcome: RunOutcome;
}

/** The bottleneck a tree row names, or `{ runId, dimensionType, dimensionKey }` for a loaded run. */
async function targetOf(model: RunsModel, arg: unknown): Promise<Target | undefined> {
  if (!arg || typeof arg !== 'object') return undefined;
  const a = arg as Partial<Target> & {
    kind?: unknown;
    runId?: unknown;
    dimensionType?: unknown;
    dimensionKey?: unknown;
  };
  if (a.kind === 'bottleneck' && a.run && a.bottleneck && a.outcome)
    return { run: a.run, bottleneck: a.bottleneck, outcome: a.outcome };
  if (typeof a.runId !== 'string' || typeof a.dimensionType !== 'string' || typeof a.dimensionKey !== 'string')
    return undefined;
  const run = model.find(a.runId);
  if (!run) return undefined;
  const res = await model.outcome(run);
  if (!res.ok || res.outcome.kind !== 'bottlenecks') return undefined;
  const all = model.bottlenecksOf(run) ?? res.outcome.items;
  const bottleneck = all.find((b) => b.dimensionType === a.dimensionType && b.dimensionKey === a.dimensionKey);
  return bottleneck ? { run, bottleneck, outcome: res.outcome } : undefined;
}

/** The workspace folder of the run's scope; else the only folder; else the one the user picks. */
async function folderOf(run: RunSummary): Promise<vscode.WorkspaceFolder | undefined> {
  const folders = vscode.workspace.workspaceFolders ?? [];
  const own = folders.find((f) => folderSettings(f).scopeId === run.scopeId);
  if (own || folders.length <= 1) return own ?? folders[0];
  const pick = await vscode.window.showQuickPick(
    folders.map((f) => ({ label: pickText(f.name), description: pickText(f.uri.fsPath), folder: f })),
    { placeHolder: vscode.l10n.t('Search which folder for the declaration?') },
  );
  return pick?.folder;
}

async function goToDefinition(d: DrillDownCommandParts, arg: unknown): Promise<void> {
  const target = await targetOf(d.model, arg);
  if (!target) {
    void info(vscode.l10n.t('EHG Telemetry: Go to Definition works on a gate or sub-agent bottleneck row.'));
    return;
  }
  const b = target.bottleneck;
  const name = `${b.dimensionType}:${b.dimensionKey}`;
  if (!hasDefinition(b.dimensionType)) {
    void info(vscode.l10n.t('EHG Telemetry: {0} is not declared in code (only gates and sub-agents are).', name));
    return;
  }
  const folder = await folderOf(target.run);
  if (!folder) {
    void info(vscode.l10n.t('EHG Telemetry: open the EHG_Engineer folder to find where {0} is declared.', name));
    return;
  }
  let result: DefinitionSearchResult | undefined;
  try {
    result = await search(d, target, folder);
  } catch (e) {
    // Not "not found": the folder could not be listed or read.
    d.log.warn(`Go to Definition: searching ${folder.name} failed: ${String(e)}`);
    await offerWorkspaceSearch(
      b.dimensionKey,
      vscode.l10n.t(
        'EHG Telemetry: could not search {0} for {1}: {2}',
        folder.name,
        name,
        e instanceof Error ? e.message : String(e),
      ),
    );
    return;
  }
  if (!result) return; // cancelled
  if (result.candidates.length === 1) return openCandidate(result.candidates[0]);
  if (result.candidates.length > 1) {
    const pick = await vscode.window.showQuickPick(
      result.candidates.map((c) => ({
        label: pickText(`${c.relativePath}:${c.line + 1}`),
        description: pickText(c.preview),
        candidate: c,
      })),
      {
        placeHolder: pickText(vscode.l10n.t('{0} is declared in several places. Open which?', name)),
        matchOnDescription: true,
      },
    );
    if (pick) await openCandidate(pick.candidate);
    return;
  }
  await offerWorkspaceSearch(b.dimensionKey, notFoundText(name, folder, result));
}

/** findDefinitions with a cancellable notification; the evidence's workflow executions rank the candidates. */
function search(
  d: DrillDownCommandParts,
  target: Target,
  folder: vscode.WorkspaceFolder,
): Thenable<DefinitionSearchResult | undefined> {
  const b = target.bottleneck;
  return vscode.window.withProgress(
    {
      location: vscode.ProgressLocation.Notification,
      // A progress notification renders links like any notification: database text goes through notificationText.
      title: notificationText(
        vscode.l10n.t('EHG Telemetry: finding where {0}:{1} is declared…', b.dimensionType, b.dimensionKey),
      ),
      cancellable: true,
    },
    async (_progress, token) => {
      // Cached when the row was expanded; otherwise one request, which the Cancel button stops.
      const evidence = await d.drill.evidence(target.run, b, signalOf(token));
      const ids =
        evidence.kind === 'spans'
          ? evidence.spans.map((s) => s.workflowExecutionId).filter((x): x is string => x !== null)
          : [];
      if (token.isCancellationRequested) return undefined;
      const result = await findDefinitions(folder, b.dimensionType, b.dimensionKey, token, {
        workflowExecutionIds: ids,
      });
      return token.isCancellationRequested ? undefined : result;
    },
  );
}

async function openCandidate(c: DefinitionCandidate): Promise<void> {
  const doc = await vscode.workspace.openTextDocument(c.uri);
  const line = Math.min(Math.max(0, c.line), Math.max(0, doc.lineCount - 1));
  const at = new vscode.Position(line, doc.lineAt(line).firstNonWhitespaceCharacterIndex);
  await vscode.window.showTextDocument(doc, { selection: new vscode.Range(at, at), preview: true });
}

function notFoundText(name: string, folder: vscode.WorkspaceFolder, result: DefinitionSearchResult): string {
  return result.truncated
    ? vscode.l10n.t(
        'EHG Telemetry: no declaration of {0} found in the {1} files of {2} searched (the search stopped at a limit or skipped unreadable files).',
        name,
        result.filesSearched,
        folder.name,
      )
    : vscode.l10n.t(
        'EHG Telemetry: no declaration of {0} found in {1} ({2} files searched).',
        name,
        folder.name,
        result.filesSearched,
      );
}

/** Says why nothing opened and offers the editor's own search for the key. */
async function offerWorkspaceSearch(key: string, text: string): Promise<void> {
  const searchLabel = vscode.l10n.t('Search Workspace');
  const choice = await info(text, searchLabel);
  if (choice === searchLabel)
    await vscode.commands.executeCommand('workbench.action.findInFiles', {
      query: key,
      isRegex: false,
      triggerSearch: true,
    });
}
