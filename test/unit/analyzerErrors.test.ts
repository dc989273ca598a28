// The analyzer's `errors`: stored on the row (masked, bounded) and read back grouped for the view.
import * as assert from 'node:assert/strict';
import { finishFromResult, storeAnalyzerErrors } from '../../src/domain/analysisRun';
import {
  AnalyzerError,
  analyzerErrorsOf,
  MAX_ERROR_ENTRY_CHARS,
  MAX_STORED_ERRORS,
  parseAnalyzerError,
} from '../../src/domain/analyzerErrors';
import { describeOutcome, parseRunDetailFields } from '../../src/domain/run';
import { analyzerErrorLines, errorLine, outcomeLines } from '../../src/domain/runFormat';
import { renderRunDocument } from '../../src/domain/runReport';
import { SERVICE_JWT } from './helpers';

const T0 = Date.UTC(2026, 1, 15, 12, 0, 0);
// What PostgREST 12 returns as `message` for the analyzer's insert against upstream's table
// (devkit/stack/sql/007_analyzer_tables.sql): the lineage trigger first, the CHECKs when it is satisfied.
const LINEAGE = 'lineage_required: source_type and source_id must both be set or both be null';
const CHECK_SOURCE =
  'new row for relation "protocol_improvement_queue" violates check constraint "protocol_improvement_queue_source_type_check"';
const gate = (ratio: number) => ({
  dimension_type: 'gate',
  dimension_key: 'G',
  ratio,
  observed_p50_ms: 9,
  baseline_p50_ms: 1,
});

describe('analyzerErrors: parseAnalyzerError (the analyzer’s format, untrusted)', () => {
  const cases: [string, AnalyzerError][] = [
    [
      `create_failed:GATE_PRD_REQUIRED: ${CHECK_SOURCE}`,
      {
        kind: 'item-refused',
        dimensionKey: 'GATE_PRD_REQUIRED',
        refusal: { kind: 'check', constraint: 'protocol_improvement_queue_source_type_check' },
      },
    ],
    [
      `create_failed:EXEC: ${LINEAGE}`,
      { kind: 'item-refused', dimensionKey: 'EXEC', refusal: { kind: 'message', text: LINEAGE } },
    ],
    [
      'create_failed:TESTING: new row violates row-level security policy for table "protocol_improvement_queue"',
      { kind: 'item-refused', dimensionKey: 'TESTING', refusal: { kind: 'row-level-security' } },
    ],
    [
      'create_failed:T: permission denied for table protocol_improvement_queue',
      { kind: 'item-refused', dimensionKey: 'T', refusal: { kind: 'permission' } },
    ],
    [
      'create_failed:T: null value in column "payload" of relation "protocol_improvement_queue" violates not-null constraint',
      { kind: 'item-refused', dimensionKey: 'T', refusal: { kind: 'not-null', column: 'payload' } },
    ],
    [
      'create_failed:T: duplicate key value violates unique constraint "protocol_improvement_queue_pkey"',
      {
        kind: 'item-refused',
        dimensionKey: 'T',
        refusal: { kind: 'unique', constraint: 'protocol_improvement_queue_pkey' },
      },
    ],
    [
      'create_failed:a:b: TypeError: fetch failed',
      { kind: 'item-unreachable', dimensionKey: 'a:b', message: 'TypeError: fetch failed' },
    ],
    ['create_failed:', { kind: 'item-refused', dimensionKey: null, refusal: { kind: 'message', text: '' } }],
    [
      'db_connection_error: fetchAllPaginated: page at offset 0 failed: connect ECONNREFUSED',
      { kind: 'trace-read', message: 'fetchAllPaginated: page at offset 0 failed: connect ECONNREFUSED' },
    ],
    ['something odd', { kind: 'other', code: null, message: 'something odd' }],
    ['rate_limit: too many', { kind: 'other', code: 'rate_limit', message: 'too many' }],
  ];
  for (const [input, expected] of cases)
    it(JSON.stringify(input).slice(0, 70), () => assert.deepEqual(parseAnalyzerError(input), expected));
});

describe('analyzerErrors: storing them on the row (finishFromResult)', () => {
  it('item errors with traces read: SUCCEEDED, kept as output_ref.errors next to what the hook writes', () => {
    const errors = ['GATE_PRD_REQUIRED', 'EXEC', 'TESTING'].map((k) => `create_failed:${k}: ${LINEAGE}`);
    const f = finishFromResult(
      { traces_scanned: 3000, dimensions_evaluated: 12, bottlenecks: [gate(5)], items_created: 0, errors },
      T0,
      T0 + 5,
    );
    assert.equal(f.status, 'SUCCEEDED');
    assert.deepEqual(f.output_ref!.errors, errors);
    assert.equal(f.output_ref!.errors_total, undefined);
    assert.deepEqual(Object.keys(f.output_ref!).sort(), [
      'bottlenecks',
      'dimensions_evaluated',
      'errors',
      'items_created',
      'traces_scanned',
    ]);
  });
  it('no errors: output_ref exactly as the hook writes it (no errors key)', () => {
    for (const errors of [[], undefined, null, [null, '', {}]]) {
      const f = finishFromResult({ traces_scanned: 5, bottlenecks: [], errors }, T0, T0);
      assert.equal('errors' in f.output_ref!, false, JSON.stringify(errors));
    }
  });
  it('masked like error_message: passwords, the key in use, JWTs', () => {
    const f = finishFromResult(
      {
        traces_scanned: 5,
        bottlenecks: [],
        errors: [`create_failed:K: postgres://u@h/db?password=hunter2&x key=sekrit-key-123 ${SERVICE_JWT}`],
      },
      T0,
      T0,
      ['sekrit-key-123'],
    );
    const [e] = f.output_ref!.errors!;
    assert.match(e, /password=\*\*\*/);
    for (const s of ['hunter2', 'sekrit-key-123', SERVICE_JWT]) assert.ok(!e.includes(s), s);
  });
  it('hostile: 10,000 entries of 1 MB are cut to 50 × 500 characters and counted', () => {
    const huge = 'x'.repeat(1_000_000);
    const raw = Array.from({ length: 10_000 }, () => `create_failed:K: ${huge}`);
    const t0 = Date.now();
    const s = storeAnalyzerErrors(raw)!;
    assert.ok(Date.now() - t0 < 1_000, 'bounded work');
    assert.equal(s.errors.length, MAX_STORED_ERRORS);
    assert.ok(s.errors.every((e) => e.length <= MAX_ERROR_ENTRY_CHARS));
    assert.equal(s.errors_total, 10_000);
    assert.ok(JSON.stringify(s).length < 30_000);
  });
  it('hostile: not a list, odd entries, a cycle: kept as text, never thrown', () => {
    const cyc: Record<string, unknown> = {};
    cyc.self = cyc;
    assert.deepEqual(storeAnalyzerErrors('db_connection_error: x'), { errors: ['db_connection_error: x'] });
    assert.deepEqual(storeAnalyzerErrors(42), { errors: ['42'] });
    assert.deepEqual(storeAnalyzerErrors({ code: 'E' }), { errors: ['{"code":"E"}'] });
    assert.equal(storeAnalyzerErrors([cyc])!.errors.length, 1);
    assert.deepEqual(storeAnalyzerErrors([new RangeError('r')]), { errors: ['RangeError: r'] });
    assert.deepEqual(storeAnalyzerErrors(['a\u0000\u202eb\nc']), { errors: ['ab c'] });
  });
  it('a read error with no traces is still FAILED, bounded even with 10,000 huge errors', () => {
    const f = finishFromResult(
      {
        traces_scanned: 0,
        bottlenecks: [],
        errors: Array.from({ length: 10_000 }, () => 'db_connection_error: ' + 'y'.repeat(100_000)),
      },
      T0,
      T0,
    );
    assert.equal(f.status, 'FAILED');
    assert.equal(f.error_class, 'db_connection_error');
    assert.ok(f.error_message!.length <= 2_000);
  });
});

describe('analyzerErrors: what the view says', () => {
  const detail = (output_ref: unknown) => describeOutcome(parseRunDetailFields({ status: 'SUCCEEDED', output_ref })!);
  const lines = (output_ref: unknown) => {
    const o = detail(output_ref);
    return o.kind === 'bottlenecks' || o.kind === 'no-bottlenecks' || o.kind === 'insufficient-data'
      ? analyzerErrorLines(o.analyzerErrors)
      : [];
  };
  it('three refused items: one line with the count and the reason; findings unchanged', () => {
    const errors = ['A', 'B', 'C'].map((k) => `create_failed:${k}: ${CHECK_SOURCE}`);
    const o = detail({ traces_scanned: 10, bottlenecks: [gate(5)], errors });
    assert.equal(o.kind, 'bottlenecks');
    assert.equal(outcomeLines(o).length, 1, 'the findings lines are what they were');
    assert.deepEqual(lines({ traces_scanned: 10, bottlenecks: [gate(5)], errors }), [
      '3 improvement items could not be created: the database refused them (check constraint protocol_improvement_queue_source_type_check)',
    ]);
  });
  it('one refused by the lineage trigger: singular, with the database’s message', () => {
    assert.deepEqual(lines({ traces_scanned: 10, bottlenecks: [], errors: [`create_failed:K: ${LINEAGE}`] }), [
      `An improvement item could not be created: the database refused it (${LINEAGE})`,
    ]);
  });
  it('mixed kinds: grouped by kind and reason, biggest first; unreachable is not a refusal', () => {
    const errors = [
      `create_failed:A: ${LINEAGE}`,
      `create_failed:B: ${CHECK_SOURCE}`,
      `create_failed:C: ${CHECK_SOURCE}`,
      'create_failed:D: TypeError: fetch failed',
      'weird',
    ];
    assert.deepEqual(lines({ traces_scanned: 10, bottlenecks: [], errors }), [
      '2 improvement items could not be created: the database refused them (check constraint protocol_improvement_queue_source_type_check)',
      `An improvement item could not be created: the database refused it (${LINEAGE})`,
      'An improvement item could not be created: the database was not reached (TypeError: fetch failed)',
      'Analyzer error: weird',
    ]);
  });
  it('many reasons: three shown, the rest counted; errors not stored are counted too', () => {
    const errors = Array.from({ length: 8 }, (_, i) => `create_failed:K${i}: reason ${i}`);
    const l = lines({ traces_scanned: 1, bottlenecks: [], errors, errors_total: 1000 });
    assert.equal(l.length, 5);
    assert.equal(l[3], '… and 5 more analyzer errors (Show Run Details)');
    assert.equal(l[4], '… and 992 more analyzer errors, not stored');
  });
  it('hostile rows: non-list errors, 10,000 entries, huge strings: bounded, never thrown', () => {
    assert.deepEqual(lines({ traces_scanned: 1, bottlenecks: [], errors: { a: 1 } }), ['Analyzer error: {"a":1}']);
    assert.deepEqual(lines({ traces_scanned: 1, bottlenecks: [], errors: null }), []);
    const many = Array.from({ length: 10_000 }, () => `create_failed:K: ${'z'.repeat(100_000)}`);
    const l = lines({ traces_scanned: 1, bottlenecks: [], errors: many, errors_total: 'lots' });
    assert.equal(l.length, 2);
    assert.ok(l[0].startsWith('200 improvement items could not be created'), l[0]);
    assert.ok(l[0].length < 400);
    assert.equal(l[1], '… and 9800 more analyzer errors, not stored');
    assert.deepEqual(analyzerErrorsOf('nope'), { entries: [], groups: [] });
  });
  it('Show Run Details: a section with the groups and each entry, all inert', () => {
    const evil = '[x](command:workbench.action.quit) <img src=x onerror=alert(1)> **b**';
    const doc = renderRunDocument({
      run_id: 'r',
      status: 'SUCCEEDED',
      output_ref: { traces_scanned: 5, bottlenecks: [], errors: [`create_failed:${evil}: ${evil}`] },
    });
    assert.match(doc, /## Analyzer errors/);
    const outside = doc.replace(/^(`{3,})[^\n]*\n[\s\S]*?\n\1$/gm, '').replace(/(`+)([\s\S]*?[^`])\1(?!`)/g, '');
    for (const needle of ['command:', '<img', '**b**']) assert.ok(!outside.includes(needle), needle);
    assert.ok(doc.includes('An improvement item could not be created'));
  });
});

describe('runFormat: one error prefix', () => {
  const cases: [string | null, string | null, string][] = [
    ['db_connection_error', 'db_connection_error: connect ECONNREFUSED', 'db_connection_error: connect ECONNREFUSED'],
    ['DB_Connection_Error', 'db_connection_error: x', 'db_connection_error: x'],
    ['TypeError', 'cannot read x', 'TypeError: cannot read x'],
    ['TimeoutError', 'TIMEOUT: the analysis did not finish', 'TimeoutError: TIMEOUT: the analysis did not finish'],
    [null, 'boom', 'Error: boom'],
    ['E', null, 'E: no message recorded'],
  ];
  for (const [cls, msg, expected] of cases) it(`${cls} + ${msg}`, () => assert.equal(errorLine(cls, msg), expected));
  it('a FAILED row of the analyzer’s read error: the child row says the class once', () => {
    const o = describeOutcome(
      parseRunDetailFields({
        status: 'FAILED',
        error_class: 'db_connection_error',
        error_message: 'db_connection_error: fetchAllPaginated: page at offset 0 failed: x',
      })!,
    );
    assert.deepEqual(outcomeLines(o), ['db_connection_error: fetchAllPaginated: page at offset 0 failed: x']);
  });
});
