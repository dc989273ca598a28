// One typed view of the extension's settings. Out-of-range values are clamped (and reported) rather
// than trusted: a zero interval must not become a tight loop, a huge page size not a huge query.
import * as vscode from 'vscode';
import type { AutoTriggerMode } from '../domain/sessionTrigger';
import type { AnalysisExecutor } from '../domain/analysisRun';
import { userSettingUrl } from '../domain/connectionPrecedence';

export const SECTION = 'ehgTelemetry';

export interface Settings {
  /** From user (application) settings only: a workspace cannot redirect the stored key. */
  supabaseUrl: string;
  useWorkspaceEnv: boolean;
  stalenessMs: number;
  dedupMs: number;
  runTimeoutMs: number;
  pageSize: number;
  queuedWarningMs: number;
  notifyOnCompletion: boolean;
  requestTimeoutMs: number;
  heartbeatGraceMs: number;
  /** How many succeeded runs Bottleneck Trends shows. */
  trendsRunCount: number;
}

export interface SettingsReadout {
  settings: Settings;
  warnings: string[];
}

function num(
  cfg: vscode.WorkspaceConfiguration,
  key: string,
  def: number,
  min: number,
  max: number,
  warnings: string[],
): number {
  const raw = cfg.get<unknown>(key);
  if (raw === undefined || raw === null) return def;
  const n = typeof raw === 'number' ? raw : Number(raw);
  if (!Number.isFinite(n)) {
    warnings.push(
      vscode.l10n.t(
        'ehgTelemetry.{0} is not a number ({1}); using {2}.',
        key,
        (JSON.stringify(raw) ?? '').slice(0, 40),
        def,
      ),
    );
    return def;
  }
  if (n < min || n > max) {
    const clamped = Math.min(max, Math.max(min, n));
    warnings.push(vscode.l10n.t('ehgTelemetry.{0} = {1} is outside {2}…{3}; using {4}.', key, n, min, max, clamped));
    return clamped;
  }
  return n;
}

export function readSettings(): SettingsReadout {
  const cfg = vscode.workspace.getConfiguration(SECTION);
  const warnings: string[] = [];
  // Application-scoped: VS Code drops workspace values for it, and we read only the user value
  // explicitly as a second line of defence, so a workspace can never choose where the key goes.
  const supabaseUrl = userSettingUrl(cfg.inspect<unknown>('supabaseUrl'));
  const settings: Settings = {
    supabaseUrl,
    useWorkspaceEnv: cfg.get<boolean>('useWorkspaceEnv', true) !== false,
    stalenessMs: num(cfg, 'stalenessDays', 7, 0.01, 365, warnings) * 86_400_000,
    dedupMs: num(cfg, 'dedupMinutes', 10, 0.1, 1440, warnings) * 60_000,
    runTimeoutMs: Math.round(num(cfg, 'runTimeoutSeconds', 120, 1, 86_400, warnings) * 1000),
    pageSize: Math.round(num(cfg, 'runs.pageSize', 20, 1, 200, warnings)),
    queuedWarningMs: num(cfg, 'runs.queuedWarningMinutes', 5, 0.1, 1440, warnings) * 60_000,
    notifyOnCompletion: cfg.get<boolean>('notifyOnCompletion', true) !== false,
    requestTimeoutMs: Math.round(num(cfg, 'requestTimeoutSeconds', 10, 1, 120, warnings) * 1000),
    heartbeatGraceMs: num(cfg, 'heartbeatGraceSeconds', 30, 1, 3600, warnings) * 1000,
    trendsRunCount: Math.round(num(cfg, 'trends.runCount', 10, 2, 50, warnings)),
  };
  return { settings, warnings };
}

export interface FolderSettings {
  autoTrigger: AutoTriggerMode;
  scopeId: string;
  executor: AnalysisExecutor;
  analyzerPath: string;
  autoCreate: boolean;
}

/** Resource-scoped settings, per workspace folder. */
export function folderSettings(folder: vscode.WorkspaceFolder): FolderSettings {
  const cfg = vscode.workspace.getConfiguration(SECTION, folder.uri);
  const mode = cfg.get<string>('autoTrigger', 'whenStale');
  const custom = (cfg.get<string>('scopeId', '') ?? '').trim();
  const path = cfg.get<unknown>('analysis.analyzerPath');
  return {
    autoTrigger: mode === 'always' || mode === 'off' ? mode : 'whenStale',
    scopeId: custom || folder.uri.fsPath,
    executor: cfg.get<string>('analysis.executor', 'workspace') === 'external' ? 'external' : 'workspace',
    analyzerPath: typeof path === 'string' ? path : '',
    autoCreate: cfg.get<boolean>('analysis.autoCreate', true) !== false,
  };
}
