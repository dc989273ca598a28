// "Show Run Details": a read-only virtual document with a readable summary and the full row as JSON.
import * as vscode from 'vscode';
import { codeSpan, renderRunDocument } from '../domain/runReport';
import type { ConnectionManager } from '../platform/connection';
import './l10n';

export const RUN_DOC_SCHEME = 'ehg-telemetry';

export function runDocumentUri(runId: string): vscode.Uri {
  return vscode.Uri.from({ scheme: RUN_DOC_SCHEME, path: `/runs/${encodeURIComponent(runId)}.md` });
}

export class RunDocumentProvider implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.emitter.event;
  private readonly provided = new vscode.EventEmitter<{ uri: vscode.Uri; text: string }>();
  /** A document's content was provided (fetched and rendered). */
  readonly onDidProvide = this.provided.event;

  constructor(private readonly connection: ConnectionManager) {}

  /** Makes an open document fetch its content again. */
  invalidate(uri: vscode.Uri): void {
    this.emitter.fire(uri);
  }

  dispose(): void {
    this.emitter.dispose();
    this.provided.dispose();
  }

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const m = /^\/runs\/(.+)\.md$/.exec(uri.path);
    const runId = m ? decodeURIComponent(m[1]) : '';
    const text = await this.render(runId);
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
    return renderRunDocument(res.value);
  }
}
