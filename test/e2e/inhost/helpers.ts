// Helpers for tests that run inside the extension host: the extension's test API, the database, the
// runner's control endpoint; waiting (with a clear message when a condition never comes true) is devkit/wait.ts.
import * as assert from 'assert';
import * as http from 'http';
import { Client } from 'pg';
import * as vscode from 'vscode';
import { ControlMethod, EXTENSION_ID, EhgTelemetryTestApi } from '../shared';
import { readConfig } from './config';

export const config = readConfig();

export type Testing = EhgTelemetryTestApi['testing'];

/** Activates the extension and returns its test API (fails clearly when the build has none). */
export async function testing(): Promise<Testing> {
  const ext = vscode.extensions.getExtension<EhgTelemetryTestApi>(EXTENSION_ID);
  assert.ok(ext, `extension ${EXTENSION_ID} is not loaded in this host`);
  const api = ext.isActive ? ext.exports : await ext.activate();
  assert.ok(api && api.testing, `extension ${EXTENSION_ID} activated but its activate() returned no \`testing\` API`);
  return api.testing;
}

let client: Client | undefined;

/** Runs SQL against the stack's Postgres as its owner (bypasses RLS: this is the test's view of the truth). */
export async function sql<T = Record<string, unknown>>(text: string, params: unknown[] = []): Promise<T[]> {
  if (!client) {
    client = new Client({ connectionString: config.databaseUrl });
    await client.connect();
  }
  const res = await client.query(text, params);
  return res.rows as T[];
}

export async function closeDb(): Promise<void> {
  await client?.end();
  client = undefined;
}

export interface RunRow {
  run_id: string;
  scope_type: string;
  scope_id: string | null;
  status: string;
  triggered_by: string;
  triggered_at: Date;
  top_bottleneck_category: string | null;
  findings_count: number | null;
  output_ref: { bottlenecks?: Array<{ dimension_type: string; dimension_key: string; ratio: number }> } | null;
  metadata: Record<string, unknown> | null;
  correlation_id: string | null;
}

/** The runs of one scope, newest first (the tree's order: triggered_at, then run_id, descending). */
export function runsForScope(scope: string): Promise<RunRow[]> {
  return sql<RunRow>(
    'select * from telemetry_analysis_runs where scope_id = $1 order by triggered_at desc, run_id desc',
    [scope],
  );
}

/**
 * What "This Workspace" lists: the folder's own workspace-scoped runs. Global runs (scope_id null)
 * are only under "Show All Scopes", though they still count for staleness and dedup.
 */
export async function runsListedFor(scope: string): Promise<RunRow[]> {
  return (await runsForScope(scope)).filter((r) => r.scope_type === 'workspace');
}

/** Asks the runner to act on the stack (scheduler simulator, worker, gateway). */
export function control<T = unknown>(method: ControlMethod, ...args: unknown[]): Promise<T> {
  const body = JSON.stringify({ method, args });
  return new Promise((resolve, reject) => {
    const req = http.request(
      config.controlUrl,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        timeout: 30_000,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (text += c));
        res.on('end', () => {
          const parsed = text ? JSON.parse(text) : {};
          if (res.statusCode === 200) resolve(parsed.result as T);
          else reject(new Error(`control ${method} failed (${res.statusCode}): ${parsed.error ?? text}`));
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`control ${method} timed out`)));
    req.on('error', reject);
    req.end(body);
  });
}

// Waiting: the one implementation every suite, script and runner uses (devkit/wait.ts).
import { waitFor } from '../../../devkit/wait';

export { observeQuietFor, sleep, waitFor } from '../../../devkit/wait';

/** The "hold" phases: the run the first window held when it reloaded (next to the results file). */
export const HELD_RUN_FILE = 'hold-run.json';

/** Waits (30 s at most) until the session start has logged a decision for this scope; returns them. */
export function sessionDecisions(t: Testing, scopeId: string, what: string): Promise<ReturnType<Testing['decisions']>> {
  return waitFor(() => t.decisions().filter((x) => x.scopeId === scopeId), {
    message: what,
    until: (d) => d.length > 0,
    timeoutMs: 30_000,
  });
}

/** Refresh through the command a user would use (it resolves when runs and heartbeat are re-read). */
export async function refresh(): Promise<void> {
  await vscode.commands.executeCommand('ehgTelemetry.refresh');
}
