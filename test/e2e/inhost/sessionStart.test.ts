// First open of the fixture EHG workspace: exactly one SESSION_START run, executed by this window
// with the workspace's own analyzer in a child process (the fixture analyzer is slow here, so the
// runner's reload between this phase and "reopen" happens mid-run).
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { config, runsForScope, observeQuietFor, sessionDecisions, testing, waitFor } from './helpers';

describe('session start', () => {
  it('opens the folder the runner prepared (scope_id = its absolute path)', () => {
    const folders = vscode.workspace.workspaceFolders ?? [];
    assert.strictEqual(folders.length, 1);
    assert.strictEqual(folders[0].uri.fsPath, config.workspace);
  });

  it('inserts exactly one SESSION_START run and this window executes it (claimed RUNNING, metadata.runner)', async () => {
    const t = await testing();
    await t.settle();
    await waitFor(() => runsForScope(config.workspace), {
      message: 'a SESSION_START run for the workspace scope',
      until: (r) => r.some((x) => x.triggered_by === 'SESSION_START'),
      timeoutMs: 30_000,
    });
    // An absence: give a racing second insert a chance to show up before counting.
    await observeQuietFor(1_500, 'no second SESSION_START insert');
    const all = await runsForScope(config.workspace);
    const sessionStarts = all.filter((r) => r.triggered_by === 'SESSION_START');
    assert.strictEqual(
      sessionStarts.length,
      1,
      `expected 1 SESSION_START run, found ${sessionStarts.length}: ${JSON.stringify(all)}`,
    );
    const run = sessionStarts[0];
    assert.strictEqual(run.scope_type, 'workspace');
    assert.strictEqual(run.status, 'RUNNING', 'the extension claimed it and its analysis process is running it');
    assert.ok(run.correlation_id, 'correlation_id is set');
    const meta = run.metadata as {
      timeout_ms?: number;
      source?: { window_id?: string };
      runner?: { window_id?: string; analyzer?: string; extension_version?: string };
    } | null;
    assert.strictEqual(meta?.timeout_ms, 120_000, 'metadata.timeout_ms is the default 120 s');
    // code-server's vscode.env.sessionId is the literal "someValue.sessionId": a generated id stands in.
    const windowId = meta?.runner?.window_id;
    assert.ok(windowId && windowId !== 'someValue.sessionId', `metadata.runner names this window: ${windowId}`);
    assert.strictEqual(meta?.source?.window_id, windowId, 'metadata.source and metadata.runner name the same window');
    assert.strictEqual(meta?.runner?.analyzer, 'lib/telemetry/bottleneck-analyzer.js');
    // The analysis starts once the hold for a late CLI-hook insert (HOOK_HOLD_MS, 7 s) is over.
    const a = await waitFor(() => t.analysis(), {
      message: 'this window running the analysis after the hold for the CLI hook',
      until: (x) => x.active.length > 0 || x.history.length > 0,
      timeoutMs: 20_000,
    });
    assert.deepStrictEqual(a.active, [run.run_id], 'this window runs exactly that analysis');
    const h = a.history[0];
    assert.ok(h && h.loadMs > 0, 'the child started and loaded the analyzer');
    fs.writeFileSync(
      path.join(path.dirname(config.resultsFile), 'analysis-first-open.json'),
      JSON.stringify(
        {
          runId: run.run_id,
          childStartAndLoadMs: h.loadMs,
          childRssAtLoadMB: +(h.rssAtLoadBytes / 1048576).toFixed(1),
          triggeredAt: run.triggered_at,
        },
        null,
        2,
      ),
    );
  });

  it('shows the run spinning in the tree', async () => {
    const t = await testing();
    // Its own wait for the run (the test above waits for it too, but this one does not rely on that).
    const [run] = await waitFor(
      async () => (await runsForScope(config.workspace)).filter((r) => r.triggered_by === 'SESSION_START'),
      { message: 'a SESSION_START run for the workspace scope', until: (r) => r.length > 0, timeoutMs: 30_000 },
    );
    await t.refreshRuns();
    const item = await waitFor(async () => (await t.runsTree()).find((i) => i.runId === run.run_id), {
      message: 'the running run in the tree',
      until: (i) => !!i,
      timeoutMs: 15_000,
    });
    assert.strictEqual(item!.iconId, 'sync~spin');
    assert.match(item!.contextValue, /\bcancellable\b/);
  });

  it('records the decision "enqueued"', async () => {
    const t = await testing();
    await t.settle();
    const d = await sessionDecisions(t, config.workspace, 'the session-start decision for the workspace scope');
    assert.deepStrictEqual(
      d.map((x) => x.decision),
      ['enqueued'],
    );
  });
});
