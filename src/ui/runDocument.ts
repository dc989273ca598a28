// "Show Run Details": a read-only virtual document with a readable summary, each bottleneck's
// evidence and improvement item, and the full row as JSON. "Show Improvement Item": one item, read-only.
import * as vscode from 'vscode';
import { drillDownLines, renderItemDocument } from '../domain/drillDownFormat';
import { describeOutcome, parseRunDetailFields, parseRunSummary } from '../domain/run';
import { codeSpan, renderRunDocument } from '../domain/runReport';
import type { ConnectionManager } from '../platform/connection';
import type { DrillDown } from '../runs/drillDown';
import './l10n';

/** How long the details wait for the drill-down of all their bottlenecks (each is one or three requests). */
const DRILL_DOWN_WAIT_MS = 15_000;

export const RUN_DOC_SCHEME = 'ehg-telemetry';

export function runDocumentUri(runId: string): vscode.Uri {
  return vscode.Uri.from({ scheme: RUN_DOC_SCHEME, path: `/runs/${encodeURIComponent(runId)}.md` });
}

export function itemDocumentUri(itemId: string): vscode.Uri {
  return vscode.Uri.from({ scheme: RUN_DOC_SCHEME, path: `/items/${encodeURIComponent(itemId)}.md` });
}

export class RunDocumentProvider implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.emitter.event;
  private readonly provided = new vscode.EventEmitter<{ uri: vscode.Uri; text: string }>();
  /** A document's content was provided (fetched and rendered). */
  readonly onDidProvide = this.provided.event;

  constructor(
    private readonly connection: ConnectionManager,
    private readonly drill?: DrillDown,
  ) {}

  /** Makes an open document fetch its content again. */
  invalidate(uri: vscode.Uri): void {
    this.emitter.fire(uri);
  }

  dispose(): void {
    this.emitter.dispose();
    this.provided.dispose();
  }

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const item = /^\/items\/(.+)\.md$/.exec(uri.path);
    const m = /^\/runs\/(.+)\.md$/.exec(uri.path);
    const text = item
      ? await this.renderItem(decodeURIComponent(item[1]))
      : await this.render(m ? decodeURIComponent(m[1]) : '');
    this.provided.fire({ uri, text });
    return text;
  }

  private async render(runId: string): Promise<string> {
    const backend = this.connection.snapshot.backend;
    const title = vscode.l10n.t('# Run {0}', codeSpan(runId));
    if (!backend) return `${title}\n\n${vscode.l10n.t('Not connected. Run "EHG Telemetry: Configure Connection…".')}\n`;
    const res = await backend.getRunRow(runId);
    if (!res.ok)
      return `${title}\n\n${vscode.l10n.t('Could not load this run: {0}', codeSpan(res.error.message))}\n\n${vscode.l10n.t('Run "EHG Telemetry: Refresh" or see "EHG Telemetry: Open Log".')}\n`;
    if (!res.value) return `${title}\n\n${vscode.l10n.t('This run does not exist or is not visible with this key.')}\n`;
    return renderRunDocument(res.value, await this.drillDown(res.value));
  }

  /** Each shown bottleneck's evidence and item (at most MAX_BOTTLENECKS_SHOWN, all at once, bounded in time). */
  private async drillDown(row: Record<string, unknown>): Promise<string[] | undefined> {
    const run = parseRunSummary(row);
    const detail = parseRunDetailFields(row);
    if (!this.drill || !run || !detail) return undefined;
    const outcome = describeOutcome(detail);
    if (outcome.kind !== 'bottlenecks') return undefined;
    const drill = this.drill;
    const signal = AbortSignal.timeout(DRILL_DOWN_WAIT_MS);
    const now = new Date();
    const parts = await Promise.all(
      outcome.items.map(async (b) => {
        const [evidence, item] = await Promise.all([
          drill.evidence(run, b, signal),
          drill.item(run, b, outcome, signal),
        ]);
        return drillDownLines(b, evidence, item, now);
      }),
    );
    return parts.flat();
  }

  private async renderItem(itemId: string): Promise<string> {
    const title = vscode.l10n.t('# Improvement item {0}', codeSpan(itemId));
    if (!this.connection.snapshot.backend || !this.drill)
      return `${title}\n\n${vscode.l10n.t('Not connected. Run "EHG Telemetry: Configure Connection…".')}\n`;
    // Opened on purpose: the item as it is now (a review may have changed it since the row was read).
    const answer = await this.drill.itemById(itemId, AbortSignal.timeout(DRILL_DOWN_WAIT_MS), { fresh: true });
    return renderItemDocument(answer, itemId, new Date());
  }
}
