import * as assert from 'node:assert/strict';
import { Bottleneck } from '../../src/domain/run';
import {
  ChangeKind,
  comparableRun,
  ComparableRun,
  compareRuns,
  newBottlenecks,
  parseBottleneckList,
  pickPreviousSucceeded,
  ratioChange,
  sameScope,
  summaryParts,
} from '../../src/domain/runComparison';
import { buildTrends, MAX_SERIES } from '../../src/domain/trends';
import { bn, HOSTILE_TEXTS } from './helpers';

function prev(bottlenecks: Bottleneck[], over: Partial<ComparableRun> = {}): ComparableRun {
  return { runId: 'prev', finishedAt: new Date('2026-02-01T00:00:00Z'), bottlenecks, insufficientData: false, ...over };
}
/** "kind type:key then→now" per change, for compact expectations. */
function marks(current: Bottleneck[], previous: ComparableRun | null): string[] | 'first' {
  const c = compareRuns(current, previous);
  if (c.kind === 'first') return 'first';
  return c.changes.map(
    (x) => `${x.kind} ${x.dimensionType}:${x.dimensionKey} ${x.ratioThen ?? '-'}→${x.ratioNow ?? '-'}`,
  );
}

describe('runComparison: compareRuns', () => {
  const gate = (r: number | null) => bn('gate', 'GATE_PRD_REQUIRED', r);
  const phase = (r: number | null) => bn('phase', 'LEAD', r);
  const sub = (r: number | null) => bn('subagent', 'DESIGN', r);
  const cases: { name: string; current: Bottleneck[]; previous: ComparableRun | null; expected: string[] | 'first' }[] =
    [
      { name: 'no previous succeeded run: first', current: [gate(3.2)], previous: null, expected: 'first' },
      {
        name: 'a bottleneck only in this run is new',
        current: [gate(3.2)],
        previous: prev([]),
        expected: ['new gate:GATE_PRD_REQUIRED -→3.2'],
      },
      {
        name: 'a higher ratio is worse',
        current: [gate(3.2)],
        previous: prev([gate(2.1)]),
        expected: ['worse gate:GATE_PRD_REQUIRED 2.1→3.2'],
      },
      {
        name: 'a lower ratio is better',
        current: [gate(2.1)],
        previous: prev([gate(3.2)]),
        expected: ['better gate:GATE_PRD_REQUIRED 3.2→2.1'],
      },
      {
        name: 'an equal ratio is unchanged',
        current: [gate(3.2)],
        previous: prev([gate(3.2)]),
        expected: ['unchanged gate:GATE_PRD_REQUIRED 3.2→3.2'],
      },
      {
        name: 'tie at display precision (3.21 vs 3.24) is unchanged',
        current: [gate(3.24)],
        previous: prev([gate(3.21)]),
        expected: ['unchanged gate:GATE_PRD_REQUIRED 3.21→3.24'],
      },
      {
        name: 'just over display precision (3.24 vs 3.26) is worse',
        current: [gate(3.26)],
        previous: prev([gate(3.24)]),
        expected: ['worse gate:GATE_PRD_REQUIRED 3.24→3.26'],
      },
      {
        name: 'one only in the previous run is resolved',
        current: [],
        previous: prev([gate(3.2)]),
        expected: ['resolved gate:GATE_PRD_REQUIRED 3.2→-'],
      },
      {
        name: "mixed: new, worse, better, unchanged and resolved, in this run's order then resolved",
        current: [sub(6), gate(4), phase(2)],
        previous: prev([gate(3), phase(2.5), bn('gate', 'GATE_DESIGN_REVIEW', 3.1)]),
        expected: [
          'new subagent:DESIGN -→6',
          'worse gate:GATE_PRD_REQUIRED 3→4',
          'better phase:LEAD 2.5→2',
          'resolved gate:GATE_DESIGN_REVIEW 3.1→-',
        ],
      },
      {
        name: 'same key, other type is a different bottleneck',
        current: [bn('phase', 'GATE_PRD_REQUIRED', 3)],
        previous: prev([gate(3)]),
        expected: ['new phase:GATE_PRD_REQUIRED -→3', 'resolved gate:GATE_PRD_REQUIRED 3→-'],
      },
      {
        name: 'previous run had no findings: all new',
        current: [gate(3), phase(2)],
        previous: prev([]),
        expected: ['new gate:GATE_PRD_REQUIRED -→3', 'new phase:LEAD -→2'],
      },
      { name: 'neither has findings: nothing', current: [], previous: prev([]), expected: [] },
      {
        name: 'unknown ratio on one side counts as unchanged',
        current: [gate(null)],
        previous: prev([gate(3)]),
        expected: ['unchanged gate:GATE_PRD_REQUIRED 3→-'],
      },
      {
        name: 'duplicate keys in a hostile row are counted once',
        current: [gate(4), gate(1)],
        previous: prev([gate(3), gate(9)]),
        expected: ['worse gate:GATE_PRD_REQUIRED 3→4'],
      },
      {
        name: 'hostile keys (__proto__, constructor, markup) are plain keys',
        current: [bn('gate', '__proto__', 3), bn('constructor', 'toString', 2)],
        previous: prev([bn('gate', '__proto__', 3), bn('gate', 'hasOwnProperty', 5)]),
        expected: ['unchanged gate:__proto__ 3→3', 'new constructor:toString -→2', 'resolved gate:hasOwnProperty 5→-'],
      },
    ];
  for (const c of cases) it(c.name, () => assert.deepEqual(marks(c.current, c.previous), c.expected));

  it('counts each kind and summarises in reading order, leaving out unchanged', () => {
    const c = compareRuns(
      [bn('a', '1', 5), bn('a', '2', 4), bn('a', '3', 1), bn('a', '4', 2)],
      prev([bn('a', '2', 3), bn('a', '3', 2), bn('a', '4', 2), bn('a', '5', 9), bn('a', '6', 9)]),
    );
    assert.equal(c.kind, 'compared');
    if (c.kind !== 'compared') return;
    assert.deepEqual(c.counts, { new: 1, worse: 1, better: 1, unchanged: 1, resolved: 2 } satisfies Record<
      ChangeKind,
      number
    >);
    assert.deepEqual(summaryParts(c), [
      [1, 'new'],
      [1, 'worse'],
      [1, 'better'],
      [2, 'resolved'],
    ]);
    assert.deepEqual(
      newBottlenecks(c).map((x) => x.dimensionKey),
      ['1'],
    );
  });

  it('summary is empty for a first run and for no change', () => {
    assert.deepEqual(summaryParts(compareRuns([bn('a', '1', 3)], null)), []);
    assert.deepEqual(summaryParts(compareRuns([bn('a', '1', 3)], prev([bn('a', '1', 3)]))), []);
    assert.deepEqual(newBottlenecks(compareRuns([bn('a', '1', 3)], null)), []);
  });

  it('carries over that the previous run had insufficient data', () => {
    const c = compareRuns([bn('a', '1', 3)], prev([], { insufficientData: true }));
    assert.ok(c.kind === 'compared' && c.previousInsufficientData && c.counts.new === 1);
  });
});

describe('runComparison: ratioChange', () => {
  const cases: [number | null, number | null, string][] = [
    [3, 3, 'unchanged'],
    [3, 3.04, 'unchanged'],
    [3, 3.05, 'worse'],
    [3, 2.94, 'better'],
    [null, 3, 'unchanged'],
    [3, null, 'unchanged'],
    [NaN, 3, 'unchanged'],
    [Infinity, 3, 'unchanged'],
  ];
  for (const [a, b, want] of cases) it(`${a} → ${b}: ${want}`, () => assert.equal(ratioChange(a, b), want));
});

describe('runComparison: parseBottleneckList (untrusted output_ref)', () => {
  const cases: { name: string; input: unknown; expected: string[] }[] = [
    { name: 'null', input: null, expected: [] },
    { name: 'a string', input: 'bottlenecks', expected: [] },
    { name: 'bottlenecks not a list', input: { bottlenecks: { 0: {} } }, expected: [] },
    {
      name: 'worst first whatever the stored order',
      input: {
        bottlenecks: [
          { dimension_type: 'a', dimension_key: 'x', ratio: 2 },
          { dimension_type: 'a', dimension_key: 'y', ratio: 5 },
        ],
      },
      expected: ['a:y', 'a:x'],
    },
    {
      name: 'a bare list (selected as output_ref->bottlenecks)',
      input: [{ dimension_type: 'a', dimension_key: 'x', ratio: 2 }],
      expected: ['a:x'],
    },
    {
      name: 'non-objects skipped, missing names become unknown',
      input: { bottlenecks: [1, 'x', null, { ratio: 3 }] },
      expected: ['unknown:unknown'],
    },
    {
      name: 'duplicates keep the worst',
      input: {
        bottlenecks: [
          { dimension_type: 'a', dimension_key: 'x', ratio: 2 },
          { dimension_type: 'a', dimension_key: 'x', ratio: 7 },
        ],
      },
      expected: ['a:x'],
    },
    {
      name: 'control characters are cleaned out of keys',
      input: { bottlenecks: [{ dimension_type: 'gate\n', dimension_key: 'A\u0000B\u202e', ratio: 2 }] },
      expected: ['gate:AB'],
    },
  ];
  for (const c of cases)
    it(c.name, () =>
      assert.deepEqual(
        parseBottleneckList(c.input).map((b) => `${b.dimensionType}:${b.dimensionKey}`),
        c.expected,
      ),
    );

  it('bounds a huge list', () => {
    const big = {
      bottlenecks: Array.from({ length: 5000 }, (_, i) => ({
        dimension_type: 'gate',
        dimension_key: `K${i}`,
        ratio: 3,
      })),
    };
    assert.equal(parseBottleneckList(big).length, 200);
  });

  it('hostile texts survive as plain keys and compare with themselves', () => {
    const ref = {
      bottlenecks: HOSTILE_TEXTS.map((t, i) => ({ dimension_type: 'gate', dimension_key: t, ratio: 2 + i / 100 })),
    };
    const list = parseBottleneckList(ref);
    assert.ok(list.length > 0);
    const c = compareRuns(list, prev(list));
    assert.ok(c.kind === 'compared' && c.counts.unchanged === list.length && c.counts.new === 0);
  });

  it('comparableRun notes insufficient data from the reason code or zero traces', () => {
    assert.equal(comparableRun('r', null, { bottlenecks: [], traces_scanned: 0 }, null).insufficientData, true);
    assert.equal(comparableRun('r', null, { bottlenecks: [] }, 'INSUFFICIENT_DATA').insufficientData, true);
    assert.equal(comparableRun('r', null, { bottlenecks: [], traces_scanned: 10 }, null).insufficientData, false);
  });
});

describe('runComparison: pickPreviousSucceeded and sameScope', () => {
  const t = (iso: string) => new Date(`2026-02-${iso}T00:00:00Z`);
  const r = (
    runId: string,
    status: string,
    day: string | null,
    scopeId: string | null = '/w',
    scopeType: string | null = 'workspace',
  ) => ({ runId, status, scopeType, scopeId, finishedAt: day ? t(day) : null });
  const current = r('now', 'SUCCEEDED', '10');
  const cases: {
    name: string;
    candidates: ReturnType<typeof r>[];
    expected: string | null;
    run?: ReturnType<typeof r>;
  }[] = [
    {
      name: 'the latest earlier SUCCEEDED run',
      candidates: [r('a', 'SUCCEEDED', '05'), r('b', 'SUCCEEDED', '08')],
      expected: 'b',
    },
    {
      name: 'a failed run in between is skipped',
      candidates: [r('a', 'SUCCEEDED', '05'), r('f', 'FAILED', '09')],
      expected: 'a',
    },
    { name: 'later runs are not previous', candidates: [r('later', 'SUCCEEDED', '11')], expected: null },
    { name: 'other scopes do not count', candidates: [r('o', 'SUCCEEDED', '09', '/other')], expected: null },
    {
      name: 'global does not count for a workspace run',
      candidates: [r('g', 'SUCCEEDED', '09', null, 'global')],
      expected: null,
    },
    {
      name: 'global compares with global',
      run: r('g2', 'SUCCEEDED', '10', null, 'global'),
      candidates: [r('g1', 'SUCCEEDED', '09', null, 'global'), r('w', 'SUCCEEDED', '09')],
      expected: 'g1',
    },
    { name: 'unfinished runs are skipped', candidates: [r('q', 'SUCCEEDED', null)], expected: null },
    { name: 'the run itself is not its own predecessor', candidates: [current], expected: null },
    {
      name: 'a run without finished_at has no predecessor',
      run: r('x', 'SUCCEEDED', null),
      candidates: [r('a', 'SUCCEEDED', '05')],
      expected: null,
    },
  ];
  for (const c of cases)
    it(c.name, () => assert.equal(pickPreviousSucceeded(c.run ?? current, c.candidates)?.runId ?? null, c.expected));

  it('sameScope: user and workspace scopes with the same id differ', () => {
    assert.equal(sameScope({ scopeType: 'user', scopeId: '/w' }, { scopeType: 'workspace', scopeId: '/w' }), false);
    assert.equal(sameScope({ scopeType: null, scopeId: null }, { scopeType: 'global', scopeId: null }), true);
  });
});

describe('trends: buildTrends', () => {
  const run = (runId: string, day: string, bs: Bottleneck[]): ComparableRun => ({
    runId,
    finishedAt: new Date(`2026-02-${day}T00:00:00Z`),
    bottlenecks: bs,
    insufficientData: false,
  });

  it('one series per bottleneck, oldest run first, gaps as null', () => {
    const t = buildTrends('/w', [
      run('r3', '03', [bn('gate', 'G', 3)]),
      run('r2', '02', []),
      run('r1', '01', [bn('gate', 'G', 2), bn('phase', 'LEAD', 4)]),
    ]);
    assert.deepEqual(
      t.runs.map((r) => r.runId),
      ['r1', 'r2', 'r3'],
    );
    assert.deepEqual(
      t.series.map((s) => [s.dimensionType, s.dimensionKey, s.ratios, s.latest]),
      [
        ['gate', 'G', [2, null, 3], 3],
        ['phase', 'LEAD', [4, null, null], 4],
      ],
    );
    assert.deepEqual(
      t.perRun.map((p) => p.bars.length),
      [2, 0, 1],
    );
    assert.equal(t.omittedSeries, 0);
  });

  it('caps the series and says how many were left out', () => {
    const many = Array.from({ length: MAX_SERIES + 3 }, (_, i) => bn('gate', `K${i}`, 2 + i / 10));
    const t = buildTrends('/w', [run('r1', '01', many)]);
    assert.equal(t.series.length, MAX_SERIES);
    assert.equal(t.omittedSeries, 3);
    assert.equal(t.series[0].dimensionKey, `K${MAX_SERIES + 2}`, 'worst first');
  });

  it('no runs: empty data, no throw', () => {
    assert.deepEqual(buildTrends('/w', []), { scopeLabel: '/w', runs: [], series: [], omittedSeries: 0, perRun: [] });
  });
});
