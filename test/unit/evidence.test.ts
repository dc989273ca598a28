// Evidence spans: which column a dimension maps to, what is decided before any request (ids, dimension,
// key role), and the parsing of untrusted workflow_trace_log rows into the answer.
import * as assert from 'node:assert/strict';
import {
  distinctTraceIds,
  evidenceColumn,
  evidenceFromRows,
  MAX_EVIDENCE_ROWS,
  parseEvidenceSpan,
  planEvidence,
} from '../../src/domain/evidence';
import type { Bottleneck } from '../../src/domain/run';
import { parseBottleneck } from '../../src/domain/run';
import { HOSTILE_TEXTS } from './helpers';

const A = '11111111-1111-4111-8111-111111111111';
const B = '22222222-2222-4222-8222-222222222222';
const C = '33333333-3333-4333-8333-333333333333';

function bottleneck(over: Partial<Bottleneck> = {}): Bottleneck {
  return {
    dimensionType: 'gate',
    dimensionKey: 'GATE_PRD_REQUIRED',
    observedP50Ms: 4300,
    baselineP50Ms: 900,
    ratio: 4.78,
    sampleCount: 12,
    exceedanceCount: 8,
    evidenceTraceIds: [A, B, C],
    improvementId: null,
    ...over,
  };
}

function row(traceId: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    trace_id: traceId,
    span_id: 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa',
    sd_id: 'SD-2026-001',
    sd_key: null,
    workflow_execution_id: 'PLAN-TO-EXEC-SD-2026-001-1767000000000',
    span_name: 'gate.execute',
    span_type: 'gate',
    duration_ms: 4100,
    queue_wait_ms: null,
    created_at: '2026-02-15T11:00:00Z',
    ...over,
  };
}

describe('evidence: evidenceColumn (the analyzer’s DIMENSION_COLUMNS)', () => {
  it('maps the three dimensions and nothing else', () => {
    assert.equal(evidenceColumn('phase'), 'phase');
    assert.equal(evidenceColumn('gate'), 'gate_name');
    assert.equal(evidenceColumn('subagent'), 'subagent_name');
    for (const other of ['handoff', 'global', 'Gate', '', 'constructor', 'toString', '__proto__'])
      assert.equal(evidenceColumn(other), null, other);
  });
});

describe('evidence: distinctTraceIds', () => {
  it('keeps valid uuids once each (lower case, in order) and ignores anything else', () => {
    assert.deepEqual(distinctTraceIds([A, A.toUpperCase(), 'trace-a', '', null, 42, B, `${C} `, B]), [A, B]);
  });
});

describe('evidence: planEvidence (decided before any request)', () => {
  it('asks with the distinct ids, the column and the key for a service-role key', () => {
    assert.deepEqual(planEvidence(bottleneck({ evidenceTraceIds: [A, A, B] }), 'service_role'), {
      kind: 'ask',
      traceIds: [A, B],
      column: 'gate_name',
      key: 'GATE_PRD_REQUIRED',
    });
  });
  it('a bottleneck with no (valid) ids carries none, whatever the key', () => {
    for (const role of ['service_role', 'anon'] as const) {
      assert.deepEqual(planEvidence(bottleneck({ evidenceTraceIds: [] }), role), {
        kind: 'answer',
        answer: { kind: 'no-evidence-ids' },
      });
      assert.deepEqual(planEvidence(bottleneck({ evidenceTraceIds: ['trace-a', 'x'] }), role).kind, 'answer');
    }
  });
  it('an unknown dimension type is unsupported', () => {
    assert.deepEqual(planEvidence(bottleneck({ dimensionType: 'handoff' }), 'service_role'), {
      kind: 'answer',
      answer: { kind: 'unsupported-dimension', dimensionType: 'handoff' },
    });
  });
  it('anon and authenticated keys need a service-role key (RLS would answer zero rows, not an error)', () => {
    for (const role of ['anon', 'authenticated'] as const)
      assert.deepEqual(planEvidence(bottleneck(), role), {
        kind: 'answer',
        answer: { kind: 'needs-service-key', role },
      });
  });
  it('a key of unknown role is asked (and judged by the answer)', () => {
    assert.equal(planEvidence(bottleneck(), 'unknown').kind, 'ask');
  });
});

describe('evidence: parseEvidenceSpan (untrusted rows)', () => {
  it('reads every field', () => {
    assert.deepEqual(parseEvidenceSpan(row(A, { sd_key: 'SD-KEY-1', queue_wait_ms: '250' })), {
      traceId: A,
      spanId: 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa',
      sdId: 'SD-2026-001',
      sdKey: 'SD-KEY-1',
      workflowExecutionId: 'PLAN-TO-EXEC-SD-2026-001-1767000000000',
      spanName: 'gate.execute',
      spanType: 'gate',
      durationMs: 4100,
      queueWaitMs: 250,
      createdAt: new Date('2026-02-15T11:00:00Z'),
    });
  });
  it('sd_key from a whole attributes document too', () => {
    assert.equal(parseEvidenceSpan(row(A, { sd_key: undefined, attributes: { sd_key: 'K' } }))?.sdKey, 'K');
  });
  it('drops rows without a valid trace id; nulls and junk become null', () => {
    for (const bad of [null, 'x', [], row('not-a-uuid'), row(A, { trace_id: 7 })])
      assert.equal(parseEvidenceSpan(bad), null);
    const s = parseEvidenceSpan({
      trace_id: A,
      span_id: 'junk',
      sd_id: { a: 1 },
      workflow_execution_id: [],
      span_name: null,
      span_type: '',
      duration_ms: -5,
      queue_wait_ms: 'NaN',
      created_at: 'yesterday',
    });
    assert.deepEqual(s, {
      traceId: A,
      spanId: null,
      sdId: null,
      sdKey: null,
      workflowExecutionId: null,
      spanName: '—',
      spanType: null,
      durationMs: null,
      queueWaitMs: null,
      createdAt: null,
    });
  });
  it('hostile and huge text in every text field stays one bounded line', () => {
    const huge = 'x'.repeat(1_000_000);
    for (const text of [...HOSTILE_TEXTS, huge, '\u202eRTL\u0000nul\u0007bell']) {
      const s = parseEvidenceSpan(
        row(A, { sd_id: text, sd_key: text, workflow_execution_id: text, span_name: text, span_type: text }),
      )!;
      for (const v of [s.sdId, s.sdKey, s.workflowExecutionId, s.spanName, s.spanType]) {
        assert.ok(v !== null);
        assert.ok(v.length <= 200, `bounded: ${v.length}`);
        assert.doesNotMatch(v, /[\r\n\u0000-\u001f\u202e]/);
      }
    }
  });
});

describe('evidence: evidenceFromRows', () => {
  it('newest first; ids with no row are missing (retention); duplicate trace ids count once', () => {
    const ids = distinctTraceIds([A, B, C, A]);
    const a = evidenceFromRows(
      ids,
      [
        row(A, { created_at: '2026-02-15T10:00:00Z' }),
        row(C, { created_at: '2026-02-15T12:00:00Z' }),
        row(A, { created_at: '2026-02-15T11:00:00Z', span_id: null }),
      ],
      'service_role',
    );
    assert.equal(a.kind, 'spans');
    if (a.kind !== 'spans') return;
    assert.equal(a.requested, 3);
    assert.equal(a.missing, 1, 'B has no row');
    assert.deepEqual(
      a.spans.map((s) => `${s.traceId.slice(0, 1)}@${s.createdAt?.toISOString().slice(11, 13)}`),
      ['3@12', '1@11', '1@10'],
    );
  });
  it('every id gone: zero spans, all missing (a service-role key sees every row there is)', () => {
    assert.deepEqual(evidenceFromRows([A, B], [], 'service_role'), {
      kind: 'spans',
      spans: [],
      requested: 2,
      missing: 2,
    });
  });
  it('an unknown-role key that saw no row may not be allowed to: needs a service-role key, never "no evidence"', () => {
    assert.deepEqual(evidenceFromRows([A], [], 'unknown'), { kind: 'needs-service-key', role: 'unknown' });
    assert.equal(evidenceFromRows([A], [row(A)], 'unknown').kind, 'spans');
  });
  it('rows of traces not asked for, and malformed rows, are ignored; at most MAX_EVIDENCE_ROWS', () => {
    const other = '44444444-4444-4444-8444-444444444444';
    const a = evidenceFromRows([A], [row(other), 'junk', null, row(A)], 'service_role');
    assert.equal(a.kind === 'spans' && a.spans.length, 1);
    const many = evidenceFromRows(
      [A],
      Array.from({ length: 500 }, () => row(A)),
      'service_role',
    );
    assert.equal(many.kind === 'spans' && many.spans.length, MAX_EVIDENCE_ROWS);
  });
  it('ids from a stored bottleneck go through parseBottleneck first (at most 5, bounded)', () => {
    const b = parseBottleneck({
      dimension_type: 'gate',
      dimension_key: 'G',
      evidence_trace_ids: [A, 'x'.repeat(10_000), B, B, C, A, '55555555-5555-4555-8555-555555555555'],
    })!;
    const plan = planEvidence(b, 'service_role');
    assert.deepEqual(plan.kind === 'ask' && plan.traceIds, [A, B, C]);
  });
});
