// First open, part 2: opening the workspace enqueues exactly one SESSION_START run for its scope.
import * as assert from 'assert';
import * as vscode from 'vscode';
import { config, runsForScope, sleep, testing, waitFor } from './helpers';

describe('session start', () => {
  it('opens the folder the runner prepared (scope_id = its absolute path)', () => {
    const folders = vscode.workspace.workspaceFolders ?? [];
    assert.strictEqual(folders.length, 1);
    assert.strictEqual(folders[0].uri.fsPath, config.workspace);
  });

  it('inserts exactly one SESSION_START run for the folder', async () => {
    const t = await testing();
    await t.settle();
    const rows = await waitFor('a SESSION_START run for the workspace scope', () => runsForScope(config.workspace), (r) => r.some((x) => x.triggered_by === 'SESSION_START'), 30_000);
    // Give a racing second insert a chance to show up before counting.
    await sleep(1_500);
    const all = await runsForScope(config.workspace);
    const sessionStarts = all.filter((r) => r.triggered_by === 'SESSION_START');
    assert.strictEqual(sessionStarts.length, 1, `expected 1 SESSION_START run, found ${sessionStarts.length}: ${JSON.stringify(all)}`);
    const run = sessionStarts[0];
    assert.strictEqual(run.scope_type, 'workspace');
    assert.strictEqual(run.status, 'QUEUED', 'no worker runs in this phase, so it must still be queued');
    assert.ok(run.correlation_id, 'correlation_id is set');
    assert.strictEqual((run.metadata as { timeout_ms?: number } | null)?.timeout_ms, 120_000, 'metadata.timeout_ms is the default 120 s');
    assert.ok(rows.length >= 1);
  });

  it('records the decision "enqueued" for the scope', async () => {
    const t = await testing();
    const d = t.decisions().filter((x) => x.scopeId === config.workspace);
    assert.deepStrictEqual(d.map((x) => x.decision), ['enqueued']);
  });
});
