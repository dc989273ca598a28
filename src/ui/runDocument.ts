// "Show Run Details": a read-only virtual document with a readable summary and the full row as JSON.
import * as vscode from 'vscode';
import { formatDuration } from '../domain/format';
import { describeOutcome, parseRunDetailFields, parseRunSummary } from '../domain/run';
import { outcomeLines, statusLabel, triggerLabel } from '../domain/runFormat';
import { escapeMarkdown } from '../domain/text';
import type { ConnectionManager } from '../platform/connection';

export const RUN_DOC_SCHEME = 'ehg-telemetry';
const MAX_JSON_CHARS = 5_000_000;

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
    if (!backend) return `# Run ${escapeMarkdown(runId)}\n\nNot connected. Run "EHG Telemetry: Configure Connection…".\n`;
    const res = await backend.getRunRow(runId);
    if (!res.ok) return `# Run ${escapeMarkdown(runId)}\n\nCould not load this run: ${escapeMarkdown(res.error.message)}\n\nRun "EHG Telemetry: Refresh" or see "EHG Telemetry: Open Log".\n`;
    if (!res.value) return `# Run ${escapeMarkdown(runId)}\n\nThis run does not exist or is not visible with this key.\n`;
    return renderRunDocument(res.value);
  }
}

/** Pure rendering, so it is the same wherever it is shown. Every database value is escaped. */
export function renderRunDocument(row: Record<string, unknown>): string {
  const run = parseRunSummary(row);
  const detail = parseRunDetailFields(row);
  const e = (v: string | number | null | undefined) => (v === null || v === undefined || v === '' ? '—' : escapeMarkdown(String(v)));
  const lines: string[] = [];
  lines.push(`# Analysis run ${e(run?.runId ?? '(no run_id)')}`, '');
  if (run) {
    lines.push(
      `- **Status:** ${e(statusLabel(run))}`,
      `- **Trigger:** ${e(triggerLabel(run.triggeredBy))}`,
      `- **Scope:** ${run.scopeId === null ? 'global' : `${e(run.scopeType)} ${e(run.scopeId)}`}`,
      `- **Triggered:** ${e(run.triggeredAt?.toISOString())}`,
      `- **Started:** ${e(run.startedAt?.toISOString())}`,
      `- **Finished:** ${e(run.finishedAt?.toISOString())}`,
      `- **Duration:** ${e(run.durationMs === null ? null : formatDuration(run.durationMs))}`,
      `- **Findings:** ${e(run.findingsCount)}`,
      `- **Top bottleneck category:** ${e(run.topBottleneckCategory)}`,
      `- **Reason code:** ${e(run.reasonCode)}`,
      `- **Timeout:** ${e(run.timeoutMs === null ? null : formatDuration(run.timeoutMs))}`,
      '',
    );
  }
  if (detail) {
    const outcome = describeOutcome(detail);
    lines.push(outcome.kind === 'error' ? '## Error' : '## Findings', '');
    for (const l of outcomeLines(outcome)) lines.push(`- ${escapeMarkdown(l)}`);
    if (outcome.kind === 'error' && detail.errorMessage && detail.errorMessage.includes('\n')) {
      lines.push('', fence(detail.errorMessage, 'text'));
    }
    lines.push('');
  }
  let json = JSON.stringify(row, null, 2) ?? 'null';
  if (json.length > MAX_JSON_CHARS) json = `${json.slice(0, MAX_JSON_CHARS)}\n… (truncated: the row is ${json.length.toLocaleString()} characters)`;
  lines.push('## Full row', '', fence(json, 'json'), '');
  return lines.join('\n');
}

/** A fenced block that the content cannot close: longer than any backtick run inside. */
function fence(content: string, lang: string): string {
  const longest = Math.max(2, ...Array.from(content.matchAll(/`+/g), (m) => m[0].length));
  const f = '`'.repeat(longest + 1);
  return `${f}${lang}\n${content}\n${f}`;
}
