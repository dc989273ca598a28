// The "Show Run Details" document: a readable summary and the full row as JSON. Pure, so the same
// rendering is unit-tested against hostile rows.
import { formatDuration } from './format';
import { describeOutcome, parseRunDetailFields, parseRunSummary } from './run';
import { outcomeLines, statusLabel, triggerLabel } from './runFormat';

const MAX_JSON_CHARS = 5_000_000;

/** Pure rendering, so it is the same wherever it is shown. Every database value is escaped. */
export function renderRunDocument(row: Record<string, unknown>): string {
  const run = parseRunSummary(row);
  const detail = parseRunDetailFields(row);
  const e = (v: string | number | null | undefined) =>
    v === null || v === undefined || v === '' ? '—' : codeSpan(String(v));
  const lines: string[] = [];
  lines.push(`# Analysis run ${run ? codeSpan(run.runId) : '(no run_id)'}`, '');
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
    for (const l of outcomeLines(outcome)) lines.push(`- ${codeSpan(l)}`);
    if (outcome.kind === 'error' && detail.errorMessage && detail.errorMessage.includes('\n')) {
      lines.push('', fence(detail.errorMessage, 'text'));
    }
    lines.push('');
  }
  let json = JSON.stringify(row, null, 2) ?? 'null';
  if (json.length > MAX_JSON_CHARS)
    json = `${json.slice(0, MAX_JSON_CHARS)}\n… (truncated: the row is ${json.length.toLocaleString()} characters)`;
  lines.push('## Full row', '', fence(json, 'json'), '');
  return lines.join('\n');
}

/**
 * Database text as an inline code span: shown literally in the editor and in a Markdown preview
 * (no links, no HTML, no emphasis), and readable in the source, unlike backslash escapes. The
 * delimiter is longer than any backtick run in the text, so the text cannot close it.
 */
export function codeSpan(text: string): string {
  const oneLine = text.replace(/[\r\n\u2028\u2029]+/g, ' ');
  const longest = Math.max(0, ...Array.from(oneLine.matchAll(/`+/g), (m) => m[0].length));
  const tick = '`'.repeat(longest + 1);
  const pad = oneLine.startsWith('`') || oneLine.endsWith('`') || oneLine.startsWith(' ') ? ' ' : '';
  return `${tick}${pad}${oneLine}${pad}${tick}`;
}

/** A fenced block that the content cannot close: longer than any backtick run inside. */
function fence(content: string, lang: string): string {
  const longest = Math.max(2, ...Array.from(content.matchAll(/`+/g), (m) => m[0].length));
  const f = '`'.repeat(longest + 1);
  return `${f}${lang}\n${content}\n${f}`;
}
