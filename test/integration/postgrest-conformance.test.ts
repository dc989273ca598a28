// Conformance of the extension's data layer with the real PostgREST 12.0.2 behind the edge: every
// call SupabaseBackend makes, with each key role and with hostile values, compared with what
// PostgreSQL itself says (plain SQL as the superuser). It guards the extension against PostgREST's
// real behaviour: filter syntax and quoting, RLS answers per role, error codes, max-rows, the
// 503 + Retry-After: 0 PostgREST gives while its schema cache loads. Then the edge's own hooks.
import * as assert from 'node:assert/strict';
import * as http from 'node:http';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SupabaseBackend } from '../../src/data/supabaseBackend';
import { isTransient } from '../../src/data/errors';
import { checkProjectUrl } from '../../src/domain/credentials';
import { Edge, startStack, Stack } from '../stack';
import { repoRoot } from '../stack/postgres';
import { startPostgrest } from '../stack/postgrest';
import { sleep } from '../support/wait';

const T = 'public.telemetry_analysis_runs';
const DAY = 86_400_000;

/** Scope ids that are PostgREST syntax, quoting or encoding traps. */
const HOSTILE_SCOPES = [
  '/work/ws one',
  '/path/with,comma',
  '/with "double" quotes',
  'C:\\Users\\dev\\ehg',
  '/trailing\\',
  '/(parens).and.dots',
  'x),scope_id.is.null,and(scope_id.eq.y',
  '*',
  '%2F%00percent',
  ' leading and trailing ',
  "/o'brien/&?#=",
  '/ünïcödé/日本語/🚀',
  '/line\nbreak',
];

function uuid(n: number): string {
  return `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
}

function backendFor(url: string, key: string, timeoutMs = 5_000): SupabaseBackend {
  const c = checkProjectUrl(url);
  if (!c.ok) throw new Error(c.message);
  return new SupabaseBackend({ url: c.url, origin: c.origin, key, timeoutMs, clientInfo: 'ehg-telemetry-conformance' });
}

describe('data layer against the real PostgREST 12.0.2 (every call, every role, hostile values)', function () {
  this.timeout(120_000);
  let stack: Stack;
  let roles: Array<{ name: 'anon' | 'authenticated' | 'service_role'; backend: SupabaseBackend }>;
  let service: SupabaseBackend;
  const now = Date.now();

  before(async function () {
    stack = await startStack();
    service = backendFor(stack.url, stack.keys.serviceRole);
    roles = [
      { name: 'anon', backend: backendFor(stack.url, stack.keys.anon) },
      { name: 'authenticated', backend: backendFor(stack.url, stack.keys.authenticated) },
      { name: 'service_role', backend: service },
    ];
    // Per hostile scope: one SUCCEEDED run 2 days ago, one QUEUED now. Plus global runs and a decoy scope.
    let n = 0;
    for (const scope of HOSTILE_SCOPES) {
      await stack.query(
        `insert into ${T} (run_id, scope_type, scope_id, status, triggered_at, started_at, finished_at, findings_count, top_bottleneck_category, output_ref)
         values ($1, 'workspace', $3, 'SUCCEEDED', now() - interval '2 days', now() - interval '2 days', now() - interval '2 days', 2, 'gate', '{"bottlenecks":[]}'),
                ($2, 'workspace', $3, 'QUEUED', now(), null, null, 0, null, null)`,
        [uuid(++n), uuid(++n), scope],
      );
    }
    await stack.query(
      `insert into ${T} (run_id, scope_type, scope_id, status, triggered_at, finished_at) values
      ($1, 'global', null, 'SUCCEEDED', now() - interval '20 days', now() - interval '20 days'),
      ($2, 'workspace', '/decoy', 'SUCCEEDED', now() - interval '1 hour', now() - interval '1 hour'),
      ($3, 'workspace', '/decoy', 'RUNNING', now(), null)`,
      [uuid(900), uuid(901), uuid(902)],
    );
    await stack.query(
      `insert into public.eva_scheduler_heartbeat (id, instance_id, status, last_poll_at, next_poll_at) values (1, 'scheduler-0badc0de', 'running', now(), now() + interval '60 seconds')`,
    );
  });
  after(async function () {
    for (const r of roles ?? []) r.backend.dispose();
    await stack?.stop();
  });

  describe('reads: every role sees what PostgreSQL says, for every hostile scope id', function () {
    it('listRuns (one scope, several scopes, all scopes) returns exactly the matching rows, newest first', async function () {
      for (const { name, backend } of roles) {
        for (const scope of HOSTILE_SCOPES) {
          const r = await backend.listRuns({ kind: 'workspace', scopeIds: [scope] }, 0, 20);
          assert.ok(r.ok, `${name} ${JSON.stringify(scope)}: ${!r.ok && r.error.message}`);
          const expected = await stack.query<{ run_id: string }>(
            `select run_id from ${T} where scope_type = 'workspace' and scope_id = $1 order by triggered_at desc, run_id desc`,
            [scope],
          );
          assert.deepEqual(
            r.value.runs.map((x) => x.runId),
            expected.map((e) => e.run_id),
            `${name} ${JSON.stringify(scope)}`,
          );
          assert.equal(r.value.skippedRows, 0);
        }
        const several = await backend.listRuns({ kind: 'workspace', scopeIds: HOSTILE_SCOPES }, 0, 200);
        assert.ok(several.ok);
        assert.equal(several.value.runs.length, HOSTILE_SCOPES.length * 2, `${name}: several scopes`);
        const all = await backend.listRuns({ kind: 'all' }, 0, 5);
        assert.ok(all.ok);
        assert.equal(all.value.runs.length, 5);
        assert.equal(all.value.hasMore, true);
      }
    });

    it("findFreshRun and findActiveRuns (the hook's staleness and dedup queries) match SQL for every hostile scope", async function () {
      for (const { name, backend } of roles) {
        for (const scope of HOSTILE_SCOPES) {
          const fresh = await backend.findFreshRun(scope, new Date(now - 7 * DAY));
          assert.ok(fresh.ok, `${name}: ${!fresh.ok && fresh.error.message}`);
          const [want] = await stack.query<{ run_id: string }>(
            `select run_id from ${T} where status = 'SUCCEEDED' and finished_at >= $2 and ((scope_type = 'workspace' and scope_id = $1) or scope_id is null) order by finished_at desc limit 1`,
            [scope, new Date(now - 7 * DAY)],
          );
          assert.equal(fresh.value?.runId, want.run_id, `${name} fresh ${JSON.stringify(scope)}`);
          const active = await backend.findActiveRuns(scope, new Date(now - 10 * 60_000));
          assert.ok(active.ok);
          const wantActive = await stack.query<{ run_id: string }>(
            `select run_id from ${T} where status in ('QUEUED', 'RUNNING') and triggered_at >= $2 and ((scope_type = 'workspace' and scope_id = $1) or scope_id is null) order by triggered_at`,
            [scope, new Date(now - 10 * 60_000)],
          );
          assert.equal(wantActive.length, 1);
          assert.deepEqual(
            active.value.map((a) => a.runId),
            wantActive.map((w) => w.run_id),
            `${name} active ${JSON.stringify(scope)}: the decoy's RUNNING run never leaks in`,
          );
        }
        // An injection attempt in the scope id never widens the filter to the global or decoy runs.
        const inj = await backend.findFreshRun('x),scope_id.is.null,and(scope_id.eq.y', new Date(now - 1 * DAY));
        assert.ok(inj.ok);
        assert.equal(inj.value, null, `${name}: no global run within a day, and the decoy is not matched`);
      }
    });

    it('getRunsById, getRunDetail, getRunRow', async function () {
      for (const { name, backend } of roles) {
        const byId = await backend.getRunsById([uuid(1), uuid(2), uuid(999_999)]);
        assert.ok(byId.ok);
        assert.deepEqual(byId.value.map((r) => r.runId).sort(), [uuid(1), uuid(2)], name);
        const detail = await backend.getRunDetail(uuid(1));
        assert.ok(detail.ok);
        assert.equal(detail.value?.status, 'SUCCEEDED');
        const row = await backend.getRunRow(uuid(1));
        assert.ok(row.ok && row.value);
        assert.equal(Object.keys(row.value).length, 20, `${name}: the whole row`);
        const none = await backend.getRunRow(uuid(999_999));
        assert.ok(none.ok);
        assert.equal(none.value, null);
      }
    });

    it('readHeartbeat: the row for authenticated and service_role; zero rows (not visible) for anon, as RLS says', async function () {
      for (const { name, backend } of roles) {
        const hb = await backend.readHeartbeat();
        assert.ok(hb.ok);
        assert.equal(hb.value.kind, name === 'anon' ? 'not-visible' : 'row', name);
      }
    });
  });

  describe('writes: only the service role, and a refused write changes nothing', function () {
    it('insertRun and cancelRuns per role', async function () {
      const before = await stack.query<{ n: string }>(`select count(*) as n from ${T}`);
      for (const { name, backend } of roles) {
        const runId = uuid(5000 + roles.findIndex((r) => r.name === name));
        const ins = await backend.insertRun({
          runId,
          correlationId: runId,
          scopeId: HOSTILE_SCOPES[6],
          triggeredBy: 'MANUAL',
          metadata: { timeout_ms: 1000 } as never,
        });
        if (name === 'service_role') {
          assert.ok(ins.ok, !ins.ok ? ins.error.message : '');
          assert.equal(ins.value.status, 'QUEUED');
          assert.equal(ins.value.scopeId, HOSTILE_SCOPES[6]);
          const cancelled = await backend.cancelRuns([runId, uuid(1)], 'TEST_CANCEL');
          assert.ok(cancelled.ok);
          assert.deepEqual(
            cancelled.value,
            [runId],
            'only the active run is cancelled; a SUCCEEDED one is never overwritten',
          );
        } else {
          assert.ok(!ins.ok);
          assert.equal(ins.error.kind, 'permission', `${name}: ${ins.error.message}`);
          assert.equal(ins.error.code, '42501');
          assert.equal(
            ins.error.status,
            name === 'anon' ? 401 : 403,
            'PostgREST: 401 for anon, 403 for a signed-in role',
          );
          const cancelled = await backend.cancelRuns([uuid(2)], 'TEST_CANCEL');
          // RLS hides the rows from UPDATE for these roles: zero rows changed, not an error.
          assert.ok(!cancelled.ok || cancelled.value.length === 0, `${name} must not cancel`);
        }
      }
      const [{ status }] = await stack.query<{ status: string }>(`select status from ${T} where run_id = $1`, [
        uuid(2),
      ]);
      assert.equal(status, 'QUEUED', 'the refused cancels changed nothing');
      const after = await stack.query<{ n: string }>(`select count(*) as n from ${T}`);
      assert.equal(Number(after[0].n), Number(before[0].n) + 1, "exactly one row added (the service role's)");
    });

    it('probeCapabilities tells each role what it can do, without writing', async function () {
      const before = await stack.query<{ n: string }>(`select count(*) as n from ${T}`);
      const want = { anon: [true, false, false], authenticated: [true, true, false], service_role: [true, true, true] };
      for (const { name, backend } of roles) {
        const c = await backend.probeCapabilities();
        assert.deepEqual(
          [c.readRuns.ok, c.readHeartbeat.ok, c.writeRuns.ok],
          want[name],
          `${name}: ${JSON.stringify(c)}`,
        );
      }
      const after = await stack.query<{ n: string }>(`select count(*) as n from ${T}`);
      assert.equal(after[0].n, before[0].n);
    });
  });

  describe("PostgREST's own answers the extension can meet", function () {
    it('a bad signature, an expired key and a key for another project are "unauthorized" (401 PGRST301/PGRST303), without the key in the message', async function () {
      const [h, p] = stack.keys.serviceRole.split('.');
      const cases = {
        'bad signature': `${h}.${p}.AAAA${stack.keys.serviceRole.split('.')[2].slice(4)}`,
        expired: stack.makeJwt({ role: 'service_role', exp: Math.floor(Date.now() / 1000) - 60 }),
        'other project':
          stack.makeJwt({ role: 'service_role' }).split('.').slice(0, 2).join('.') +
          '.c2lnbmVkLWJ5LWFub3RoZXItc2VjcmV0',
      };
      for (const [what, key] of Object.entries(cases)) {
        const b = backendFor(stack.url, key);
        const r = await b.listRuns({ kind: 'all' }, 0, 1);
        b.dispose();
        assert.ok(!r.ok, what);
        assert.equal(r.error.kind, 'unauthorized', `${what}: ${r.error.message}`);
        assert.equal(r.error.status, 401);
        assert.match(r.error.code ?? '', /^PGRST30[13]$/);
        assert.ok(!r.error.message.includes(key.split('.')[2]), `${what}: no key in the message`);
      }
    });

    it('max-rows = 1000 caps any answer; the largest page the extension asks for stays below it', async function () {
      await stack.query(
        `insert into ${T} (run_id, scope_type, scope_id, status) select gen_random_uuid(), 'workspace', '/bulk', 'CANCELLED' from generate_series(1, 1100)`,
      );
      const r = await fetch(`${stack.url}/rest/v1/telemetry_analysis_runs?select=run_id&scope_id=eq./bulk&limit=5000`, {
        headers: { apikey: stack.keys.anon },
      });
      assert.equal(r.status, 200);
      assert.equal(((await r.json()) as unknown[]).length, 1000, 'PostgREST answers at most max-rows rows');
      const manifest = JSON.parse(fs.readFileSync(path.join(repoRoot(), 'package.json'), 'utf8')) as {
        contributes: { configuration: { properties: Record<string, { maximum?: number }> } };
      };
      const maxPage = manifest.contributes.configuration.properties['ehgTelemetry.runs.pageSize'].maximum ?? Infinity;
      assert.ok(maxPage + 1 <= 1000, `runs.pageSize maximum ${maxPage} (+1 look-ahead row) must stay under max-rows`);
      const page = await service.listRuns({ kind: 'workspace', scopeIds: ['/bulk'] }, 0, maxPage);
      assert.ok(page.ok);
      assert.equal(page.value.runs.length, maxPage);
      assert.equal(page.value.hasMore, true);
      await stack.query(`delete from ${T} where scope_id = '/bulk'`);
    });

    it('while its schema cache loads PostgREST answers 503 PGRST002 with Retry-After: 0: a transient "starting up" error, then the same backend works', async function () {
      // A second, real PostgREST whose in-database configuration step sleeps, so that its schema cache
      // is not loaded for a while after it starts listening.
      await stack.query(`create or replace function public.conformance_slow_pre_config() returns void language sql as $$ select pg_sleep(2) $$;
                         grant execute on function public.conformance_slow_pre_config() to authenticator`);
      const slow = await startPostgrest({
        authenticatorUrl: stack.authenticatorUrl,
        jwtSecret: stack.jwtSecret,
        extraEnv: { PGRST_DB_PRE_CONFIG: 'public.conformance_slow_pre_config' },
        waitUntilReady: false,
      });
      const edge = new Edge({ upstream: slow.url });
      await edge.listen();
      const b = backendFor(edge.url, stack.keys.serviceRole);
      try {
        // Until PostgREST listens, the edge answers 502 (nothing upstream); then 503 until it is ready.
        let first = await b.readHeartbeat();
        const listening = Date.now() + 10_000;
        while (!first.ok && first.error.status === 502 && Date.now() < listening) {
          await sleep(20);
          first = await b.readHeartbeat();
        }
        assert.ok(!first.ok, 'a request before the schema cache loaded fails');
        assert.equal(first.error.status, 503);
        assert.equal(first.error.code, 'PGRST002');
        assert.equal(first.error.retryAfterMs, 0);
        assert.ok(isTransient(first.error), 'retried by the scheduler');
        assert.match(first.error.message, /starting up|schema cache/i);
        assert.doesNotMatch(first.error.message, /wait 0 s/);
        let later = await b.readHeartbeat();
        const deadline = Date.now() + 15_000;
        while (!later.ok && Date.now() < deadline) {
          await sleep(200);
          later = await b.readHeartbeat();
        }
        assert.ok(later.ok, 'the same backend works once PostgREST is ready');
      } finally {
        b.dispose();
        await edge.shutdown();
        await slow.stop();
      }
    });
  });

  describe('the edge (Supabase API gateway stand-in)', function () {
    afterEach(function () {
      stack.gateway.setFault(null);
    });

    it('401 without an apikey header; the apikey alone is forwarded as the bearer token; no route → 404', async function () {
      const none = await fetch(`${stack.url}/rest/v1/telemetry_analysis_runs?select=run_id&limit=1`);
      assert.equal(none.status, 401);
      assert.deepEqual(await none.json(), { message: 'No API key found in request' });
      const keyOnly = await fetch(`${stack.url}/rest/v1/eva_scheduler_heartbeat?select=id`, {
        headers: { apikey: stack.keys.serviceRole },
      });
      assert.deepEqual(
        await keyOnly.json(),
        [{ id: 1 }],
        'the service role reads the heartbeat: the key reached PostgREST as the bearer',
      );
      const other = await fetch(`${stack.url}/auth/v1/user`, { headers: { apikey: stack.keys.anon } });
      assert.equal(other.status, 404);
    });

    it('logs each request with method, path, query, status, claimed role, duration and size', async function () {
      stack.gateway.clearLog();
      const anon = roles[0].backend;
      await anon.getRunsById([uuid(1)]);
      await anon.insertRun({
        runId: uuid(6001),
        correlationId: uuid(6001),
        scopeId: '/x',
        triggeredBy: 'MANUAL',
        metadata: { timeout_ms: 1 } as never,
      });
      const log = stack.gateway.requestLog;
      assert.equal(log.length, 2);
      assert.equal(log[0].method, 'GET');
      assert.equal(log[0].path, '/rest/v1/telemetry_analysis_runs');
      assert.match(log[0].query, /run_id=in\./);
      assert.equal(log[0].status, 200);
      assert.equal(log[0].role, 'anon');
      assert.ok(log[0].durationMs > 0 && log[0].responseBytes > 10);
      assert.equal(log[1].status, 401);
    });

    it('faults: status with Retry-After for matching requests only, times, delay, destroyed socket', async function () {
      stack.gateway.setFault({
        table: 'eva_scheduler_heartbeat',
        status: 503,
        retryAfter: 7,
        body: { code: 'PGRST001', message: 'down for test' },
      });
      const hb = await service.readHeartbeat();
      assert.ok(!hb.ok);
      assert.equal(hb.error.status, 503);
      assert.equal(hb.error.retryAfterMs, 7000);
      assert.ok((await service.getRunsById([uuid(1)])).ok, 'other tables unaffected');
      stack.gateway.setFault({ method: 'POST', status: 500, times: 1 });
      const insert = () =>
        service.insertRun({
          runId: uuid(6002),
          correlationId: 'c',
          scopeId: '/f',
          triggeredBy: 'MANUAL',
          metadata: { timeout_ms: 1 } as never,
        });
      assert.equal((await insert()).ok, false, 'the one injected 500');
      assert.equal((await insert()).ok, true, 'times: 1 cleared the fault');
      stack.gateway.setFault({ delayMs: 300 });
      const t0 = Date.now();
      assert.ok((await service.readHeartbeat()).ok);
      assert.ok(Date.now() - t0 >= 290);
      stack.gateway.setFault({ destroy: true, method: 'POST' });
      const x = await service.insertRun({
        runId: uuid(6003),
        correlationId: 'c',
        scopeId: '/f',
        triggeredBy: 'MANUAL',
        metadata: { timeout_ms: 1 } as never,
      });
      assert.ok(!x.ok);
      assert.equal(x.error.kind, 'unreachable');
      assert.equal((await stack.query(`select 1 from ${T} where run_id = $1`, [uuid(6003)])).length, 0);
    });

    it('close() takes the backend down, listen() brings it back on the same port; answers carry Date', async function () {
      const port = stack.gateway.port;
      await stack.gateway.close();
      const down = await service.readHeartbeat();
      assert.ok(!down.ok);
      assert.equal(down.error.kind, 'unreachable');
      assert.equal(await stack.gateway.listen(), port);
      // A new connection (agent: false): the closed edge dropped every kept-alive one, and a pooled
      // client may not have seen that yet.
      const up = await new Promise<http.IncomingMessage>((resolve, reject) => {
        http
          .get(
            `${stack.url}/rest/v1/telemetry_analysis_runs?select=run_id&limit=1`,
            { headers: { apikey: stack.keys.anon }, agent: false },
            (res) => {
              res.resume();
              res.on('end', () => resolve(res));
            },
          )
          .on('error', reject);
      });
      assert.equal(up.statusCode, 200);
      const date = up.headers.date;
      assert.ok(date && Math.abs(Date.parse(date) - Date.now()) < 5000);
    });
  });
});
