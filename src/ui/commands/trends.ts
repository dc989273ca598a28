// Trends commands: Show Bottleneck Trends (the panel is ui/trendsPanel.ts).
import type * as vscode from 'vscode';
import type { ConnectionManager } from '../../platform/connection';
import type { Log } from '../../platform/log';
import type { RunsModel } from '../../runs/runsModel';
import { showTrends } from '../trendsPanel';
import { command, Command } from './shared';

export { disposeTrends } from '../trendsPanel';

export interface TrendsCommandParts {
  extensionUri: vscode.Uri;
  connection: ConnectionManager;
  model: RunsModel;
  log: Log;
}

export function trendsCommands(d: TrendsCommandParts): Command[] {
  return [command(d.log, 'showTrends', (arg?: unknown) => showTrends(d.extensionUri, d.connection, d.model, arg))];
}
