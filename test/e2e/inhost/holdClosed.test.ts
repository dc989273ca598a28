// Second window of the "hold" group, after a reload during the first window's CLI-hook hold
// (holdOpen.test.ts): the held run was cancelled by the closing window (WINDOW_CLOSED), never left
// RUNNING with no owner, its analysis never started; this window then runs the session start itself.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { processAlive as alive } from '../../../devkit/wait';
import { config, HELD_RUN_FILE, runsForScope, sql, waitFor } from './helpers';

describe('closing during the CLI-hook hold (after the reload)', () => {
  const held = () =>
    JSON.parse(fs.readFileSync(path.join(path.dirname(config.resultsFile), HELD_RUN_FILE), 'utf8')) as {
      runId: string;
      pid: number | null;
    };

  it('the held run is CANCELLED (WINDOW_CLOSED) by the window that closed, with ordered times and no result', async () => {
    const { runId } = held();
    const [row] = await sql<{
      status: string;
      reason_code: string | null;
      error_message: string | null;
      ordered: boolean;
      findings_count: number | null;
      output_ref: unknown;
      duration_ms: number | null;
    }>(
      `select status, reason_code, error_message, findings_count, output_ref, duration_ms,
              triggered_at <= started_at and started_at <= finished_at as ordered
         from telemetry_analysis_runs where run_id = $1`,
      [runId],
    );
    assert.strictEqual(row.status, 'CANCELLED', JSON.stringify(row));
    assert.strictEqual(row.reason_code, 'WINDOW_CLOSED');
    assert.match(row.error_message ?? '', /closed or reloaded before its analysis started/);
    assert.strictEqual(row.ordered, true, JSON.stringify(row));
    // The analyzer never ran for it: no result written (findings_count keeps the column's default 0).
    assert.strictEqual(row.findings_count, 0);
    assert.strictEqual(row.output_ref, null, 'no output_ref');
    assert.strictEqual(row.duration_ms, null, 'no finish row');
  });

  it("the closed window's prepared analysis process is gone", async () => {
    const { pid } = held();
    assert.ok(typeof pid === 'number', 'the claim recorded its runner pid');
    await waitFor(() => alive(pid), { message: `analysis process ${pid} gone`, until: (a) => !a, timeoutMs: 10_000 });
  });

  it('this window runs the session start itself: the cancelled run does not count as active', async () => {
    const { runId } = held();
    const runs = await waitFor(
      async () =>
        (await runsForScope(config.workspace)).filter((r) => r.triggered_by === 'SESSION_START' && r.run_id !== runId),
      {
        message: "this window's own SESSION_START run to finish",
        until: (rows) => rows.length === 1 && rows[0].status !== 'QUEUED' && rows[0].status !== 'RUNNING',
        timeoutMs: 60_000,
        intervalMs: 500,
      },
    );
    assert.strictEqual(runs[0].status, 'SUCCEEDED', JSON.stringify(runs[0]));
  });
});
