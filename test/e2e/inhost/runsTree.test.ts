// The Analysis Runs tree shows what the database holds for the workspace scope.
import * as assert from 'assert';
import { config, refresh, runsListedFor, testing, waitFor } from './helpers';
import { insertRun, SeededRun } from './seed';

const STATUS_WORD: Record<string, RegExp> = {
  QUEUED: /queued/i,
  RUNNING: /running/i,
  SUCCEEDED: /succeeded/i,
  FAILED: /failed/i,
  CANCELLED: /cancelled/i,
};

describe('runs tree', () => {
  let succeeded: SeededRun;

  before(async () => {
    succeeded = await insertRun(config.workspace, 'succeeded', 90);
    await insertRun(config.workspace, 'failed', 60);
    await insertRun(config.workspace, 'insufficient', 45);
    await insertRun(config.workspace, 'running', 0.5);
  });

  // Every test reads a tree that has loaded what the database holds now (not what an earlier test loaded).
  async function loadedTree(t: Awaited<ReturnType<typeof testing>>) {
    await refresh();
    const want = (await runsListedFor(config.workspace)).map((r) => r.run_id);
    return waitFor(async () => (await t.runsTree()).filter((i) => i.runId), {
      message: 'the tree to list the runs of the workspace scope',
      until: (items) => items.length === want.length,
      timeoutMs: 20_000,
    });
  }

  it('lists the same runs as the database, newest first', async () => {
    const t = await testing();
    await refresh();
    const rows = await runsListedFor(config.workspace);
    const want = rows.map((r) => r.run_id);
    const tree = await waitFor(async () => (await t.runsTree()).filter((i) => i.runId), {
      message: 'the tree to list the runs of the workspace scope',
      until: (items) => items.length === want.length,
      timeoutMs: 20_000,
    });
    assert.deepStrictEqual(
      tree.map((i) => i.runId),
      want,
    );
  });

  it("shows each run's status, top bottleneck category and whether it can be cancelled", async () => {
    const t = await testing();
    const tree = await loadedTree(t);
    const rows = await runsListedFor(config.workspace);
    for (const row of rows) {
      const item = tree.find((i) => i.runId === row.run_id);
      assert.ok(item, `run ${row.run_id} missing from the tree`);
      const word = STATUS_WORD[row.status];
      if (word)
        assert.match(
          `${item.label} ${item.description} ${item.tooltip}`,
          word,
          `status ${row.status} of ${row.run_id}`,
        );
      // The label leads with the top bottleneck (type:key ratio); the category is its type.
      if (row.top_bottleneck_category)
        assert.ok(
          `${item.label} ${item.description}`.includes(row.top_bottleneck_category),
          `top category "${row.top_bottleneck_category}" not in "${item.label}" / "${item.description}"`,
        );
      const active = row.status === 'QUEUED' || row.status === 'RUNNING';
      assert.strictEqual(
        /\bcancellable\b/.test(item.contextValue),
        active,
        `contextValue "${item.contextValue}" for ${row.status}`,
      );
      assert.match(item.contextValue, /\brun\b/);
    }
  });

  it('expands a SUCCEEDED run into its bottlenecks, worst first', async () => {
    const t = await testing();
    await loadedTree(t);
    const item = (await t.runsTree({ expand: true })).find((i) => i.runId === succeeded.runId);
    assert.ok(item, 'seeded SUCCEEDED run not in the tree');
    assert.ok(
      item.children && item.children.length >= 2,
      `children of the SUCCEEDED run: ${JSON.stringify(item.children)}`,
    );
    assert.match(item.children[0].label, /gate:GATE_PRD_REQUIRED/);
    assert.match(item.children[0].label, /3\.2/);
    assert.match(item.children[1].label, /phase:LEAD/);
  });
});
