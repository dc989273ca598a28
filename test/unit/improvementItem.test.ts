// Improvement items: parsing untrusted protocol_improvement_queue rows, and why a bottleneck has no
// item (refused · deduplicated · rate limit / guard · auto-create off · unknown), from the run's output_ref.
import * as assert from 'node:assert/strict';
import {
  decidedByRun,
  dedupeKeyOf,
  ImprovementItem,
  itemAnswer,
  ITEM_STATUSES,
  parseImprovementItem,
  resolveNoItem,
  runItemFacts,
  RunItemFacts,
  safeLikeTag,
  wouldDeduplicate,
} from '../../src/domain/improvementItem';
import { HOSTILE_TEXTS } from './helpers';

const ID = 'abcdefab-cdef-4abc-8def-abcdefabcdef';
const LINEAGE = 'lineage_required: source_type and source_id must both be set or both be null';

function row(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: ID,
    status: 'APPROVED',
    description: 'Bottleneck detected: gate:GATE_PRD_REQUIRED (4.78x baseline, …)',
    source_type: 'PLAN_TO_EXEC',
    improvement_type: 'VALIDATION_RULE',
    created_at: '2026-02-10T09:00:00Z',
    reviewed_at: '2026-02-11T09:00:00Z',
    reviewed_by: 'chairman',
    applied_at: null,
    assigned_sd_id: null,
    evidence_count: 5,
    dedupe_key: 'telemetry_bottleneck:gate:GATE_PRD_REQUIRED',
    run_id: '99999999-9999-4999-8999-999999999999',
    ...over,
  };
}

const noFacts: RunItemFacts = {
  refused: null,
  unreachable: null,
  rateLimited: false,
  guardUnavailable: false,
  autoCreateOff: false,
};

describe('improvementItem: parseImprovementItem', () => {
  it('reads every field', () => {
    assert.deepEqual(parseImprovementItem(row()), {
      id: ID,
      status: 'APPROVED',
      knownStatus: true,
      description: 'Bottleneck detected: gate:GATE_PRD_REQUIRED (4.78x baseline, …)',
      sourceType: 'PLAN_TO_EXEC',
      improvementType: 'VALIDATION_RULE',
      createdAt: new Date('2026-02-10T09:00:00Z'),
      reviewedAt: new Date('2026-02-11T09:00:00Z'),
      reviewedBy: 'chairman',
      appliedAt: null,
      assignedSdId: null,
      evidenceCount: 5,
      dedupeKey: 'telemetry_bottleneck:gate:GATE_PRD_REQUIRED',
      runId: '99999999-9999-4999-8999-999999999999',
    } satisfies ImprovementItem);
  });
  it('every status the CHECK names is known; anything else is kept raw and unknown', () => {
    for (const s of ITEM_STATUSES) assert.equal(parseImprovementItem(row({ status: s }))?.knownStatus, true, s);
    for (const s of ['IN_PROGRESS', 'pending', 'DONE']) {
      const item = parseImprovementItem(row({ status: s }))!;
      assert.equal(item.status, s);
      assert.equal(item.knownStatus, false);
    }
    assert.equal(parseImprovementItem(row({ status: null }))?.status, '—');
  });
  it('payload keys from a whole payload document too', () => {
    const item = parseImprovementItem(
      row({ dedupe_key: undefined, run_id: undefined, payload: { dedupe_key: 'k', run_id: 'r' } }),
    )!;
    assert.equal(item.dedupeKey, 'k');
    assert.equal(item.runId, 'r');
  });
  it('rows without a valid id are no item; junk fields are null', () => {
    for (const bad of [null, 'x', [], row({ id: 'nope' }), row({ id: 12 })])
      assert.equal(parseImprovementItem(bad), null);
    const item = parseImprovementItem({
      id: ID,
      status: { s: 1 },
      created_at: 'soon',
      evidence_count: -1,
      reviewed_by: [],
    })!;
    assert.equal(item.status, '—');
    assert.equal(item.knownStatus, false);
    assert.equal(item.createdAt, null);
    assert.equal(item.evidenceCount, null);
    assert.equal(item.reviewedBy, null);
  });
  it('hostile and huge text in every text field stays one bounded line', () => {
    const huge = 'y'.repeat(2_000_000);
    for (const text of [...HOSTILE_TEXTS, huge]) {
      const item = parseImprovementItem(
        row({
          status: text,
          description: text,
          source_type: text,
          improvement_type: text,
          reviewed_by: text,
          assigned_sd_id: text,
          dedupe_key: text,
          run_id: text,
        }),
      )!;
      for (const v of [
        item.status,
        item.description,
        item.sourceType,
        item.improvementType,
        item.reviewedBy,
        item.assignedSdId,
        item.dedupeKey,
        item.runId,
      ]) {
        assert.ok(v !== null);
        assert.ok(v.length <= 500, `bounded: ${v.length}`);
        assert.doesNotMatch(v, /[\r\n]/);
      }
    }
  });
  it('itemAnswer: a read row is the item; no (usable) row — deleted, or hidden — is missing', () => {
    assert.equal(itemAnswer(ID, parseImprovementItem(row())).kind, 'item');
    assert.deepEqual(itemAnswer(ID, null), { kind: 'missing', id: ID });
    assert.deepEqual(itemAnswer(ID, parseImprovementItem({ id: 'junk' })), { kind: 'missing', id: ID });
  });
});

describe('improvementItem: runItemFacts (the run’s output_ref, untrusted)', () => {
  const b = { dimensionType: 'gate', dimensionKey: 'GATE_A' };
  const list = [
    { dimension_type: 'gate', dimension_key: 'GATE_Z', ratio: 9, observed_p50_ms: 9 },
    { dimension_type: 'gate', dimension_key: 'GATE_A', ratio: 4, observed_p50_ms: 4 },
    { dimension_type: 'phase', dimension_key: 'EXEC', ratio: 3.5, observed_p50_ms: 3 },
  ];
  it('refused: the create_failed entry of exactly this key, with the database’s message', () => {
    const out = {
      bottlenecks: list,
      errors: [`create_failed:GATE_AB: other`, `create_failed:GATE_A: ${LINEAGE}`, 'db_connection_error: x'],
    };
    assert.equal(runItemFacts(out, b).refused, LINEAGE);
    assert.equal(runItemFacts(out, { dimensionType: 'gate', dimensionKey: 'GATE_Q' }).refused, null);
  });
  it('a hostile, huge refusal message is bounded to one line', () => {
    const out = { errors: [`create_failed:GATE_A: ${'z'.repeat(100_000)}\n[x](command:evil)`] };
    const r = runItemFacts(out, b).refused!;
    assert.ok(r.length <= 300);
    assert.doesNotMatch(r, /\n/);
  });
  it('an insert that never reached the database is not a refusal', () => {
    const f = runItemFacts({ errors: ['create_failed:GATE_A: TypeError: fetch failed'] }, b);
    assert.equal(f.refused, null);
    assert.match(f.unreachable ?? '', /fetch failed/);
  });
  it('rate limit: the last items_skipped_rate_limit bottlenecks in ratio order', () => {
    const out = { bottlenecks: [...list].reverse(), items_skipped_rate_limit: 2 };
    assert.equal(runItemFacts(out, b).rateLimited, true);
    assert.equal(runItemFacts(out, { dimensionType: 'phase', dimensionKey: 'EXEC' }).rateLimited, true);
    assert.equal(runItemFacts(out, { dimensionType: 'gate', dimensionKey: 'GATE_Z' }).rateLimited, false);
    assert.equal(runItemFacts({ ...out, items_skipped_rate_limit: 0 }, b).rateLimited, false);
    assert.equal(runItemFacts({ ...out, items_skipped_rate_limit: 'lots' }, b).rateLimited, false);
    assert.equal(runItemFacts({ items_skipped_rate_limit: 3, bottlenecks: 'x' }, b).rateLimited, false);
  });
  it('guard unavailable and auto-create off when the output says so; nothing for junk', () => {
    assert.equal(runItemFacts({ errors: ['GUARD_UNAVAILABLE: daily count null'] }, b).guardUnavailable, true);
    assert.equal(runItemFacts({ guard_unavailable: true }, b).guardUnavailable, true);
    assert.equal(runItemFacts({ enable_auto_create: false }, b).autoCreateOff, true);
    assert.equal(runItemFacts({ enable_auto_create: 'false' }, b).autoCreateOff, false);
    for (const junk of [null, undefined, 'x', 7, [], { errors: 'create_failed:GATE_A: refused' }])
      assert.deepEqual(runItemFacts(junk, b).rateLimited, false);
    // A lone string entry is the analyzer's report, however odd (analyzerErrorsOf keeps it).
    assert.equal(runItemFacts({ errors: 'create_failed:GATE_A: refused' }, b).refused, 'refused');
  });
});

describe('improvementItem: resolveNoItem (first match wins)', () => {
  const item = parseImprovementItem(row())!;
  const reason = (a: ReturnType<typeof resolveNoItem>) => (a.kind === 'none' ? a.reason : a.kind);
  it('refused beats everything', () => {
    assert.deepEqual(resolveNoItem({ ...noFacts, refused: LINEAGE, rateLimited: true }, item), {
      kind: 'none',
      reason: 'refused',
      detail: LINEAGE,
    });
  });
  it('what the run recorded beats the dedupe inference (the analyzer skips its dedupe reads for them)', () => {
    assert.equal(
      reason(resolveNoItem({ ...noFacts, autoCreateOff: true, rateLimited: true }, item)),
      'auto-create-off',
    );
    assert.equal(
      reason(resolveNoItem({ ...noFacts, rateLimited: true, guardUnavailable: true }, item)),
      'guard-unavailable',
    );
    assert.equal(reason(resolveNoItem({ ...noFacts, guardUnavailable: true }, item)), 'guard-unavailable');
    assert.equal(reason(resolveNoItem({ ...noFacts, rateLimited: true }, item)), 'rate-limit');
    for (const f of [
      { refused: 'x' },
      { autoCreateOff: true },
      { rateLimited: true },
      { guardUnavailable: true },
    ] as Partial<RunItemFacts>[])
      assert.equal(decidedByRun({ ...noFacts, ...f }), true, JSON.stringify(f));
    assert.equal(decidedByRun({ ...noFacts, unreachable: 'fetch failed' }), false);
  });
  it('then the deduplicating item, else unknown (with the unreachable insert’s message, if any)', () => {
    assert.deepEqual(resolveNoItem(noFacts, item), { kind: 'deduplicated', item });
    assert.deepEqual(resolveNoItem(noFacts, null), { kind: 'none', reason: 'unknown', detail: null });
    assert.deepEqual(resolveNoItem({ ...noFacts, unreachable: 'fetch failed' }, null), {
      kind: 'none',
      reason: 'unknown',
      detail: 'fetch failed',
    });
  });
});

describe('improvementItem: the analyzer’s dedupe, re-run as of the run’s start', () => {
  const start = new Date('2026-02-15T12:00:00Z');
  const at = (iso: string, status: string) => parseImprovementItem(row({ created_at: iso, status }))!;
  it('an open item created before the run matches, however old', () => {
    assert.equal(wouldDeduplicate(at('2026-01-01T00:00:00Z', 'PENDING'), start), true);
    assert.equal(wouldDeduplicate(at('2026-01-01T00:00:00Z', 'APPROVED'), start), true);
  });
  it('a closed item matches only inside the cooldown; nothing created after the run matches', () => {
    assert.equal(wouldDeduplicate(at('2026-02-15T00:00:00Z', 'APPLIED'), start), true);
    assert.equal(wouldDeduplicate(at('2026-02-14T11:00:00Z', 'REJECTED'), start), false);
    assert.equal(wouldDeduplicate(at('2026-02-15T12:00:01Z', 'PENDING'), start), false);
    assert.equal(wouldDeduplicate(at('bad', 'PENDING'), start), false);
  });
  it('dedupe key and the ILIKE tag are the analyzer’s; unsafe keys get no tag', () => {
    assert.equal(dedupeKeyOf('gate', 'G_1'), 'telemetry_bottleneck:gate:G_1');
    assert.equal(safeLikeTag('gate', 'GATE_PRD_REQUIRED'), 'gate:GATE_PRD_REQUIRED');
    for (const key of ['a,b', 'a)b', 'a"b', 'a*b', 'a b', '', 'x'.repeat(300)])
      assert.equal(safeLikeTag('gate', key), null);
  });
});
