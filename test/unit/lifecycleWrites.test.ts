// Claim and finish writes of a run we execute, tried again on transient failures; a false answer
// after a failed attempt is checked against the row (the first write may have landed).
import * as assert from 'assert';
import type { BackendError, Result, TelemetryBackend } from '../../src/data/backend';
import { claimRunWithRetry, finishRunWithRetry, retryTransient } from '../../src/data/lifecycleWrites';
import type { FinishFields, RunnerInfo } from '../../src/domain/analysisRun';

const err = (kind: BackendError['kind'], retryAfterMs: number | null = null): Result<never> => ({
  ok: false,
  error: { kind, message: kind, status: kind === 'server' ? 503 : 0, code: null, retryAfterMs },
});
const yes = <T>(value: T): Result<T> => ({ ok: true, value });

function scripted<T>(answers: Result<T>[]): { call: () => Promise<Result<T>>; calls: () => number } {
  let n = 0;
  return { call: async () => answers[Math.min(n++, answers.length - 1)], calls: () => n };
}

describe('retryTransient', () => {
  it('retries unreachable, timeout, 429 and 5xx with doubling pauses, then gives up after 3 attempts', async () => {
    for (const kind of ['unreachable', 'timeout', 'rate-limited', 'server'] as const) {
      const pauses: number[] = [];
      const s = scripted<boolean>([err(kind)]);
      const r = await retryTransient(s.call, { sleep: async (ms) => void pauses.push(ms) });
      assert.strictEqual(s.calls(), 3, kind);
      assert.deepStrictEqual(pauses, [1_000, 2_000], kind);
      assert.ok(!r.result.ok);
      assert.strictEqual(r.failures, 3);
    }
  });

  it('does not retry what a retry cannot cure', async () => {
    for (const kind of ['unauthorized', 'permission', 'not-found', 'conflict', 'constraint', 'bad-request'] as const) {
      const s = scripted<boolean>([err(kind)]);
      const r = await retryTransient(s.call, { sleep: async () => assert.fail('no pause') });
      assert.strictEqual(s.calls(), 1, kind);
      assert.strictEqual(r.failures, 0);
    }
  });

  it('honours Retry-After up to the longest pause, and stops at the first success', async () => {
    const pauses: number[] = [];
    const s = scripted<boolean>([err('rate-limited', 4_000), err('server', 60_000), yes(true)]);
    const r = await retryTransient(s.call, { sleep: async (ms) => void pauses.push(ms) });
    assert.deepStrictEqual(pauses, [4_000, 10_000]);
    assert.deepStrictEqual(r.result, yes(true));
    assert.strictEqual(r.failures, 2);
  });
});

const FIELDS: FinishFields = { status: 'SUCCEEDED', finished_at: '2026-12-02T06:00:00.250Z', duration_ms: 1000 };
const RUNNER: RunnerInfo = {
  extension: 'ehg-telemetry',
  extension_version: '1',
  window_id: 'w1',
  activation_id: 'a1',
  analyzer: 'x.js',
};

function backend(o: {
  finish?: Result<boolean>[];
  claim?: Result<boolean>[];
  row?: Record<string, unknown> | null;
}): TelemetryBackend & { rowReads: number } {
  const finish = scripted(o.finish ?? [yes(true)]);
  const claim = scripted(o.claim ?? [yes(true)]);
  const b = {
    rowReads: 0,
    finishRun: () => finish.call(),
    claimRun: () => claim.call(),
    getRunRow: async () => {
      b.rowReads++;
      return yes(o.row ?? null);
    },
  };
  return b as unknown as TelemetryBackend & { rowReads: number };
}
const fast = { sleep: async () => undefined };

describe('finishRunWithRetry', () => {
  it('a first answer true needs no row read', async () => {
    const b = backend({ finish: [yes(true)] });
    assert.deepStrictEqual(await finishRunWithRetry(b, 'r', FIELDS, fast), yes(true));
    assert.strictEqual(b.rowReads, 0);
  });

  it('false at once (cancelled meanwhile) is false, without a row read', async () => {
    const b = backend({ finish: [yes(false)] });
    assert.deepStrictEqual(await finishRunWithRetry(b, 'r', FIELDS, fast), yes(false));
    assert.strictEqual(b.rowReads, 0);
  });

  it('a 503 then success writes it', async () => {
    assert.deepStrictEqual(
      await finishRunWithRetry(backend({ finish: [err('server'), yes(true)] }), 'r', FIELDS, fast),
      yes(true),
    );
  });

  it('a lost answer then false: true when the row holds our finish, false when it holds another', async () => {
    const ours = backend({
      finish: [err('timeout'), yes(false)],
      row: { status: 'SUCCEEDED', finished_at: '2026-12-02 06:00:00.25+00' },
    });
    assert.deepStrictEqual(await finishRunWithRetry(ours, 'r', FIELDS, fast), yes(true));
    assert.strictEqual(ours.rowReads, 1);
    for (const row of [
      { status: 'CANCELLED', finished_at: '2026-12-02 06:00:00.25+00' },
      { status: 'SUCCEEDED', finished_at: '2026-12-02 06:00:01+00' },
      null,
    ]) {
      const other = backend({ finish: [err('timeout'), yes(false)], row });
      assert.deepStrictEqual(await finishRunWithRetry(other, 'r', FIELDS, fast), yes(false), JSON.stringify(row));
    }
  });

  it('three transient failures are returned as the error', async () => {
    const r = await finishRunWithRetry(backend({ finish: [err('unreachable')] }), 'r', FIELDS, fast);
    assert.ok(!r.ok && r.error.kind === 'unreachable');
  });
});

describe('claimRunWithRetry', () => {
  const startedAt = new Date('2026-12-02T06:00:00.500Z');
  const meta = { timeout_ms: 1000, runner: RUNNER };
  it('a lost answer then false: true only when the row is RUNNING with our runner and start', async () => {
    const row = (over: Record<string, unknown>) => ({
      status: 'RUNNING',
      started_at: '2026-12-02T06:00:00.5+00:00',
      metadata: { runner: { ...RUNNER } },
      ...over,
    });
    const ours = backend({ claim: [err('timeout'), yes(false)], row: row({}) });
    assert.deepStrictEqual(await claimRunWithRetry(ours, 'r', startedAt, meta, fast), yes(true));
    for (const other of [
      row({ status: 'CANCELLED' }),
      row({ metadata: { runner: { ...RUNNER, window_id: 'w2' } } }),
      row({ metadata: { runner: { ...RUNNER, activation_id: 'a2' } } }),
      row({ started_at: '2026-12-02T06:00:03+00:00' }),
      row({ metadata: null }),
    ]) {
      const b = backend({ claim: [err('timeout'), yes(false)], row: other });
      assert.deepStrictEqual(await claimRunWithRetry(b, 'r', startedAt, meta, fast), yes(false), JSON.stringify(other));
    }
  });
});
