// Shared by the analysis integration tests: a copy of the fixture EHG workspace per test, the
// execution context the extension builds, and the CLI hook's own queries (as upstream
// lib/telemetry/auto-trigger.js sends them through supabase-js).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { SupabaseClient } from '@supabase/supabase-js';
import type { ExecutionContext } from '../../../src/analysis/executeRun';
import type { EnqueueRequest } from '../../../src/data/enqueueRun';
import { checkProjectUrl } from '../../../src/domain/credentials';
import { sleep } from '../../support/wait';

export const REPO = path.resolve(__dirname, '..', '..', '..', '..');
export const FIXTURE = path.join(REPO, 'test', 'fixtures', 'ehg-workspace');
export const CHILD_MODULE = path.join(REPO, 'out', 'src', 'analysis', 'analysisChild.js');

/** A fresh copy of the fixture workspace; `mode` goes into its .analyzer-mode file. */
export function makeFixtureWorkspace(root: string, name: string, mode = 'normal'): string {
  const dir = path.join(root, name);
  fs.cpSync(FIXTURE, dir, { recursive: true });
  fs.writeFileSync(path.join(dir, '.analyzer-mode'), mode);
  return fs.realpathSync(dir);
}

export function tmpRoot(): string {
  return fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'ehg-analysis-')));
}

export function sessionRequest(
  scopeId: string,
  timeoutMs = 120_000,
  over: Partial<EnqueueRequest> = {},
): Omit<EnqueueRequest, 'execute'> {
  return {
    scopeId,
    triggeredBy: 'SESSION_START',
    mode: 'whenStale',
    stalenessMs: 7 * 86_400_000,
    dedupMs: 10 * 60_000,
    metadata: {
      timeout_ms: timeoutMs,
      source: {
        extension: 'ehg-telemetry',
        extension_version: 'test',
        vscode_version: 'test',
        window_id: 'w',
        app_host: 'test',
      },
    },
    ...over,
  };
}

export function analysisContext(o: {
  url: string;
  key: string;
  folder: string;
  log: ExecutionContext['log'];
  windowId?: string;
}): ExecutionContext {
  const c = checkProjectUrl(o.url);
  if (!c.ok) throw new Error(c.message);
  return {
    childModule: CHILD_MODULE,
    folderPath: o.folder,
    analyzerPath: '',
    enableAutoCreate: true,
    requestTimeoutMs: 10_000,
    connection: { url: c.url, origin: c.origin, key: o.key },
    runner: { extensionVersion: 'test', windowId: o.windowId ?? 'window-1' },
    clientInfo: 'ehg-telemetry-tests',
    log: o.log,
    statusPollMs: 250,
  };
}

/** The hook's checkStaleness (auto-trigger.js), verbatim in effect: fresh when a SUCCEEDED run finished within 7 days. */
export async function hookSaysFresh(supabase: SupabaseClient, scopeId: string): Promise<boolean> {
  const cutoff = new Date(Date.now() - 7 * 86_400_000).toISOString();
  const { data, error } = await supabase
    .from('telemetry_analysis_runs')
    .select('finished_at')
    .eq('scope_type', 'workspace')
    .eq('status', 'SUCCEEDED')
    .or(`scope_id.eq.${scopeId},scope_id.is.null`)
    .gte('finished_at', cutoff)
    .order('finished_at', { ascending: false })
    .limit(1);
  if (error) throw new Error(error.message);
  return !!data && data.length > 0;
}

/** The hook's checkDuplicate: true means it would answer already_queued and skip. */
export async function hookSaysAlreadyQueued(supabase: SupabaseClient, scopeId: string): Promise<boolean> {
  const cutoff = new Date(Date.now() - 10 * 60_000).toISOString();
  const { data } = await supabase
    .from('telemetry_analysis_runs')
    .select('run_id')
    .eq('scope_type', 'workspace')
    .in('status', ['QUEUED', 'RUNNING'])
    .or(`scope_id.eq.${scopeId},scope_id.is.null`)
    .gte('triggered_at', cutoff)
    .limit(1);
  return !!data && data.length > 0;
}

/**
 * A hook-style writer (enqueueAnalysis + executeAnalysisAsync): dedup check, insert QUEUED with
 * no metadata.source, RUNNING, then (after `workMs`) SUCCEEDED by run_id only, whatever the status says.
 */
export async function hookStyleRun(
  supabase: SupabaseClient,
  scopeId: string,
  runId: string,
  workMs: number,
): Promise<'already_queued' | 'enqueued'> {
  if (await hookSaysAlreadyQueued(supabase, scopeId)) return 'already_queued';
  const { error } = await supabase.from('telemetry_analysis_runs').insert({
    run_id: runId,
    scope_type: 'workspace',
    scope_id: scopeId,
    status: 'QUEUED',
    triggered_by: 'SESSION_START',
    triggered_at: new Date().toISOString(),
    correlation_id: runId,
    metadata: { timeout_ms: 120000 },
  });
  if (error) throw new Error(error.message);
  const startedAt = new Date().toISOString();
  await supabase
    .from('telemetry_analysis_runs')
    .update({ status: 'RUNNING', started_at: startedAt })
    .eq('run_id', runId);
  await sleep(workMs);
  await supabase
    .from('telemetry_analysis_runs')
    .update({
      status: 'SUCCEEDED',
      finished_at: new Date().toISOString(),
      duration_ms: workMs,
      findings_count: 0,
      output_ref: { bottlenecks: [], traces_scanned: 1, dimensions_evaluated: 0, items_created: 0 },
    })
    .eq('run_id', runId);
  return 'enqueued';
}
