// The analysis child on its own, against the same real parts as analysis-execution.test.ts (embedded
// PostgreSQL, the stack's PostgREST, real supabase-js, the real child process and the fixture EHG
// workspace's analyzer): its window detaches or its extension host is killed, and it still finishes;
// its analyzer blocks the event loop, and the host's watchdog or, with no host left, its own backstop
// kills it; a run whose window left times out and never keeps the CLI hook from running. A file of
// its own so that these long waits (a 15 s watchdog slack, a 30 s backstop slack) run in parallel
// with the other execution tests.
import * as assert from 'node:assert/strict';
import { BACKSTOP_SLACK_MS } from '../../src/analysis/protocol';
import { sleep } from '../../devkit/wait';
import { hookSaysAlreadyQueued, makeFixtureWorkspace } from './support/analysis';
import { TEST_HOOK_HOLD_MS } from './support/analysis';
import { executionSuite } from './support/executionSuite';

describe('the analysis child on its own: window gone, host killed, watchdog and backstop (child process, real stack)', function () {
  this.timeout(180_000);
  const suite = executionSuite();
  const { backend, rowOf, execute, runToEnd, startStandInHost, waitForRow } = suite;
  let root: string;
  before(() => {
    root = suite.root;
  });

  it("blocks its event loop: the host's watchdog kills the child and writes TIMED_OUT", async () => {
    // Hold scaled (TEST_HOOK_HOLD_MS): the subject is the host's watchdog, not the CLI hook (none runs here; the
    // first test and analysis-race.test.ts keep the real 7 s hold).
    const { row, end } = await runToEnd('spin', 1_000, TEST_HOOK_HOLD_MS);
    assert.equal(end.end, 'host-finished');
    assert.equal(row.status, 'TIMED_OUT');
    assert.equal(row.error_class, 'TimeoutError');
  });

  it('the window closes mid-run (host detaches): the child outlives it and writes SUCCEEDED', async () => {
    const folder = makeFixtureWorkspace(root, 'detach', 'slow:1500');
    // Hold scaled (TEST_HOOK_HOLD_MS): the subject is the child outliving its window, not the CLI hook (none runs
    // here; the first test and analysis-race.test.ts keep the real 7 s hold).
    const r = await execute(folder, 120_000, undefined, undefined, TEST_HOOK_HOLD_MS);
    assert.ok(r.execution);
    r.execution.process.detach();
    assert.equal((await r.execution.done).end, 'detached');
    const runId = r.execution.runId;
    const row = await waitForRow(runId, (x) => x.status !== 'RUNNING', 20_000);
    assert.equal(row.status, 'SUCCEEDED', `${row.error_class}: ${row.error_message}`);
  });

  it('the extension host is killed mid-run (SIGKILL): the detached child still writes SUCCEEDED', async () => {
    const folder = makeFixtureWorkspace(root, 'host-killed', 'slow:2500');
    // Hold scaled (TEST_HOOK_HOLD_MS): the subject is the child outliving a killed host, not the CLI hook (none runs
    // here; the first test and analysis-race.test.ts keep the real 7 s hold).
    const { host, info } = await startStandInHost(folder, 120000, TEST_HOOK_HOLD_MS);
    assert.equal(info.kind, 'enqueued');
    assert.equal((await rowOf(info.runId)).status, 'RUNNING');
    host.kill('SIGKILL');
    const row = await waitForRow(info.runId, (x) => x.status !== 'RUNNING', 30_000);
    assert.equal(row.status, 'SUCCEEDED');
  });

  it('a child whose analyzer blocks its event loop, with the extension host killed, is still killed by its backstop; the orphan check can finish the run', async function () {
    this.timeout(120_000);
    const folder = makeFixtureWorkspace(root, 'spin-host-killed', 'spin');
    // Hold scaled (TEST_HOOK_HOLD_MS): the subject is the child's backstop, timed from the host's death after the
    // hold, not the CLI hook (none runs here; the first test and analysis-race.test.ts keep the real 7 s hold).
    const { host, info } = await startStandInHost(folder, 1000, TEST_HOOK_HOLD_MS);
    assert.equal(info.kind, 'enqueued');
    const t0 = Date.now();
    host.kill('SIGKILL'); // no window is left to kill the spinning child
    const alive = () => {
      try {
        process.kill(info.childPid, 0);
        return true;
      } catch {
        return false;
      }
    };
    while (alive() && Date.now() - t0 < 1_000 + BACKSTOP_SLACK_MS + 20_000) await sleep(500);
    const ms = Date.now() - t0;
    assert.equal(alive(), false, 'the spinning child is gone');
    assert.ok(
      ms >= BACKSTOP_SLACK_MS - 2_000,
      `killed by the backstop after ${ms} ms (timeout 1 s + ${BACKSTOP_SLACK_MS} ms), not earlier by anyone else`,
    );
    assert.equal(
      (await rowOf(info.runId)).status,
      'RUNNING',
      'nobody could write the finish row: the orphan check will',
    );
    const later = await backend().findStaleRunning([folder], new Date(Date.now() + 10 * 60_000));
    assert.ok(later.ok && later.value.some((x) => x.runId === info.runId), 'an orphan candidate for the next window');
  });

  it("a run we abandoned never leaves the hook's dedup query answering already_queued past its timeout", async () => {
    const folder = makeFixtureWorkspace(root, 'abandoned', 'hang');
    // Hold scaled (TEST_HOOK_HOLD_MS): the subject is the abandoned run's timeout, not the CLI hook (none runs here;
    // the first test and analysis-race.test.ts keep the real 7 s hold).
    const r = await execute(folder, 2_000, undefined, undefined, TEST_HOOK_HOLD_MS);
    assert.ok(r.execution);
    r.execution.process.detach(); // the window closed
    assert.equal(await hookSaysAlreadyQueued(backend().supabase, folder), true, 'while it runs, the hook skips');
    await sleep(3_000);
    assert.equal(await hookSaysAlreadyQueued(backend().supabase, folder), false);
    assert.equal((await rowOf(r.execution.runId)).status, 'TIMED_OUT');
  });
});
