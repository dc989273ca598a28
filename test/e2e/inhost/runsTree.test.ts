// The Analysis Runs tree shows what the database holds for the workspace scope.
import * as assert from 'assert';
import * as vscode from 'vscode';
import { config, control, refresh, runsListedFor, sql, testing, waitFor } from './helpers';
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

  it('Load More pages on until 500 runs, then says the newest 500 are shown; every request stays under max-rows', async () => {
    const t = await testing();
    const cfg = vscode.workspace.getConfiguration('ehgTelemetry');
    const saved = cfg.inspect<number>('runs.pageSize')?.globalValue;
    // 620 old runs behind the seeded ones: more than the list may hold.
    const old = await sql<{ run_id: string }>(
      `insert into public.telemetry_analysis_runs (run_id, scope_type, scope_id, status, triggered_by, triggered_at, finished_at)
       select gen_random_uuid(), 'workspace', $1, 'CANCELLED', 'MANUAL',
              now() - interval '400 days' - make_interval(secs => g), now() - interval '400 days'
       from generate_series(1, 620) g returning run_id`,
      [config.workspace],
    );
    try {
      await cfg.update('runs.pageSize', 200, vscode.ConfigurationTarget.Global);
      // The connection reads the new setting asynchronously: refresh until the list has followed it.
      await waitFor(async () => (await refresh(), t.runsTree()), {
        message: 'a first page of 200 runs and Load more',
        until: (items) => items.filter((i) => i.runId).length === 200 && items.at(-1)?.contextValue === 'loadMore',
        timeoutMs: 20_000,
      });
      await control('gateway.clearLog');
      for (let i = 0; i < 4; i++) await vscode.commands.executeCommand('ehgTelemetry.loadMore');
      const want = (await runsListedFor(config.workspace)).slice(0, 500).map((r) => r.run_id);
      const items = await waitFor(() => t.runsTree(), {
        message: 'the tree to hold 500 runs and the note in place of Load more',
        until: (items) => items.filter((i) => i.runId).length === 500 && items.at(-1)?.contextValue === 'listCap',
        timeoutMs: 30_000,
      });
      assert.deepStrictEqual(
        items.filter((i) => i.runId).map((i) => i.runId),
        want,
        'the newest 500 runs, in the database order',
      );
      assert.match(items.at(-1)?.label ?? '', /\b500\b/);
      assert.ok(!items.some((i) => i.contextValue === 'loadMore'), 'no Load more at the cap');
      const log =
        await control<Array<{ method: string; path: string; query: string; status: number }>>('gateway.requestLog');
      const reads = log.filter((e) => e.method === 'GET' && e.path.endsWith('/telemetry_analysis_runs'));
      const lists = reads.filter((e) => new URLSearchParams(e.query).has('order'));
      const heads = reads.filter((e) => (new URLSearchParams(e.query).get('run_id') ?? '').startsWith('in.'));
      assert.ok(lists.length >= 2, `list requests: ${lists.length}`);
      for (const e of lists) {
        const p = new URLSearchParams(e.query);
        const asked = Number(p.get('limit')) + Number(p.get('offset') ?? 0);
        assert.ok(asked <= 501, `a list request asked for ${asked} rows (max-rows is 1000): ${e.query}`);
      }
      assert.ok(heads.length >= 3, `heads requests for 300 new runs: ${heads.length}`);
      for (const e of heads) {
        const ids = (new URLSearchParams(e.query).get('run_id') ?? '').split(',').length;
        assert.ok(ids <= 100, `a heads request with ${ids} run_ids (URL ${e.query.length} characters)`);
      }
      assert.ok(
        [...log].every((e) => e.status < 400),
        `failed requests: ${JSON.stringify(log.filter((e) => e.status >= 400))}`,
      );
    } finally {
      await sql(`delete from public.telemetry_analysis_runs where run_id = any($1::uuid[])`, [
        old.map((r) => r.run_id),
      ]);
      await cfg.update('runs.pageSize', saved, vscode.ConfigurationTarget.Global);
      await refresh();
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
