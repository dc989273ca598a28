// devkit/wait.ts: the one waitFor every suite uses returns what it waited for, and on timeout
// names what never came true and the last value (or error) it saw.
import * as assert from 'assert';
import { observeQuietFor, sleep, waitFor, WaitTimeoutError } from '../../devkit/wait';

describe('devkit/wait', () => {
  it('waitFor returns the first value `until` accepts', async () => {
    let n = 0;
    const v = await waitFor(() => ++n, { message: 'n to reach 3', until: (x) => x >= 3, intervalMs: 1 });
    assert.strictEqual(v, 3);
  });

  it('waitFor without `until` waits for a truthy value, and a read that throws counts as not yet', async () => {
    let n = 0;
    const v = await waitFor(
      () => {
        n++;
        if (n < 2) throw new Error('not ready');
        return n >= 3 ? 'ready' : '';
      },
      { message: 'ready', intervalMs: 1 },
    );
    assert.strictEqual(v, 'ready');
  });

  it('on timeout it names what never came true and the last value seen', async () => {
    await assert.rejects(
      waitFor(() => ({ state: 'stale' }), {
        message: 'the status bar to be healthy',
        until: (s) => s.state === 'healthy',
        timeoutMs: 30,
        intervalMs: 5,
      }),
      (err: Error) =>
        err instanceof WaitTimeoutError &&
        /timed out after 30 ms waiting for the status bar to be healthy/.test(err.message) &&
        /last seen: \{\s*"state": "stale"\s*\}/.test(err.message),
    );
  });

  it('on timeout after a throwing read it shows the error', async () => {
    await assert.rejects(
      waitFor(
        () => {
          throw new Error('connection refused');
        },
        { message: 'a row', timeoutMs: 20, intervalMs: 5 },
      ),
      /waiting for a row .*last seen: error: connection refused/,
    );
  });

  it('sleep and observeQuietFor wait at least the time given', async () => {
    const t0 = Date.now();
    await sleep(20);
    await observeQuietFor(20, 'nothing');
    assert.ok(Date.now() - t0 >= 38, `${Date.now() - t0} ms`);
  });
});
