// The "Show Run Details" document: a readable summary and the full row as JSON. Pure, so the same
// rendering is unit-tested against hostile rows.
import { formatDuration } from './format';
import { t } from './l10n';
import { describeOutcome, parseRunDetailFields, parseRunSummary } from './run';
import { analyzerErrorsOf } from './analyzerErrors';
import { analyzerErrorLines, outcomeLines, statusLabel, triggerLabel } from './runFormat';

const MAX_JSON_CHARS = 5_000_000;

/**
 * Pure rendering, so it is the same wherever it is shown. Every database value is escaped.
 * `drillDown`: each bottleneck's evidence and improvement item (drillDownFormat.ts drillDownLines),
 * read by the caller; shown after the findings.
 */
export function renderRunDocument(row: Record<string, unknown>, drillDown?: readonly string[]): string {
  const run = parseRunSummary(row);
  const detail = parseRunDetailFields(row);
  const e = (v: string | number | null | undefined) =>
    v === null || v === undefined || v === '' ? '—' : codeSpan(String(v));
  const lines: string[] = [];
  lines.push(run ? t('# Analysis run {0}', codeSpan(run.runId)) : t('# Analysis run (no run_id)'), '');
  if (run) {
    lines.push(
      t('- **Status:** {0}', e(statusLabel(run))),
      t('- **Trigger:** {0}', e(triggerLabel(run.triggeredBy))),
      run.scopeId === null ? t('- **Scope:** global') : t('- **Scope:** {0} {1}', e(run.scopeType), e(run.scopeId)),
      t('- **Triggered:** {0}', e(run.triggeredAt?.toISOString())),
      t('- **Started:** {0}', e(run.startedAt?.toISOString())),
      t('- **Finished:** {0}', e(run.finishedAt?.toISOString())),
      t('- **Duration:** {0}', e(run.durationMs === null ? null : formatDuration(run.durationMs))),
      t('- **Findings:** {0}', e(run.findingsCount)),
      t('- **Top bottleneck category:** {0}', e(run.topBottleneckCategory)),
      t('- **Reason code:** {0}', e(run.reasonCode)),
      t('- **Timeout:** {0}', e(run.timeoutMs === null ? null : formatDuration(run.timeoutMs))),
      '',
    );
  }
  if (detail) {
    const outcome = describeOutcome(detail);
    lines.push(outcome.kind === 'error' ? t('## Error') : t('## Findings'), '');
    for (const l of outcomeLines(outcome)) lines.push(`- ${codeSpan(l)}`);
    if (outcome.kind === 'error' && detail.errorMessage && detail.errorMessage.includes('\n')) {
      lines.push('', fence(detail.errorMessage, 'text'));
    }
    lines.push('');
    if (drillDown?.length) lines.push(t('## Evidence and improvement items'), '', ...drillDown);
    // The analyzer's errors kept on the run (output_ref.errors): grouped, then each as it reported it.
    const groups =
      outcome.kind === 'bottlenecks' || outcome.kind === 'no-bottlenecks' || outcome.kind === 'insufficient-data'
        ? outcome.analyzerErrors
        : undefined;
    if (groups?.length) {
      lines.push(t('## Analyzer errors'), '');
      for (const l of analyzerErrorLines(groups)) lines.push(`- ${codeSpan(l)}`);
      lines.push('', t('As the analyzer reported them:'), '');
      for (const entry of analyzerErrorsOf(detail.outputRef).entries) lines.push(`- ${codeSpan(entry)}`);
      lines.push('');
    }
  }
  let json = JSON.stringify(row, null, 2) ?? 'null';
  if (json.length > MAX_JSON_CHARS)
    json = `${json.slice(0, MAX_JSON_CHARS)}\n${t('… (truncated: the row is {0} characters)', json.length.toLocaleString())}`;
  lines.push(t('## Full row'), '', fence(json, 'json'), '');
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
