// The drill-down (evidence spans, improvement item) against real parts: embedded PostgreSQL with
// upstream's workflow_trace_log and protocol_improvement_queue (schema, RLS), real PostgREST 12.0.2
// behind the edge, real supabase-js through SupabaseBackend, for each key role.
import * as assert from 'node:assert/strict';
import { SupabaseBackend } from '../../src/data/supabaseBackend';
import { checkProjectUrl } from '../../src/domain/credentials';
import type { EvidenceAnswer } from '../../src/domain/evidence';
import type { ItemAnswer } from '../../src/domain/improvementItem';
import { Bottleneck, parseBottleneck, parseRunSummary, RunOutcome, RunSummary } from '../../src/domain/run';
import { DrillDown, DrillDownConnection } from '../../src/runs/drillDown';
import { ITEM_REFUSAL } from '../../devkit/stack/analysisShapes';
import { DrillDownSeed, seedDrillDown } from '../../devkit/stack/drillDownSeed';
import { startStack, Stack } from '../../devkit/stack';

const SCOPE = '/home/me/drill';
const outcome: RunOutcome = { kind: 'no-bottlenecks', tracesScanned: 1 };

describe('drill-down against the local stack (real PostgreSQL + PostgREST + supabase-js), per key role', function () {
  this.timeout(120_000);
  let stack: Stack;
  let seed: DrillDownSeed;
  let run: RunSummary;
  let bottlenecks: Bottleneck[];
  const made: SupabaseBackend[] = [];

  function backend(key: string, timeoutMs = 5_000): SupabaseBackend {
    const c = checkProjectUrl(stack.url);
    if (!c.ok) throw new Error(c.message);
    const b = new SupabaseBackend({ url: c.url, origin: c.origin, key, timeoutMs, clientInfo: 'ehg-telemetry-tests' });
    made.push(b);
    return b;
  }
  function drill(b: SupabaseBackend): DrillDown {
    const connection = { snapshot: { backend: b }, onDidChangeBackend: () => ({ dispose: () => undefined }) };
    return new DrillDown(connection as unknown as DrillDownConnection);
  }
  const by = (key: string) => bottlenecks.find((b) => b.dimensionKey === key)!;
  /** Requests that reached a table since the log was cleared. */
  const requestsTo = (table: string) => stack.gateway.requestLog.filter((e) => e.path.endsWith(`/${table}`));

  before(async () => {
    stack = await startStack({});
    seed = await seedDrillDown(stack.databaseUrl, SCOPE);
    const [row] = await stack
      .query('SELECT to_jsonb(r) AS j FROM public.telemetry_analysis_runs r WHERE run_id = $1', [seed.runId])
      .then((rows) => rows.map((r) => r.j));
    run = parseRunSummary(row)!;
    assert.ok(run.startedAt);
    bottlenecks = (row.output_ref.bottlenecks as unknown[]).map(parseBottleneck).filter((b): b is Bottleneck => !!b);
    assert.equal(bottlenecks.length, 9);
  });
  after(async () => {
    for (const b of made) b.dispose();
    await stack?.stop();
  });
  beforeEach(() => {
    stack.gateway.setFault(null);
    stack.gateway.clearLog();
  });

  describe('service-role key', () => {
    it('evidence: one request by trace_id, filtered to the dimension; newest first; ids with no row counted as gone', async () => {
      const d = drill(backend(stack.keys.serviceRole));
      const a = await d.evidence(run, by('GATE_PRD_REQUIRED'));
      assert.equal(a.kind, 'spans');
      assert.ok(a.kind === 'spans');
      assert.equal(a.requested, 5);
      assert.equal(a.missing, 2, 'two evidence traces gone (retention)');
      assert.equal(a.spans.length, 3);
      assert.ok(
        a.spans.every((s) => s.spanName === 'gate.execute' && s.spanType === 'gate'),
        'no root span',
      );
      assert.ok(a.spans.every((s) => /^[A-Z-]+-SD-DEMO-\d{3}-\d+$/.test(s.workflowExecutionId ?? '')));
      assert.ok(a.spans.every((s) => s.sdId?.startsWith('SD-DEMO-') && s.sdKey === null && s.durationMs! > 0));
      const times = a.spans.map((s) => s.createdAt!.getTime());
      assert.deepEqual(
        times,
        [...times].sort((x, y) => y - x),
        'newest first',
      );
      const gone = new Set(seed.gone.GATE_PRD_REQUIRED);
      assert.ok(a.spans.every((s) => !gone.has(s.traceId)));
      const log = requestsTo('workflow_trace_log');
      assert.equal(log.length, 1);
      assert.match(decodeURIComponent(log[0].query), /trace_id=in\.\(/);
      assert.match(decodeURIComponent(log[0].query), /gate_name=eq\.GATE_PRD_REQUIRED/);
      // Cached per run: expanding again asks nothing.
      await d.evidence(run, by('GATE_PRD_REQUIRED'));
      assert.equal(requestsTo('workflow_trace_log').length, 1);
    });

    it('evidence: a trace id listed twice is asked for and counted once; its two spans both show', async () => {
      const a = await drill(backend(stack.keys.serviceRole)).evidence(run, by('GATE_DESIGN_REVIEW'));
      assert.ok(a.kind === 'spans');
      assert.equal(a.requested, 4);
      assert.equal(a.missing, 0);
      assert.equal(a.spans.length, 5);
    });

    it('evidence: phase and subagent dimensions read their own columns', async () => {
      const d = drill(backend(stack.keys.serviceRole));
      for (const key of ['EXEC', 'TESTING']) {
        const a = await d.evidence(run, by(key));
        assert.ok(a.kind === 'spans' && a.spans.length === 5 && a.missing === 0, key);
      }
    });

    it('items: every status the CHECK names, linked by improvement_id, with reviewer and times', async () => {
      const d = drill(backend(stack.keys.serviceRole));
      const seen: Record<string, ItemAnswer> = {};
      for (const b of bottlenecks.filter((x) => x.improvementId !== null))
        seen[b.dimensionKey] = await d.item(run, b, outcome);
      const items = Object.values(seen).map((a) => (a.kind === 'item' ? a.item : null));
      assert.ok(items.every((i) => i !== null));
      assert.deepEqual(items.map((i) => i.status).sort(), [
        'APPLIED',
        'APPROVED',
        'PENDING',
        'REJECTED',
        'SD_CREATED',
        'SUPERSEDED',
      ]);
      for (const i of items) {
        assert.equal(i.knownStatus, true);
        assert.equal(i.runId, seed.runId);
        assert.equal(i.id, seed.items[i.status as keyof DrillDownSeed['items']]);
        const reviewed = !['PENDING', 'SD_CREATED'].includes(i.status);
        assert.equal(i.reviewedBy !== null && i.reviewedAt !== null, reviewed, i.status);
        assert.equal(i.appliedAt !== null, i.status === 'APPLIED');
        assert.equal(i.assignedSdId !== null, i.status === 'SD_CREATED');
      }
      assert.equal(requestsTo('protocol_improvement_queue').length, 6, 'one request per item');
    });

    it('no item: deduplicated into the older open item, refused by the database, past the rate limit', async () => {
      const d = drill(backend(stack.keys.serviceRole));
      const scan = await d.item(run, by('GATE_SECURITY_SCAN'), outcome);
      assert.equal(scan.kind, 'deduplicated');
      assert.ok(scan.kind === 'deduplicated');
      assert.equal(scan.item.id, seed.dedupeItemId);
      assert.equal(scan.item.dedupeKey, 'telemetry_bottleneck:gate:GATE_SECURITY_SCAN');
      assert.deepEqual(await d.item(run, by('SECURITY'), outcome), {
        kind: 'none',
        reason: 'refused',
        detail: ITEM_REFUSAL,
      });
      assert.deepEqual(await d.item(run, by('GATE_RETROSPECTIVE'), outcome), {
        kind: 'none',
        reason: 'rate-limit',
        detail: null,
      });
    });

    it('dedupe as of the run’s start: a closed item outside the cooldown, or one filed after the run, is no reason', async () => {
      const key = 'telemetry_bottleneck:gate:GATE_RETROSPECTIVE';
      const insert = (status: string, at: Date) =>
        stack.query(
          `INSERT INTO public.protocol_improvement_queue (source_type, source_id, improvement_type, target_table,
             target_operation, description, payload, status, created_at, reviewed_at, reviewed_by)
           VALUES ('PLAN_TO_EXEC', gen_random_uuid(), 'VALIDATION_RULE', 'workflow_trace_log', 'UPDATE', 'x',
             jsonb_build_object('dedupe_key', $1::text), $2, $3, $3, 'r') RETURNING id`,
          [key, status, at.toISOString()],
        );
      const t0 = run.startedAt!.getTime();
      try {
        await insert('REJECTED', new Date(t0 - 2 * 86_400_000));
        await insert('PENDING', new Date(t0 + 60_000));
        const found = await backend(stack.keys.serviceRole).findDedupeItem(
          'gate',
          'GATE_RETROSPECTIVE',
          run.startedAt,
          24,
        );
        assert.deepEqual(found, { ok: true, value: null });
        const [inside] = await insert('REJECTED', new Date(t0 - 3_600_000));
        const again = await backend(stack.keys.serviceRole).findDedupeItem(
          'gate',
          'GATE_RETROSPECTIVE',
          run.startedAt,
          24,
        );
        assert.ok(again.ok && again.value?.id === inside.id, 'a closed item inside the cooldown counts');
      } finally {
        await stack.query(`DELETE FROM public.protocol_improvement_queue WHERE payload->>'dedupe_key' = $1`, [key]);
      }
    });

    it('an improvement_id with no row is missing, not an error', async () => {
      const b = { ...by('GATE_PRD_REQUIRED'), improvementId: '00000000-0000-4000-8000-000000000000' };
      assert.deepEqual(await drill(backend(stack.keys.serviceRole)).item(run, b, outcome), {
        kind: 'missing',
        id: '00000000-0000-4000-8000-000000000000',
      });
    });
  });

  describe("the analyzer's own items, were upstream's CHECKs to accept them", () => {
    // Upstream's table refuses them (lineage trigger, source_type / improvement_type / target_operation
    // CHECKs). To check the dedupe's second branch — source_type TELEMETRY_AUTO_ANALYSIS and the
    // analyzer's description ILIKE '%<type>:<key>%', no dedupe_key — this test lifts those rules on its
    // own stack for the time of one insert, and puts them back as they were.
    it('an open TELEMETRY_AUTO_ANALYSIS item whose description names the dimension deduplicates, as the analyzer matches it', async () => {
      const names = [
        'protocol_improvement_queue_source_type_check',
        'protocol_improvement_queue_improvement_type_check',
        'protocol_improvement_queue_target_operation_check',
      ];
      const defs = await stack.query<{ conname: string; def: string }>(
        `SELECT conname, pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conname = ANY($1::text[])`,
        [names],
      );
      assert.equal(defs.length, 3);
      const t0 = run.startedAt!.getTime();
      let id = '';
      await stack.query(
        'ALTER TABLE public.protocol_improvement_queue DISABLE TRIGGER trg_enforce_improvement_lineage',
      );
      for (const d of defs)
        await stack.query(`ALTER TABLE public.protocol_improvement_queue DROP CONSTRAINT ${d.conname}`);
      try {
        const [row] = await stack.query<{ id: string }>(
          `INSERT INTO public.protocol_improvement_queue (source_type, improvement_type, target_table, target_operation,
             target_phase, description, payload, status, created_at)
           VALUES ('TELEMETRY_AUTO_ANALYSIS', 'PERFORMANCE_BOTTLENECK', 'workflow_trace_log', 'ANALYZE', 'ALL',
             'Bottleneck detected: gate:GATE_CODE_FREEZE (3.3x baseline, p50=9900ms vs baseline=3000ms, 9 samples)',
             '{"source":"telemetry_auto_analysis"}', 'PENDING', $1) RETURNING id`,
          [new Date(t0 - 3 * 86_400_000).toISOString()],
        );
        id = row.id;
      } finally {
        await stack.query(
          'ALTER TABLE public.protocol_improvement_queue ENABLE TRIGGER trg_enforce_improvement_lineage',
        );
        for (const d of defs)
          await stack.query(
            `ALTER TABLE public.protocol_improvement_queue ADD CONSTRAINT ${d.conname} ${d.def} NOT VALID`,
          );
      }
      try {
        const b = backend(stack.keys.serviceRole);
        const found = await b.findDedupeItem('gate', 'GATE_CODE_FREEZE', run.startedAt, 24);
        assert.ok(found.ok && found.value?.id === id, JSON.stringify(found));
        const other = await b.findDedupeItem('gate', 'GATE_CODE', run.startedAt, 24);
        assert.ok(other.ok && other.value?.id === id, 'a substring match, as the analyzer’s ILIKE');
        const phase = await b.findDedupeItem('phase', 'GATE_CODE_FREEZE', run.startedAt, 24);
        assert.deepEqual(phase, { ok: true, value: null }, 'another dimension type');
        // What the drill-down says for a bottleneck of that gate the run recorded nothing about.
        const a = await drill(b).item(run, { ...by('GATE_RETROSPECTIVE'), dimensionKey: 'GATE_CODE_FREEZE' }, outcome);
        assert.ok(a.kind === 'deduplicated' && a.item.id === id);
        // The run's rate-limited bottleneck stays rate-limited: the analyzer skipped it before any dedupe read.
        assert.equal((await drill(b).item(run, by('GATE_RETROSPECTIVE'), outcome)).kind, 'none');
      } finally {
        await stack.query('DELETE FROM public.protocol_improvement_queue WHERE id = $1', [id]);
        for (const d of defs)
          await stack.query(`ALTER TABLE public.protocol_improvement_queue VALIDATE CONSTRAINT ${d.conname}`);
      }
    });
  });

  describe('hostile rows through real PostgREST', () => {
    it('every text field of a span and an item comes back bounded and on one line', async () => {
      const evil = `[x](command:workbench.action.quit)\n<img src=x onerror=alert(1)>\r\n${'#'.repeat(100_000)}\u202e`;
      const trace = '0badc0de-0000-4000-8000-000000000001';
      const [item] = await stack.query<{ id: string }>(
        `INSERT INTO public.protocol_improvement_queue (source_type, source_id, improvement_type, target_table,
           target_operation, description, payload, status, reviewed_at, reviewed_by, assigned_sd_id)
         VALUES ('SD_COMPLETION', gen_random_uuid(), 'CHECKLIST_ITEM', $1, 'INSERT', $1,
           jsonb_build_object('dedupe_key', $1::text, 'run_id', $1::text), 'REJECTED', now(), $1, left($1, 50)) RETURNING id`,
        [evil],
      );
      await stack.query(
        `INSERT INTO public.workflow_trace_log (trace_id, span_id, workflow_execution_id, sd_id, gate_name, span_name,
           span_type, start_time_ms, duration_ms, queue_wait_ms, attributes)
         VALUES ($1, gen_random_uuid(), $2, $2, 'GATE_EVIL', $2, $2, 0, 5, 1, jsonb_build_object('sd_key', $2::text))`,
        [trace, evil],
      );
      try {
        const d = drill(backend(stack.keys.serviceRole));
        const e = await d.evidence(run, {
          ...by('GATE_PRD_REQUIRED'),
          dimensionKey: 'GATE_EVIL',
          evidenceTraceIds: [trace],
        });
        assert.ok(e.kind === 'spans' && e.spans.length === 1);
        const span = e.spans[0];
        const i = await d.itemById(item.id);
        assert.ok(i.kind === 'item');
        const texts = [
          span.sdId,
          span.sdKey,
          span.workflowExecutionId,
          span.spanName,
          span.spanType,
          i.item.description,
          i.item.reviewedBy,
          i.item.assignedSdId,
          i.item.dedupeKey,
          i.item.runId,
          i.item.status,
        ];
        for (const t of texts) {
          assert.ok(t !== null && t.length <= 500, `bounded: ${t?.length}`);
          assert.doesNotMatch(t, /[\r\n\u202e]/);
        }
      } finally {
        await stack.query('DELETE FROM public.protocol_improvement_queue WHERE id = $1', [item.id]);
        await stack.query('DELETE FROM public.workflow_trace_log WHERE trace_id = $1', [trace]);
      }
    });
  });

  describe('authenticated key', () => {
    it('the trace table answers it zero rows, not an error (why the role decides)', async () => {
      const r = await backend(stack.keys.authenticated).readEvidenceSpans(by('EXEC').evidenceTraceIds, 'phase', 'EXEC');
      assert.deepEqual(r, { ok: true, value: [] });
    });

    it('evidence: needs a service-role key, and no request is made; items are readable', async () => {
      const d = drill(backend(stack.keys.authenticated));
      const e = await d.evidence(run, by('GATE_PRD_REQUIRED'));
      assert.deepEqual(e, { kind: 'needs-service-key', role: 'authenticated' } satisfies EvidenceAnswer);
      assert.equal(requestsTo('workflow_trace_log').length, 0);
      const i = await d.item(run, by('GATE_PRD_REQUIRED'), outcome);
      assert.ok(i.kind === 'item' && i.item.status === 'PENDING');
      assert.equal((await d.item(run, by('GATE_SECURITY_SCAN'), outcome)).kind, 'deduplicated');
    });
  });

  describe('anon key', () => {
    it('evidence needs a service-role key, items need a key that can read the queue; no request to either table', async () => {
      const d = drill(backend(stack.keys.anon));
      assert.deepEqual(await d.evidence(run, by('EXEC')), { kind: 'needs-service-key', role: 'anon' });
      assert.deepEqual(await d.item(run, by('EXEC'), outcome), { kind: 'needs-key', role: 'anon' });
      assert.deepEqual(await d.itemById(seed.items.APPLIED), { kind: 'needs-key', role: 'anon' });
      assert.deepEqual(await d.item(run, by('GATE_SECURITY_SCAN'), outcome), { kind: 'needs-key', role: 'anon' });
      assert.equal(requestsTo('workflow_trace_log').length + requestsTo('protocol_improvement_queue').length, 0);
      // What the run row itself says needs no queue read: a refused item is still known.
      assert.equal((await d.item(run, by('SECURITY'), outcome)).kind, 'none');
    });
  });

  describe('failures are errors, never empty', () => {
    it('a key the server rejects', async () => {
      const [h, p] = stack.keys.serviceRole.split('.');
      const forged = `${h}.${p}.c2lnbmVkLWJ5LWFub3RoZXItc2VjcmV0`;
      const d = drill(backend(forged));
      const e = await d.evidence(run, by('GATE_PRD_REQUIRED'));
      assert.equal(e.kind, 'error');
      assert.ok(e.kind === 'error' && !e.message.includes(forged));
      assert.equal((await d.item(run, by('GATE_PRD_REQUIRED'), outcome)).kind, 'error');
      assert.equal((await d.item(run, by('GATE_SECURITY_SCAN'), outcome)).kind, 'error');
    });

    it('the gateway down, then back: an error, not cached', async () => {
      const d = drill(backend(stack.keys.serviceRole));
      await stack.gateway.close();
      try {
        const e = await d.evidence(run, by('TESTING'));
        assert.equal(e.kind, 'error');
        assert.equal((await d.itemById(seed.items.APPLIED)).kind, 'error');
      } finally {
        await stack.gateway.listen();
      }
      assert.equal((await d.evidence(run, by('TESTING'))).kind, 'spans');
      assert.equal((await d.itemById(seed.items.APPLIED)).kind, 'item');
    });

    it('a 503 from the gateway', async () => {
      stack.gateway.setFault({ status: 503, times: 1 });
      const e = await drill(backend(stack.keys.serviceRole)).evidence(run, by('EXEC'));
      assert.equal(e.kind, 'error');
    });

    it('a caller’s abort: the backend request is cancelled, the answer is an error', async () => {
      stack.gateway.setFault({ delayMs: 2_000, times: 1 });
      const ac = new AbortController();
      const p = backend(stack.keys.serviceRole).readEvidenceSpans(
        by('EXEC').evidenceTraceIds,
        'phase',
        'EXEC',
        ac.signal,
      );
      setTimeout(() => ac.abort(), 100);
      const r = await p;
      assert.ok(!r.ok && r.error.kind === 'cancelled', JSON.stringify(r));
    });
  });
});
