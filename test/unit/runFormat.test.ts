import * as assert from 'node:assert/strict';
import {
  Bottleneck,
  describeOutcome,
  parseBottleneck,
  parseRunDetailFields,
  parseRunSummary,
  RunOutcome,
  RunSummary,
} from '../../src/domain/run';
import {
  bottleneckLabel,
  hintLabel,
  outcomeLines,
  runDescription,
  runLabel,
  statusLabel,
  triggerLabel,
} from '../../src/domain/runFormat';
import { escapeMarkdown } from '../../src/domain/text';
import { findUnescaped, HOSTILE_TEXTS } from './helpers';

const NOW = new Date('2026-02-15T12:05:00.000Z');

function run(over: Partial<RunSummary> = {}): RunSummary {
  return {
    runId: 'r1',
    scopeType: 'workspace',
    scopeId: '/w',
    status: 'SUCCEEDED',
    rawStatus: 'SUCCEEDED',
    triggeredBy: 'SESSION_START',
    triggeredAt: new Date('2026-02-15T12:00:00.000Z'),
    startedAt: null,
    finishedAt: null,
    findingsCount: 3,
    topBottleneckCategory: 'gate',
    reasonCode: null,
    errorClass: null,
    durationMs: 72_000,
    timeoutMs: null,
    ...over,
  };
}

function bn(over: Partial<Bottleneck> = {}): Bottleneck {
  return {
    dimensionType: 'gate',
    dimensionKey: 'GATE_PRD_REQUIRED',
    observedP50Ms: 45_000,
    baselineP50Ms: 12_000,
    ratio: 3.2,
    sampleCount: 5,
    exceedanceCount: 3,
    evidenceTraceIds: [],
    improvementId: null,
    ...over,
  };
}

describe('runFormat: statusLabel', () => {
  const cases: { name: string; input: Pick<RunSummary, 'status' | 'rawStatus'>; expected: string }[] = [
    { name: 'QUEUED', input: { status: 'QUEUED', rawStatus: 'QUEUED' }, expected: 'Queued' },
    { name: 'RUNNING', input: { status: 'RUNNING', rawStatus: 'RUNNING' }, expected: 'Running' },
    { name: 'SUCCEEDED', input: { status: 'SUCCEEDED', rawStatus: 'SUCCEEDED' }, expected: 'Succeeded' },
    { name: 'FAILED', input: { status: 'FAILED', rawStatus: 'FAILED' }, expected: 'Failed' },
    { name: 'TIMED_OUT', input: { status: 'TIMED_OUT', rawStatus: 'TIMED_OUT' }, expected: 'Timed out' },
    { name: 'CANCELLED', input: { status: 'CANCELLED', rawStatus: 'CANCELLED' }, expected: 'Cancelled' },
    {
      name: 'FAILED_ENQUEUE',
      input: { status: 'FAILED_ENQUEUE', rawStatus: 'FAILED_ENQUEUE' },
      expected: 'Enqueue failed',
    },
    {
      name: 'UNKNOWN with raw',
      input: { status: 'UNKNOWN', rawStatus: 'ARCHIVED' },
      expected: 'Unknown status (ARCHIVED)',
    },
    { name: 'UNKNOWN empty', input: { status: 'UNKNOWN', rawStatus: null }, expected: 'Unknown status (empty)' },
  ];
  for (const c of cases) it(c.name, () => assert.equal(statusLabel(c.input), c.expected));
});

describe('runFormat: triggerLabel and hintLabel', () => {
  const cases: { input: string | null; expected: string }[] = [
    { input: 'SESSION_START', expected: 'session start' },
    { input: 'MANUAL', expected: 'manual' },
    { input: 'SCHEDULED', expected: 'scheduled' },
    { input: 'CLI', expected: 'CLI' },
    { input: null, expected: 'unknown trigger' },
    { input: 'WEBHOOK', expected: 'WEBHOOK' },
  ];
  for (const c of cases) it(`trigger ${c.input}`, () => assert.equal(triggerLabel(c.input), c.expected));
  const hints: { input: 'never-started' | 'waiting-for-worker' | 'overdue' | null; expected: string | null }[] = [
    { input: 'never-started', expected: 'never started' },
    { input: 'waiting-for-worker', expected: 'waiting for a worker' },
    { input: 'overdue', expected: 'overdue' },
    { input: null, expected: null },
  ];
  for (const c of hints) it(`hint ${c.input}`, () => assert.equal(hintLabel(c.input), c.expected));
});

describe('runFormat: runLabel (leads with the finding)', () => {
  const top = { dimensionType: 'gate', dimensionKey: 'GATE_PRD_REQUIRED', ratio: 3.2 };
  const cases: { name: string; input: RunSummary; expected: string }[] = [
    {
      name: 'succeeded with a top bottleneck',
      input: run({ topBottleneck: top }),
      expected: 'gate:GATE_PRD_REQUIRED 3.2×',
    },
    {
      name: 'succeeded, top bottleneck without a ratio',
      input: run({ topBottleneck: { ...top, ratio: null } }),
      expected: 'gate:GATE_PRD_REQUIRED ?×',
    },
    { name: 'succeeded, only the category known', input: run(), expected: 'gate' },
    {
      name: 'succeeded without findings',
      input: run({ findingsCount: 0, topBottleneckCategory: null }),
      expected: 'No bottlenecks',
    },
    {
      name: 'succeeded with insufficient data',
      input: run({ findingsCount: 0, topBottleneckCategory: null, reasonCode: 'INSUFFICIENT_DATA' }),
      expected: 'Insufficient data',
    },
    {
      name: 'succeeded, findings counted but nothing named',
      input: run({ findingsCount: 2, topBottleneckCategory: null }),
      expected: '2 findings',
    },
    {
      name: 'running: state and elapsed time since start',
      input: run({ status: 'RUNNING', rawStatus: 'RUNNING', startedAt: new Date('2026-02-15T12:03:48Z') }),
      expected: 'Running · 1m 12s',
    },
    {
      name: 'running without started_at: since triggered',
      input: run({ status: 'RUNNING', rawStatus: 'RUNNING' }),
      expected: 'Running · 5m 00s',
    },
    {
      name: 'queued just now',
      input: run({
        status: 'QUEUED',
        rawStatus: 'QUEUED',
        triggeredAt: new Date('2026-02-15T12:04:55Z'),
        triggeredBy: 'MANUAL',
      }),
      expected: 'Queued · 5.0 s',
    },
    {
      name: 'queued, trigger time unknown',
      input: run({ status: 'QUEUED', rawStatus: 'QUEUED', triggeredAt: null }),
      expected: 'Queued',
    },
    {
      name: 'queued with the clock skewed ahead',
      input: run({ status: 'QUEUED', rawStatus: 'QUEUED', triggeredAt: new Date('2026-02-15T12:05:30Z') }),
      expected: 'Queued · 0 ms',
    },
    {
      name: 'failed: its error class',
      input: run({ status: 'FAILED', rawStatus: 'FAILED', errorClass: 'DatabaseError' }),
      expected: 'Failed: DatabaseError',
    },
    {
      name: 'timed out',
      input: run({ status: 'TIMED_OUT', rawStatus: 'TIMED_OUT', errorClass: 'TimeoutError' }),
      expected: 'Timed out: TimeoutError',
    },
    { name: 'failed without a class', input: run({ status: 'FAILED', rawStatus: 'FAILED' }), expected: 'Failed' },
    {
      name: 'enqueue failed',
      input: run({ status: 'FAILED_ENQUEUE', rawStatus: 'FAILED_ENQUEUE', errorClass: 'EnqueueError' }),
      expected: 'Enqueue failed: EnqueueError',
    },
    { name: 'cancelled', input: run({ status: 'CANCELLED', rawStatus: 'CANCELLED' }), expected: 'Cancelled' },
    {
      name: 'unknown status',
      input: run({ status: 'UNKNOWN', rawStatus: 'ARCHIVED', triggeredAt: null, triggeredBy: null }),
      expected: 'Unknown status (ARCHIVED)',
    },
  ];
  for (const c of cases) it(c.name, () => assert.equal(runLabel(c.input, NOW), c.expected));

  it("the analyzer's example fits a 300 px side bar (≤ 32 characters)", () => {
    assert.ok(runLabel(run({ topBottleneck: top }), NOW).length <= 32);
  });
});

describe('runFormat: runDescription', () => {
  const cases: { name: string; input: RunSummary; hint: string | null; expected: string }[] = [
    { name: 'all parts', input: run(), hint: null, expected: 'gate · 3 findings · 1m 12s' },
    {
      name: 'the category is not repeated when the label names the top bottleneck',
      input: run({ topBottleneck: { dimensionType: 'gate', dimensionKey: 'G', ratio: 2 } }),
      hint: null,
      expected: '3 findings · 1m 12s',
    },
    { name: 'one finding', input: run({ findingsCount: 1 }), hint: null, expected: 'gate · 1 finding · 1m 12s' },
    {
      name: 'zero findings (the label says so)',
      input: run({ findingsCount: 0, topBottleneckCategory: null }),
      hint: null,
      expected: '1m 12s',
    },
    {
      name: 'findings count not shown unless succeeded',
      input: run({ status: 'FAILED', rawStatus: 'FAILED', topBottleneckCategory: null }),
      hint: null,
      expected: '1m 12s',
    },
    {
      name: 'failed: the error class is in the label, not here',
      input: run({ status: 'FAILED', rawStatus: 'FAILED', topBottleneckCategory: null, errorClass: 'TimeoutError' }),
      hint: null,
      expected: '1m 12s',
    },
    {
      name: 'with hint',
      input: run({ status: 'QUEUED', topBottleneckCategory: null, durationMs: null }),
      hint: 'waiting for a worker',
      expected: 'waiting for a worker',
    },
    {
      name: 'nothing known',
      input: run({ topBottleneckCategory: null, findingsCount: null, durationMs: null }),
      hint: null,
      expected: '',
    },
  ];
  for (const c of cases) it(c.name, () => assert.equal(runDescription(c.input, c.hint), c.expected));

  it('with the time: age and trigger first', () => {
    assert.equal(
      runDescription(run({ topBottleneck: { dimensionType: 'gate', dimensionKey: 'G', ratio: 2 } }), null, NOW),
      '5m ago · session start · 3 findings · 1m 12s',
    );
    assert.equal(
      runDescription(
        run({ status: 'RUNNING', rawStatus: 'RUNNING', topBottleneckCategory: null, findingsCount: null }),
        'overdue',
        NOW,
      ),
      '5m ago · session start · overdue',
    );
  });
});

describe('run: parseRunSummary reads the top bottleneck columns', () => {
  const base = { run_id: 'r', status: 'SUCCEEDED', top_bottleneck_category: 'gate' };
  const cases: { name: string; row: Record<string, unknown>; expected: RunSummary['topBottleneck'] }[] = [
    {
      name: 'all three',
      row: { ...base, top_type: 'gate', top_key: 'GATE_PRD_REQUIRED', top_ratio: 3.2 },
      expected: { dimensionType: 'gate', dimensionKey: 'GATE_PRD_REQUIRED', ratio: 3.2 },
    },
    { name: 'no key: none', row: { ...base, top_type: 'gate', top_ratio: 3.2 }, expected: null },
    {
      name: 'no type: the category',
      row: { ...base, top_key: 'K', top_ratio: '2.5' },
      expected: { dimensionType: 'gate', dimensionKey: 'K', ratio: 2.5 },
    },
    {
      name: 'hostile ratio',
      row: { ...base, top_key: 'K', top_type: 'gate', top_ratio: { x: 1 } },
      expected: { dimensionType: 'gate', dimensionKey: 'K', ratio: null },
    },
    {
      name: 'key with a line break is cleaned',
      row: { ...base, top_key: 'A\nB', top_type: 'gate' },
      expected: { dimensionType: 'gate', dimensionKey: 'A B', ratio: null },
    },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(parseRunSummary(c.row)?.topBottleneck, c.expected));
});

describe('runFormat: bottleneckLabel', () => {
  const cases: { name: string; input: Bottleneck; expected: string }[] = [
    { name: 'the analyzer example', input: bn(), expected: '3.2× gate:GATE_PRD_REQUIRED — p50 45.0 s vs 12.0 s' },
    {
      name: 'from an untrusted row with numeric strings',
      input: parseBottleneck({
        dimension_type: 'gate',
        dimension_key: 'GATE_PRD_REQUIRED',
        ratio: '3.2',
        observed_p50_ms: '45000',
        baseline_p50_ms: '12000',
      }) as Bottleneck,
      expected: '3.2× gate:GATE_PRD_REQUIRED — p50 45.0 s vs 12.0 s',
    },
    {
      name: 'large ratio, minutes',
      input: bn({
        ratio: 12.4,
        dimensionType: 'phase',
        dimensionKey: 'LEAD',
        observedP50Ms: 300_000,
        baselineP50Ms: 24_000,
      }),
      expected: '12× phase:LEAD — p50 5m 00s vs 24.0 s',
    },
    {
      name: 'unknown numbers',
      input: bn({ ratio: null, observedP50Ms: null, baselineP50Ms: null }),
      expected: '?× gate:GATE_PRD_REQUIRED — p50 — vs —',
    },
  ];
  for (const c of cases) it(c.name, () => assert.equal(bottleneckLabel(c.input), c.expected));
});

describe('runFormat: outcomeLines', () => {
  const cases: { name: string; input: RunOutcome; expected: string[] }[] = [
    {
      name: 'bottlenecks, all shown',
      input: { kind: 'bottlenecks', items: [bn(), bn({ ratio: 2, dimensionKey: 'B' })], total: 2, tracesScanned: 10 },
      expected: ['3.2× gate:GATE_PRD_REQUIRED — p50 45.0 s vs 12.0 s', '2.0× gate:B — p50 45.0 s vs 12.0 s'],
    },
    {
      name: 'bottlenecks, more than shown',
      input: { kind: 'bottlenecks', items: [bn()], total: 8, tracesScanned: 10 },
      expected: ['3.2× gate:GATE_PRD_REQUIRED — p50 45.0 s vs 12.0 s', '… and 7 more (Show Run Details)'],
    },
    {
      name: 'no bottlenecks, traces known',
      input: { kind: 'no-bottlenecks', tracesScanned: 12 },
      expected: ['No bottlenecks (12 traces scanned)'],
    },
    {
      name: 'no bottlenecks, one trace',
      input: { kind: 'no-bottlenecks', tracesScanned: 1 },
      expected: ['No bottlenecks (1 trace scanned)'],
    },
    {
      name: 'no bottlenecks, traces unknown',
      input: { kind: 'no-bottlenecks', tracesScanned: null },
      expected: ['No bottlenecks'],
    },
    {
      name: 'insufficient data',
      input: { kind: 'insufficient-data', tracesScanned: 0 },
      expected: ['Insufficient data: no traces to analyse yet'],
    },
    {
      name: 'error with class and message',
      input: { kind: 'error', errorClass: 'TimeoutError', message: 'took too long' },
      expected: ['TimeoutError: took too long'],
    },
    {
      name: 'error with nothing',
      input: { kind: 'error', errorClass: null, message: null },
      expected: ['Error: no message recorded'],
    },
    {
      name: 'error message with line breaks stays one line',
      input: { kind: 'error', errorClass: 'Error', message: 'boom\n    at f (x.js:1)\n    at g' },
      expected: ['Error: boom at f (x.js:1) at g'],
    },
    {
      name: 'cancelled with reason',
      input: { kind: 'cancelled', reasonCode: 'DUPLICATE_SESSION_START' },
      expected: ['Cancelled (DUPLICATE_SESSION_START)'],
    },
    { name: 'cancelled without reason', input: { kind: 'cancelled', reasonCode: null }, expected: ['Cancelled'] },
    {
      name: 'queued',
      input: { kind: 'pending', status: 'QUEUED' },
      expected: ['Queued: waiting for a worker to pick it up'],
    },
    {
      name: 'running',
      input: { kind: 'pending', status: 'RUNNING' },
      expected: ['Running: findings appear when it finishes'],
    },
    {
      name: 'unknown status',
      input: { kind: 'unknown-status', rawStatus: 'ARCHIVED' },
      expected: ['Unknown status "ARCHIVED": this extension may be older than the backend'],
    },
    {
      name: 'unknown empty status',
      input: { kind: 'unknown-status', rawStatus: null },
      expected: ['Unknown status "": this extension may be older than the backend'],
    },
    {
      name: 'malformed',
      input: { kind: 'malformed', detail: 'output_ref is not an object' },
      expected: ['Findings could not be read: output_ref is not an object'],
    },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(outcomeLines(c.input), c.expected));

  it('a 4000-character multi-line error message yields one bounded line', () => {
    const d = parseRunDetailFields({ status: 'FAILED', error_class: 'Error', error_message: 'line\n'.repeat(2000) });
    assert.ok(d);
    const lines = outcomeLines(describeOutcome(d));
    assert.equal(lines.length, 1);
    assert.ok(!/[\r\n]/.test(lines[0]));
    assert.ok(lines[0].length <= 600, `length ${lines[0].length}`);
  });
});

describe('runFormat: hostile text through labels, then escapeMarkdown', () => {
  for (const hostile of HOSTILE_TEXTS) {
    it(`every label is one line and fully escapable: ${JSON.stringify(hostile).slice(0, 50)}`, () => {
      const r = parseRunSummary({
        run_id: 'r',
        status: hostile,
        triggered_by: hostile,
        triggered_at: '2026-02-15T12:00:00Z',
        top_bottleneck_category: hostile,
        duration_ms: 5,
        top_key: hostile,
        top_type: hostile,
        top_ratio: hostile,
      });
      assert.ok(r);
      const rs = parseRunSummary({
        run_id: 'r',
        status: 'SUCCEEDED',
        triggered_by: hostile,
        triggered_at: '2026-02-15T12:00:00Z',
        top_key: hostile,
        top_type: hostile,
        error_class: hostile,
      });
      assert.ok(rs);
      const d = parseRunDetailFields({
        status: 'FAILED',
        error_class: hostile,
        error_message: hostile,
        reason_code: hostile,
      });
      assert.ok(d);
      const b = parseBottleneck({ dimension_type: hostile, dimension_key: hostile, ratio: 2 });
      assert.ok(b);
      const texts = [
        runLabel(r, NOW),
        runDescription(r, null),
        runLabel(rs, NOW),
        runDescription(rs, null, NOW),
        runLabel({ ...rs, status: 'FAILED' }, NOW),
        bottleneckLabel(b),
        ...outcomeLines(describeOutcome(d)),
        ...outcomeLines(describeOutcome({ ...d, status: 'CANCELLED' })),
        ...outcomeLines(describeOutcome({ ...d, status: 'UNKNOWN', rawStatus: r.rawStatus })),
      ];
      for (const t of texts) {
        assert.ok(!/[\r\n]/.test(t), `line break in ${JSON.stringify(t)}`);
        assert.equal(findUnescaped(escapeMarkdown(t)), null);
      }
    });
  }
});
