// A command's progress token as an AbortSignal (src/platform/cancellation.ts): Cancel aborts what
// heeds the signal, and the command stops waiting at once.
import * as assert from 'node:assert/strict';
import { CancellationTokenLike, signalOf, unlessAborted } from '../../src/platform/cancellation';

/** Like vscode.CancellationTokenSource's token. */
function tokenSource() {
  const listeners = new Set<() => unknown>();
  let cancelled = false;
  const token: CancellationTokenLike = {
    get isCancellationRequested() {
      return cancelled;
    },
    onCancellationRequested(l) {
      listeners.add(l);
      return { dispose: () => listeners.delete(l) };
    },
  };
  const cancel = () => {
    cancelled = true;
    for (const l of [...listeners]) l();
  };
  return { token, cancel, listeners };
}

describe('signalOf: a progress token as an AbortSignal', () => {
  it('aborts when the token is cancelled, and stops listening', () => {
    const s = tokenSource();
    const signal = signalOf(s.token);
    assert.equal(signal.aborted, false);
    s.cancel();
    assert.equal(signal.aborted, true);
    assert.equal(s.listeners.size, 0);
  });

  it('a token already cancelled gives an aborted signal', () => {
    const s = tokenSource();
    s.cancel();
    assert.equal(signalOf(s.token).aborted, true);
  });

  it('no token: a signal that never aborts', () => {
    assert.equal(signalOf(undefined).aborted, false);
  });
});

describe('unlessAborted: stop waiting on Cancel', () => {
  it('the work settles first: its value', async () => {
    const c = new AbortController();
    assert.deepEqual(await unlessAborted(Promise.resolve(7), c.signal), { cancelled: false, value: 7 });
  });

  it('cancelled while the work is pending: resolves at once as cancelled', async () => {
    const c = new AbortController();
    const never = new Promise<number>(() => undefined);
    const waiting = unlessAborted(never, c.signal);
    c.abort();
    assert.deepEqual(await waiting, { cancelled: true });
  });

  it('already cancelled: does not wait', async () => {
    const c = new AbortController();
    c.abort();
    assert.deepEqual(await unlessAborted(new Promise<number>(() => undefined), c.signal), { cancelled: true });
  });

  it('the work fails first: the failure is passed on', async () => {
    const c = new AbortController();
    await assert.rejects(unlessAborted(Promise.reject(new Error('boom')), c.signal), /boom/);
  });

  it('a token cancelled through signalOf stops the wait', async () => {
    const s = tokenSource();
    const waiting = unlessAborted(new Promise<number>(() => undefined), signalOf(s.token));
    s.cancel();
    assert.deepEqual(await waiting, { cancelled: true });
  });
});
