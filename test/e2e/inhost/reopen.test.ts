// After a window reload mid-run (a new extension host on the same user data and workspace): the
// analysis the first window started keeps running in its detached child and ends SUCCEEDED; the new
// window inserts no second SESSION_START run and executes nothing itself.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import {
  config,
  refresh,
  observeQuietFor,
  RunRow,
  runsForScope,
  sessionDecisions,
  sql,
  testing,
  waitFor,
} from './helpers';

/** The workspace's SESSION_START runs, once none of them is QUEUED or RUNNING (60 s at most). */
function finishedSessionStartRuns(): Promise<RunRow[]> {
  return waitFor(async () => (await runsForScope(config.workspace)).filter((r) => r.triggered_by === 'SESSION_START'), {
    message: 'the SESSION_START run to finish',
    until: (rows) => rows.length > 0 && rows.every((r) => r.status !== 'QUEUED' && r.status !== 'RUNNING'),
    timeoutMs: 60_000,
    intervalMs: 500,
  });
}

describe('reopen', () => {
  it("the run started before the reload ends SUCCEEDED with the fixture analyzer's findings", async () => {
    const t = await testing();
    await t.settle();
    // The decision is taken before the run finishes; wait for it first.
    await sessionDecisions(t, config.workspace, 'the session-start decision');
    const [run] = await finishedSessionStartRuns();
    assert.strictEqual(run.status, 'SUCCEEDED', JSON.stringify(run));
    assert.strictEqual(run.findings_count, 3);
    const found = (run.output_ref?.bottlenecks ?? []).map((b) => `${b.dimension_type}:${b.dimension_key}`).sort();
    assert.deepStrictEqual(found, ['gate:GATE_PRD_REQUIRED', 'phase:EXEC', 'subagent:TESTING']);
    assert.strictEqual(run.top_bottleneck_category, run.output_ref?.bottlenecks?.[0].dimension_type);
    assert.deepStrictEqual(
      t.analysis().history,
      [],
      "this window executed nothing: the previous window's child finished it",
    );
    const [times] = await sql<{ ms: number }>(
      'select round(extract(epoch from finished_at - triggered_at) * 1000)::int as ms from telemetry_analysis_runs where run_id = $1',
      [run.run_id],
    );
    fs.writeFileSync(
      path.join(path.dirname(config.resultsFile), 'analysis-reopen.json'),
      JSON.stringify(
        { runId: run.run_id, triggeredToFinishedMs: times.ms, note: "includes the fixture analyzer's 30 s slow mode" },
        null,
        2,
      ),
    );
  });

  it('does not insert a second SESSION_START run', async () => {
    const t = await testing();
    await t.settle();
    await sessionDecisions(t, config.workspace, 'the session-start decision of the reloaded window');
    // An absence: a second SESSION_START from the reloaded window would show up within this.
    await observeQuietFor(1_500, 'no second SESSION_START after the reload');
    const rows = (await runsForScope(config.workspace)).filter((r) => r.triggered_by === 'SESSION_START');
    assert.strictEqual(
      rows.length,
      1,
      `expected still 1 SESSION_START run after reload, found ${rows.length}: ${JSON.stringify(rows)}`,
    );
    const d = t
      .decisions()
      .filter((x) => x.scopeId === config.workspace)
      .map((x) => x.decision);
    // The fixture analyzer takes 30 s here, so the reload happened mid-run: the run was still RUNNING.
    assert.deepStrictEqual(d, ['already_queued'], 'the reload sees the running run and skips');
  });

  it('shows the finished run in the tree with its bottlenecks', async () => {
    const t = await testing();
    // Its own wait for the run to finish (the first test waits for it too, but this one does not rely on that).
    const [run] = await finishedSessionStartRuns();
    await refresh();
    const item = await waitFor(async () => (await t.runsTree({ expand: true })).find((i) => i.runId === run.run_id), {
      message: 'the run in the tree, succeeded',
      until: (i) => !!i && /\bstatus-succeeded\b/.test(i.contextValue),
      timeoutMs: 15_000,
    });
    const text = (item!.children ?? []).map((c) => `${c.label} ${c.description ?? ''}`).join('\n');
    assert.match(text, /GATE_PRD_REQUIRED|EXEC|TESTING/);
  });
});
