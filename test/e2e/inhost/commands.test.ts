// Cancel, Trigger, Refresh, Copy Run ID and Show Run Details do what they say (checked in the
// database, the tree, the clipboard and the details document).
import * as assert from 'assert';
import * as vscode from 'vscode';
import { config, refresh, runsForScope, sleep, sql, testing, Testing, waitFor } from './helpers';
import { insertRun } from './seed';

describe('commands', () => {
  let t: Testing;

  before(async () => {
    t = await testing();
    await t.settle();
  });

  it('Cancel Run cancels a queued run in the database and the tree', async () => {
    const [queued] = (await runsForScope(config.workspace)).filter((r) => r.status === 'QUEUED');
    assert.ok(queued, 'a queued run to cancel (the SESSION_START run)');
    await vscode.commands.executeCommand('ehgTelemetry.cancelRun', { runId: queued.run_id }, { confirmed: true });
    await t.settle();
    const [row] = await sql<{ status: string }>('select status from telemetry_analysis_runs where run_id = $1', [queued.run_id]);
    assert.strictEqual(row.status, 'CANCELLED');
    const item = await waitFor('the cancelled run to show as cancelled', async () => (await t.runsTree()).find((i) => i.runId === queued.run_id), (i) => !!i && /\bstatus-cancelled\b/.test(i.contextValue) && !/\bcancellable\b/.test(i.contextValue), 15_000);
    assert.match(item!.tooltip, /Cancelled/);
  });

  it('Trigger Analysis Run inserts a MANUAL run that appears in the tree', async () => {
    // A manual trigger is deduplicated against active runs (tested below): finish the ones still active.
    await sql("update telemetry_analysis_runs set status = 'CANCELLED', finished_at = now() where (scope_id = $1 or scope_id is null) and status in ('QUEUED', 'RUNNING')", [config.workspace]);
    await refresh();
    const before = new Set((await runsForScope(config.workspace)).map((r) => r.run_id));
    await vscode.commands.executeCommand('ehgTelemetry.triggerRun');
    await t.settle();
    const added = await waitFor('a new run in the database', async () => (await runsForScope(config.workspace)).filter((r) => !before.has(r.run_id)), (rows) => rows.length > 0, 15_000);
    assert.strictEqual(added.length, 1, `exactly one new run: ${JSON.stringify(added)}`);
    assert.strictEqual(added[0].triggered_by, 'MANUAL');
    assert.strictEqual(added[0].status, 'QUEUED');
    assert.strictEqual(added[0].scope_id, config.workspace);
    await waitFor('the new run in the tree', () => t.runsTree(), (items) => items.some((i) => i.runId === added[0].run_id), 15_000);
  });

  it('Refresh picks up a run written by someone else', async () => {
    const seeded = await insertRun(config.workspace, 'succeeded', 0.2);
    await refresh();
    const items = await t.runsTree();
    assert.ok(items.some((i) => i.runId === seeded.runId), `run ${seeded.runId} not in the tree after Refresh`);
  });

  it('Copy Run ID puts the run id on the clipboard', async () => {
    const [row] = await runsForScope(config.workspace);
    await vscode.env.clipboard.writeText('before-copy');
    await vscode.commands.executeCommand('ehgTelemetry.copyRunId', { runId: row.run_id });
    const text = await waitFor('the clipboard to hold the run id', () => vscode.env.clipboard.readText(), (v) => v === row.run_id, 10_000);
    assert.strictEqual(text, row.run_id);
  });

  it('Trigger Analysis Run while a run is active inserts nothing', async () => {
    const active = (await runsForScope(config.workspace)).filter((r) => r.status === 'QUEUED' || r.status === 'RUNNING');
    assert.ok(active.length > 0, 'the run triggered above is still queued (no worker in this phase)');
    const before = (await runsForScope(config.workspace)).length;
    // The command tells the user in a notification and waits on it, so do not await it here.
    void vscode.commands.executeCommand('ehgTelemetry.triggerRun');
    await sleep(3_000);
    await t.settle();
    assert.strictEqual((await runsForScope(config.workspace)).length, before, 'no second active run for the scope');
  });

  it('Show Run Details opens a document with the run\'s facts and bottlenecks', async () => {
    const seeded = await insertRun(config.workspace, 'succeeded', 5);
    await refresh();
    await vscode.commands.executeCommand('ehgTelemetry.showRunDetails', { runId: seeded.runId });
    await t.settle();
    const doc = await waitFor('the details document', () => t.lastDocument(), (d) => !!d && d.includes(seeded.runId), 10_000);
    assert.match(doc!, /SUCCEEDED|Succeeded/);
    assert.match(doc!, /GATE_PRD_REQUIRED/);
    assert.match(doc!, /LEAD/);
    const editorText = vscode.window.activeTextEditor?.document.getText() ?? '';
    assert.ok(editorText.includes(seeded.runId), 'the document is shown in the active editor');
  });
});
