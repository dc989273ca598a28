// After a window reload (a new extension host on the same user data and workspace): the run enqueued
// on first open is still queued, so no second SESSION_START run may be inserted.
import * as assert from 'assert';
import { config, runsForScope, sleep, testing } from './helpers';

describe('reopen', () => {
  it('does not insert a second SESSION_START run', async () => {
    const t = await testing();
    await t.settle();
    await sleep(1_500);
    const rows = (await runsForScope(config.workspace)).filter((r) => r.triggered_by === 'SESSION_START');
    assert.strictEqual(rows.length, 1, `expected still 1 SESSION_START run after reload, found ${rows.length}: ${JSON.stringify(rows)}`);
    const d = t.decisions().filter((x) => x.scopeId === config.workspace).map((x) => x.decision);
    assert.deepStrictEqual(d, ['already_queued'], 'the reload sees the queued run and skips');
  });
});
