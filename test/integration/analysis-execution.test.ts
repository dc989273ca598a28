// Executing runs with the workspace's analyzer (issue 9) against real parts: embedded PostgreSQL
// with the seed schema and the analyzer tables, the stack's PostgREST, real supabase-js, the real
// child process (out/src/analysis/analysisChild.js) and the fixture EHG workspace's analyzer. The
// child on its own (window detached, host killed, watchdog, backstop): analysis-child-alone.test.ts.
import * as assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { enqueueAndExecute } from '../../src/analysis/executeRun';
import { markOrphanedRuns } from '../../src/data/orphans';
import { REASON_ORPHANED } from '../../src/domain/analysisRun';
import { HOOK_HOLD_MS } from '../../src/domain/sessionTrigger';
import type { Stack } from '../../devkit/stack';
import { DEFAULT_SLOW_KEYS } from '../../devkit/stack/datagen';
import { observeQuietFor, processAlive, sleep, waitFor } from '../../devkit/wait';
import {
  analysisContext,
  hookSaysAlreadyQueued,
  hookSaysFresh,
  makeFixtureWorkspace,
  sessionRequest,
} from './support/analysis';
import { TEST_HOOK_HOLD_MS } from './support/analysis';
import { executionSuite } from './support/executionSuite';

/** PostgreSQL's refusal of the analyzer's item (upstream's fn_enforce_improvement_lineage, via PostgREST). */
const LINEAGE_REFUSAL = 'lineage_required: source_type and source_id must both be set or both be null';

describe('executing runs with the workspace analyzer (child process, real stack)', function () {
  this.timeout(180_000);
  const suite = executionSuite();
  const { logs, log, backend, rowsFor, rowOf, execute, runToEnd, durationMatchesTimes } = suite;
  let stack: Stack;
  let root: string;
  before(() => {
    ({ stack, root } = suite);
  });

  it('SUCCEEDED with findings computed from the traces (paged past 1,000 rows), lifecycle fields as the hook writes them', async () => {
    const { runId, end, row, folder, outcome } = await runToEnd('normal');
    assert.equal(end.end, 'child-finished');
    assert.equal(row.status, 'SUCCEEDED');
    assert.ok(row.started_at && row.finished_at && row.duration_ms !== null && row.duration_ms >= 0);
    // Held for the CLI hook (HOOK_HOLD_MS) after its claim: the hold counts, from the row's started_at.
    assert.ok(outcome.kind === 'enqueued' && outcome.hookWaitMs !== undefined && outcome.hookWaitMs >= HOOK_HOLD_MS);
    durationMatchesTimes(row);
    // (The claim comes one convergence round trip after the insert the hold is timed from.)
    assert.ok(row.duration_ms >= HOOK_HOLD_MS - 1_000, `duration ${row.duration_ms} includes the hold`);
    assert.equal(row.output_ref.traces_scanned, 3000);
    const found = (row.output_ref.bottlenecks as { dimension_type: string; dimension_key: string }[])
      .map((b) => `${b.dimension_type}:${b.dimension_key}`)
      .sort();
    assert.deepEqual(found, [...DEFAULT_SLOW_KEYS].sort());
    assert.equal(row.findings_count, 3);
    assert.equal(row.top_bottleneck_category, row.output_ref.bottlenecks[0].dimension_type);
    assert.equal(row.reason_code, null);
    // What the hook writes, and the analyzer's errors and skip counters next to it (the hook drops them).
    assert.deepEqual(Object.keys(row.output_ref).sort(), [
      'bottlenecks',
      'dimensions_evaluated',
      'errors',
      'items_created',
      'items_skipped_dedupe',
      'items_skipped_rate_limit',
      'traces_scanned',
    ]);
    assert.deepEqual([row.output_ref.items_skipped_rate_limit, row.output_ref.items_skipped_dedupe], [0, 0]);
    assert.equal(row.metadata.runner.analyzer, 'lib/telemetry/bottleneck-analyzer.js');
    assert.equal(row.metadata.runner.window_id, 'window-1');
    assert.equal(row.metadata.runner.extension_version, 'test');
    assert.equal(row.metadata.timeout_ms, 120_000, 'metadata keeps the timeout next to the runner');
    // enableAutoCreate: the analyzer tries an item per bottleneck, and upstream's table refuses every
    // one (the lineage trigger fires before the CHECKs), as in production. The run still SUCCEEDS.
    assert.equal(row.output_ref.items_created, 0);
    assert.deepEqual(
      row.output_ref.errors,
      (row.output_ref.bottlenecks as { dimension_key: string }[]).map(
        (b) => `create_failed:${b.dimension_key}: ${LINEAGE_REFUSAL}`,
      ),
    );
    assert.ok(row.output_ref.bottlenecks.every((b: { improvement_id: unknown }) => b.improvement_id === null));
    assert.ok(
      logs.some((l) =>
        l.includes(
          `the analyzer reported errors: 3 improvement items could not be created: the database refused them (${LINEAGE_REFUSAL})`,
        ),
      ),
      'the log says so',
    );
    const items = await stack.query('select * from public.protocol_improvement_queue');
    assert.equal(items.length, 0);
    // The CLI hook's own staleness query now says fresh.
    assert.equal(await hookSaysFresh(backend().supabase, folder), true);
    assert.equal(await hookSaysAlreadyQueued(backend().supabase, folder), false);
    assert.ok(
      logs.some((l) => l.includes('[analyzer] [Bottleneck]')),
      "the analyzer's console.log reaches the log",
    );
    void runId;
  });

  it("with the lineage trigger satisfied, upstream's CHECKs refuse the analyzer's item too", async () => {
    // The analyzer's row as it inserts it (bottleneck-analyzer.js step 5), plus a source_id: the
    // source_type CHECK is the next refusal. Through PostgREST with the service key, as the analyzer.
    const { error } = await backend()
      .supabase.from('protocol_improvement_queue')
      .insert({
        source_type: 'TELEMETRY_AUTO_ANALYSIS',
        source_id: randomUUID(),
        improvement_type: 'PERFORMANCE_BOTTLENECK',
        target_table: 'workflow_trace_log',
        target_operation: 'ANALYZE',
        target_phase: 'ALL',
        description: 'Bottleneck detected: gate:G (5x baseline)',
        evidence_count: 1,
        payload: { source: 'telemetry_auto_analysis' },
        status: 'PENDING',
        auto_applicable: false,
        risk_tier: 'GOVERNED',
        rollback_eligible: false,
      })
      .select('id')
      .single();
    assert.equal(error?.code, '23514');
    assert.match(
      error?.message ?? '',
      /violates check constraint "protocol_improvement_queue_(source_type|improvement_type|target_operation)_check"/,
    );
    for (const [column, value] of [
      ['source_type', 'TELEMETRY_AUTO_ANALYSIS'],
      ['improvement_type', 'PERFORMANCE_BOTTLENECK'],
      ['target_operation', 'ANALYZE'],
      ['status', 'IN_PROGRESS'],
    ]) {
      const ok = {
        source_type: 'SD_COMPLETION',
        improvement_type: 'CHECKLIST_ITEM',
        target_operation: 'INSERT',
        status: 'PENDING',
      };
      await assert.rejects(
        stack.query(
          `insert into public.protocol_improvement_queue (source_type, source_id, improvement_type, target_table, target_operation, payload, description, status)
           values ($1, gen_random_uuid(), $2, 't', $3, '{}', 'd', $4)`,
          Object.values({ ...ok, [column]: value }),
        ),
        new RegExp(`protocol_improvement_queue_${column}_check`),
      );
    }
    assert.equal((await stack.query('select * from public.protocol_improvement_queue')).length, 0);
  });

  it('a database that accepts the items (no refusal): items created, improvement_id set, no errors kept', async () => {
    await stack.query('alter table public.protocol_improvement_queue disable trigger trg_enforce_improvement_lineage');
    await stack.query(
      'alter table public.protocol_improvement_queue drop constraint protocol_improvement_queue_source_type_check, drop constraint protocol_improvement_queue_improvement_type_check, drop constraint protocol_improvement_queue_target_operation_check',
    );
    try {
      // Hold scaled (TEST_HOOK_HOLD_MS): the subject is the items the analyzer creates, not the CLI hook (none
      // runs here; the first test and analysis-race.test.ts keep the real 7 s hold).
      const { row } = await runToEnd('normal', 120_000, TEST_HOOK_HOLD_MS);
      assert.equal(row.status, 'SUCCEEDED');
      assert.equal(row.output_ref.items_created, 3, 'enableAutoCreate: improvement items inserted');
      assert.equal('errors' in row.output_ref, false, 'no errors: no errors key in output_ref');
      const items = await stack.query<{ id: string }>('select id from public.protocol_improvement_queue');
      assert.equal(items.length, 3);
      assert.deepEqual(
        (row.output_ref.bottlenecks as { improvement_id: string }[]).map((b) => b.improvement_id).sort(),
        items.map((i) => i.id).sort(),
      );
      // The next run finds them open (PENDING) and within the cooldown: deduplicated, not created again.
      const again = await runToEnd('normal', 120_000, TEST_HOOK_HOLD_MS);
      assert.equal(again.row.output_ref.items_created, 0);
      assert.equal(again.row.output_ref.items_skipped_dedupe, 3, 'the skips are kept: the drill-down says why');
      assert.equal('errors' in again.row.output_ref, false);
      assert.equal((await stack.query('select id from public.protocol_improvement_queue')).length, 3);
    } finally {
      await stack.query('delete from public.protocol_improvement_queue');
      await stack.query(
        `alter table public.protocol_improvement_queue
           add constraint protocol_improvement_queue_source_type_check CHECK ((source_type = ANY (ARRAY['LEAD_TO_PLAN'::text, 'PLAN_TO_EXEC'::text, 'SD_COMPLETION'::text]))),
           add constraint protocol_improvement_queue_improvement_type_check CHECK ((improvement_type = ANY (ARRAY['VALIDATION_RULE'::text, 'CHECKLIST_ITEM'::text, 'SKILL_UPDATE'::text, 'PROTOCOL_SECTION'::text, 'SUB_AGENT_CONFIG'::text]))),
           add constraint protocol_improvement_queue_target_operation_check CHECK ((target_operation = ANY (ARRAY['INSERT'::text, 'UPDATE'::text, 'UPSERT'::text])))`,
      );
      await stack.query('alter table public.protocol_improvement_queue enable trigger trg_enforce_improvement_lineage');
    }
  });

  it('finds nothing: SUCCEEDED with 0 findings', async () => {
    // Hold scaled (TEST_HOOK_HOLD_MS): the subject is the analyzer's outcome, not the CLI hook (none runs here; the
    // first test and analysis-race.test.ts keep the real 7 s hold).
    const { row } = await runToEnd('no-findings', 120_000, TEST_HOOK_HOLD_MS);
    assert.equal(row.status, 'SUCCEEDED');
    assert.equal(row.findings_count, 0);
    assert.equal(row.top_bottleneck_category, null);
    assert.equal(row.reason_code, null);
  });

  it('sees no traces: SUCCEEDED + INSUFFICIENT_DATA', async () => {
    // Hold scaled (TEST_HOOK_HOLD_MS): the subject is the analyzer's outcome, not the CLI hook (none runs here; the
    // first test and analysis-race.test.ts keep the real 7 s hold).
    const { row } = await runToEnd('no-traces', 120_000, TEST_HOOK_HOLD_MS);
    assert.equal(row.status, 'SUCCEEDED');
    assert.equal(row.reason_code, 'INSUFFICIENT_DATA');
    assert.equal(row.output_ref.traces_scanned, 0);
  });

  it('reports a read error: FAILED with that error (not INSUFFICIENT_DATA)', async () => {
    // Hold scaled (TEST_HOOK_HOLD_MS): the subject is the analyzer's outcome, not the CLI hook (none runs here; the
    // first test and analysis-race.test.ts keep the real 7 s hold).
    const { row, folder } = await runToEnd('read-error', 120_000, TEST_HOOK_HOLD_MS);
    assert.equal(row.status, 'FAILED');
    assert.equal(row.error_class, 'db_connection_error');
    assert.match(row.error_message ?? '', /workflow_trace_log_missing/);
    // As upstream: fetchAllPaginated throws, the analyzer records `db_connection_error: <its message>`.
    assert.match(row.error_message ?? '', /^db_connection_error: fetchAllPaginated: page at offset 0 failed: /);
    assert.equal(await hookSaysFresh(backend().supabase, folder), false, 'a failure does not suppress re-analysis');
  });

  it("throws: FAILED with the error's class", async () => {
    // Hold scaled (TEST_HOOK_HOLD_MS): the subject is the analyzer's outcome, not the CLI hook (none runs here; the
    // first test and analysis-race.test.ts keep the real 7 s hold).
    const { row } = await runToEnd('throw', 120_000, TEST_HOOK_HOLD_MS);
    assert.equal(row.status, 'FAILED');
    assert.equal(row.error_class, 'TypeError');
    assert.ok(row.finished_at && row.duration_ms !== null);
  });

  it('hangs past the timeout: the child times it out (TIMED_OUT, TimeoutError) and exits', async () => {
    // Hold scaled (TEST_HOOK_HOLD_MS): the subject is the analysis' own timeout, not the CLI hook (none runs here;
    // the first test and analysis-race.test.ts keep the real 7 s hold).
    const { row, end, outcome } = await runToEnd('hang', 2_000, TEST_HOOK_HOLD_MS);
    assert.equal(end.end, 'child-finished');
    assert.equal(row.status, 'TIMED_OUT');
    assert.equal(row.error_class, 'TimeoutError');
    durationMatchesTimes(row);
    // duration_ms counts from started_at, i.e. the hook hold (≤ hookWaitMs: the claim comes after the
    // insert it is timed from) and then the analysis' own 2 s timeout.
    const held = outcome.kind === 'enqueued' ? (outcome.hookWaitMs ?? 0) : NaN;
    assert.ok(
      row.duration_ms! >= 1_900 && row.duration_ms! < held + 10_000,
      `duration ${row.duration_ms}, held ${held}`,
    );
  });

  it('calls process.exit(): FAILED (AnalyzerExitError), written by the child', async () => {
    // Hold scaled (TEST_HOOK_HOLD_MS): the subject is the analyzer's outcome, not the CLI hook (none runs here; the
    // first test and analysis-race.test.ts keep the real 7 s hold).
    const { row, end } = await runToEnd('exit', 120_000, TEST_HOOK_HOLD_MS);
    assert.equal(end.end, 'child-finished');
    assert.equal(row.status, 'FAILED');
    assert.equal(row.error_class, 'AnalyzerExitError');
  });

  it('kills its own process: FAILED (AnalyzerProcessExited), written by the host', async () => {
    // Hold scaled (TEST_HOOK_HOLD_MS): the subject is the analyzer's outcome, not the CLI hook (none runs here; the
    // first test and analysis-race.test.ts keep the real 7 s hold).
    const { row, end } = await runToEnd('crash', 120_000, TEST_HOOK_HOLD_MS);
    assert.equal(end.end, 'host-finished');
    assert.equal(row.status, 'FAILED');
    assert.equal(row.error_class, 'AnalyzerProcessExited');
    assert.match(row.error_message ?? '', /SIGKILL/);
  });

  it('prints the key and throws with a password: both masked in the log and the row', async () => {
    // Hold scaled (TEST_HOOK_HOLD_MS): the subject is masking, not the CLI hook (none runs here; the first test and
    // analysis-race.test.ts keep the real 7 s hold).
    const { row } = await runToEnd('secret', 120_000, TEST_HOOK_HOLD_MS);
    assert.equal(row.status, 'FAILED');
    assert.doesNotMatch(row.error_message ?? '', /hunter2/);
    assert.ok(
      logs.some((l) => l.includes('connecting with key [redacted')),
      "the analyzer's line is logged, key redacted",
    );
    // noKeyAnywhere (afterEach) checks every log line and row for every key.
  });

  it('a module that fails to load: nothing is inserted', async () => {
    const folder = makeFixtureWorkspace(root, 'broken');
    fs.writeFileSync(
      path.join(folder, 'lib', 'telemetry', 'bottleneck-analyzer.js'),
      'export async function analyzeBottlenecks( {\n',
    );
    const r = await execute(folder);
    assert.equal(r.outcome.kind, 'no-analyzer');
    assert.match((r.outcome as { reason: string }).reason, /failed to load: SyntaxError/);
    assert.equal((await rowsFor(folder)).length, 0);
  });

  it('a module without the export: nothing is inserted', async () => {
    const folder = makeFixtureWorkspace(root, 'no-export');
    fs.writeFileSync(path.join(folder, 'lib', 'telemetry', 'bottleneck-analyzer.js'), 'export const x = 1;\n');
    const r = await execute(folder);
    assert.equal(r.outcome.kind, 'no-analyzer');
    assert.equal((await rowsFor(folder)).length, 0);
  });

  it('a folder without an analyzer: nothing is inserted', async () => {
    const folder = fs.realpathSync(fs.mkdtempSync(path.join(root, 'plain-')));
    const r = await execute(folder);
    assert.equal(r.outcome.kind, 'no-analyzer');
    assert.match((r.outcome as { reason: string }).reason, /not an EHG_Engineer checkout/);
    assert.equal((await rowsFor(folder)).length, 0);
  });

  it('Node cannot be started: nothing is inserted', async () => {
    const folder = makeFixtureWorkspace(root, 'no-node');
    const r = await enqueueAndExecute(backend(), sessionRequest(folder), {
      ...analysisContext({ url: stack.url, key: stack.keys.serviceRole, folder, log }),
      childModule: path.join(root, 'missing-child.js'),
    });
    assert.equal(r.outcome.kind, 'no-analyzer');
    assert.equal((await rowsFor(folder)).length, 0);
  });

  it('Cancel Run on a run this window executes: the child is killed first, the row stays CANCELLED', async () => {
    const folder = makeFixtureWorkspace(root, 'cancel-own', 'slow:4000');
    // Hold scaled (TEST_HOOK_HOLD_MS): the subject is Cancel Run on a running child, not the CLI hook (none runs
    // here; the first test and analysis-race.test.ts keep the real 7 s hold).
    const b = backend();
    const r = await execute(folder, 120_000, 'w', b, TEST_HOOK_HOLD_MS);
    assert.ok(r.execution);
    await r.execution.process.cancel();
    const c = await b.cancelRuns([r.execution.runId], 'CANCELLED_FROM_EDITOR');
    assert.ok(c.ok && c.value.length === 1);
    const end = await r.execution.done;
    assert.equal(end.end, 'cancelled');
    await sleep(5_000);
    const row = await rowOf(r.execution.runId);
    assert.equal(row.status, 'CANCELLED');
    assert.equal(row.findings_count, 0);
  });

  it('cancelled elsewhere (another window, SQL): the child stops at once and writes nothing more', async () => {
    const folder = makeFixtureWorkspace(root, 'cancel-other', 'slow:5000');
    // Hold scaled (TEST_HOOK_HOLD_MS): the subject is a cancel written elsewhere while the child runs, not the CLI
    // hook (none runs here; the first test and analysis-race.test.ts keep the real 7 s hold).
    const r = await execute(folder, 120_000, undefined, undefined, TEST_HOOK_HOLD_MS);
    assert.ok(r.execution);
    await stack.query(
      "update public.telemetry_analysis_runs set status = 'CANCELLED', finished_at = now(), reason_code = 'CANCELLED_FROM_EDITOR' where run_id = $1",
      [r.execution.runId],
    );
    const t0 = Date.now();
    const end = await r.execution.done;
    assert.equal(end.end, 'child-stopped');
    assert.ok(Date.now() - t0 < 3_000, `stopped within ${Date.now() - t0} ms`);
    await sleep(5_500);
    const row = await rowOf(r.execution.runId);
    assert.equal(row.status, 'CANCELLED');
    assert.equal(row.output_ref, null);
  });

  it('the convergence read fails after our insert: our run is cancelled (CLAIM_FAILED), never left QUEUED, and nothing executes', async () => {
    const folder = makeFixtureWorkspace(root, `ws-convfail-${randomUUID().slice(0, 6)}`, 'no-findings');
    let activeReads = 0;
    // The dedup query (findActiveRuns) is read first as the pre-check, then as the convergence read: fail the second.
    stack.gateway.setFault({
      method: 'GET',
      table: 'telemetry_analysis_runs',
      match: (r) => decodeURIComponent(r.query).includes('order=triggered_at.asc') && ++activeReads === 2,
      status: 503,
      times: 1,
    });
    try {
      const r = await execute(folder);
      assert.equal(r.outcome.kind, 'failed', JSON.stringify(r.outcome));
      assert.equal(r.outcome.kind === 'failed' && r.outcome.stage, 'dedup check');
      assert.equal(r.execution, null, 'no analysis');
    } finally {
      stack.gateway.setFault(null);
    }
    const rows = await rowsFor(folder);
    assert.equal(rows.length, 1, JSON.stringify(rows));
    assert.equal(rows[0].status, 'CANCELLED');
    assert.equal(rows[0].reason_code, 'CLAIM_FAILED');
    assert.equal(await hookSaysAlreadyQueued(backend().supabase, folder), false, 'the hook is not kept from running');
  });

  it('the window closes during the CLI-hook hold: the held run is cancelled (WINDOW_CLOSED), the analyzer is never called, its child exits', async () => {
    const folder = makeFixtureWorkspace(root, `ws-close-${randomUUID().slice(0, 6)}`, 'normal');
    const closing = new AbortController();
    const lines: string[] = [];
    const t0 = performance.now();
    const pending = enqueueAndExecute(
      backend(),
      sessionRequest(folder, 120_000, { signal: closing.signal }),
      analysisContext({
        url: stack.url,
        key: stack.keys.serviceRole,
        folder,
        log: (level, line) => (lines.push(line), log(level, line)),
      }),
    );
    // Claimed (RUNNING, its runner's pid recorded) and held: the window closes now.
    const claimed = await waitFor(() => rowsFor(folder), {
      message: 'our run claimed (RUNNING)',
      until: (rows) => rows.length === 1 && rows[0].status === 'RUNNING',
    });
    const pid = claimed[0].metadata.runner.pid as number;
    assert.ok(performance.now() - t0 < HOOK_HOLD_MS, 'still within the hold');
    closing.abort();
    const r = await pending;
    const waited = performance.now() - t0;
    assert.deepEqual(r.outcome, { kind: 'abandoned', runId: claimed[0].run_id, cancelled: true });
    assert.equal(r.execution, null, 'nothing executes');
    assert.ok(waited < HOOK_HOLD_MS, `stopped waiting at once (${Math.round(waited)} ms after the start)`);
    const row = await rowOf(claimed[0].run_id);
    assert.equal(row.status, 'CANCELLED');
    assert.equal(row.reason_code, 'WINDOW_CLOSED');
    assert.match(row.error_message ?? '', /closed or reloaded before its analysis started/);
    assert.ok(row.finished_at && row.started_at && row.finished_at >= row.started_at, JSON.stringify(row));
    // The prepared child is discarded (it exits), and never ran the analyzer.
    await waitFor(() => processAlive(pid), { message: `analysis process ${pid} gone`, until: (alive) => !alive });
    await observeQuietFor(1_500, 'no analyzer call after the close');
    assert.deepEqual(
      lines.filter((l) => l.includes('[Bottleneck]')),
      [],
      'the analyzer was never called',
    );
    assert.equal((await rowOf(claimed[0].run_id)).status, 'CANCELLED', 'and the row stays CANCELLED');
    assert.equal(await hookSaysAlreadyQueued(backend().supabase, folder), false, 'the hook is not kept from running');
  });

  it('a window already closing inserts nothing', async () => {
    const folder = makeFixtureWorkspace(root, `ws-closed-${randomUUID().slice(0, 6)}`, 'normal');
    const closing = new AbortController();
    closing.abort();
    const r = await enqueueAndExecute(
      backend(),
      sessionRequest(folder, 120_000, { signal: closing.signal }),
      analysisContext({ url: stack.url, key: stack.keys.serviceRole, folder, log }),
    );
    assert.deepEqual(r.outcome, { kind: 'abandoned', runId: null, cancelled: false });
    assert.equal(r.execution, null);
    assert.deepEqual(await rowsFor(folder), []);
  });

  it('the window closes while its insert is on the way: the row is cancelled while QUEUED (WINDOW_CLOSED), never claimed', async () => {
    const folder = makeFixtureWorkspace(root, `ws-close-q-${randomUUID().slice(0, 6)}`, 'normal');
    const closing = new AbortController();
    // The insert is held 1.5 s at the edge; the window closes while it is on the way: 500 ms after the
    // edge has it (timed from the start instead, a loaded machine can close the window before the
    // insert is sent, and then nothing is inserted: 'a window already closing inserts nothing').
    let atEdge!: () => void;
    const insertAtEdge = new Promise<void>((r) => (atEdge = r));
    stack.gateway.setFault({
      method: 'POST',
      table: 'telemetry_analysis_runs',
      match: () => (atEdge(), true),
      delayMs: 1_500,
      times: 1,
    });
    try {
      const pending = enqueueAndExecute(
        backend(),
        sessionRequest(folder, 120_000, { signal: closing.signal }),
        analysisContext({ url: stack.url, key: stack.keys.serviceRole, folder, log }),
      );
      await insertAtEdge;
      await new Promise((r) => setTimeout(r, 500));
      assert.deepEqual(await rowsFor(folder), [], 'the insert has not landed yet');
      closing.abort();
      const r = await pending;
      assert.equal(r.outcome.kind, 'abandoned', JSON.stringify(r.outcome));
      assert.equal(r.execution, null, 'nothing executes');
    } finally {
      stack.gateway.setFault(null);
    }
    const rows = await rowsFor(folder);
    assert.equal(rows.length, 1, JSON.stringify(rows));
    assert.equal(rows[0].status, 'CANCELLED');
    assert.equal(rows[0].reason_code, 'WINDOW_CLOSED');
    assert.equal(rows[0].started_at, null, 'never claimed');
    assert.ok(rows[0].finished_at && rows[0].finished_at >= rows[0].triggered_at, JSON.stringify(rows[0]));
    assert.equal(await hookSaysAlreadyQueued(backend().supabase, folder), false, 'the hook is not kept from running');
  });

  it('orphans: a RUNNING run past started_at + timeout + grace is marked TIMED_OUT once, with a reason code', async () => {
    const scope = '/orphan/scope';
    const old = randomUUID();
    const recent = randomUUID();
    await stack.query(
      `insert into public.telemetry_analysis_runs (run_id, scope_id, status, triggered_at, started_at, metadata) values
      ($1, $3, 'RUNNING', now() - interval '30 minutes', now() - interval '30 minutes', '{"timeout_ms":120000}'),
      ($2, $3, 'RUNNING', now() - interval '1 minute', now() - interval '1 minute', '{"timeout_ms":120000}')`,
      [old, recent, scope],
    );
    const b = backend();
    const first = await markOrphanedRuns(b, [scope]);
    assert.ok(first.ok);
    assert.deepEqual(first.marked, [old]);
    const again = await markOrphanedRuns(b, [scope]);
    assert.ok(again.ok && again.marked.length === 0, 'once');
    const row = await rowOf(old);
    assert.equal(row.status, 'TIMED_OUT');
    assert.equal(row.reason_code, REASON_ORPHANED);
    assert.equal((await rowOf(recent)).status, 'RUNNING');
  });
});
