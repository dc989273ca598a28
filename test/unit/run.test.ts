import * as assert from 'node:assert/strict';
import {
  Bottleneck,
  compareBottlenecks,
  describeOutcome,
  isActive,
  MAX_BOTTLENECKS_SHOWN,
  parseBottleneck,
  parseRunDetailFields,
  parseRunStatus,
  parseRunSummary,
  RunHeadCache,
  RunDetailFields,
  RunOutcome,
  RunSummary,
  runHint,
} from '../../src/domain/run';
import { escapeMarkdown } from '../../src/domain/text';
import { findUnescaped, HOSTILE_TEXTS } from './helpers';

const RUN_ID = '6f1c2a8e-0b7d-4c1e-9a55-3f0e2d9b7c11';
const T0 = '2026-02-15T12:00:00.000Z';

function fullRow(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    run_id: RUN_ID,
    scope_type: 'workspace',
    scope_id: '/home/u/EHG_Engineer',
    status: 'SUCCEEDED',
    triggered_by: 'SESSION_START',
    triggered_at: T0,
    started_at: '2026-02-15T12:00:05.000Z',
    finished_at: '2026-02-15T12:01:17.000Z',
    findings_count: 3,
    top_bottleneck_category: 'gate',
    reason_code: null,
    error_class: null,
    duration_ms: 72_000,
    timeout_ms: 120_000,
    ...over,
  };
}

describe('run: parseRunStatus / isActive', () => {
  const cases: { name: string; input: unknown; expected: string; active: boolean }[] = [
    { name: 'QUEUED', input: 'QUEUED', expected: 'QUEUED', active: true },
    { name: 'RUNNING', input: 'RUNNING', expected: 'RUNNING', active: true },
    { name: 'SUCCEEDED', input: 'SUCCEEDED', expected: 'SUCCEEDED', active: false },
    { name: 'FAILED', input: 'FAILED', expected: 'FAILED', active: false },
    { name: 'TIMED_OUT', input: 'TIMED_OUT', expected: 'TIMED_OUT', active: false },
    { name: 'CANCELLED', input: 'CANCELLED', expected: 'CANCELLED', active: false },
    { name: 'FAILED_ENQUEUE', input: 'FAILED_ENQUEUE', expected: 'FAILED_ENQUEUE', active: false },
    { name: 'lowercase is unknown', input: 'queued', expected: 'UNKNOWN', active: false },
    { name: 'newer backend value', input: 'PAUSED', expected: 'UNKNOWN', active: false },
    { name: 'number', input: 1, expected: 'UNKNOWN', active: false },
    { name: 'null', input: null, expected: 'UNKNOWN', active: false },
    { name: 'prototype key', input: 'constructor', expected: 'UNKNOWN', active: false },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const s = parseRunStatus(c.input);
      assert.equal(s, c.expected);
      assert.equal(isActive(s), c.active);
    });
  }
});

describe('run: parseRunSummary', () => {
  it('parses a well-formed row', () => {
    assert.deepEqual(parseRunSummary(fullRow()), {
      runId: RUN_ID,
      scopeType: 'workspace',
      scopeId: '/home/u/EHG_Engineer',
      status: 'SUCCEEDED',
      rawStatus: 'SUCCEEDED',
      triggeredBy: 'SESSION_START',
      triggeredAt: new Date(T0),
      startedAt: new Date('2026-02-15T12:00:05.000Z'),
      finishedAt: new Date('2026-02-15T12:01:17.000Z'),
      findingsCount: 3,
      topBottleneckCategory: 'gate',
      reasonCode: null,
      errorClass: null,
      durationMs: 72_000,
      timeoutMs: 120_000,
      topBottleneck: null,
    } satisfies RunSummary);
  });

  const cases: { name: string; input: unknown; expected: Partial<RunSummary> | null }[] = [
    { name: 'not an object', input: 'row', expected: null },
    { name: 'array', input: [fullRow()], expected: null },
    { name: 'null row', input: null, expected: null },
    { name: 'missing run_id', input: fullRow({ run_id: undefined }), expected: null },
    { name: 'null run_id', input: fullRow({ run_id: null }), expected: null },
    { name: 'empty run_id', input: fullRow({ run_id: '' }), expected: null },
    { name: 'whitespace/control-only run_id', input: fullRow({ run_id: ' \u0000\u202e ' }), expected: null },
    { name: 'object run_id', input: fullRow({ run_id: { id: 1 } }), expected: null },
    {
      name: 'unknown status keeps rawStatus',
      input: fullRow({ status: 'ARCHIVED' }),
      expected: { status: 'UNKNOWN', rawStatus: 'ARCHIVED' },
    },
    {
      name: 'object status',
      input: fullRow({ status: { s: 'QUEUED' } }),
      expected: { status: 'UNKNOWN', rawStatus: null },
    },
    { name: 'numeric status', input: fullRow({ status: 3 }), expected: { status: 'UNKNOWN', rawStatus: '3' } },
    {
      name: 'unknown trigger is kept as text',
      input: fullRow({ triggered_by: 'WEBHOOK' }),
      expected: { triggeredBy: 'WEBHOOK' },
    },
    { name: 'object trigger', input: fullRow({ triggered_by: ['MANUAL'] }), expected: { triggeredBy: null } },
    {
      name: 'numbers as strings',
      input: fullRow({ findings_count: '7', duration_ms: '1500', timeout_ms: '60000' }),
      expected: { findingsCount: 7, durationMs: 1500, timeoutMs: 60_000 },
    },
    {
      name: 'numbers as garbage strings',
      input: fullRow({ findings_count: 'many', duration_ms: '1.5s', timeout_ms: 'soon' }),
      expected: { findingsCount: null, durationMs: null, timeoutMs: null },
    },
    {
      name: 'negative counts and durations dropped',
      input: fullRow({ findings_count: -1, duration_ms: -5, timeout_ms: -100 }),
      expected: { findingsCount: null, durationMs: null, timeoutMs: null },
    },
    { name: 'zero timeout is no timeout', input: fullRow({ timeout_ms: 0 }), expected: { timeoutMs: null } },
    {
      name: 'timeout from metadata when not projected',
      input: fullRow({ timeout_ms: undefined, metadata: { timeout_ms: 5000 } }),
      expected: { timeoutMs: 5000 },
    },
    {
      name: 'metadata not an object',
      input: fullRow({ timeout_ms: undefined, metadata: '{"timeout_ms":5}' }),
      expected: { timeoutMs: null },
    },
    {
      name: 'timestamps as garbage',
      input: fullRow({ triggered_at: 'soon', started_at: {}, finished_at: 'not a date' }),
      expected: { triggeredAt: null, startedAt: null, finishedAt: null },
    },
    {
      name: 'null in every nullable column',
      input: fullRow({
        scope_id: null,
        started_at: null,
        finished_at: null,
        findings_count: null,
        top_bottleneck_category: null,
        reason_code: null,
        error_class: null,
        duration_ms: null,
        timeout_ms: null,
      }),
      expected: {
        scopeId: null,
        startedAt: null,
        finishedAt: null,
        findingsCount: null,
        topBottleneckCategory: null,
        reasonCode: null,
        errorClass: null,
        durationMs: null,
        timeoutMs: null,
      },
    },
    {
      name: 'objects where strings are expected',
      input: fullRow({
        scope_type: {},
        scope_id: [],
        top_bottleneck_category: { x: 1 },
        reason_code: [1],
        error_class: {},
      }),
      expected: { scopeType: null, scopeId: null, topBottleneckCategory: null, reasonCode: null, errorClass: null },
    },
    {
      name: 'control characters and bidi overrides removed from every text field',
      input: fullRow({
        scope_id: '/a\u202e/b\u0000',
        top_bottleneck_category: 'ga\u2066te\u0007',
        reason_code: 'R\u001bC',
        error_class: 'E\u200e\u202arr',
        triggered_by: 'X\u0085Y',
      }),
      expected: {
        scopeId: '/a/b',
        topBottleneckCategory: 'gate',
        reasonCode: 'RC',
        errorClass: 'E\u200err',
        triggeredBy: 'XY',
      },
    },
    {
      name: 'line breaks collapse to one line',
      input: fullRow({ top_bottleneck_category: 'a\nb', error_class: 'E\r\nF', reason_code: 'x\u2028y' }),
      expected: { topBottleneckCategory: 'a b', errorClass: 'E F', reasonCode: 'x y' },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = parseRunSummary(c.input);
      if (c.expected === null) {
        assert.equal(r, null);
        return;
      }
      assert.ok(r);
      for (const [k, v] of Object.entries(c.expected)) {
        assert.deepEqual(r[k as keyof RunSummary], v, k);
      }
    });
  }

  const limits: { field: string; key: keyof RunSummary; max: number }[] = [
    { field: 'run_id', key: 'runId', max: 64 },
    { field: 'scope_type', key: 'scopeType', max: 40 },
    { field: 'scope_id', key: 'scopeId', max: 1000 },
    { field: 'status', key: 'rawStatus', max: 40 },
    { field: 'triggered_by', key: 'triggeredBy', max: 40 },
    { field: 'top_bottleneck_category', key: 'topBottleneckCategory', max: 80 },
    { field: 'reason_code', key: 'reasonCode', max: 80 },
    { field: 'error_class', key: 'errorClass', max: 120 },
  ];
  for (const l of limits) {
    it(`bounds a 10,000-character ${l.field} to ${l.max}`, () => {
      const r = parseRunSummary(fullRow({ [l.field]: 'Z'.repeat(10_000) }));
      const v = r?.[l.key];
      assert.equal(typeof v, 'string');
      assert.equal((v as string).length, l.max);
    });
  }

  const textKeys: (keyof RunSummary)[] = [
    'runId',
    'scopeType',
    'scopeId',
    'rawStatus',
    'triggeredBy',
    'topBottleneckCategory',
    'reasonCode',
    'errorClass',
  ];
  for (const hostile of HOSTILE_TEXTS) {
    it(`hostile text in every text field is single-line and fully escaped: ${JSON.stringify(hostile).slice(0, 50)}`, () => {
      const r = parseRunSummary({
        run_id: hostile,
        scope_type: hostile,
        scope_id: hostile,
        status: hostile,
        triggered_by: hostile,
        triggered_at: T0,
        top_bottleneck_category: hostile,
        reason_code: hostile,
        error_class: hostile,
      });
      assert.ok(r);
      assert.equal(r.status, 'UNKNOWN');
      for (const k of textKeys) {
        const v: unknown = r[k];
        assert.equal(typeof v, 'string', k);
        assert.ok(!/[\r\n\u2028\u2029]/.test(v as string), `${k} has a line break`);
        const esc = escapeMarkdown(v as string);
        assert.equal(findUnescaped(esc), null, `${k}: ${esc}`);
      }
    });
  }
});

describe('run: parseBottleneck', () => {
  const cases: { name: string; input: unknown; expected: Partial<Bottleneck> | null }[] = [
    { name: 'not an object', input: 'gate', expected: null },
    { name: 'array', input: [1], expected: null },
    { name: 'null', input: null, expected: null },
    {
      name: 'complete',
      input: {
        dimension_type: 'gate',
        dimension_key: 'GATE_PRD_REQUIRED',
        observed_p50_ms: 45000,
        baseline_p50_ms: 12000,
        ratio: 3.2,
        sample_count: 14,
        exceedance_count: 9,
        evidence_trace_ids: ['t1', 't2'],
        improvement_id: 'imp-1',
      },
      expected: {
        dimensionType: 'gate',
        dimensionKey: 'GATE_PRD_REQUIRED',
        observedP50Ms: 45000,
        baselineP50Ms: 12000,
        ratio: 3.2,
        sampleCount: 14,
        exceedanceCount: 9,
        evidenceTraceIds: ['t1', 't2'],
        improvementId: 'imp-1',
      },
    },
    {
      name: 'empty object gets defaults',
      input: {},
      expected: {
        dimensionType: 'unknown',
        dimensionKey: 'unknown',
        observedP50Ms: null,
        baselineP50Ms: null,
        ratio: null,
        sampleCount: null,
        exceedanceCount: null,
        evidenceTraceIds: [],
        improvementId: null,
      },
    },
    {
      name: 'numbers as strings',
      input: { ratio: '3.2', observed_p50_ms: '45000', baseline_p50_ms: '12000', sample_count: '4' },
      expected: { ratio: 3.2, observedP50Ms: 45000, baselineP50Ms: 12000, sampleCount: 4 },
    },
    {
      name: 'wrong types',
      input: { dimension_type: {}, dimension_key: [], ratio: 'big', observed_p50_ms: {}, improvement_id: { id: 1 } },
      expected: {
        dimensionType: 'unknown',
        dimensionKey: 'unknown',
        ratio: null,
        observedP50Ms: null,
        improvementId: null,
      },
    },
    { name: 'evidence ids: not a list', input: { evidence_trace_ids: 't1,t2' }, expected: { evidenceTraceIds: [] } },
    {
      name: 'evidence ids: at most 5, junk dropped',
      input: { evidence_trace_ids: ['a', null, {}, 'b', 'c', 'd', 'e', 'f', 'g'] },
      expected: { evidenceTraceIds: ['a', 'b', 'c'] },
    },
    {
      name: 'numeric key as text',
      input: { dimension_type: 'sd_type', dimension_key: 42 },
      expected: { dimensionKey: '42' },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const b = parseBottleneck(c.input);
      if (c.expected === null) {
        assert.equal(b, null);
        return;
      }
      assert.ok(b);
      for (const [k, v] of Object.entries(c.expected)) assert.deepEqual(b[k as keyof Bottleneck], v, k);
    });
  }

  for (const hostile of HOSTILE_TEXTS) {
    it(`hostile text in every bottleneck text field: ${JSON.stringify(hostile).slice(0, 50)}`, () => {
      const b = parseBottleneck({
        dimension_type: hostile,
        dimension_key: hostile,
        evidence_trace_ids: [hostile],
        improvement_id: hostile,
      });
      assert.ok(b);
      for (const v of [b.dimensionType, b.dimensionKey, b.evidenceTraceIds[0], b.improvementId]) {
        assert.equal(typeof v, 'string');
        assert.ok(!/[\r\n]/.test(v as string));
        assert.equal(findUnescaped(escapeMarkdown(v as string)), null);
      }
    });
  }

  it('bounds long strings (type 60, key 200, ids 80)', () => {
    const b = parseBottleneck({
      dimension_type: 'a'.repeat(10_000),
      dimension_key: 'b'.repeat(10_000),
      evidence_trace_ids: ['c'.repeat(10_000)],
      improvement_id: 'd'.repeat(10_000),
    });
    assert.equal(b?.dimensionType.length, 60);
    assert.equal(b?.dimensionKey.length, 200);
    assert.equal(b?.evidenceTraceIds[0].length, 80);
    assert.equal(b?.improvementId?.length, 80);
  });
});

describe('run: compareBottlenecks', () => {
  const mk = (ratio: number | null, p50: number | null): Bottleneck => ({
    dimensionType: 'x',
    dimensionKey: `${ratio}/${p50}`,
    observedP50Ms: p50,
    baselineP50Ms: null,
    ratio,
    sampleCount: null,
    exceedanceCount: null,
    evidenceTraceIds: [],
    improvementId: null,
  });
  const cases: { name: string; input: Bottleneck[]; expected: string[] }[] = [
    { name: 'by ratio descending', input: [mk(1, 1), mk(3, 1), mk(2, 1)], expected: ['3/1', '2/1', '1/1'] },
    {
      name: 'tie on ratio: by observed p50 descending',
      input: [mk(2, 10), mk(2, 30), mk(2, 20)],
      expected: ['2/30', '2/20', '2/10'],
    },
    { name: 'null ratio last', input: [mk(null, 99), mk(0.5, 1)], expected: ['0.5/1', 'null/99'] },
    { name: 'both null ratios: by p50', input: [mk(null, 1), mk(null, 5)], expected: ['null/5', 'null/1'] },
    { name: 'null p50 last among ties', input: [mk(2, null), mk(2, 1)], expected: ['2/1', '2/null'] },
  ];
  for (const c of cases) {
    it(c.name, () =>
      assert.deepEqual(
        [...c.input].sort(compareBottlenecks).map((b) => b.dimensionKey),
        c.expected,
      ),
    );
  }
});

describe('run: parseRunDetailFields', () => {
  const cases: { name: string; input: unknown; expected: Partial<RunDetailFields> | null }[] = [
    { name: 'not an object', input: 42, expected: null },
    { name: 'null', input: null, expected: null },
    {
      name: 'all null',
      input: { status: null, reason_code: null, error_class: null, error_message: null, output_ref: null },
      expected: {
        status: 'UNKNOWN',
        rawStatus: null,
        reasonCode: null,
        errorClass: null,
        errorMessage: null,
        outputRef: null,
      },
    },
    {
      name: 'unknown status kept raw',
      input: { status: 'REQUEUED' },
      expected: { status: 'UNKNOWN', rawStatus: 'REQUEUED' },
    },
    {
      name: 'error message keeps line breaks (documents), drops control chars',
      input: { status: 'FAILED', error_message: 'boom\r\n  at x\u0000\u202e' },
      expected: { errorMessage: 'boom\n  at x' },
    },
    {
      name: 'error message object is null',
      input: { status: 'FAILED', error_message: { m: 1 } },
      expected: { errorMessage: null },
    },
    {
      name: 'output_ref passed through untouched',
      input: { status: 'SUCCEEDED', output_ref: { bottlenecks: 'x' } },
      expected: { outputRef: { bottlenecks: 'x' } },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const d = parseRunDetailFields(c.input);
      if (c.expected === null) {
        assert.equal(d, null);
        return;
      }
      assert.ok(d);
      for (const [k, v] of Object.entries(c.expected)) assert.deepEqual(d[k as keyof RunDetailFields], v, k);
    });
  }

  it('bounds a 10,000-character error message to 4000', () => {
    assert.equal(
      parseRunDetailFields({ status: 'FAILED', error_message: 'e'.repeat(10_000) })?.errorMessage?.length,
      4000,
    );
  });
});

describe('run: describeOutcome', () => {
  const d = (over: Partial<RunDetailFields>): RunDetailFields => ({
    status: 'SUCCEEDED',
    rawStatus: 'SUCCEEDED',
    reasonCode: null,
    errorClass: null,
    errorMessage: null,
    outputRef: null,
    ...over,
  });
  const b = (ratio: number, key = `k${ratio}`) => ({
    dimension_type: 'gate',
    dimension_key: key,
    ratio,
    observed_p50_ms: ratio * 1000,
    baseline_p50_ms: 1000,
  });

  const cases: { name: string; input: RunDetailFields; expected: RunOutcome }[] = [
    { name: 'QUEUED is pending', input: d({ status: 'QUEUED' }), expected: { kind: 'pending', status: 'QUEUED' } },
    { name: 'RUNNING is pending', input: d({ status: 'RUNNING' }), expected: { kind: 'pending', status: 'RUNNING' } },
    {
      name: 'FAILED is error',
      input: d({ status: 'FAILED', errorClass: 'TypeError', errorMessage: 'x is undefined' }),
      expected: { kind: 'error', errorClass: 'TypeError', message: 'x is undefined' },
    },
    {
      name: 'TIMED_OUT is error',
      input: d({ status: 'TIMED_OUT', errorClass: 'TimeoutError' }),
      expected: { kind: 'error', errorClass: 'TimeoutError', message: null },
    },
    {
      name: 'FAILED_ENQUEUE is error',
      input: d({ status: 'FAILED_ENQUEUE' }),
      expected: { kind: 'error', errorClass: null, message: null },
    },
    {
      name: 'CANCELLED keeps reason',
      input: d({ status: 'CANCELLED', reasonCode: 'DUPLICATE_SESSION_START' }),
      expected: { kind: 'cancelled', reasonCode: 'DUPLICATE_SESSION_START' },
    },
    {
      name: 'UNKNOWN keeps raw status',
      input: d({ status: 'UNKNOWN', rawStatus: 'ARCHIVED' }),
      expected: { kind: 'unknown-status', rawStatus: 'ARCHIVED' },
    },
    { name: 'SUCCEEDED with null output_ref', input: d({}), expected: { kind: 'no-bottlenecks', tracesScanned: null } },
    {
      name: 'INSUFFICIENT_DATA reason',
      input: d({ reasonCode: 'INSUFFICIENT_DATA', outputRef: { traces_scanned: 0, bottlenecks: [] } }),
      expected: { kind: 'insufficient-data', tracesScanned: 0 },
    },
    {
      name: 'zero traces scanned without reason',
      input: d({ outputRef: { traces_scanned: 0 } }),
      expected: { kind: 'insufficient-data', tracesScanned: 0 },
    },
    {
      name: 'zero traces as a string',
      input: d({ outputRef: { traces_scanned: '0' } }),
      expected: { kind: 'insufficient-data', tracesScanned: 0 },
    },
    {
      name: 'empty bottleneck list',
      input: d({ outputRef: { traces_scanned: 12, bottlenecks: [] } }),
      expected: { kind: 'no-bottlenecks', tracesScanned: 12 },
    },
    {
      name: 'null bottlenecks',
      input: d({ outputRef: { traces_scanned: 12, bottlenecks: null } }),
      expected: { kind: 'no-bottlenecks', tracesScanned: 12 },
    },
    {
      name: 'only junk bottlenecks',
      input: d({ outputRef: { traces_scanned: 12, bottlenecks: [1, 'x', null] } }),
      expected: { kind: 'no-bottlenecks', tracesScanned: 12 },
    },
    {
      name: 'bottlenecks not a list (object)',
      input: d({ outputRef: { bottlenecks: { 0: b(2) } } }),
      expected: { kind: 'malformed', detail: 'output_ref.bottlenecks is not a list' },
    },
    {
      name: 'bottlenecks not a list (string)',
      input: d({ outputRef: { bottlenecks: '[]' } }),
      expected: { kind: 'malformed', detail: 'output_ref.bottlenecks is not a list' },
    },
    {
      name: 'output_ref is an array',
      input: d({ outputRef: [b(2)] }),
      expected: { kind: 'malformed', detail: 'output_ref is not an object' },
    },
    {
      name: 'output_ref is a string',
      input: d({ outputRef: '{"bottlenecks":[]}' }),
      expected: { kind: 'malformed', detail: 'output_ref is not an object' },
    },
    {
      name: 'traces_scanned wrong type',
      input: d({ outputRef: { traces_scanned: { n: 3 } } }),
      expected: { kind: 'no-bottlenecks', tracesScanned: null },
    },
  ];
  for (const c of cases) {
    it(c.name, () => assert.deepEqual(describeOutcome(c.input), c.expected));
  }

  it('sorts worst first and shows at most 5, with the total', () => {
    const o = describeOutcome(
      d({ outputRef: { traces_scanned: 50, bottlenecks: [b(1.5), b(4), b(2), b(9), b(1.1), b(3), b(7)] } }),
    );
    assert.equal(o.kind, 'bottlenecks');
    if (o.kind !== 'bottlenecks') return;
    assert.equal(o.items.length, MAX_BOTTLENECKS_SHOWN);
    assert.deepEqual(
      o.items.map((i) => i.ratio),
      [9, 7, 4, 3, 2],
    );
    assert.equal(o.total, 7);
    assert.equal(o.tracesScanned, 50);
  });

  it('a 1 MB output_ref with 20,000 bottlenecks parses quickly, shows 5 sorted worst first', () => {
    const list = Array.from({ length: 20_000 }, (_, i) => ({
      dimension_type: 'phase',
      dimension_key: `KEY_${i}`,
      ratio: ((i * 7919) % 1000) / 100,
      observed_p50_ms: i,
      baseline_p50_ms: 1000,
      evidence_trace_ids: ['a', 'b'],
    }));
    assert.ok(JSON.stringify(list).length > 1_000_000);
    const t0 = Date.now();
    const o = describeOutcome(d({ outputRef: { traces_scanned: 20_000, bottlenecks: list } }));
    assert.ok(Date.now() - t0 < 300, `took ${Date.now() - t0} ms`);
    assert.equal(o.kind, 'bottlenecks');
    if (o.kind !== 'bottlenecks') return;
    assert.equal(o.items.length, 5);
    assert.equal(o.total, 20_000);
    for (let i = 1; i < o.items.length; i++) assert.ok(compareBottlenecks(o.items[i - 1], o.items[i]) <= 0);
    assert.equal(o.items[0].ratio, 9.99);
  });

  it('a 1 MB string field in a bottleneck parses quickly and is bounded', () => {
    const huge = `${'<img src=x onerror=alert(1)>'.repeat(40_000)}`;
    const t0 = Date.now();
    const o = describeOutcome(
      d({ outputRef: { bottlenecks: [{ dimension_type: huge, dimension_key: huge, ratio: 2 }] } }),
    );
    assert.ok(Date.now() - t0 < 300);
    assert.equal(o.kind, 'bottlenecks');
    if (o.kind !== 'bottlenecks') return;
    assert.equal(o.items[0].dimensionType.length, 60);
    assert.equal(o.items[0].dimensionKey.length, 200);
    assert.equal(findUnescaped(escapeMarkdown(o.items[0].dimensionKey)), null);
  });
});

describe('run: runHint', () => {
  const now = new Date('2026-02-15T12:10:00.000Z');
  const run = (over: Partial<RunSummary>): RunSummary => ({ ...(parseRunSummary(fullRow()) as RunSummary), ...over });
  const cases: { name: string; input: RunSummary; expected: ReturnType<typeof runHint> }[] = [
    {
      name: 'queued 10 min > 5 min warning',
      input: run({ status: 'QUEUED', triggeredAt: new Date('2026-02-15T12:00:00Z') }),
      expected: 'waiting-for-worker',
    },
    {
      name: 'queued 4 min',
      input: run({ status: 'QUEUED', triggeredAt: new Date('2026-02-15T12:06:00Z') }),
      expected: null,
    },
    { name: 'queued, unknown trigger time', input: run({ status: 'QUEUED', triggeredAt: null }), expected: null },
    {
      name: 'running past timeout',
      input: run({ status: 'RUNNING', startedAt: new Date('2026-02-15T12:07:00Z'), timeoutMs: 120_000 }),
      expected: 'overdue',
    },
    {
      name: 'running within timeout',
      input: run({ status: 'RUNNING', startedAt: new Date('2026-02-15T12:09:00Z'), timeoutMs: 120_000 }),
      expected: null,
    },
    {
      name: 'running, no start: falls back to triggered_at',
      input: run({
        status: 'RUNNING',
        startedAt: null,
        triggeredAt: new Date('2026-02-15T12:00:00Z'),
        timeoutMs: 120_000,
      }),
      expected: 'overdue',
    },
    {
      name: 'running, no timeout',
      input: run({ status: 'RUNNING', startedAt: new Date('2026-02-15T11:00:00Z'), timeoutMs: null }),
      expected: null,
    },
    { name: 'succeeded long ago', input: run({ status: 'SUCCEEDED' }), expected: null },
  ];
  for (const c of cases) {
    it(c.name, () => assert.equal(runHint(c.input, now, 5 * 60_000), c.expected));
  }
  it('queued longer than the dedup window: never started (nothing will pick it up)', () => {
    assert.equal(
      runHint(run({ status: 'QUEUED', triggeredAt: new Date('2026-02-15T11:59:00Z') }), now, 5 * 60_000, 10 * 60_000),
      'never-started',
    );
    assert.equal(
      runHint(run({ status: 'QUEUED', triggeredAt: new Date('2026-02-15T12:01:00Z') }), now, 5 * 60_000, 10 * 60_000),
      'waiting-for-worker',
    );
  });
});

describe('RunHeadCache: the JSON heads of listed runs, read once per status', () => {
  const row = (id: string, status: string, finished: string | null = null) => ({
    run_id: id,
    status,
    finished_at: finished,
    top_bottleneck_category: 'gate',
  });
  const head = (id: string, key: string) => ({ run_id: id, top_key: key, top_ratio: 3.2, timeout_ms: 120000 });

  it('asks for every run it has not seen, then for none', () => {
    const c = new RunHeadCache();
    const rows = [row('a', 'RUNNING'), row('b', 'SUCCEEDED', '2026-01-01T00:00:00Z')];
    assert.deepEqual(c.missing(rows), ['a', 'b']);
    c.store(rows, [head('a', 'K1'), head('b', 'K2')]);
    assert.deepEqual(c.missing(rows), []);
    assert.equal(parseRunSummary(c.merge(rows[1]))?.topBottleneck?.dimensionKey, 'K2');
    assert.equal(parseRunSummary(c.merge(rows[0]))?.timeoutMs, 120000);
  });
  it('asks again when the status or the finish time changed, and never merges stale heads', () => {
    const c = new RunHeadCache();
    c.store([row('a', 'RUNNING')], [{ run_id: 'a', timeout_ms: 1000 }]);
    const finished = row('a', 'SUCCEEDED', '2026-01-01T00:00:00Z');
    assert.deepEqual(c.missing([finished]), ['a']);
    assert.equal(parseRunSummary(c.merge(finished))?.timeoutMs, null, 'heads read while RUNNING are not used');
    c.store([finished], [head('a', 'GATE_PRD_REQUIRED')]);
    assert.equal(parseRunSummary(c.merge(finished))?.topBottleneck?.dimensionKey, 'GATE_PRD_REQUIRED');
  });
  it('a run the heads query did not return (hidden or deleted) is not asked for again at the same status', () => {
    const c = new RunHeadCache();
    const rows = [row('gone', 'SUCCEEDED', '2026-01-01T00:00:00Z')];
    c.store(rows, []);
    assert.deepEqual(c.missing(rows), []);
    assert.equal(parseRunSummary(c.merge(rows[0]))?.topBottleneck, null);
  });
  it("the list row's own columns win over a head with the same name (a hostile head cannot rewrite the status)", () => {
    const c = new RunHeadCache();
    const r = row('a', 'FAILED', '2026-01-01T00:00:00Z');
    c.store([r], [{ run_id: 'a', status: 'SUCCEEDED', top_key: 'K' }]);
    assert.equal(parseRunSummary(c.merge(r))?.status, 'FAILED');
  });
  it('keeps at most its capacity, dropping the least recently stored', () => {
    const c = new RunHeadCache(3);
    for (const id of ['a', 'b', 'c', 'd']) c.store([row(id, 'QUEUED')], []);
    assert.equal(c.size, 3);
    assert.deepEqual(c.missing([row('a', 'QUEUED'), row('d', 'QUEUED')]), ['a']);
  });
  it('skips rows without a string run_id', () => {
    const c = new RunHeadCache();
    assert.deepEqual(c.missing([{ run_id: 7, status: 'QUEUED' }]), []);
  });
});
