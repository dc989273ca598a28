// Derives the runs view's state (for welcome views, the view message and context keys) from the
// connection and the store. "Couldn't load" and "no runs" are different states by construction.
import * as vscode from 'vscode';
import { formatAge } from '../domain/format';
import { isTransient } from '../data/errors';
import type { ConnectionManager } from '../platform/connection';
import type { RunsModel } from './runsModel';

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

export function computeViewMessage(connection: ConnectionManager, model: RunsModel, trusted: boolean, noAnalyzer: readonly string[] = []): string | undefined {
  const snap = connection.snapshot;
  if (snap.state.kind === 'invalid') return snap.state.message;
  if (snap.state.kind === 'not-configured' && snap.state.reason !== 'resolving' && snap.state.reason.startsWith('No key')) return snap.state.reason;
  const notes: string[] = [];
  if (model.error) {
    notes.push(model.loadedOnce && model.loadedAt ? `Showing runs loaded ${formatAge(model.loadedAt, new Date())}. ${model.error.message}` : model.error.message);
  }
  if (snap.state.kind === 'configured' && snap.state.warning) notes.push(snap.state.warning);
  if (snap.backend && !trusted) notes.push('Restricted mode: .env is not read and no runs are started automatically.');
  if (snap.backend && snap.canWrite === false) notes.push('Read-only key: runs cannot be started or cancelled from here (a service-role key can).');
  if (noAnalyzer.length) {
    notes.push(`No analysis run was started: ${noAnalyzer[0]}. Runs are executed with the workspace's own EHG_Engineer analyzer (lib/telemetry/bottleneck-analyzer.js, setting ehgTelemetry.analysis.analyzerPath) in a trusted workspace; open the EHG_Engineer checkout, or set ehgTelemetry.analysis.executor to "external" if a worker claims queued runs.`);
  }
  if (model.skippedRows > 0) notes.push(`${model.skippedRows} row(s) had no readable run_id and are not shown.`);
  return notes.length ? notes.join(' ') : undefined;
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
