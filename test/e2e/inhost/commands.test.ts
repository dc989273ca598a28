// Cancel, Trigger, Refresh, Copy Run ID and Show Run Details do what they say (checked in the
// database, the tree, the clipboard and the details document).
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { config, refresh, observeQuietFor, runsForScope, sql, testing, Testing, waitFor } from './helpers';
import { insertRun } from './seed';

describe('commands', () => {
  let t: Testing;

  before(async () => {
    t = await testing();
    await t.settle();
  });

  const setMode = (mode: string) => fs.writeFileSync(path.join(config.workspace, '.analyzer-mode'), mode);
  const finishActive = () =>
    sql(
      "update telemetry_analysis_runs set status = 'CANCELLED', finished_at = now() where (scope_id = $1 or scope_id is null) and status in ('QUEUED', 'RUNNING')",
      [config.workspace],
    );
  // Every test leaves the fixture analyzer in its normal mode (a test that needs another sets it itself).
  afterEach(() => setMode('normal'));

  /** No analysis running in this window and no active run for the scope (a test's own starting point). */
  const noActiveRuns = async () => {
    for (const runId of t.analysis().active) {
      t.answerNextConfirmation('Cancel Run');
      await vscode.commands.executeCommand('ehgTelemetry.cancelRun', { runId });
    }
    await waitFor(() => t.analysis().active, {
      message: 'no analysis running in this window',
      until: (a) => a.length === 0,
      timeoutMs: 10_000,
    });
    await finishActive();
  };
  /** A slow MANUAL run that this window executes (a test's own, not one an earlier test left running). */
  const startSlowRun = async (): Promise<string> => {
    await noActiveRuns();
    setMode('slow:30000');
    await refresh();
    await vscode.commands.executeCommand('ehgTelemetry.triggerRun');
    const [runId] = await waitFor(() => t.analysis().active, {
      message: 'an analysis running in this window',
      until: (a) => a.length === 1,
      timeoutMs: 15_000,
    });
    return runId;
  };

  it('Cancel Run cancels a queued run in the database and the tree', async () => {
    const [queued] = await sql<{ run_id: string }>(
      "insert into telemetry_analysis_runs (run_id, scope_id, status, triggered_by, metadata) values (gen_random_uuid(), $1, 'QUEUED', 'MANUAL', '{\"timeout_ms\":120000}') returning run_id",
      [config.workspace],
    );
    await refresh();
    t.answerNextConfirmation('Cancel Run');
    await vscode.commands.executeCommand('ehgTelemetry.cancelRun', { runId: queued.run_id });
    await t.settle();
    const [row] = await sql<{ status: string }>('select status from telemetry_analysis_runs where run_id = $1', [
      queued.run_id,
    ]);
    assert.strictEqual(row.status, 'CANCELLED');
    const item = await waitFor(async () => (await t.runsTree()).find((i) => i.runId === queued.run_id), {
      message: 'the cancelled run to show as cancelled',
      until: (i) => !!i && /\bstatus-cancelled\b/.test(i.contextValue) && !/\bcancellable\b/.test(i.contextValue),
      timeoutMs: 15_000,
    });
    assert.match(item!.tooltip, /Cancelled/);
  });

  it('Cancel Run asks even when a caller passes { confirmed: true }, and a dismissed question cancels nothing', async () => {
    const [queued] = await sql<{ run_id: string }>(
      "insert into telemetry_analysis_runs (run_id, scope_id, status, triggered_by, metadata) values (gen_random_uuid(), $1, 'QUEUED', 'MANUAL', '{\"timeout_ms\":120000}') returning run_id",
      [config.workspace],
    );
    await refresh();
    t.answerNextConfirmation(undefined); // the user dismisses the modal
    await vscode.commands.executeCommand('ehgTelemetry.cancelRun', { runId: queued.run_id }, { confirmed: true });
    await t.settle();
    const [row] = await sql<{ status: string }>('select status from telemetry_analysis_runs where run_id = $1', [
      queued.run_id,
    ]);
    assert.strictEqual(row.status, 'QUEUED', 'a caller cannot skip the confirmation');
    await sql("update telemetry_analysis_runs set status = 'CANCELLED', finished_at = now() where run_id = $1", [
      queued.run_id,
    ]);
  });

  it('Trigger Analysis Run inserts a MANUAL run that this window executes, and it appears in the tree', async () => {
    // A manual trigger is deduplicated against active runs (tested below): finish the ones still active.
    await noActiveRuns();
    setMode('slow:30000');
    await refresh();
    const before = new Set((await runsForScope(config.workspace)).map((r) => r.run_id));
    await vscode.commands.executeCommand('ehgTelemetry.triggerRun');
    await t.settle();
    const added = await waitFor(
      async () => (await runsForScope(config.workspace)).filter((r) => !before.has(r.run_id)),
      { message: 'a new run in the database', until: (rows) => rows.length > 0, timeoutMs: 15_000 },
    );
    assert.strictEqual(added.length, 1, `exactly one new run: ${JSON.stringify(added)}`);
    assert.strictEqual(added[0].triggered_by, 'MANUAL');
    assert.strictEqual(added[0].status, 'RUNNING', 'claimed by this window');
    assert.strictEqual(added[0].scope_id, config.workspace);
    const meta = added[0].metadata as { runner?: { window_id?: string }; source?: { window_id?: string } };
    assert.ok(meta.runner?.window_id && meta.runner.window_id !== 'someValue.sessionId', JSON.stringify(meta));
    assert.strictEqual(meta.runner.window_id, meta.source?.window_id, 'one id for this window in source and runner');
    assert.deepStrictEqual(t.analysis().active, [added[0].run_id]);
    await waitFor(() => t.runsTree(), {
      message: 'the new run in the tree',
      until: (items) => items.some((i) => i.runId === added[0].run_id),
      timeoutMs: 15_000,
    });
  });

  it('Trigger Analysis Run while a run is active inserts nothing', async () => {
    await startSlowRun();
    const active = (await runsForScope(config.workspace)).filter(
      (r) => r.status === 'QUEUED' || r.status === 'RUNNING',
    );
    assert.ok(active.length > 0, 'the run started for this test is still running');
    const before = (await runsForScope(config.workspace)).length;
    // The command tells the user in a notification and waits on it, so do not await it here.
    void vscode.commands.executeCommand('ehgTelemetry.triggerRun');
    // An absence: a second run, if the trigger were not deduplicated, would be inserted within this.
    await observeQuietFor(3_000, 'no second active run inserted');
    await t.settle();
    assert.strictEqual((await runsForScope(config.workspace)).length, before, 'no second active run for the scope');
  });

  it('Cancel Run on the run this window executes stops its analysis process first; nothing is written after', async () => {
    const running = await startSlowRun();
    assert.ok(running, 'this window is running an analysis');
    t.answerNextConfirmation('Cancel Run');
    await vscode.commands.executeCommand('ehgTelemetry.cancelRun', { runId: running });
    await waitFor(() => t.analysis().active, {
      message: 'no analysis running in this window',
      until: (a) => a.length === 0,
      timeoutMs: 10_000,
    });
    // An absence: a write from the killed analysis process would land within this.
    await observeQuietFor(3_000, 'nothing written after the cancel');
    const [row] = await sql<{ status: string; output_ref: unknown }>(
      'select status, output_ref from telemetry_analysis_runs where run_id = $1',
      [running],
    );
    assert.strictEqual(row.status, 'CANCELLED');
    assert.strictEqual(row.output_ref, null);
    const h = t.analysis().history.find((x) => x.runId === running);
    assert.strictEqual(h?.end, 'cancelled');
  });

  it('an analyzer that throws ends FAILED with one notification, and no key in its error', async () => {
    await noActiveRuns();
    setMode('throw');
    const shownBefore = t.notifications();
    const before = new Set((await runsForScope(config.workspace)).map((r) => r.run_id));
    await vscode.commands.executeCommand('ehgTelemetry.triggerRun');
    const [run] = await waitFor(
      async () =>
        (await runsForScope(config.workspace)).filter(
          (r) => !before.has(r.run_id) && r.status !== 'RUNNING' && r.status !== 'QUEUED',
        ),
      { message: 'the run to fail', until: (rows) => rows.length === 1, timeoutMs: 30_000 },
    );
    assert.strictEqual(run.status, 'FAILED');
    await waitFor(() => t.notifications(), {
      message: 'one notification for it',
      until: (n) => n === shownBefore + 1,
      timeoutMs: 20_000,
    });
    // An absence: a second notification for the same failure would show within this.
    await observeQuietFor(3_000, 'no second notification for the failed run');
    assert.strictEqual(t.notifications(), shownBefore + 1, 'exactly one');
    const [row] = await sql<{ error_class: string; error_message: string }>(
      'select error_class, error_message from telemetry_analysis_runs where run_id = $1',
      [run.run_id],
    );
    assert.strictEqual(row.error_class, 'TypeError');
    for (const k of Object.values(config.keys)) assert.ok(!row.error_message.includes(k));
  });
  it('a folder without a loadable analyzer: Trigger inserts nothing and the view explains', async () => {
    await finishActive();
    const folder = vscode.workspace.workspaceFolders![0];
    const cfg = () => vscode.workspace.getConfiguration('ehgTelemetry', folder.uri);
    await cfg().update(
      'analysis.analyzerPath',
      'lib/telemetry/not-there.js',
      vscode.ConfigurationTarget.WorkspaceFolder,
    );
    try {
      const before = (await runsForScope(config.workspace)).length;
      await vscode.commands.executeCommand('ehgTelemetry.triggerRun');
      await t.settle();
      const a = await waitFor(() => t.analysis(), {
        message: 'the reason to reach the view',
        until: (x) => x.noAnalyzer.length === 1,
        timeoutMs: 10_000,
      });
      assert.match(a.noAnalyzer[0], /not an EHG_Engineer checkout: lib\/telemetry\/not-there\.js was not found/);
      assert.match(a.viewMessage ?? '', /No analysis run was started/);
      assert.strictEqual((await runsForScope(config.workspace)).length, before, 'nothing inserted');
    } finally {
      await cfg().update('analysis.analyzerPath', undefined, vscode.ConfigurationTarget.WorkspaceFolder);
    }
  });

  it('Refresh picks up a run written by someone else', async () => {
    const seeded = await insertRun(config.workspace, 'succeeded', 0.2);
    await refresh();
    const items = await t.runsTree();
    assert.ok(
      items.some((i) => i.runId === seeded.runId),
      `run ${seeded.runId} not in the tree after Refresh`,
    );
  });

  it('Copy Run ID puts the run id on the clipboard', async () => {
    const [row] = await runsForScope(config.workspace);
    await vscode.env.clipboard.writeText('before-copy');
    await vscode.commands.executeCommand('ehgTelemetry.copyRunId', { runId: row.run_id });
    const text = await waitFor(() => vscode.env.clipboard.readText(), {
      message: 'the clipboard to hold the run id',
      until: (v) => v === row.run_id,
      timeoutMs: 10_000,
    });
    assert.strictEqual(text, row.run_id);
  });

  it("Show Run Details opens a document with the run's facts and bottlenecks", async () => {
    const seeded = await insertRun(config.workspace, 'succeeded', 5);
    await refresh();
    await vscode.commands.executeCommand('ehgTelemetry.showRunDetails', { runId: seeded.runId });
    await t.settle();
    const doc = await waitFor(() => t.lastDocument(), {
      message: 'the details document',
      until: (d) => !!d && d.includes(seeded.runId),
      timeoutMs: 10_000,
    });
    assert.match(doc!, /SUCCEEDED|Succeeded/);
    assert.match(doc!, /GATE_PRD_REQUIRED/);
    assert.match(doc!, /LEAD/);
    const editorText = vscode.window.activeTextEditor?.document.getText() ?? '';
    assert.ok(editorText.includes(seeded.runId), 'the document is shown in the active editor');
  });
});
