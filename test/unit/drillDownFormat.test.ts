// The wording of a bottleneck's drill-down: evidence rows, the item row (or why there is none), the
// item document and the run details' section; hostile database text in every field, nulls, missing rows.
import * as assert from 'node:assert/strict';
import {
  drillDownLines,
  evidenceNotices,
  evidenceSpanDescription,
  evidenceSpanFields,
  evidenceSpanLabel,
  itemDescription,
  itemRow,
  itemStatusText,
  renderItemDocument,
} from '../../src/domain/drillDownFormat';
import type { EvidenceAnswer, EvidenceSpan } from '../../src/domain/evidence';
import type { ImprovementItem, ItemAnswer } from '../../src/domain/improvementItem';
import { renderRunDocument } from '../../src/domain/runReport';
import { bn, HOSTILE_TEXTS } from './helpers';

const NOW = new Date('2026-12-07T12:00:00Z');
const ago = (ms: number) => new Date(NOW.getTime() - ms);

function span(over: Partial<EvidenceSpan> = {}): EvidenceSpan {
  return {
    traceId: '11111111-1111-4111-8111-111111111111',
    spanId: '22222222-2222-4222-8222-222222222222',
    sdId: 'SD-2026-001',
    sdKey: null,
    workflowExecutionId: 'PLAN-TO-EXEC-SD-2026-001-1765100000000',
    spanName: 'gate.execute',
    spanType: 'gate',
    durationMs: 4300,
    queueWaitMs: null,
    createdAt: ago(5 * 60_000),
    ...over,
  };
}

function item(over: Partial<ImprovementItem> = {}): ImprovementItem {
  return {
    id: '33333333-3333-4333-8333-333333333333',
    status: 'PENDING',
    knownStatus: true,
    description: 'Bottleneck detected: gate:GATE_PRD_REQUIRED (4.8x baseline)',
    sourceType: 'TELEMETRY_AUTO_ANALYSIS',
    improvementType: 'PERFORMANCE_BOTTLENECK',
    createdAt: ago(3 * 86_400_000),
    reviewedAt: null,
    reviewedBy: null,
    appliedAt: null,
    assignedSdId: null,
    evidenceCount: 5,
    dedupeKey: 'telemetry_bottleneck:gate:GATE_PRD_REQUIRED',
    runId: '44444444-4444-4444-8444-444444444444',
    ...over,
  };
}

/** Removes code spans (CommonMark rules), leaving the text a Markdown renderer interprets. */
function interpreted(md: string): string {
  return md.replace(/(`+)([\s\S]*?[^`])\1(?!`)/g, '');
}

/** Markdown a renderer would act on: links, HTML, images, emphasis of database text. */
const ACTIVE = /\]\(|<[a-z!/]|!\[|command:|https?:|www\.|&#|&amp;|\*\*bold|__bold|~~|\n#|\n>|\n-{3}|\|\s*table/i;

describe('drillDownFormat: evidence rows', () => {
  it('label is the SD key when the span carries one, else the SD id, then the span name', () => {
    assert.equal(evidenceSpanLabel(span()), 'SD-2026-001 · gate.execute');
    assert.equal(evidenceSpanLabel(span({ sdKey: 'SD-KEY-7' })), 'SD-KEY-7 · gate.execute');
    assert.equal(evidenceSpanLabel(span({ sdId: null })), 'no SD · gate.execute');
  });

  it('description: duration against the baseline p50, and the age', () => {
    assert.equal(evidenceSpanDescription(span(), 900, NOW), '4.3 s · 4.8× p50 900 ms · 5m ago');
    assert.equal(evidenceSpanDescription(span({ durationMs: 450 }), 900, NOW), '450 ms · 0.5× p50 900 ms · 5m ago');
  });

  it('description with nulls: no duration, no baseline, no time', () => {
    assert.equal(evidenceSpanDescription(span({ durationMs: null }), 900, NOW), '— · p50 900 ms · 5m ago');
    assert.equal(evidenceSpanDescription(span(), null, NOW), '4.3 s · 5m ago');
    assert.equal(evidenceSpanDescription(span(), 0, NOW), '4.3 s · p50 0 ms · 5m ago');
    assert.equal(evidenceSpanDescription(span({ createdAt: null }), null, NOW), '4.3 s · unknown time');
  });

  it('tooltip fields: trace id, workflow execution and queue wait ("not recorded" when null)', () => {
    const f = new Map(evidenceSpanFields(span()));
    assert.equal(f.get('Trace ID'), '11111111-1111-4111-8111-111111111111');
    assert.equal(f.get('Workflow execution'), 'PLAN-TO-EXEC-SD-2026-001-1765100000000');
    assert.equal(f.get('Queue wait'), 'not recorded');
    assert.equal(new Map(evidenceSpanFields(span({ queueWaitMs: 1500 }))).get('Queue wait'), '1.5 s');
    assert.equal(f.get('SD key'), null);
  });

  for (const h of HOSTILE_TEXTS) {
    it(`hostile span text stays one bounded line: ${JSON.stringify(h).slice(0, 40)}`, () => {
      const s = span({ sdKey: h, sdId: h, spanName: h.repeat(200), workflowExecutionId: h, spanType: h, traceId: h });
      const label = evidenceSpanLabel(s);
      assert.ok(!/[\r\n]/.test(label), label);
      assert.ok(label.length <= 160, `${label.length}`);
      for (const [, v] of evidenceSpanFields(s)) assert.ok(v === null || !/[\r\n]/.test(v));
    });
  }
});

describe('drillDownFormat: evidence notices (never "no evidence" for "couldn\'t load" or "can\'t read")', () => {
  const notices = (a: EvidenceAnswer) => evidenceNotices(a).map((n) => n.text);

  it('spans gone to retention are counted against the distinct ids asked for', () => {
    assert.deepEqual(notices({ kind: 'spans', spans: [span()], requested: 5, missing: 2 }), [
      '2 of 5 evidence spans are gone (retention)',
    ]);
    assert.deepEqual(notices({ kind: 'spans', spans: [], requested: 1, missing: 1 }), [
      'The evidence span is gone (retention)',
    ]);
    assert.deepEqual(notices({ kind: 'spans', spans: [], requested: 3, missing: 3 }), [
      '3 of 3 evidence spans are gone (retention)',
    ]);
    assert.deepEqual(notices({ kind: 'spans', spans: [span()], requested: 1, missing: 0 }), []);
  });

  it('traces present but none of this dimension is said so', () => {
    assert.deepEqual(notices({ kind: 'spans', spans: [], requested: 2, missing: 0 }), [
      'The evidence traces hold no span of this bottleneck',
    ]);
  });

  it('a read-only key: needs a key that can read traces, naming the role', () => {
    const [n] = evidenceNotices({ kind: 'needs-service-key', role: 'anon' });
    assert.equal(n.text, 'Needs a key that can read traces (service role); this key is anon');
    assert.equal(n.tone, 'warning');
    assert.doesNotMatch(n.text, /no evidence/i);
  });

  it("an error: couldn't load, with the message", () => {
    const [n] = evidenceNotices({ kind: 'error', message: 'HTTP 503: retry later' });
    assert.equal(n.text, "Couldn't load evidence: HTTP 503: retry later");
    assert.equal(n.tone, 'error');
  });

  it('no evidence ids and an unsupported dimension are info, each said plainly', () => {
    assert.match(notices({ kind: 'no-evidence-ids' })[0], /recorded no evidence traces/);
    assert.match(notices({ kind: 'unsupported-dimension', dimensionType: 'handoff' })[0], /"handoff"/);
  });

  for (const h of HOSTILE_TEXTS)
    it(`hostile message and role stay one line: ${JSON.stringify(h).slice(0, 40)}`, () => {
      for (const a of [
        { kind: 'error', message: h.repeat(100) },
        { kind: 'needs-service-key', role: h },
        { kind: 'unsupported-dimension', dimensionType: h },
      ] as EvidenceAnswer[])
        for (const n of evidenceNotices(a)) {
          assert.ok(!/[\r\n]/.test(n.text));
          assert.ok(n.text.length < 400, `${n.text.length}`);
        }
    });
});

describe('drillDownFormat: the item row', () => {
  it('an item: its status as the CHECK names it, its age; Show Improvement Item applies', () => {
    const r = itemRow({ kind: 'item', item: item() }, NOW);
    assert.equal(r.label, 'Improvement item PENDING');
    assert.equal(r.description, 'created 3d ago');
    assert.equal(r.itemId, '33333333-3333-4333-8333-333333333333');
  });

  it('reviewed and applied: who and when', () => {
    const r = itemRow(
      {
        kind: 'item',
        item: item({
          status: 'APPLIED',
          reviewedBy: 'alice',
          reviewedAt: ago(2 * 86_400_000),
          appliedAt: ago(86_400_000 + 1),
          assignedSdId: 'SD-FIX-9',
        }),
      },
      NOW,
    );
    assert.equal(r.label, 'Improvement item APPLIED');
    assert.equal(r.description, 'created 3d ago · reviewed by alice 2d ago · applied 24h ago · SD SD-FIX-9');
  });

  it('a status the CHECK does not allow (IN_PROGRESS) is shown as stored and said so', () => {
    assert.equal(
      itemStatusText({ status: 'IN_PROGRESS', knownStatus: false }),
      'IN_PROGRESS (not a status the table allows)',
    );
  });

  it('deduplicated into an older item: names it', () => {
    const r = itemRow({ kind: 'deduplicated', item: item({ status: 'APPROVED' }) }, NOW);
    assert.equal(r.label, 'Deduplicated into item 33333333 (APPROVED)');
    assert.equal(r.itemId, '33333333-3333-4333-8333-333333333333');
  });

  it('why there is none: each reason in plain words; no item id', () => {
    const label = (reason: Extract<ItemAnswer, { kind: 'none' }>['reason'], detail: string | null = null) =>
      itemRow({ kind: 'none', reason, detail }, NOW);
    assert.equal(label('refused', 'check constraint x').label, 'No improvement item: the database refused it');
    assert.equal(label('refused', 'check constraint x').description, 'check constraint x');
    assert.equal(label('refused').tone, 'error');
    assert.match(label('rate-limit').label, /limit was reached/);
    assert.match(label('guard-unavailable').label, /rate-limit check was unavailable/);
    assert.match(label('auto-create-off').label, /auto-create is off/);
    assert.match(label('unknown').label, /did not store why/);
    for (const r of ['refused', 'rate-limit', 'guard-unavailable', 'auto-create-off', 'unknown'] as const)
      assert.equal(label(r).itemId, undefined);
  });

  it('each row that is not an item says what to do or what it means', () => {
    assert.match(itemRow({ kind: 'needs-key', role: 'anon' }, NOW).hint ?? '', /service-role key/);
    assert.match(itemRow({ kind: 'error', message: 'x' }, NOW).hint ?? '', /Refresh/);
    assert.match(itemRow({ kind: 'none', reason: 'rate-limit', detail: null }, NOW).hint ?? '', /max_per_run/);
    assert.match(evidenceNotices({ kind: 'needs-service-key', role: 'anon' })[0].hint ?? '', /service-role key/);
    assert.match(evidenceNotices({ kind: 'error', message: 'x' })[0].hint ?? '', /Refresh/);
    assert.match(
      renderItemDocument({ kind: 'none', reason: 'rate-limit', detail: null }, 'x', NOW),
      /max\\_per\\_run/,
      'the hint is escaped in the document',
    );
  });

  it('missing, needs a key, error: said, never "no item"', () => {
    assert.match(itemRow({ kind: 'missing', id: 'abcdef0123' }, NOW).label, /abcdef01 is gone/);
    assert.equal(
      itemRow({ kind: 'needs-key', role: 'anon' }, NOW).label,
      'Needs a key that can read improvement items; this key is anon',
    );
    assert.equal(
      itemRow({ kind: 'error', message: 'timeout after 10 s' }, NOW).label,
      "Couldn't load the improvement item: timeout after 10 s",
    );
  });

  it('nulls everywhere: still a description', () => {
    const bare = item({ createdAt: null, description: null, sourceType: null, evidenceCount: null, dedupeKey: null });
    assert.equal(itemDescription(bare, NOW), 'created unknown time');
    assert.equal(itemDescription(item({ reviewedAt: ago(3_600_000) }), NOW), 'created 3d ago · reviewed 1h ago');
  });

  for (const h of HOSTILE_TEXTS)
    it(`hostile item text stays one bounded line: ${JSON.stringify(h).slice(0, 40)}`, () => {
      const hostile = item({
        id: h,
        status: h,
        knownStatus: false,
        description: h.repeat(300),
        reviewedBy: h,
        assignedSdId: h,
        sourceType: h,
        dedupeKey: h,
        runId: h,
      });
      for (const a of [
        { kind: 'item', item: hostile },
        { kind: 'deduplicated', item: hostile },
        { kind: 'missing', id: h },
        { kind: 'none', reason: 'refused', detail: h.repeat(100) },
        { kind: 'needs-key', role: h },
        { kind: 'error', message: h.repeat(100) },
      ] as ItemAnswer[]) {
        const r = itemRow(a, NOW);
        for (const s of [r.label, r.description, ...r.fields.map(([, v]) => v ?? '')]) {
          assert.ok(!/[\r\n]/.test(s), JSON.stringify(s));
          assert.ok(s.length <= 600, `${s.length}`);
        }
      }
    });
});

describe('drillDownFormat: documents', () => {
  it('the item document lists every field, each value in a code span', () => {
    const md = renderItemDocument({ kind: 'item', item: item() }, item().id, NOW);
    assert.match(md, /^# Improvement item `33333333-3333-4333-8333-333333333333`/);
    assert.match(md, /- \*\*Status:\*\* `PENDING`/);
    assert.match(md, /- \*\*Reviewed by:\*\* —/);
    assert.match(md, /- \*\*Dedupe key:\*\* `telemetry_bottleneck:gate:GATE_PRD_REQUIRED`/);
  });

  it('the item document for an answer without an item says why', () => {
    assert.match(
      renderItemDocument({ kind: 'needs-key', role: 'anon' }, 'x', NOW),
      /`Needs a key that can read improvement items; this key is anon`/,
    );
    assert.match(renderItemDocument({ kind: 'missing', id: 'x' }, 'x', NOW), /is gone/);
  });

  it('run details: each bottleneck with its evidence spans, notices and item', () => {
    const b = bn('gate', 'GATE_PRD_REQUIRED', 4.8);
    const lines = drillDownLines(
      b,
      { kind: 'spans', spans: [span()], requested: 3, missing: 2 },
      { kind: 'none', reason: 'refused', detail: 'lineage_required' },
      NOW,
    );
    const md = lines.join('\n');
    assert.match(md, /### `gate:GATE_PRD_REQUIRED`/);
    assert.match(md, /`SD-2026-001 · gate\.execute` — `4\.3 s · 4\.3× p50 1\.0 s · 5m ago`/);
    assert.match(md, /`2 of 3 evidence spans are gone \(retention\)`/);
    assert.match(md, /Item: `No improvement item: the database refused it` — `lineage_required`/);
    const doc = renderRunDocument(
      { run_id: 'r1', status: 'SUCCEEDED', output_ref: { bottlenecks: [{ dimension_type: 'gate' }] } },
      lines,
    );
    assert.match(doc, /## Evidence and improvement items\n\n### `gate:GATE_PRD_REQUIRED`/);
    assert.ok(doc.indexOf('## Evidence and improvement items') < doc.indexOf('## Full row'));
  });

  for (const h of HOSTILE_TEXTS)
    it(`hostile text renders literally in both documents: ${JSON.stringify(h).slice(0, 40)}`, () => {
      const hostile = item({ id: h, status: h, description: h, reviewedBy: h, dedupeKey: h, runId: h });
      const docs = [
        renderItemDocument({ kind: 'item', item: hostile }, h, NOW),
        renderItemDocument({ kind: 'error', message: h }, h, NOW),
        renderItemDocument({ kind: 'none', reason: 'refused', detail: h }, h, NOW),
        drillDownLines(
          bn(h, h, 2),
          {
            kind: 'spans',
            spans: [span({ sdId: h, spanName: h, traceId: h, workflowExecutionId: h })],
            requested: 1,
            missing: 0,
          },
          { kind: 'deduplicated', item: hostile },
          NOW,
        ).join('\n'),
        drillDownLines(
          bn('gate', 'k', 2),
          { kind: 'error', message: h },
          { kind: 'none', reason: 'refused', detail: h },
          NOW,
        ).join('\n'),
      ];
      for (const md of docs) {
        const outside = interpreted(md);
        assert.doesNotMatch(outside, ACTIVE, outside);
      }
    });
});
