// "Show Run Details": a read-only virtual document with a readable summary and the full row as JSON.
import * as vscode from 'vscode';
import { codeSpan, renderRunDocument } from '../domain/runReport';
import type { ConnectionManager } from '../platform/connection';

export const RUN_DOC_SCHEME = 'ehg-telemetry';

export function runDocumentUri(runId: string): vscode.Uri {
  return vscode.Uri.from({ scheme: RUN_DOC_SCHEME, path: `/runs/${encodeURIComponent(runId)}.md` });
}

export class RunDocumentProvider implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.emitter.event;

  constructor(private readonly connection: ConnectionManager) {}

  /** Makes an open document fetch its content again. */
  invalidate(uri: vscode.Uri): void {
    this.emitter.fire(uri);
  }

  dispose(): void {
    this.emitter.dispose();
  }

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const m = /^\/runs\/(.+)\.md$/.exec(uri.path);
    const runId = m ? decodeURIComponent(m[1]) : '';
    return this.render(runId);
  }

  private async render(runId: string): Promise<string> {
    const backend = this.connection.snapshot.backend;
    if (!backend) return `# Run ${codeSpan(runId)}\n\nNot connected. Run "EHG Telemetry: Configure Connection…".\n`;
    const res = await backend.getRunRow(runId);
    if (!res.ok) return `# Run ${codeSpan(runId)}\n\nCould not load this run: ${codeSpan(res.error.message)}\n\nRun "EHG Telemetry: Refresh" or see "EHG Telemetry: Open Log".\n`;
    if (!res.value) return `# Run ${codeSpan(runId)}\n\nThis run does not exist or is not visible with this key.\n`;
    return renderRunDocument(res.value);
  }
}

