// Derives the runs view's state (for welcome views, the view message and context keys) from the
// connection and the store. "Couldn't load" and "no runs" are different states by construction.
import * as vscode from 'vscode';
import { describeNotConfigured } from '../domain/connectionPrecedence';
import { formatAge } from '../domain/format';
import { isStale } from '../domain/freshness';
import { isTransient } from '../data/errors';
import type { ConnectionManager } from '../platform/connection';
import type { RunsModel } from '../runs/runsModel';

export type ViewState = 'notConfigured' | 'restricted' | 'loading' | 'unreachable' | 'error' | 'empty' | 'ok';

export function computeViewState(connection: ConnectionManager, model: RunsModel): ViewState {
  const snap = connection.snapshot;
  if (snap.state.kind === 'restricted') return 'restricted';
  if (snap.state.kind === 'invalid') return 'error';
  if (!snap.backend) return 'notConfigured';
  if (!model.loadedOnce) {
    if (model.error) return isTransient(model.error) ? 'unreachable' : 'error';
    return 'loading';
  }
  return model.runs.length === 0 ? 'empty' : 'ok';
}

export function computeViewMessage(
  connection: ConnectionManager,
  model: RunsModel,
  trusted: boolean,
  noAnalyzer: readonly string[] = [],
): string | undefined {
  const snap = connection.snapshot;
  if (snap.state.kind === 'invalid') return snap.state.message;
  if (snap.state.kind === 'not-configured' && snap.state.cause === 'no-key') return describeNotConfigured(snap.state);
  const notes: string[] = [];
  if (model.error) {
    notes.push(
      model.loadedOnce && model.loadedAt
        ? vscode.l10n.t('Showing runs loaded {0}. {1}', formatAge(model.loadedAt, new Date()), model.error.message)
        : model.error.message,
    );
  }
  if (snap.state.kind === 'configured' && snap.state.warning) notes.push(snap.state.warning);
  if (snap.backend && !trusted)
    notes.push(vscode.l10n.t('Restricted mode: .env is not read and no runs are started automatically.'));
  if (snap.backend && snap.canWrite === false)
    notes.push(vscode.l10n.t('Read-only key: runs cannot be started or cancelled from here (a service-role key can).'));
  if (noAnalyzer.length) {
    notes.push(
      vscode.l10n.t(
        'No analysis run was started: {0}. Runs are executed with the workspace\'s own EHG_Engineer analyzer (lib/telemetry/bottleneck-analyzer.js, setting ehgTelemetry.analysis.analyzerPath) in a trusted workspace; open the EHG_Engineer checkout, or set ehgTelemetry.analysis.executor to "external" if a worker claims queued runs.',
        noAnalyzer[0],
      ),
    );
  }
  if (model.skippedRows > 0)
    notes.push(vscode.l10n.t('{0} row(s) had no readable run_id and are not shown.', model.skippedRows));
  return notes.length ? notes.join(' ') : undefined;
}

/**
 * The view's description: "all scopes", and "updated 4m ago" once what it shows is older than its
 * refresh interval (errors, backoff, an unfocused window), so stale rows never pass for fresh ones.
 */
export function computeViewDescription(model: RunsModel, now: Date, intervalMs: number): string | undefined {
  const parts: string[] = [];
  if (model.scope === 'all') parts.push(vscode.l10n.t('all scopes'));
  if (isStale(model.loadedAt, now, intervalMs))
    parts.push(vscode.l10n.t('updated {0}', formatAge(model.loadedAt, now)));
  return parts.length ? parts.join(' · ') : undefined;
}

/** Sets a context key only when its value changes. */
export class ContextKeys {
  private readonly values = new Map<string, unknown>();
  set(key: string, value: unknown): void {
    if (this.values.get(key) === value) return;
    this.values.set(key, value);
    void vscode.commands.executeCommand('setContext', key, value);
  }
  get(key: string): unknown {
    return this.values.get(key);
  }
}
