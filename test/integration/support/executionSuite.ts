// The fixture of the tests that execute runs with the workspace analyzer (analysis-execution.test.ts
// and analysis-child-alone.test.ts: two files, so that their long waits run in parallel). Called
// inside describe(), it registers the suite's hooks: one stack per suite with 3,000 traces, a root
// for fixture workspaces, and after each test the check that no key reached a log line or a run row;
// it returns the helpers that start runs and read their rows.
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { enqueueAndExecute, ExecuteOutcome } from '../../../src/analysis/executeRun';
import { startStack, Stack } from '../../../devkit/stack';
import { generateTraces } from '../../../devkit/stack/datagen';
import { waitFor } from '../../../devkit/wait';
import { analysisContext, makeFixtureWorkspace, REPO, sessionRequest, tmpRoot } from './analysis';
import { TestBackends } from './backends';

export interface RunRow {
  run_id: string;
  status: string;
  triggered_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  duration_ms: number | null;
  findings_count: number | null;
  top_bottleneck_category: string | null;
  reason_code: string | null;
  error_class: string | null;
  error_message: string | null;
  output_ref: any;
  metadata: any;
}

export function executionSuite() {
  let stack: Stack;
  let root: string;
  const backends = new TestBackends(() => stack, 'ehg-telemetry-tests');
  const logs: string[] = [];
  const log = (level: string, line: string) => logs.push(`${level} ${line}`);

  const backend = () => backends.create();
  const rowsFor = (scope: string) =>
    stack.query<RunRow>('select * from public.telemetry_analysis_runs where scope_id = $1 order by triggered_at', [
      scope,
    ]);
  const rowOf = async (runId: string) =>
    (await stack.query<RunRow>('select * from public.telemetry_analysis_runs where run_id = $1', [runId]))[0];
  const execute = async (
    folder: string,
    timeoutMs = 120_000,
    windowId = 'window-1',
    b = backend(),
    hookHoldMs?: number,
  ): Promise<ExecuteOutcome> =>
    enqueueAndExecute(
      b,
      sessionRequest(folder, timeoutMs, hookHoldMs === undefined ? {} : { hookHoldMs }),
      analysisContext({ url: stack.url, key: stack.keys.serviceRole, folder, log, windowId }),
    );
  /** `hookHoldMs`: the CLI-hook hold (the product's HOOK_HOLD_MS when omitted; TEST_HOOK_HOLD_MS where it is not the subject). */
  const runToEnd = async (mode: string, timeoutMs = 120_000, hookHoldMs?: number) => {
    const folder = makeFixtureWorkspace(root, `ws-${mode.replace(/\W/g, '')}-${randomUUID().slice(0, 6)}`, mode);
    const r = await execute(folder, timeoutMs, undefined, undefined, hookHoldMs);
    assert.equal(r.outcome.kind, 'enqueued', JSON.stringify(r.outcome));
    assert.ok(r.execution, 'a child executes the run');
    const end = await r.execution.done;
    return { folder, runId: r.execution.runId, end, row: await rowOf(r.execution.runId), outcome: r.outcome };
  };
  /** The row's own times say its duration, as the hook writes it (finished_at - started_at = duration_ms). */
  const durationMatchesTimes = (row: RunRow) => {
    assert.ok(row.started_at && row.finished_at && row.duration_ms !== null, JSON.stringify(row));
    const span = row.finished_at.getTime() - row.started_at.getTime();
    assert.ok(
      Math.abs(span - row.duration_ms) <= 1,
      `finished_at - started_at = ${span} ms, duration_ms = ${row.duration_ms}`,
    );
  };
  const noKeyAnywhere = async () => {
    const rows = await stack.query<{ t: string }>(
      'select row_to_json(r)::text as t from public.telemetry_analysis_runs r',
    );
    for (const k of Object.values(stack.keys)) {
      assert.ok(!logs.some((l) => l.includes(k)), 'no key in any log line');
      assert.ok(!rows.some((r) => r.t.includes(k)), 'no key in any run row');
    }
  };
  /** The stand-in extension host (support/analysisHost.ts) enqueues and executes one run; resolves with what it printed. */
  const startStandInHost = async (folder: string, timeoutMs: number, hookHoldMs: number) => {
    const host = spawn(
      process.execPath,
      [
        path.join(REPO, 'out', 'test', 'integration', 'support', 'analysisHost.js'),
        stack.url,
        folder,
        folder,
        String(timeoutMs),
        String(hookHoldMs),
      ],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    host.stdin.end(stack.keys.serviceRole);
    const line = await new Promise<string>((resolve, reject) => {
      let s = '';
      host.stdout.setEncoding('utf8');
      host.stdout.on('data', (c: string) => {
        s += c;
        if (s.includes('\n')) resolve(s.split('\n')[0]);
      });
      host.once('exit', () => reject(new Error(`host exited early: ${s}`)));
    });
    return { host, info: JSON.parse(line) as { kind: string; runId: string; childPid: number } };
  };
  const waitForRow = async (runId: string, done: (r: RunRow) => boolean, ms: number): Promise<RunRow> =>
    waitFor(() => rowOf(runId), {
      message: `run ${runId} to finish`,
      until: (r) => !!r && done(r),
      timeoutMs: ms,
      intervalMs: 200,
    });

  before(async () => {
    assert.ok(fs.existsSync(path.join(REPO, 'out', 'src', 'analysis', 'analysisChild.js')), 'compiled child entry');
    stack = await startStack({});
    await generateTraces(stack.databaseUrl, { spans: 3000 });
    root = tmpRoot();
  });
  after(async () => {
    backends.disposeAll();
    await stack?.stop();
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });
  afterEach(noKeyAnywhere);

  return {
    /** The suite's stack (set by its before()). */
    get stack(): Stack {
      return stack;
    },
    /** Where the suite's fixture workspaces go (set by its before()). */
    get root(): string {
      return root;
    },
    logs,
    log,
    backend,
    rowsFor,
    rowOf,
    execute,
    runToEnd,
    durationMatchesTimes,
    startStandInHost,
    waitForRow,
  };
}
