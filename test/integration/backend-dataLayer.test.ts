// The extension's own data layer (SupabaseBackend + enqueueRun) against real parts: embedded
// PostgreSQL with the contract schema and RLS, real PostgREST 12.0.2 behind the edge, and real supabase-js.
import * as assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { TelemetryBackend } from '../../src/data/backend';
import { enqueueRun, EnqueueOutcome, EnqueueRequest } from '../../src/data/enqueueRun';
import { finishRunWithRetry } from '../../src/data/lifecycleWrites';
import { SupabaseBackend } from '../../src/data/supabaseBackend';
import { checkProjectUrl } from '../../src/domain/credentials';
import { RUN_LIST_COLUMNS } from '../../src/domain/run';
import { startStack, Stack } from '../../devkit/stack';
import { sleep } from '../../devkit/wait';

const DAY = 86_400_000;

function backendFor(stack: Stack, key: string, timeoutMs = 5_000): SupabaseBackend {
  const c = checkProjectUrl(stack.url);
  if (!c.ok) throw new Error(c.message);
  return new SupabaseBackend({ url: c.url, origin: c.origin, key, timeoutMs, clientInfo: 'ehg-telemetry-tests' });
}

function request(scopeId: string, over: Partial<EnqueueRequest> = {}): EnqueueRequest {
  return {
    scopeId,
    triggeredBy: 'SESSION_START',
    mode: 'whenStale',
    stalenessMs: 7 * DAY,
    dedupMs: 10 * 60_000,
    metadata: {
      timeout_ms: 120_000,
      source: {
        extension: 'ehg-telemetry',
        extension_version: 'test',
        vscode_version: 'test',
        window_id: 'w',
        app_host: 'test',
      },
    },
    ...over,
  };
}

async function insertRow(stack: Stack, row: Record<string, unknown>): Promise<string> {
  const runId = (row.run_id as string | undefined) ?? randomUUID();
  const cols = Object.keys({ ...row, run_id: runId });
  const vals = cols.map((c) => (c === 'run_id' ? runId : row[c]));
  await stack.query(
    `insert into public.telemetry_analysis_runs (${cols.join(',')}) values (${cols.map((_, i) => `$${i + 1}`).join(',')})`,
    vals,
  );
  return runId;
}

describe('data layer against the local stack (real PostgreSQL + gateway + supabase-js)', function () {
  this.timeout(120_000);
  let stack: Stack;
  let service: SupabaseBackend;
  let anon: SupabaseBackend;
  let authenticated: SupabaseBackend;
  const opened: TelemetryBackend[] = [];

  before(async () => {
    stack = await startStack({});
    service = backendFor(stack, stack.keys.serviceRole);
    anon = backendFor(stack, stack.keys.anon);
    authenticated = backendFor(stack, stack.keys.authenticated);
    opened.push(service, anon, authenticated);
  });
  after(async () => {
    for (const b of opened) b.dispose();
    await stack?.stop();
  });
  beforeEach(async () => {
    await stack.query('delete from public.telemetry_analysis_runs');
    await stack.query('delete from public.eva_scheduler_heartbeat');
    stack.gateway.setFault(null);
    stack.gateway.clearLog();
  });

  describe('listing runs', () => {
    it('lists this workspace newest first (global runs only under all scopes), pages with hasMore, and selects only the row columns', async () => {
      const scope = '/work/ws-a';
      const t0 = Date.now() - 3_600_000;
      for (let i = 0; i < 5; i++)
        await insertRow(stack, {
          scope_id: scope,
          status: 'SUCCEEDED',
          triggered_at: new Date(t0 + i * 60_000),
          top_bottleneck_category: `cat${i}`,
          findings_count: i,
        });
      await insertRow(stack, {
        scope_id: null,
        scope_type: 'global',
        status: 'QUEUED',
        triggered_at: new Date(t0 + 10 * 60_000),
      });
      await insertRow(stack, { scope_id: '/work/other', status: 'FAILED', triggered_at: new Date(t0 + 20 * 60_000) });

      const page1 = await service.listRuns({ kind: 'workspace', scopeIds: [scope] }, 0, 4);
      assert.ok(page1.ok, JSON.stringify(page1));
      assert.equal(page1.value.runs.length, 4);
      assert.equal(page1.value.hasMore, true);
      assert.deepEqual(
        page1.value.runs.map((r) => r.topBottleneckCategory),
        ['cat4', 'cat3', 'cat2', 'cat1'],
      );
      assert.ok(page1.value.runs.every((r) => r.scopeId === scope));
      const page2 = await service.listRuns({ kind: 'workspace', scopeIds: [scope] }, 4, 4);
      assert.ok(page2.ok);
      assert.deepEqual(
        page2.value.runs.map((r) => r.topBottleneckCategory),
        ['cat0'],
      );
      assert.equal(page2.value.hasMore, false);

      const all = await service.listRuns({ kind: 'all' }, 0, 50);
      assert.ok(all.ok);
      assert.equal(all.value.runs.length, 7);

      const listRequest = stack.gateway.requestLog.find((r) => r.method === 'GET' && r.query.includes('select='));
      assert.ok(listRequest);
      const select = decodeURIComponent(new URLSearchParams(listRequest.query).get('select') ?? '');
      assert.deepEqual(select.split(','), [...RUN_LIST_COLUMNS]);
      // Never the whole output_ref (it can be megabytes), only the top bottleneck's three JSON paths.
      assert.ok(
        !select.split(',').some((c) => c === 'output_ref' || c.endsWith(':output_ref')) &&
          !select.includes('error_message'),
      );
      assert.ok(
        select
          .split(',')
          .filter((c) => c.includes('output_ref'))
          .every((c) => c.includes('output_ref->bottlenecks->0')),
      );
    });

    it('finds runs for scope ids containing PostgREST syntax characters, and only those', async () => {
      const hostile = '/tmp/a,b"c)(d\\e.f:g';
      const mine = await insertRow(stack, { scope_id: hostile, status: 'SUCCEEDED' });
      await insertRow(stack, { scope_id: '/tmp/a', status: 'SUCCEEDED' });
      const res = await service.listRuns({ kind: 'workspace', scopeIds: [hostile] }, 0, 20);
      assert.ok(res.ok, JSON.stringify(res));
      assert.deepEqual(
        res.value.runs.map((r) => r.runId),
        [mine],
      );
      const multi = await service.listRuns({ kind: 'workspace', scopeIds: [hostile, '/tmp/a'] }, 0, 20);
      assert.ok(multi.ok);
      assert.equal(multi.value.runs.length, 2);
    });

    it('a page of 500 new runs reads their heads 100 run_ids per request, side by side, and merges every one', async () => {
      await stack.query(
        `insert into public.telemetry_analysis_runs (run_id, scope_type, scope_id, status, triggered_at, finished_at, top_bottleneck_category, output_ref, metadata)
         select gen_random_uuid(), 'workspace', '/many', 'SUCCEEDED', now() - make_interval(secs => g), now() - make_interval(secs => g) + interval '1 second', 'gate',
                jsonb_build_object('bottlenecks', jsonb_build_array(jsonb_build_object('dimension_type', 'gate', 'dimension_key', 'K' || g, 'ratio', g / 10.0))),
                jsonb_build_object('timeout_ms', 1000 + g)
         from generate_series(1, 510) g`,
      );
      const fresh = backendFor(stack, stack.keys.serviceRole);
      opened.push(fresh);
      stack.gateway.clearLog();
      // Each heads request is held 400 ms: one after the other, five would take 2 s.
      stack.gateway.setFault({ match: (r) => r.query.includes('run_id=in.'), delayMs: 400 });
      const t0 = Date.now();
      const page = await fresh.listRuns({ kind: 'workspace', scopeIds: ['/many'] }, 0, 500);
      const took = Date.now() - t0;
      stack.gateway.setFault(null);
      assert.ok(page.ok, JSON.stringify(!page.ok && page.error));
      assert.ok(took < 1_500, `listRuns took ${took} ms: the heads requests were not side by side`);
      assert.equal(page.value.runs.length, 500);
      assert.equal(page.value.hasMore, true);
      const truth = await stack.query<{ run_id: string; key: string; ratio: string; timeout: string }>(
        `select run_id, output_ref->'bottlenecks'->0->>'dimension_key' as key, output_ref->'bottlenecks'->0->>'ratio' as ratio,
                metadata->>'timeout_ms' as timeout
         from public.telemetry_analysis_runs where scope_id = '/many' order by triggered_at desc, run_id desc limit 500`,
      );
      assert.deepEqual(
        page.value.runs.map((r) => [r.runId, r.topBottleneck?.dimensionKey, r.topBottleneck?.ratio, r.timeoutMs]),
        truth.map((x) => [x.run_id, x.key, Number(x.ratio), Number(x.timeout)]),
      );
      const heads = stack.gateway.requestLog.filter((e) =>
        new URLSearchParams(e.query).get('run_id')?.startsWith('in.'),
      );
      assert.deepEqual(
        heads.map((e) => (new URLSearchParams(e.query).get('run_id') ?? '').split(',').length),
        [100, 100, 100, 100, 100],
      );
      assert.ok(
        heads.every((e) => e.query.length < 5_000),
        `URL lengths ${heads.map((e) => e.query.length)}`,
      );
      await stack.query(`delete from public.telemetry_analysis_runs where scope_id = '/many'`);
    });

    it('fetches findings only on demand, and the full row for details', async () => {
      const bottlenecks = [
        {
          dimension_type: 'phase',
          dimension_key: 'LEAD',
          observed_p50_ms: 20000,
          baseline_p50_ms: 10000,
          ratio: 2,
          sample_count: 9,
          exceedance_count: 4,
          evidence_trace_ids: ['t1'],
          improvement_id: null,
        },
        {
          dimension_type: 'gate',
          dimension_key: 'GATE_PRD_REQUIRED',
          observed_p50_ms: 45000,
          baseline_p50_ms: 12000,
          ratio: 3.2,
          sample_count: 12,
          exceedance_count: 8,
          evidence_trace_ids: ['t2'],
          improvement_id: null,
        },
      ];
      const runId = await insertRow(stack, {
        scope_id: '/w',
        status: 'SUCCEEDED',
        findings_count: 2,
        top_bottleneck_category: 'gate',
        output_ref: { bottlenecks, traces_scanned: 40 },
      });
      const d = await service.getRunDetail(runId);
      assert.ok(d.ok && d.value);
      assert.equal(d.value.status, 'SUCCEEDED');
      assert.deepEqual((d.value.outputRef as { traces_scanned: number }).traces_scanned, 40);
      const row = await anon.getRunRow(runId);
      assert.ok(row.ok && row.value);
      assert.equal(row.value.run_id, runId);
      assert.equal(row.value.top_bottleneck_category, 'gate');
      const byId = await service.getRunsById([runId, randomUUID()]);
      assert.ok(byId.ok);
      assert.deepEqual(
        byId.value.map((r) => r.runId),
        [runId],
      );
      const missing = await service.getRunDetail(randomUUID());
      assert.ok(missing.ok);
      assert.equal(missing.value, null);
    });
  });

  describe('lifecycle writes of a run we execute, against 503s', () => {
    const runner = {
      extension: 'ehg-telemetry' as const,
      extension_version: 'test',
      window_id: 'w-retry',
      activation_id: 'a-retry',
      analyzer: 'lib/telemetry/bottleneck-analyzer.js',
    };
    const patches = (r: { method: string; table: string | null }) =>
      r.method === 'PATCH' && r.table === 'telemetry_analysis_runs';

    it('a finish that meets a 503 is written on the next attempt', async () => {
      const runId = await insertRow(stack, {
        scope_id: '/retry-finish',
        status: 'RUNNING',
        started_at: new Date(Date.now() - 5_000),
      });
      stack.gateway.setFault({ match: patches, status: 503, times: 1 });
      const fields = {
        status: 'SUCCEEDED' as const,
        finished_at: new Date().toISOString(),
        duration_ms: 5_000,
        findings_count: 0,
      };
      const r = await finishRunWithRetry(service, runId, fields, { baseMs: 50 });
      stack.gateway.setFault(null);
      assert.deepEqual(r, { ok: true, value: true });
      const [row] = await stack.query<{ status: string; finished_at: Date; duration_ms: number }>(
        'select status, finished_at, duration_ms from public.telemetry_analysis_runs where run_id = $1',
        [runId],
      );
      assert.equal(row.status, 'SUCCEEDED');
      assert.equal(row.finished_at.toISOString(), fields.finished_at);
      assert.equal(row.duration_ms, 5_000);
      assert.equal(
        stack.gateway.requestLog.filter((e) => e.method === 'PATCH' && e.status === 503).length >= 1,
        true,
        'the first attempt met the 503',
      );
    });

    it('a claim that keeps failing leaves no QUEUED run behind: ours is cancelled (CLAIM_FAILED)', async () => {
      const scopeId = `/retry-claim-${randomUUID()}`;
      // Every claim PATCH (status=eq.QUEUED → RUNNING) answers 503; the cancel that follows goes through.
      stack.gateway.setFault({
        match: (r) => patches(r) && r.query.includes('status=eq.QUEUED') && !r.query.includes('in.'),
        status: 503,
      });
      let out: EnqueueOutcome;
      try {
        out = await enqueueRun(service, {
          ...request(scopeId, { triggeredBy: 'MANUAL', mode: 'always' }),
          execute: { prepare: async () => ({ ok: true, runner }) },
        });
      } finally {
        stack.gateway.setFault(null);
      }
      assert.equal(out.kind, 'failed', JSON.stringify(out));
      const rows = await stack.query<{ status: string; reason_code: string | null }>(
        'select status, reason_code from public.telemetry_analysis_runs where scope_id = $1',
        [scopeId],
      );
      assert.deepEqual(rows, [{ status: 'CANCELLED', reason_code: 'CLAIM_FAILED' }]);
    });
  });

  describe('staleness and dedup queries', () => {
    it('finds a SUCCEEDED run inside the window for the scope or a global one, never another scope', async () => {
      const scope = '/w/stale';
      await insertRow(stack, { scope_id: '/w/other', status: 'SUCCEEDED', finished_at: new Date() });
      await insertRow(stack, { scope_id: scope, status: 'SUCCEEDED', finished_at: new Date(Date.now() - 8 * DAY) });
      await insertRow(stack, { scope_id: scope, status: 'FAILED', finished_at: new Date() });
      let r = await service.findFreshRun(scope, new Date(Date.now() - 7 * DAY));
      assert.ok(r.ok);
      assert.equal(r.value, null);
      const global = await insertRow(stack, {
        scope_id: null,
        scope_type: 'global',
        status: 'SUCCEEDED',
        finished_at: new Date(Date.now() - DAY),
      });
      r = await service.findFreshRun(scope, new Date(Date.now() - 7 * DAY));
      assert.ok(r.ok && r.value);
      assert.equal(r.value.runId, global);
      assert.equal(r.value.ours, false, "a run without metadata.source is the CLI hook's");
      const oursRun = await insertRow(stack, {
        scope_id: scope,
        status: 'SUCCEEDED',
        finished_at: new Date(),
        metadata: { source: { kind: 'vscode-extension' } },
      });
      r = await service.findFreshRun(scope, new Date(Date.now() - 7 * DAY));
      assert.ok(r.ok && r.value);
      assert.deepEqual([r.value.runId, r.value.ours], [oursRun, true], 'a run with metadata.source is ours');
    });

    it('finds active runs triggered inside the dedup window only', async () => {
      const scope = '/w/dedup';
      await insertRow(stack, { scope_id: scope, status: 'QUEUED', triggered_at: new Date(Date.now() - 11 * 60_000) });
      await insertRow(stack, { scope_id: scope, status: 'SUCCEEDED', triggered_at: new Date() });
      const running = await insertRow(stack, {
        scope_id: scope,
        status: 'RUNNING',
        triggered_at: new Date(Date.now() - 60_000),
      });
      const r = await service.findActiveRuns(scope, new Date(Date.now() - 10 * 60_000));
      assert.ok(r.ok);
      assert.deepEqual(
        r.value.map((x) => x.runId),
        [running],
      );
    });
  });

  describe('enqueue, cancel and convergence', () => {
    it('enqueues a QUEUED SESSION_START run with run_id, correlation_id and metadata, then skips while it is active', async () => {
      const scope = '/w/enqueue';
      const first = await enqueueRun(service, request(scope));
      assert.equal(first.kind, 'enqueued', JSON.stringify(first));
      const rows = await stack.query('select * from public.telemetry_analysis_runs where scope_id = $1', [scope]);
      assert.equal(rows.length, 1);
      const row = rows[0];
      assert.equal(row.status, 'QUEUED');
      assert.equal(row.triggered_by, 'SESSION_START');
      assert.equal(row.scope_type, 'workspace');
      assert.ok(row.correlation_id);
      assert.equal(row.metadata.timeout_ms, 120_000);
      assert.equal(row.metadata.source.extension, 'ehg-telemetry');
      const second = await enqueueRun(service, request(scope));
      assert.equal(second.kind, 'already-active');
    });

    it('skips when fresh (whenStale) but not in always mode; manual runs ignore staleness', async () => {
      const scope = '/w/fresh';
      await insertRow(stack, { scope_id: scope, status: 'SUCCEEDED', finished_at: new Date(Date.now() - DAY) });
      assert.equal((await enqueueRun(service, request(scope))).kind, 'skipped-fresh');
      const manual = await enqueueRun(service, request(scope, { triggeredBy: 'MANUAL', mode: 'always' }));
      assert.equal(manual.kind, 'enqueued');
      const [row] = await stack.query(
        "select triggered_by from public.telemetry_analysis_runs where scope_id = $1 and status = 'QUEUED'",
        [scope],
      );
      assert.equal(row.triggered_by, 'MANUAL');
    });

    it('20 concurrent session starts for one scope end with exactly one active SESSION_START run and no error', async () => {
      const scope = '/w/race';
      const windows = Array.from({ length: 20 }, () => backendFor(stack, stack.keys.serviceRole));
      opened.push(...windows);
      const outcomes: EnqueueOutcome[] = await Promise.all(windows.map((b) => enqueueRun(b, request(scope))));
      const kinds = outcomes.map((o) => o.kind);
      assert.ok(
        !kinds.includes('failed'),
        `no failures: ${JSON.stringify(outcomes.filter((o) => o.kind === 'failed'))}`,
      );
      const active = await stack.query(
        "select run_id from public.telemetry_analysis_runs where scope_id = $1 and status in ('QUEUED','RUNNING')",
        [scope],
      );
      assert.equal(active.length, 1, `kinds: ${kinds.join(',')}`);
      const enqueued = outcomes.filter((o) => o.kind === 'enqueued');
      assert.equal(enqueued.length, 1, `exactly one window reports enqueued: ${kinds.join(',')}`);
      assert.equal((enqueued[0] as { runId: string }).runId, active[0].run_id);
      const dupes = await stack.query(
        "select reason_code, finished_at from public.telemetry_analysis_runs where scope_id = $1 and status = 'CANCELLED'",
        [scope],
      );
      for (const d of dupes) {
        assert.equal(d.reason_code, 'DUPLICATE_SESSION_START');
        assert.ok(d.finished_at);
      }
    });

    it('cancels only active runs and sets finished_at; a finished run is never overwritten', async () => {
      const queued = await insertRow(stack, { scope_id: '/w/c', status: 'QUEUED' });
      const done = await insertRow(stack, {
        scope_id: '/w/c',
        status: 'SUCCEEDED',
        finished_at: new Date('2026-01-01T00:00:00Z'),
      });
      const r = await service.cancelRuns([queued, done], 'CANCELLED_FROM_EDITOR');
      assert.ok(r.ok);
      assert.deepEqual(r.value, [queued]);
      const rows = await stack.query(
        'select run_id, status, finished_at, reason_code from public.telemetry_analysis_runs order by status',
      );
      const byId = new Map(rows.map((x) => [x.run_id, x]));
      assert.equal(byId.get(queued).status, 'CANCELLED');
      assert.ok(byId.get(queued).finished_at);
      assert.equal(byId.get(queued).reason_code, 'CANCELLED_FROM_EDITOR');
      assert.equal(byId.get(done).status, 'SUCCEEDED');
      assert.equal(new Date(byId.get(done).finished_at).toISOString(), '2026-01-01T00:00:00.000Z');
    });
  });

  describe('row-level security matrix', () => {
    it('anon reads runs but cannot insert, and the error says why', async () => {
      await insertRow(stack, { scope_id: '/w/rls', status: 'SUCCEEDED' });
      const list = await anon.listRuns({ kind: 'all' }, 0, 10);
      assert.ok(list.ok);
      assert.equal(list.value.runs.length, 1);
      const out = await enqueueRun(anon, request('/w/rls-new'));
      assert.equal(out.kind, 'failed');
      assert.ok(out.kind === 'failed');
      assert.equal(out.stage, 'enqueue');
      assert.equal(out.error.kind, 'permission');
      assert.match(out.error.message, /not allowed/);
      assert.match(out.error.message, /service-role key/);
      assert.equal(
        (await stack.query('select count(*)::int as n from public.telemetry_analysis_runs'))[0].n,
        1,
        'nothing written',
      );
      const cancelled = await anon.cancelRuns(
        [(await stack.query('select run_id from public.telemetry_analysis_runs'))[0].run_id],
        'X',
      );
      assert.ok(cancelled.ok);
      assert.deepEqual(cancelled.value, [], 'RLS hides the row from anon updates');
    });

    it('anon sees zero heartbeat rows, which comes out as "not visible"; authenticated and service_role read it', async () => {
      await stack.query(
        "insert into public.eva_scheduler_heartbeat (id, instance_id, last_poll_at, next_poll_at, status) values (1, 'scheduler-1a2b3c4d', now(), now() + interval '60 seconds', 'running')",
      );
      const a = await anon.readHeartbeat();
      assert.ok(a.ok);
      assert.equal(a.value.kind, 'not-visible');
      for (const b of [authenticated, service]) {
        const r = await b.readHeartbeat();
        assert.ok(r.ok);
        assert.equal(r.value.kind, 'row');
        assert.ok(r.value.kind === 'row');
        assert.equal(r.value.heartbeat.instanceId, 'scheduler-1a2b3c4d');
      }
      await stack.query('delete from public.eva_scheduler_heartbeat');
      const none = await service.readHeartbeat();
      assert.ok(none.ok);
      assert.equal(none.value.kind, 'no-row', 'a key that may read it and sees nothing: no scheduler');
    });

    it('probes what each key can do without writing anything', async () => {
      const s = await service.probeCapabilities();
      assert.deepEqual([s.readRuns.ok, s.readHeartbeat.ok, s.writeRuns.ok], [true, true, true]);
      const an = await anon.probeCapabilities();
      assert.deepEqual([an.readRuns.ok, an.readHeartbeat.ok, an.writeRuns.ok], [true, false, false]);
      assert.match(an.readHeartbeat.detail, /row-level security/);
      const au = await authenticated.probeCapabilities();
      assert.deepEqual([au.readRuns.ok, au.readHeartbeat.ok, au.writeRuns.ok], [true, true, false]);
      assert.equal(
        (await stack.query('select count(*)::int as n from public.telemetry_analysis_runs'))[0].n,
        0,
        'probes wrote nothing',
      );
    });
  });

  describe('errors come back as values with a clear message', () => {
    it('a constraint violation (unknown trigger) is reported as such', async () => {
      const r = await service.insertRun({
        runId: randomUUID(),
        correlationId: randomUUID(),
        scopeId: '/w/x',
        triggeredBy: 'BOGUS' as 'MANUAL',
        metadata: request('/w').metadata,
      });
      assert.ok(!r.ok);
      assert.equal(r.error.kind, 'constraint');
      assert.equal(r.error.code, '23514');
      assert.match(r.error.message, /refused the values/);
    });

    it('a duplicate run_id is a conflict', async () => {
      const id = await insertRow(stack, { scope_id: '/w/d', status: 'QUEUED' });
      const r = await service.insertRun({
        runId: id,
        correlationId: randomUUID(),
        scopeId: '/w/d',
        triggeredBy: 'MANUAL',
        metadata: request('/w').metadata,
      });
      assert.ok(!r.ok);
      assert.equal(r.error.kind, 'conflict');
      assert.equal(r.error.status, 409);
    });

    it('a key signed for another project is rejected (401) and the message never contains the key', async () => {
      const foreign = backendFor(
        stack,
        stack.makeJwt({ role: 'service_role' }).replace(/\.[^.]+$/, '.c2lnbmF0dXJlLWZyb20tYW5vdGhlci1wcm9qZWN0'),
      );
      opened.push(foreign);
      const r = await foreign.listRuns({ kind: 'all' }, 0, 5);
      assert.ok(!r.ok);
      assert.equal(r.error.kind, 'unauthorized');
      assert.equal(r.error.status, 401);
      assert.match(r.error.message, /Configure Connection/);
      assert.ok(!r.error.message.includes(stack.keys.serviceRole.split('.')[1]));
    });

    it('a slow backend times out, and 503 with Retry-After is retryable with the delay', async () => {
      const quick = backendFor(stack, stack.keys.serviceRole, 300);
      opened.push(quick);
      stack.gateway.setFault({ delayMs: 1_500, times: 1 });
      const slow = await quick.listRuns({ kind: 'all' }, 0, 5);
      assert.ok(!slow.ok);
      assert.equal(slow.error.kind, 'timeout');
      stack.gateway.setFault({ status: 503, retryAfter: 7, times: 1 });
      const busy = await service.listRuns({ kind: 'all' }, 0, 5);
      assert.ok(!busy.ok);
      assert.equal(busy.error.kind, 'rate-limited');
      assert.equal(busy.error.retryAfterMs, 7_000);
    });

    it('the backend stopped mid-session reports unreachable, then recovers with no duplicate run', async () => {
      const scope = '/w/outage';
      await stack.gateway.close();
      try {
        const down = await enqueueRun(service, request(scope));
        assert.equal(down.kind, 'failed');
        assert.ok(down.kind === 'failed');
        assert.equal(down.error.kind, 'unreachable');
        const list = await service.listRuns({ kind: 'all' }, 0, 5);
        assert.ok(!list.ok, 'a failed load is an error, not an empty list');
        assert.equal(list.error.kind, 'unreachable');
      } finally {
        await stack.gateway.listen();
      }
      const up = await enqueueRun(service, request(scope));
      assert.equal(up.kind, 'enqueued');
      const again = await enqueueRun(service, request(scope));
      assert.equal(again.kind, 'already-active');
      const n = await stack.query('select count(*)::int as n from public.telemetry_analysis_runs where scope_id = $1', [
        scope,
      ]);
      assert.equal(n[0].n, 1);
    });

    it('dispose() aborts requests in flight promptly', async () => {
      const b = backendFor(stack, stack.keys.serviceRole, 10_000);
      stack.gateway.setFault({ delayMs: 5_000, times: 1 });
      const pending = b.listRuns({ kind: 'all' }, 0, 5);
      await sleep(100);
      const t0 = Date.now();
      b.dispose();
      const r = await pending;
      assert.ok(Date.now() - t0 < 1_000, 'settles in under a second');
      assert.ok(!r.ok);
      assert.equal(r.error.kind, 'cancelled');
    });
  });
});
