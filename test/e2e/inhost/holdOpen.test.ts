// First window of the "hold" group: its SESSION_START run is claimed and held for the CLI hook
// (HOOK_HOLD_MS, 7 s, before the analysis starts). This phase ends as soon as it is; the runner then
// reloads the window (code-server's renderer terminates this extension host, which deactivates us)
// well within the hold. holdClosed.test.ts checks what the reload left.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { config, HELD_RUN_FILE, runsForScope, sql, testing, waitFor } from './helpers';

describe('closing during the CLI-hook hold (before the reload)', () => {
  it('the SESSION_START run is claimed and held: RUNNING, its analysis not started', async () => {
    const t = await testing();
    const [run] = await waitFor(
      async () => (await runsForScope(config.workspace)).filter((r) => r.triggered_by === 'SESSION_START'),
      {
        message: 'our SESSION_START run claimed (RUNNING)',
        until: (rows) => rows.length === 1 && rows[0].status === 'RUNNING',
        timeoutMs: 30_000,
        intervalMs: 100,
      },
    );
    const [claimed] = await sql<{ ms: number }>(
      'select round(extract(epoch from now() - started_at) * 1000)::int as ms from telemetry_analysis_runs where run_id = $1',
      [run.run_id],
    );
    // The runner reloads within about a second of this phase's end: well inside the 7 s hold.
    assert.ok(claimed.ms < 4_000, `claimed ${claimed.ms} ms ago`);
    assert.deepStrictEqual(t.analysis().history, [], 'no analysis started yet (held)');
    fs.writeFileSync(
      path.join(path.dirname(config.resultsFile), HELD_RUN_FILE),
      JSON.stringify({ runId: run.run_id, pid: (run.metadata?.runner as { pid?: number } | undefined)?.pid ?? null }),
    );
  });
});
