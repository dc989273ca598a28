// A bottleneck row of the Analysis Runs tree, expanded: one row per evidence span (newest first),
// a row when spans are gone or cannot be read, and the improvement item row (or why there is none).
import * as vscode from 'vscode';
import { hasDefinition } from '../domain/definitions';
import {
  evidenceNotices,
  evidenceSpanDescription,
  evidenceSpanFields,
  evidenceSpanLabel,
  Field,
  ItemRow,
  itemRow,
} from '../domain/drillDownFormat';
import type { EvidenceSpan } from '../domain/evidence';
import type { Bottleneck, RunOutcome, RunSummary } from '../domain/run';
import type { DrillDown } from '../runs/drillDown';
import { SafeMarkdown } from './markdown';
import './l10n';

/** A bottleneck row: expandable when a DrillDown is wired. */
export interface BottleneckNode {
  kind: 'bottleneck';
  run: RunSummary;
  bottleneck: Bottleneck;
  outcome: RunOutcome;
  index: number;
  text: string;
  mark?: string;
}

export type DrillNode =
  | { kind: 'evidence'; parent: BottleneckNode; index: number; span: EvidenceSpan }
  | { kind: 'improvement-item'; parent: BottleneckNode; row: ItemRow }
  | {
      kind: 'drill-notice';
      parent: BottleneckNode;
      index: number;
      text: string;
      tone: 'info' | 'warning' | 'error';
      hint?: string;
    };

/** The rows under an expanded bottleneck: both requests at once (DrillDown caches and never rejects). */
export async function drillDownChildren(drill: DrillDown, parent: BottleneckNode): Promise<DrillNode[]> {
  const [evidence, item] = await Promise.all([
    drill.evidence(parent.run, parent.bottleneck),
    drill.item(parent.run, parent.bottleneck, parent.outcome),
  ]);
  const out: DrillNode[] = [];
  if (evidence.kind === 'spans')
    evidence.spans.forEach((span, index) => out.push({ kind: 'evidence', parent, index, span }));
  for (const n of evidenceNotices(evidence))
    out.push({ kind: 'drill-notice', parent, index: out.length, text: n.text, tone: n.tone, hint: n.hint });
  out.push({ kind: 'improvement-item', parent, row: itemRow(item, new Date()) });
  return out;
}

/** The bottleneck row's id (its drill-down rows' ids start with it). */
export function parentId(p: BottleneckNode): string {
  return `bottleneck:${p.run.runId}:${p.index}`;
}

function fieldsTooltip(title: string, fields: readonly Field[], hint?: string): vscode.MarkdownString {
  const md = new SafeMarkdown().raw(`**${title}**\n\n`);
  for (const [label, value] of fields) md.field(label, value);
  if (hint) md.line(hint);
  return md.build();
}

export function bottleneckTreeItem(node: BottleneckNode, expandable: boolean): vscode.TreeItem {
  const item = new vscode.TreeItem(
    node.text,
    expandable ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None,
  );
  item.id = parentId(node);
  // Only known dimension names reach the context value: a database value such as "run" or
  // "cancellable" must not match another row's menu entries.
  const type = node.bottleneck.dimensionType;
  const flags = ['bottleneck', `dimension-${['phase', 'gate', 'subagent'].includes(type) ? type : 'other'}`];
  if (hasDefinition(node.bottleneck.dimensionType)) flags.push('hasDefinition');
  item.contextValue = flags.join(' ');
  item.tooltip = node.mark ? `${node.text} — ${node.mark}` : node.text;
  if (node.mark) item.description = node.mark;
  item.iconPath = new vscode.ThemeIcon('flame');
  return item;
}

export function drillTreeItem(node: DrillNode, now: Date): vscode.TreeItem {
  switch (node.kind) {
    case 'evidence': {
      const s = node.span;
      const item = new vscode.TreeItem(evidenceSpanLabel(s), vscode.TreeItemCollapsibleState.None);
      item.id = `${parentId(node.parent)}:evidence:${node.index}`;
      item.description = evidenceSpanDescription(s, node.parent.bottleneck.baselineP50Ms, now);
      item.contextValue = 'evidence';
      item.iconPath = new vscode.ThemeIcon('pulse');
      item.tooltip = fieldsTooltip(vscode.l10n.t('Evidence span'), evidenceSpanFields(s));
      return item;
    }
    case 'improvement-item': {
      const r = node.row;
      const item = new vscode.TreeItem(r.label, vscode.TreeItemCollapsibleState.None);
      item.id = `${parentId(node.parent)}:item`;
      item.description = r.description;
      item.contextValue = r.itemId ? 'improvementItem' : 'noImprovementItem';
      item.iconPath = new vscode.ThemeIcon(
        r.tone === 'item' ? 'tasklist' : r.tone === 'error' ? 'error' : r.tone === 'warning' ? 'warning' : 'info',
      );
      item.tooltip = r.fields.length
        ? fieldsTooltip(vscode.l10n.t('Improvement item'), r.fields, r.hint)
        : r.hint
          ? `${r.label}\n\n${r.hint}`
          : r.label;
      if (r.itemId)
        item.command = {
          command: 'ehgTelemetry.showImprovementItem',
          title: vscode.l10n.t('Show Improvement Item'),
          arguments: [{ itemId: r.itemId }],
        };
      return item;
    }
    case 'drill-notice': {
      const item = new vscode.TreeItem(node.text, vscode.TreeItemCollapsibleState.None);
      item.id = `${parentId(node.parent)}:notice:${node.index}`;
      item.contextValue = 'drillNotice';
      item.iconPath = new vscode.ThemeIcon(
        node.tone === 'error' ? 'error' : node.tone === 'warning' ? 'warning' : 'info',
      );
      item.tooltip = node.hint ? `${node.text}\n\n${node.hint}` : node.text;
      return item;
    }
  }
}
