// "Bottleneck Trends": a webview panel with the ratio of each bottleneck across the last N
// succeeded runs of a scope, and one run's observed p50 against its baseline. The page script is
// its own bundle (dist/trends.js), loaded only when the panel opens; the page has a strict CSP
// (default-src 'none', nonce'd script and style, images only from the extension) and receives
// the data as a message, never as markup.
import * as crypto from 'crypto';
import * as vscode from 'vscode';
import type { RunScopeKey } from '../data/backend';
import type { RunSummary } from '../domain/run';
import { buildTrends } from '../domain/trends';
import type { ConnectionManager } from '../platform/connection';
import { folderSettings } from '../platform/settings';
import type { RunsModel } from '../runs/runsModel';
import { warn } from './notify';
import './l10n';

export const TRENDS_VIEW_TYPE = 'ehgTelemetry.trends';

function strings(): Record<string, string> {
  return {
    title: vscode.l10n.t('Bottleneck Trends'),
    scope: vscode.l10n.t('Scope: {0}'),
    noRuns: vscode.l10n.t('No succeeded runs for this scope yet.'),
    trendTitle: vscode.l10n.t('Ratio per bottleneck across the last {0} succeeded runs'),
    chartDescription: vscode.l10n.t(
      'Line chart of {0} bottlenecks over {1} runs; the same data is in the table below.',
    ),
    legend: vscode.l10n.t('Bottlenecks (focus one to highlight its line)'),
    noBottlenecks: vscode.l10n.t('None of these runs found a bottleneck.'),
    omitted: vscode.l10n.t('{0} more bottlenecks are not shown.'),
    bottleneck: vscode.l10n.t('Bottleneck'),
    trendTableCaption: vscode.l10n.t(
      'Ratio (observed p50 ÷ baseline p50) per run, oldest first; — where the bottleneck was not found',
    ),
    barsTitle: vscode.l10n.t('Observed p50 against baseline, per bottleneck'),
    chooseRun: vscode.l10n.t('Choose a run'),
    run: vscode.l10n.t('Run'),
    findings: vscode.l10n.t('{0} bottlenecks'),
    noBottlenecksInRun: vscode.l10n.t('This run found no bottleneck.'),
    baselineValue: vscode.l10n.t('baseline p50 {0}'),
    observedValue: vscode.l10n.t('observed p50 {0}'),
    observed: vscode.l10n.t('Observed p50'),
    baseline: vscode.l10n.t('Baseline p50'),
    ratio: vscode.l10n.t('Ratio'),
    barsTableCaption: vscode.l10n.t('Observed and baseline p50 per bottleneck of the chosen run'),
    drillDown: vscode.l10n.t('Show the evidence and improvement item of {0} (Show Run Details)'),
  };
}

export class TrendsPanel implements vscode.Disposable {
  private static current: TrendsPanel | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  private ready = false;
  private pendingMessage: unknown;
  /** The runs the page shows: a drill-down message may name only these. */
  private shownRunIds = new Set<string>();

  static async show(
    extensionUri: vscode.Uri,
    connection: ConnectionManager,
    scope: RunScopeKey,
    scopeLabel: string,
    selectedRunId?: string,
  ): Promise<void> {
    if (!TrendsPanel.current) TrendsPanel.current = new TrendsPanel(extensionUri);
    const p = TrendsPanel.current;
    p.panel.reveal(vscode.ViewColumn.Active);
    await p.load(connection, scope, scopeLabel, selectedRunId);
  }

  static disposeCurrent(): void {
    TrendsPanel.current?.dispose();
  }

  private readonly panel: vscode.WebviewPanel;

  private constructor(private readonly extensionUri: vscode.Uri) {
    const dist = vscode.Uri.joinPath(extensionUri, 'dist');
    this.panel = vscode.window.createWebviewPanel(
      TRENDS_VIEW_TYPE,
      vscode.l10n.t('Bottleneck Trends'),
      vscode.ViewColumn.Active,
      {
        enableScripts: true,
        enableCommandUris: false,
        enableForms: false,
        localResourceRoots: [dist],
      },
    );
    this.panel.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'activity-bar.svg');
    this.panel.webview.html = this.html();
    this.disposables.push(
      this.panel.onDidDispose(() => this.dispose()),
      this.panel.webview.onDidReceiveMessage((m: unknown) => this.onMessage(m)),
    );
  }

  private onMessage(m: unknown): void {
    if (typeof m !== 'object' || m === null) return;
    const msg = m as { type?: unknown; runId?: unknown; dimensionType?: unknown; dimensionKey?: unknown };
    if (msg.type === 'ready') {
      this.ready = true;
      if (this.pendingMessage) void this.panel.webview.postMessage(this.pendingMessage);
    } else if (msg.type === 'drillDown' && typeof msg.runId === 'string' && this.shownRunIds.has(msg.runId)) {
      // The run's details list every bottleneck with its evidence spans and improvement item.
      // It opens at this bottleneck's section when the page named one (two strings; anything else: the top).
      const at =
        typeof msg.dimensionType === 'string' && typeof msg.dimensionKey === 'string'
          ? { dimensionType: msg.dimensionType.slice(0, 200), dimensionKey: msg.dimensionKey.slice(0, 500) }
          : {};
      void vscode.commands.executeCommand('ehgTelemetry.showRunDetails', { runId: msg.runId, ...at });
    }
  }

  private html(): string {
    const webview = this.panel.webview;
    const nonce = crypto.randomBytes(18).toString('base64');
    const script = webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'dist', 'trends.js'));
    const csp = [
      `default-src 'none'`,
      `img-src ${webview.cspSource}`,
      `style-src 'nonce-${nonce}'`,
      `script-src 'nonce-${nonce}'`,
      `font-src ${webview.cspSource}`,
    ].join('; ');
    return `<!DOCTYPE html>
<html lang="${vscode.env.language}">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>${escapeHtml(vscode.l10n.t('Bottleneck Trends'))}</title>
<style nonce="${nonce}">${STYLE}</style>
</head>
<body>
<main id="root" aria-live="polite"><p>${escapeHtml(vscode.l10n.t('Loading…'))}</p></main>
<script nonce="${nonce}" src="${script.toString()}"></script>
</body>
</html>`;
  }

  private async load(
    connection: ConnectionManager,
    scope: RunScopeKey,
    scopeLabel: string,
    selectedRunId?: string,
  ): Promise<void> {
    const backend = connection.snapshot.backend;
    if (!backend) {
      void warn(vscode.l10n.t('EHG Telemetry: no connection is configured.'));
      return;
    }
    const count = connection.snapshot.settings.trendsRunCount;
    const res = await backend.listSucceededRuns(scope, count);
    if (!res.ok) {
      void warn(vscode.l10n.t('EHG Telemetry: could not load the trends: {0}', res.error.message));
      return;
    }
    const data = buildTrends(scopeLabel, res.value);
    this.shownRunIds = new Set(data.perRun.map((r) => r.runId));
    const message = { type: 'render', data, strings: strings(), selectedRunId };
    this.pendingMessage = message;
    if (this.ready) await this.panel.webview.postMessage(message);
  }

  dispose(): void {
    if (TrendsPanel.current === this) TrendsPanel.current = undefined;
    for (const d of this.disposables.splice(0)) d.dispose();
    this.panel.dispose();
  }
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Scope of a run, or of the view (the workspace folder; global under All Scopes). */
async function pickScope(
  model: RunsModel,
  run: RunSummary | undefined,
): Promise<{ scope: RunScopeKey; label: string } | undefined> {
  if (run)
    return { scope: { scopeType: run.scopeType, scopeId: run.scopeId }, label: run.scopeId ?? vscode.l10n.t('global') };
  if (model.scope === 'all') return { scope: { scopeType: 'global', scopeId: null }, label: vscode.l10n.t('global') };
  const folders = vscode.workspace.workspaceFolders ?? [];
  if (folders.length === 0) return { scope: { scopeType: 'global', scopeId: null }, label: vscode.l10n.t('global') };
  if (folders.length === 1) {
    const id = folderSettings(folders[0]).scopeId;
    return { scope: { scopeType: 'workspace', scopeId: id }, label: id };
  }
  const items: Array<vscode.QuickPickItem & { scopeId: string | null }> = folders.map((f) => ({
    label: f.name,
    description: folderSettings(f).scopeId,
    scopeId: folderSettings(f).scopeId,
  }));
  items.push({ label: vscode.l10n.t('Global runs'), description: '', scopeId: null });
  const picked = await vscode.window.showQuickPick(items, {
    placeHolder: vscode.l10n.t('Bottleneck trends of which scope?'),
  });
  if (!picked) return undefined;
  return {
    scope: { scopeType: picked.scopeId === null ? 'global' : 'workspace', scopeId: picked.scopeId },
    label: picked.scopeId ?? vscode.l10n.t('global'),
  };
}

/** Show Bottleneck Trends (ehgTelemetry.showTrends), for a run row or the command palette. */
export async function showTrends(
  extensionUri: vscode.Uri,
  connection: ConnectionManager,
  model: RunsModel,
  arg?: unknown,
): Promise<void> {
  const runId =
    typeof arg === 'object' && arg !== null
      ? ((arg as { run?: { runId?: unknown } }).run?.runId ?? (arg as { runId?: unknown }).runId)
      : undefined;
  const run = typeof runId === 'string' ? model.find(runId) : undefined;
  const target = await pickScope(model, run);
  if (!target) return;
  await TrendsPanel.show(extensionUri, connection, target.scope, target.label, run?.runId);
}

/** Closes the panel (deactivation). */
export function disposeTrends(): void {
  TrendsPanel.disposeCurrent();
}

const STYLE = `
body { color: var(--vscode-foreground); background: var(--vscode-editor-background); font-family: var(--vscode-font-family); font-size: var(--vscode-font-size); padding: 0 20px 24px; }
h1 { font-size: 1.5em; font-weight: 600; margin: 16px 0 4px; }
h2 { font-size: 1.15em; font-weight: 600; margin: 24px 0 8px; }
.scope, .note { color: var(--vscode-descriptionForeground); overflow-wrap: anywhere; }
.chart { width: 100%; max-width: 900px; height: auto; display: block; }
.chart .grid { stroke: var(--vscode-editorWidget-border, var(--vscode-panel-border)); stroke-width: 1; opacity: .6; }
.chart .baseline { stroke: var(--vscode-descriptionForeground); stroke-dasharray: 4 3; }
.chart text { fill: var(--vscode-descriptionForeground); font-size: 11px; font-family: var(--vscode-font-family); }
.chart text.label { fill: var(--vscode-foreground); font-size: 12px; }
.chart .line { fill: none; stroke-width: 2; }
.chart .line.dashed { stroke-dasharray: 6 3; }
.chart .series.dim { opacity: .15; }
.bar-baseline { fill: var(--vscode-descriptionForeground); opacity: .55; }
.bar-observed { fill: var(--vscode-charts-red); }
.key { display: inline-block; width: 18px; height: 8px; margin-left: 4px; }
.key-baseline { background: var(--vscode-descriptionForeground); opacity: .55; }
.key-observed { background: var(--vscode-charts-red); }
${Array.from({ length: 8 }, (_, i) => {
  const c = ['red', 'blue', 'yellow', 'green', 'purple', 'orange', 'foreground', 'lines'][i];
  const v =
    c === 'foreground'
      ? 'var(--vscode-foreground)'
      : c === 'lines'
        ? 'var(--vscode-charts-lines)'
        : `var(--vscode-charts-${c})`;
  return `.s${i} .line { stroke: ${v}; } .s${i} .point { fill: ${v}; } .s${i} .mark { background: ${v}; }`;
}).join('\n')}
.legend { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: 6px 10px; }
.legend button { display: inline-flex; align-items: center; gap: 6px; color: var(--vscode-foreground); background: transparent; border: 1px solid transparent; border-radius: 2px; padding: 2px 6px; font: inherit; cursor: pointer; }
.legend button:hover { background: var(--vscode-list-hoverBackground); }
.legend button[aria-pressed="true"] { border-color: var(--vscode-focusBorder); }
.legend .mark { width: 12px; height: 3px; display: inline-block; }
:focus-visible { outline: 1px solid var(--vscode-focusBorder); outline-offset: 1px; }
table { border-collapse: collapse; margin-top: 12px; font-variant-numeric: tabular-nums; }
caption { text-align: left; color: var(--vscode-descriptionForeground); padding-bottom: 4px; }
th, td { border-bottom: 1px solid var(--vscode-editorWidget-border, var(--vscode-panel-border)); padding: 3px 10px 3px 0; text-align: right; }
th[scope="row"], thead th:first-child { text-align: left; overflow-wrap: anywhere; max-width: 320px; }
button.drill { color: var(--vscode-textLink-foreground); background: transparent; border: none; padding: 0; font: inherit; text-align: left; cursor: pointer; overflow-wrap: anywhere; }
button.drill:hover { color: var(--vscode-textLink-activeForeground); text-decoration: underline; }
select { color: var(--vscode-dropdown-foreground); background: var(--vscode-dropdown-background); border: 1px solid var(--vscode-dropdown-border); padding: 2px 4px; font: inherit; }
`;
