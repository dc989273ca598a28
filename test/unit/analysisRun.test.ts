import * as assert from 'node:assert/strict';
import {
  checkAnalyzerPath,
  finishFromFailure,
  finishFromResult,
  isOrphaned,
  maskSecrets,
  notBefore,
  orphanFinish,
  REASON_ORPHANED,
  RunningRun,
} from '../../src/domain/analysisRun';

const T0 = Date.UTC(2026, 1, 15, 12, 0, 0);
const b = (dimension_type: string, ratio: number) => ({
  dimension_type,
  dimension_key: 'K',
  ratio,
  observed_p50_ms: 1,
  baseline_p50_ms: 1,
});

describe('analysisRun: finishFromResult (as executeAnalysisAsync writes it)', () => {
  it("SUCCEEDED with findings: count, first bottleneck's dimension_type, output_ref of the hook's four fields and the analyzer's skip counters", () => {
    const f = finishFromResult(
      {
        run_id: 'r',
        traces_scanned: 3000,
        dimensions_evaluated: 12,
        bottlenecks: [b('gate', 5), b('phase', 4)],
        items_created: 2,
        items_skipped_rate_limit: 0,
        errors: [],
      },
      T0,
      T0 + 1234,
    );
    assert.equal(f.status, 'SUCCEEDED');
    assert.equal(f.duration_ms, 1234);
    assert.equal(f.finished_at, new Date(T0 + 1234).toISOString());
    assert.equal(f.findings_count, 2);
    assert.equal(f.top_bottleneck_category, 'gate');
    assert.equal(f.reason_code, null);
    assert.deepEqual(Object.keys(f.output_ref!).sort(), [
      'bottlenecks',
      'dimensions_evaluated',
      'items_created',
      'items_skipped_rate_limit',
      'traces_scanned',
    ]);
    assert.equal(f.output_ref!.traces_scanned, 3000);
  });
  it('keeps the skip counters the hook drops, and says when auto-create was off (why a bottleneck has no item)', () => {
    const r = { traces_scanned: 9, dimensions_evaluated: 3, bottlenecks: [b('gate', 5)], items_created: 0 };
    const kept = finishFromResult({ ...r, items_skipped_rate_limit: 2, items_skipped_dedupe: 1 }, T0, T0);
    assert.equal(kept.output_ref!.items_skipped_rate_limit, 2);
    assert.equal(kept.output_ref!.items_skipped_dedupe, 1);
    assert.equal(kept.output_ref!.enable_auto_create, undefined, 'on (or not said): not written');
    for (const junk of [-1, 1.5, 'x', null, 1e12])
      assert.equal(
        finishFromResult({ ...r, items_skipped_rate_limit: junk }, T0, T0).output_ref!.items_skipped_rate_limit,
        undefined,
        `junk ${String(junk)} is not stored`,
      );
    const off = finishFromResult(r, T0, T0, [], { enableAutoCreate: false });
    assert.equal(off.output_ref!.enable_auto_create, false);
    assert.equal(finishFromResult(r, T0, T0, [], { enableAutoCreate: true }).output_ref!.enable_auto_create, undefined);
  });
  it('no traces and no errors: SUCCEEDED + INSUFFICIENT_DATA, top category null', () => {
    const f = finishFromResult(
      { traces_scanned: 0, dimensions_evaluated: 0, bottlenecks: [], items_created: 0, errors: [] },
      T0,
      T0,
    );
    assert.equal(f.status, 'SUCCEEDED');
    assert.equal(f.reason_code, 'INSUFFICIENT_DATA');
    assert.equal(f.top_bottleneck_category, null);
    assert.equal(f.findings_count, 0);
  });
  it('traces scanned, nothing found: SUCCEEDED, no reason code', () => {
    const f = finishFromResult({ traces_scanned: 10, bottlenecks: [], errors: [] }, T0, T0);
    assert.equal(f.status, 'SUCCEEDED');
    assert.equal(f.reason_code, null);
  });
  it('improvement: a read error with no traces is FAILED with that error (not INSUFFICIENT_DATA)', () => {
    const f = finishFromResult(
      { traces_scanned: 0, bottlenecks: [], errors: ['db_connection_error: connect ECONNREFUSED password=abc&x'] },
      T0,
      T0 + 5,
    );
    assert.equal(f.status, 'FAILED');
    assert.equal(f.error_class, 'db_connection_error');
    assert.match(f.error_message!, /password=\*\*\*/);
    assert.doesNotMatch(f.error_message!, /abc/);
    assert.equal(f.reason_code, undefined);
  });
  it('errors with traces scanned (e.g. an item insert failed) still SUCCEED', () => {
    assert.equal(
      finishFromResult({ traces_scanned: 5, bottlenecks: [b('gate', 3)], errors: ['create_failed:K: x'] }, T0, T0)
        .status,
      'SUCCEEDED',
    );
  });
  it('not result-shaped: FAILED InvalidResultError', () => {
    for (const bad of [null, 42, 'x', {}, { bottlenecks: 'no' }])
      assert.equal(finishFromResult(bad, T0, T0).error_class, 'InvalidResultError');
  });
  it('a hostile dimension_type is cleaned, and a huge bottleneck list is capped for storage but counted', () => {
    const many = Array.from({ length: 500 }, () => b('gate', 3));
    const f = finishFromResult(
      { traces_scanned: 1, bottlenecks: [{ dimension_type: 'x\u0000\u202e'.repeat(100) }, ...many] },
      T0,
      T0,
    );
    assert.equal(f.findings_count, 501);
    assert.equal(f.output_ref!.bottlenecks.length, 200);
    assert.ok((f.top_bottleneck_category ?? '').length <= 80);
  });
});

describe('analysisRun: finishFromFailure', () => {
  it('timeout: TIMED_OUT with TimeoutError', () => {
    const f = finishFromFailure({ kind: 'timeout', timeoutMs: 2000 }, T0, T0 + 2001);
    assert.equal(f.status, 'TIMED_OUT');
    assert.equal(f.error_class, 'TimeoutError');
    assert.equal(f.duration_ms, 2001);
  });
  it('watchdog kill: TIMED_OUT', () =>
    assert.equal(finishFromFailure({ kind: 'killed-by-watchdog', timeoutMs: 1 }, T0, T0).status, 'TIMED_OUT'));
  it('error: FAILED with its class, secrets masked (password=, the key, any JWT)', () => {
    const key = 'eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoic2VydmljZV9yb2xlIn0.abcdefghijklmnop';
    const f = finishFromFailure(
      {
        kind: 'error',
        errorClass: 'TypeError',
        message: `boom password=hunter2 key=${key} other=eyJaaaaaaaaaaa.bbbbbbbbbbbb.cccccccccccc`,
      },
      T0,
      T0,
    );
    assert.equal(f.status, 'FAILED');
    assert.equal(f.error_class, 'TypeError');
    assert.doesNotMatch(f.error_message!, /hunter2|eyJ/);
  });
  it('process exited: FAILED AnalyzerProcessExited with the signal', () => {
    const f = finishFromFailure({ kind: 'process-exited', code: null, signal: 'SIGKILL' }, T0, T0);
    assert.equal(f.error_class, 'AnalyzerProcessExited');
    assert.match(f.error_message!, /SIGKILL/);
  });
  it('maskSecrets masks every occurrence of a key in use', () => {
    assert.equal(maskSecrets('a SECRETKEY123 b SECRETKEY123', ['SECRETKEY123']), 'a [redacted key] b [redacted key]');
  });
});

describe('analysisRun: orphans', () => {
  const run: RunningRun = { runId: 'r', triggeredAt: new Date(T0), startedAt: new Date(T0 + 1000), timeoutMs: 120_000 };
  const cases: { name: string; now: number; input: RunningRun; expected: boolean }[] = [
    { name: 'within its timeout', now: T0 + 60_000, input: run, expected: false },
    { name: 'past timeout, within grace', now: T0 + 1000 + 120_000 + 60_000, input: run, expected: false },
    { name: 'past timeout + grace', now: T0 + 1000 + 120_000 + 5 * 60_000 + 1, input: run, expected: true },
    {
      name: 'no started_at: from triggered_at',
      now: T0 + 120_000 + 5 * 60_000 + 1,
      input: { ...run, startedAt: null },
      expected: true,
    },
    {
      name: 'no timeout: the hook default 120 s',
      now: T0 + 1000 + 120_000 + 5 * 60_000 + 1,
      input: { ...run, timeoutMs: null },
      expected: true,
    },
    {
      name: 'a long timeout is respected',
      now: T0 + 3_600_000,
      input: { ...run, timeoutMs: 7_200_000 },
      expected: false,
    },
  ];
  for (const c of cases) it(c.name, () => assert.equal(isOrphaned(c.input, c.now), c.expected));
  it('is marked TIMED_OUT with a reason code', () => {
    const f = orphanFinish(run, T0 + 10 * 60_000);
    assert.equal(f.status, 'TIMED_OUT');
    assert.equal(f.reason_code, REASON_ORPHANED);
    assert.equal(f.error_class, 'TimeoutError');
  });
});

describe('analysisRun: checkAnalyzerPath', () => {
  const cases: { input: string | undefined; expected: string | null }[] = [
    { input: undefined, expected: 'lib/telemetry/bottleneck-analyzer.js' },
    { input: '', expected: 'lib/telemetry/bottleneck-analyzer.js' },
    { input: './tools/analyzer.mjs', expected: 'tools/analyzer.mjs' },
    { input: 'tools\\a.js', expected: 'tools/a.js' },
    { input: '/etc/passwd.js', expected: null },
    { input: 'C:/x.js', expected: null },
    { input: '../other/a.js', expected: null },
    { input: 'lib/../../a.js', expected: null },
    { input: 'lib/a.ts', expected: null },
  ];
  for (const c of cases)
    it(String(JSON.stringify(c.input)), () => {
      const r = checkAnalyzerPath(c.input);
      assert.equal(r.ok ? r.relative : null, c.expected);
    });
});

describe('analysisRun: timestamps never before the row’s own (triggered_at ≤ started_at ≤ finished_at)', () => {
  const cases: { name: string; now: number; earlier: (Date | number | null | undefined)[]; expected: number }[] = [
    {
      name: 'now is later than everything: now',
      now: T0 + 5_000,
      earlier: [new Date(T0), T0 + 1_000],
      expected: T0 + 5_000,
    },
    {
      name: 'clock behind triggered_at (Date header to the second): 1 ms after it',
      now: T0 - 722,
      earlier: [new Date(T0)],
      expected: T0 + 1,
    },
    {
      name: 'behind started_at too: after the latest',
      now: T0 - 412,
      earlier: [new Date(T0), new Date(T0 + 300)],
      expected: T0 + 301,
    },
    {
      name: 'equal to an earlier timestamp held in ms (the database has µs): 1 ms after',
      now: T0,
      earlier: [new Date(T0)],
      expected: T0 + 1,
    },
    { name: 'unknown timestamps are ignored', now: T0, earlier: [null, undefined, Number.NaN], expected: T0 },
    { name: 'no earlier timestamps: now', now: T0, earlier: [], expected: T0 },
  ];
  for (const c of cases) it(c.name, () => assert.equal(notBefore(c.now, c.earlier).getTime(), c.expected));

  it('a finish row is never before its start, whatever the clock says (skewed both ways)', () => {
    for (const skew of [-5_000, -722, -1, 0, 1, 5_000]) {
      const fromResult = finishFromResult({ bottlenecks: [], traces_scanned: 1 }, T0, T0 + skew);
      const fromFailure = finishFromFailure({ kind: 'timeout', timeoutMs: 1 }, T0, T0 + skew);
      for (const f of [fromResult, fromFailure]) {
        assert.ok(Date.parse(f.finished_at) >= T0, `skew ${skew}: ${f.finished_at}`);
        assert.equal(f.duration_ms, Date.parse(f.finished_at) - T0, `skew ${skew}: duration matches the row`);
      }
    }
  });

  it('an orphan is marked after its triggered_at and started_at, even when they are ahead of our clock', () => {
    // A row whose timestamps came from another writer's clock (the CLI hook writes its own).
    const run: RunningRun = {
      runId: 'r',
      triggeredAt: new Date(T0 + 9_000),
      startedAt: new Date(T0 + 10_000),
      timeoutMs: 1,
    };
    const f = orphanFinish(run, T0);
    assert.equal(Date.parse(f.finished_at), T0 + 10_001);
    assert.equal(f.duration_ms, 1);
    const late = orphanFinish({ ...run, startedAt: null }, T0);
    assert.equal(Date.parse(late.finished_at), T0 + 9_001);
  });
});
