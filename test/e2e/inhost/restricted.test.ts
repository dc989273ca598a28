// Restricted Mode (workspace trust enabled, not granted): no .env is read and nothing is enqueued.
import * as assert from 'assert';
import * as vscode from 'vscode';
import { config, control, observeQuietFor, runsForScope, testing } from './helpers';
import { assertDbUnchanged } from './guards';

describe('restricted mode', () => {
  it('runs in an untrusted workspace', () => {
    assert.strictEqual(
      vscode.workspace.isTrusted,
      false,
      'the runner started code-server with workspace trust on; the folder must not be trusted',
    );
  });

  it('reads no .env and enqueues nothing', async () => {
    const t = await testing();
    await t.settle();
    // An absence: nothing to await. A late .env read or enqueue would show up within this.
    await observeQuietFor(3_000, 'no late .env read or enqueue in Restricted Mode');
    await t.settle();
    const s = t.state();
    assert.strictEqual(s.trusted, false);
    assert.strictEqual(s.envRead, false, `.env was read in Restricted Mode (state ${JSON.stringify(s)})`);
    const rows = await runsForScope(config.workspace);
    assert.deepStrictEqual(rows, [], 'no run may be enqueued for an untrusted workspace');
    assert.ok(!t.decisions().some((d) => d.decision === 'enqueued'), `decisions: ${JSON.stringify(t.decisions())}`);
  });

  it('never sends the .env key to the backend', async () => {
    // Its own wait for the extension to have done what it does at start (not relying on the test above).
    await (await testing()).settle();
    assert.ok(config.forbiddenToken, 'the runner sets the .env key as the forbidden token');
    const log = await control<unknown[]>('gateway.requestLog');
    const leaked = JSON.stringify(log).includes(config.forbiddenToken);
    assert.strictEqual(leaked, false, 'a request carried the key from the untrusted .env');
  });

  it('writes nothing: the runs table is unchanged and the backend saw no write request', async () => {
    await (await testing()).settle();
    assert.ok(config.dbFingerprintBefore, 'the runner took a database fingerprint before opening the window');
    await assertDbUnchanged(config.dbFingerprintBefore, 'Restricted Mode');
    const log = await control<Array<{ method: string; path: string }>>('gateway.requestLog');
    const writes = log.filter((e) => !['GET', 'HEAD', 'OPTIONS'].includes(e.method));
    assert.deepStrictEqual(writes, [], 'no POST/PATCH/DELETE reached the backend from the restricted window');
  });

  it('shows the restricted welcome state', async () => {
    const t = await testing();
    await t.settle();
    assert.strictEqual(t.state().viewState, 'restricted');
  });
});
