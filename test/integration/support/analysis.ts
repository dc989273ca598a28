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
import { sleep } from '../../../devkit/wait';

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

/**
 * A test-scale CLI-hook hold (the product's is HOOK_HOLD_MS, 7 s), for tests whose subject is not
 * the race with the CLI hook: no hook runs in them, so the hold only delays their analysis. The hold
 * path itself (wait, then re-check for a late hook run) still runs, just shorter. The tests whose
 * subject is the hold or the race with the hook keep the real figure.
 */
export const TEST_HOOK_HOLD_MS = 250;

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

export type HookDecision = 'skipped_fresh' | 'already_queued' | 'enqueued' | 'enqueue_failed';

/**
 * A STAND-IN for the CLI hook (not the real thing): the sequence of EHG_Engineer
 * lib/telemetry/auto-trigger.js triggerIfStale() as scripts/hooks/telemetry-auto-trigger.cjs runs it,
 * step by step, with upstream's own queries and its failure handling:
 *  1. checkStaleness (lines 29-58): a SUCCEEDED run finished within 7 days → skipped_fresh; a query
 *     error counts as stale;
 *  2. enqueueAnalysis → checkDuplicate (lines 67-85): QUEUED/RUNNING triggered within 10 min →
 *     already_queued; its error is ignored (data undefined: not a duplicate);
 *  3. INSERT one round trip later (lines 114-126), triggered_at from the hook's own clock, metadata
 *     { timeout_ms } only (no metadata.source). It never looks again and never yields. The edge can
 *     delay this request (a slow network): the test sets `setFault({ delayMs, times: 1 })` on it;
 *  4. executeAnalysisAsync (lines 144-214): RUNNING + started_at, the analysis (`onAnalysis` counts it,
 *     then `workMs`), SUCCEEDED by run_id only, whatever the status says.
 * `onChecked` is called once its dedup check has been answered (before its INSERT is sent).
 */
export async function hookStandIn(
  supabase: SupabaseClient,
  scopeId: string,
  o: { runId: string; workMs: number; onChecked?: () => void; onAnalysis?: () => void },
): Promise<HookDecision> {
  const runs = () => supabase.from('telemetry_analysis_runs');
  const staleCutoff = new Date(Date.now() - 7 * 86_400_000).toISOString();
  const stale = await runs()
    .select('finished_at')
    .eq('scope_type', 'workspace')
    .eq('status', 'SUCCEEDED')
    .or(`scope_id.eq.${scopeId},scope_id.is.null`)
    .gte('finished_at', staleCutoff)
    .order('finished_at', { ascending: false })
    .limit(1);
  if (!stale.error && stale.data && stale.data.length > 0) {
    o.onChecked?.();
    return 'skipped_fresh';
  }
  const dedupCutoff = new Date(Date.now() - 10 * 60_000).toISOString();
  const { data } = await runs()
    .select('run_id')
    .eq('scope_type', 'workspace')
    .in('status', ['QUEUED', 'RUNNING'])
    .or(`scope_id.eq.${scopeId},scope_id.is.null`)
    .gte('triggered_at', dedupCutoff)
    .limit(1);
  o.onChecked?.();
  if (data && data.length > 0) return 'already_queued';
  const { error } = await runs().insert({
    run_id: o.runId,
    scope_type: 'workspace',
    scope_id: scopeId,
    status: 'QUEUED',
    triggered_by: 'SESSION_START',
    triggered_at: new Date().toISOString(),
    correlation_id: o.runId,
    metadata: { timeout_ms: 120000 },
  });
  if (error) return 'enqueue_failed';
  const startedAt = new Date().toISOString();
  await runs().update({ status: 'RUNNING', started_at: startedAt }).eq('run_id', o.runId);
  o.onAnalysis?.();
  await sleep(o.workMs);
  await runs()
    .update({
      status: 'SUCCEEDED',
      finished_at: new Date().toISOString(),
      duration_ms: Date.now() - Date.parse(startedAt),
      findings_count: 0,
      top_bottleneck_category: null,
      reason_code: null,
      output_ref: { bottlenecks: [], traces_scanned: 1, dimensions_evaluated: 0, items_created: 0 },
    })
    .eq('run_id', o.runId);
  return 'enqueued';
}

/** Waits for every promise (none is left running), then rejects with the first failure if any. */
export async function allSettledOrThrow(ps: Promise<void>[]): Promise<void> {
  const failed = (await Promise.allSettled(ps)).find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
}

/**
 * Runs trials 0..n-1 in `lanes` concurrent lanes; each lane runs its trials one after another (trial t
 * in lane t % lanes) with its own `setup()` (its own windows), so no two running trials share a
 * window or a scope. A lane stops at its first failure; the others finish theirs, then it is thrown.
 */
export async function inLanes<L>(
  n: number,
  lanes: number,
  setup: () => L,
  trial: (t: number, lane: L) => Promise<void>,
): Promise<void> {
  await allSettledOrThrow(
    Array.from({ length: Math.min(lanes, n) }, async (_, l) => {
      const lane = setup();
      for (let t = l; t < n; t += lanes) await trial(t, lane);
    }),
  );
}
