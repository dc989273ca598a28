// Conformance of the extension's data layer with the real PostgREST 12.0.2 behind the edge: every
// call SupabaseBackend makes, with each key role and with hostile values, compared with what
// PostgreSQL itself says (plain SQL as the superuser). The calls: listRuns (and its second, heads
// request by run_id), getRunsById, getRunDetail, getRunRow, findFreshRun, findActiveRuns,
// getRunStatus, findStaleRunning, getPreviousSucceeded, listSucceededRuns, readHeartbeat, insertRun,
// cancelRuns, claimRun, finishRun and probeCapabilities (its write probe included); the client the
// `supabase` getter hands to the analyzer is exercised by analysis-execution.test.ts. It guards the
// extension against PostgREST's real behaviour: filter syntax and quoting, RLS answers per role,
// error codes, max-rows, the 503 + Retry-After: 0 PostgREST gives while its schema cache loads.
// Then the edge's own hooks.
import * as assert from 'node:assert/strict';
import * as http from 'node:http';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SupabaseBackend } from '../../src/data/supabaseBackend';
import { isTransient } from '../../src/data/errors';
import type { FinishFields } from '../../src/domain/analysisRun';
import type { RunSummary } from '../../src/domain/run';
import type { ComparableRun } from '../../src/domain/runComparison';
import { checkProjectUrl } from '../../src/domain/credentials';
import { Edge, startStack, Stack } from '../../devkit/stack';
import { repoRoot } from '../../devkit/stack/postgres';
import { startPostgrest } from '../../devkit/stack/postgrest';
import { sleep } from '../../devkit/wait';

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

/** Text that is PostgREST syntax, SQL, Markdown or HTML, stored in rows' own fields (reason codes,
 * bottleneck keys, error text): it must come back byte for byte. No control characters or runs of
 * white space, which the extension's display cleaning (cleanText) would change on purpose. */
const HOSTILE_TEXT = [
  'x),scope_id.is.null,and(scope_id.eq.y',
  `"double" 'single' \\back\\slash\\`,
  '/ünïcödé/日本語/🚀',
  '<img src=x onerror=alert(1)> [run](command:workbench.action.quit) *em*',
  "%2F%00 &?#= ${x} '); drop table x; --",
  'or=(status.eq.QUEUED)&limit=0',
];

/** A timestamp column as epoch milliseconds (truncated, as JavaScript's Date parses PostgREST's). */
const MS = (col: string) => `floor(extract(epoch from ${col}) * 1000)::float8`;

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
  /** Inserts one run as the superuser (JSON values as jsonb). */
  const insertRow = async (row: Record<string, unknown>): Promise<void> => {
    const cols = Object.keys(row);
    await stack.query(
      `insert into ${T} (${cols.join(', ')}) values (${cols.map((_, i) => `$${i + 1}`).join(', ')})`,
      cols.map((c) => {
        const v = row[c];
        return v !== null && typeof v === 'object' && !(v instanceof Date) ? JSON.stringify(v) : v;
      }),
    );
  };

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

    describe('run lifecycle and comparison reads (getRunStatus, findStaleRunning, getPreviousSucceeded, listSucceededRuns, listRuns heads)', function () {
      // Per hostile scope (run ids 7000 + 10 i + k): RUNNING runs (two stale: k 0 and 2), SUCCEEDED runs
      // whose bottleneck keys, trace ids and reason codes are hostile text, a FAILED and a TIMED_OUT run, a SUCCEEDED run
      // without finished_at, and scope_type 'user' decoys with the same scope id. Plus global and
      // '/decoy' runs that no workspace filter may let in. Removed again after these tests, so the
      // counts the tests above and below rely on stay as they were.
      const ids: string[] = [];
      const staleCutoff = new Date(now - 60 * 60_000);
      before(async function () {
        const at = (agoMs: number) => new Date(now - agoMs);
        for (const [i, scope] of HOSTILE_SCOPES.entries()) {
          const id = (k: number) => uuid(7000 + 10 * i + k);
          const text = HOSTILE_TEXT[i % HOSTILE_TEXT.length];
          const other = HOSTILE_TEXT[(i + 1) % HOSTILE_TEXT.length];
          const b = (key: string, ratio: number) => ({
            dimension_type: 'gate',
            dimension_key: key,
            ratio,
            observed_p50_ms: 1234.5,
            evidence_trace_ids: [text, other],
          });
          const ws = { scope_type: 'workspace', scope_id: scope };
          const rows: Array<Record<string, unknown>> = [
            {
              ...ws,
              run_id: id(0),
              status: 'RUNNING',
              triggered_at: at(3 * 3600_000),
              started_at: at(3 * 3600_000 - 1000),
              metadata: { timeout_ms: 60_000, runner: { window_id: text } },
            },
            {
              ...ws,
              run_id: id(1),
              status: 'RUNNING',
              triggered_at: at(60_000),
              started_at: at(59_000),
              metadata: { timeout_ms: 90_000 },
            },
            {
              ...ws,
              run_id: id(2),
              status: 'RUNNING',
              triggered_at: at(2 * 3600_000),
              started_at: null,
              metadata: { timeout_ms: text },
            },
            {
              ...ws,
              run_id: id(3),
              status: 'SUCCEEDED',
              triggered_at: at(3 * DAY),
              started_at: at(3 * DAY),
              finished_at: at(3 * DAY - 5000),
              findings_count: 2,
              top_bottleneck_category: 'gate',
              reason_code: text,
              output_ref: { bottlenecks: [b(text, 4.5), b(other, 2.25)], traces_scanned: 40 },
              metadata: { timeout_ms: 45_000 },
            },
            {
              ...ws,
              run_id: id(4),
              status: 'SUCCEEDED',
              triggered_at: at(DAY),
              started_at: at(DAY),
              finished_at: at(DAY - 5000),
              findings_count: 1,
              top_bottleneck_category: null,
              reason_code: 'INSUFFICIENT_DATA',
              output_ref: { bottlenecks: [b(other, 3.1)], traces_scanned: 0 },
              metadata: { timeout_ms: 0 },
            },
            {
              ...ws,
              run_id: id(5),
              status: 'FAILED',
              triggered_at: at(12 * 3600_000),
              finished_at: at(12 * 3600_000 - 1000),
              reason_code: other,
              error_class: text,
              error_message: other,
            },
            {
              ...ws,
              run_id: id(9),
              status: 'TIMED_OUT',
              triggered_at: at(2 * 3600_000),
              started_at: at(2 * 3600_000),
              finished_at: at(3600_000),
              top_bottleneck_category: 'phase',
              output_ref: { bottlenecks: [b(other, 5)], traces_scanned: 2 },
              error_class: 'TimeoutError',
            },
            {
              ...ws,
              run_id: id(6),
              status: 'SUCCEEDED',
              triggered_at: at(30 * 60_000),
              finished_at: null,
              output_ref: { bottlenecks: [b(text, 9)], traces_scanned: 1 },
            },
            {
              scope_type: 'user',
              scope_id: scope,
              run_id: id(7),
              status: 'SUCCEEDED',
              triggered_at: at(6 * 3600_000),
              finished_at: at(6 * 3600_000),
              output_ref: { bottlenecks: [b(`user ${text}`, 7)], traces_scanned: 3 },
            },
            {
              scope_type: 'user',
              scope_id: scope,
              run_id: id(8),
              status: 'RUNNING',
              triggered_at: at(3 * 3600_000),
              started_at: at(3 * 3600_000),
            },
          ];
          for (const row of rows) await insertRow(row);
          ids.push(...rows.map((r) => r.run_id as string));
        }
        const decoys: Array<Record<string, unknown>> = [
          {
            run_id: uuid(7990),
            scope_type: 'global',
            scope_id: null,
            status: 'RUNNING',
            triggered_at: at(3 * 3600_000),
          },
          {
            run_id: uuid(7991),
            scope_type: 'workspace',
            scope_id: '/decoy',
            status: 'RUNNING',
            triggered_at: at(3 * 3600_000),
          },
          {
            run_id: uuid(7992),
            scope_type: 'user',
            scope_id: null,
            status: 'SUCCEEDED',
            triggered_at: at(5 * DAY),
            finished_at: at(5 * DAY),
            output_ref: {
              bottlenecks: [{ dimension_type: 'phase', dimension_key: HOSTILE_TEXT[0], ratio: 1.5 }],
              traces_scanned: 9,
            },
          },
        ];
        for (const row of decoys) await insertRow(row);
        ids.push(...decoys.map((r) => r.run_id as string));
      });
      after(async function () {
        await stack.query(`delete from ${T} where run_id = any($1::uuid[])`, [ids]);
      });

      it('the runs table has one SELECT policy, USING (true) for every role: each role must see exactly what SQL sees', async function () {
        // The reads below compare every role with the same unrestricted SQL; this is what makes that right.
        const policies = await stack.query<{ cmd: string; roles: string[]; qual: string }>(
          `select cmd, roles::text[] as roles, qual from pg_policies where schemaname = 'public' and tablename = 'telemetry_analysis_runs' and cmd in ('SELECT', 'ALL') order by policyname`,
        );
        assert.deepEqual(policies, [
          { cmd: 'SELECT', roles: ['public'], qual: 'true' },
          { cmd: 'ALL', roles: ['public'], qual: "(auth.role() = 'service_role'::text)" },
        ]);
      });

      it('getRunStatus: the stored status of every run of every hostile scope, null for an unknown run', async function () {
        for (const { name, backend } of roles) {
          for (const scope of HOSTILE_SCOPES) {
            const rows = await stack.query<{ run_id: string; status: string }>(
              `select run_id, status from ${T} where scope_id = $1 order by run_id`,
              [scope],
            );
            assert.ok(rows.length >= 10, `${JSON.stringify(scope)}: its fixture runs`);
            for (const row of rows) {
              const s = await backend.getRunStatus(row.run_id);
              assert.deepEqual(s, { ok: true, value: row.status }, `${name} ${JSON.stringify(scope)} ${row.run_id}`);
            }
          }
          assert.deepEqual(await backend.getRunStatus(uuid(999_999)), { ok: true, value: null }, name);
        }
      });

      it('findStaleRunning: exactly the RUNNING workspace runs of the given scopes triggered before the cutoff, with started_at and timeout as stored', async function () {
        type Want = { runId: string; triggeredAt: number; startedAt: number | null; timeoutMs: number | null };
        const want = async (scopes: readonly string[]): Promise<Want[]> =>
          (
            await stack.query<{ run_id: string; t: number; s: number | null; timeout_ms: number | null }>(
              `select run_id, ${MS('triggered_at')} as t, ${MS('started_at')} as s,
                      case when jsonb_typeof(metadata->'timeout_ms') = 'number' then (metadata->>'timeout_ms')::float8 end as timeout_ms
                 from ${T} where status = 'RUNNING' and scope_type = 'workspace' and scope_id = any($1::text[]) and triggered_at < $2 order by run_id`,
              [scopes, staleCutoff],
            )
          ).map((r) => ({ runId: r.run_id, triggeredAt: r.t, startedAt: r.s, timeoutMs: r.timeout_ms }));
        const got = (
          runs: Array<{ runId: string; triggeredAt: Date; startedAt: Date | null; timeoutMs: number | null }>,
        ) =>
          runs
            .map((r) => ({
              runId: r.runId,
              triggeredAt: r.triggeredAt.getTime(),
              startedAt: r.startedAt?.getTime() ?? null,
              timeoutMs: r.timeoutMs,
            }))
            .sort((a, b) => a.runId.localeCompare(b.runId));
        for (const { name, backend } of roles) {
          for (const scope of HOSTILE_SCOPES) {
            const r = await backend.findStaleRunning([scope], staleCutoff);
            assert.ok(r.ok, `${name} ${JSON.stringify(scope)}: ${!r.ok && r.error.message}`);
            const expected = await want([scope]);
            assert.equal(expected.length, 2, 'two stale runs per scope (one with a hostile non-numeric timeout)');
            assert.deepEqual(got(r.value), expected, `${name} ${JSON.stringify(scope)}`);
          }
          // All scopes in one in.(…) list: quoting keeps each value whole; the decoys never match.
          const all = await backend.findStaleRunning(HOSTILE_SCOPES, staleCutoff);
          assert.ok(all.ok, `${name}: ${!all.ok && all.error.message}`);
          assert.deepEqual(got(all.value), await want(HOSTILE_SCOPES), `${name}: every hostile scope at once`);
          assert.equal(all.value.length, HOSTILE_SCOPES.length * 2);
          assert.deepEqual(await backend.findStaleRunning([], staleCutoff), { ok: true, value: [] });
        }
      });

      // The worst-first bottlenecks of a SUCCEEDED row as SQL returns its output_ref (the fixtures store
      // them worst first with distinct keys), and the ComparableRun fields taken from the backend's answer.
      type Cmp = {
        runId: string;
        finishedAt: number | null;
        insufficientData: boolean;
        bottlenecks: Array<{
          dimensionType: unknown;
          dimensionKey: unknown;
          ratio: unknown;
          observedP50Ms: unknown;
          evidenceTraceIds: unknown;
        }>;
      };
      const succeededSql = async (
        scope: { scopeType: string | null; scopeId: string | null },
        before: Date | null,
        limit: number,
      ): Promise<Cmp[]> => {
        const rows = await stack.query<{
          run_id: string;
          f: number;
          reason_code: string | null;
          output_ref: { bottlenecks?: Array<Record<string, unknown>>; traces_scanned?: unknown } | null;
        }>(
          `select run_id, ${MS('finished_at')} as f, reason_code, output_ref from ${T}
            where status = 'SUCCEEDED' and finished_at is not null
              and (case when $1::text is null then scope_id is null else scope_type = coalesce($2, 'workspace') and scope_id = $1 end)
              and ($3::timestamptz is null or finished_at < $3)
            order by finished_at desc, run_id desc limit $4`,
          [scope.scopeId, scope.scopeType, before, limit],
        );
        return rows.map((r) => ({
          runId: r.run_id,
          finishedAt: r.f,
          insufficientData: r.reason_code === 'INSUFFICIENT_DATA' || r.output_ref?.traces_scanned === 0,
          bottlenecks: (r.output_ref?.bottlenecks ?? []).map((b) => ({
            dimensionType: b.dimension_type,
            dimensionKey: b.dimension_key,
            ratio: b.ratio ?? null,
            observedP50Ms: b.observed_p50_ms ?? null,
            evidenceTraceIds: b.evidence_trace_ids ?? [],
          })),
        }));
      };
      const cmp = (c: ComparableRun): Cmp => ({
        runId: c.runId,
        finishedAt: c.finishedAt?.getTime() ?? null,
        insufficientData: c.insufficientData,
        bottlenecks: c.bottlenecks.map((b) => ({
          dimensionType: b.dimensionType,
          dimensionKey: b.dimensionKey,
          ratio: b.ratio,
          observedP50Ms: b.observedP50Ms,
          evidenceTraceIds: b.evidenceTraceIds,
        })),
      });
      const scopeKeys = (scope: string) => [
        { scopeType: 'workspace', scopeId: scope },
        { scopeType: null, scopeId: scope },
        { scopeType: 'user', scopeId: scope },
      ];

      it('getPreviousSucceeded: the newest SUCCEEDED run of exactly that scope finished before the given time, hostile bottleneck keys byte for byte', async function () {
        const befores = [
          new Date(now + 60_000),
          new Date(now - 1.5 * DAY),
          new Date(now - 2.5 * DAY),
          new Date(now - 10 * DAY),
        ];
        for (const { name, backend } of roles) {
          for (const scope of HOSTILE_SCOPES) {
            for (const key of scopeKeys(scope)) {
              for (const before of befores) {
                const r = await backend.getPreviousSucceeded(key, before);
                const what = `${name} ${JSON.stringify(key)} before ${before.toISOString()}`;
                assert.ok(r.ok, `${what}: ${!r.ok && r.error.message}`);
                const [expected] = await succeededSql(key, before, 1);
                assert.deepEqual(r.value && cmp(r.value), expected ?? null, what);
              }
            }
            // The fixture's own answers, so that an empty or wrong SQL side cannot pass unnoticed.
            const i = HOSTILE_SCOPES.indexOf(scope);
            const newest = await backend.getPreviousSucceeded({ scopeType: 'workspace', scopeId: scope }, befores[0]);
            assert.ok(newest.ok && newest.value);
            assert.equal(newest.value.runId, uuid(7000 + 10 * i + 4));
            assert.equal(newest.value.insufficientData, true);
            const third = await backend.getPreviousSucceeded({ scopeType: 'workspace', scopeId: scope }, befores[2]);
            assert.ok(third.ok && third.value);
            assert.deepEqual(
              third.value.bottlenecks.map((b) => b.dimensionKey),
              [HOSTILE_TEXT[i % HOSTILE_TEXT.length], HOSTILE_TEXT[(i + 1) % HOSTILE_TEXT.length]],
            );
          }
          for (const before of befores) {
            const r = await backend.getPreviousSucceeded({ scopeType: 'global', scopeId: null }, before);
            assert.ok(r.ok);
            const [expected] = await succeededSql({ scopeType: 'global', scopeId: null }, before, 1);
            assert.deepEqual(
              r.value && cmp(r.value),
              expected ?? null,
              `${name} global before ${before.toISOString()}`,
            );
          }
        }
      });

      it('listSucceededRuns: the last N SUCCEEDED runs of exactly that scope, newest finished first, as SQL says', async function () {
        for (const { name, backend } of roles) {
          for (const scope of [...HOSTILE_SCOPES.flatMap(scopeKeys), { scopeType: 'global', scopeId: null }]) {
            for (const limit of [1, 2, 10]) {
              const r = await backend.listSucceededRuns(scope, limit);
              const what = `${name} ${JSON.stringify(scope)} limit ${limit}`;
              assert.ok(r.ok, `${what}: ${!r.ok && r.error.message}`);
              assert.deepEqual(r.value.map(cmp), await succeededSql(scope, null, limit), what);
            }
          }
          const ws = await backend.listSucceededRuns({ scopeType: 'workspace', scopeId: HOSTILE_SCOPES[6] }, 10);
          assert.ok(ws.ok);
          assert.deepEqual(
            ws.value.map((c) => c.runId),
            [uuid(7064), uuid(2 * 6 + 1), uuid(7063)],
            'the 1-day, 2-day and 3-day runs; not the FAILED or TIMED_OUT one, not the one without finished_at, not the user-scope one',
          );
        }
      });

      it('listRuns heads (the second request, by run_id=in.(…)): timeout and worst bottleneck merged into each RunSummary equal SQL, also after a run changes', async function () {
        type Head = {
          runId: string;
          status: string;
          reasonCode: unknown;
          errorClass: unknown;
          topBottleneckCategory: unknown;
          timeoutMs: unknown;
          topBottleneck: unknown;
          triggeredAt: number | null;
          finishedAt: number | null;
        };
        const want = async (scope: string): Promise<Head[]> =>
          (
            await stack.query<{
              run_id: string;
              status: string;
              reason_code: string | null;
              error_class: string | null;
              top_bottleneck_category: string | null;
              timeout_ms: unknown;
              top_key: string | null;
              top_ratio: unknown;
              t: number;
              f: number | null;
            }>(
              `select run_id, status, reason_code, error_class, top_bottleneck_category, metadata->'timeout_ms' as timeout_ms,
                      output_ref->'bottlenecks'->0->>'dimension_key' as top_key, output_ref->'bottlenecks'->0->'ratio' as top_ratio,
                      ${MS('triggered_at')} as t, ${MS('finished_at')} as f
                 from ${T} where scope_type = 'workspace' and scope_id = $1 order by triggered_at desc, run_id desc`,
              [scope],
            )
          ).map((r) => ({
            runId: r.run_id,
            status: r.status,
            reasonCode: r.reason_code,
            errorClass: r.error_class,
            topBottleneckCategory: r.top_bottleneck_category,
            timeoutMs: typeof r.timeout_ms === 'number' && r.timeout_ms > 0 ? r.timeout_ms : null,
            topBottleneck:
              r.top_key === null
                ? null
                : {
                    dimensionType: r.top_bottleneck_category ?? 'unknown',
                    dimensionKey: r.top_key,
                    ratio: typeof r.top_ratio === 'number' ? r.top_ratio : null,
                  },
            triggeredAt: r.t,
            finishedAt: r.f,
          }));
        const got = (runs: RunSummary[]): Head[] =>
          runs.map((r) => ({
            runId: r.runId,
            status: r.status,
            reasonCode: r.reasonCode,
            errorClass: r.errorClass,
            topBottleneckCategory: r.topBottleneckCategory,
            timeoutMs: r.timeoutMs,
            topBottleneck: r.topBottleneck ?? null,
            triggeredAt: r.triggeredAt?.getTime() ?? null,
            finishedAt: r.finishedAt?.getTime() ?? null,
          }));
        const headRequests = (role: string) =>
          stack.gateway.requestLog.filter(
            (e) => e.method === 'GET' && e.role === role && decodeURIComponent(e.query).includes('run_id=in.('),
          );
        const keys = {
          anon: stack.keys.anon,
          authenticated: stack.keys.authenticated,
          service_role: stack.keys.serviceRole,
        };
        for (const { name } of roles) {
          // A new backend, so that no head is cached yet and every listed run's head is read.
          const backend = backendFor(stack.url, keys[name]);
          try {
            for (const scope of HOSTILE_SCOPES) {
              const expected = await want(scope);
              assert.ok(
                expected.some((e) => e.topBottleneck !== null) && expected.some((e) => e.timeoutMs !== null),
                'heads to compare',
              );
              stack.gateway.clearLog();
              const r = await backend.listRuns({ kind: 'workspace', scopeIds: [scope] }, 0, 20);
              assert.ok(r.ok, `${name} ${JSON.stringify(scope)}: ${!r.ok && r.error.message}`);
              assert.deepEqual(got(r.value.runs), expected, `${name} ${JSON.stringify(scope)}`);
              const heads = headRequests(name);
              assert.equal(heads.length, 1, `${name}: one heads request`);
              assert.equal(heads[0].status, 200);
              for (const e of expected)
                assert.ok(decodeURIComponent(heads[0].query).includes(e.runId), `${e.runId} asked for`);
              // Listed again unchanged: the heads come from the cache, no second request, same answer.
              stack.gateway.clearLog();
              const again = await backend.listRuns({ kind: 'workspace', scopeIds: [scope] }, 0, 20);
              assert.ok(again.ok);
              assert.deepEqual(got(again.value.runs), expected, `${name} ${JSON.stringify(scope)} (cached heads)`);
              assert.equal(headRequests(name).length, 0, `${name}: heads cached while nothing changed`);
            }
            // A run finishes (status and output_ref change): its head is read again, and only its.
            const scope = HOSTILE_SCOPES[3];
            const changed = uuid(7000 + 10 * 3 + 1);
            await stack.query(
              `update ${T} set status = 'SUCCEEDED', finished_at = now(), top_bottleneck_category = 'subagent',
                      output_ref = jsonb_build_object('bottlenecks', jsonb_build_array(jsonb_build_object('dimension_type', 'subagent', 'dimension_key', $2::text, 'ratio', 8.75)))
                where run_id = $1`,
              [changed, `${name} ${HOSTILE_TEXT[1]}`],
            );
            stack.gateway.clearLog();
            const r = await backend.listRuns({ kind: 'workspace', scopeIds: [scope] }, 0, 20);
            assert.ok(r.ok);
            assert.deepEqual(got(r.value.runs), await want(scope), `${name}: after the change`);
            assert.deepEqual(r.value.runs.find((x) => x.runId === changed)?.topBottleneck, {
              dimensionType: 'subagent',
              dimensionKey: `${name} ${HOSTILE_TEXT[1]}`,
              ratio: 8.75,
            });
            const heads = headRequests(name);
            assert.equal(heads.length, 1);
            assert.match(decodeURIComponent(heads[0].query), new RegExp(`run_id=in\\.\\("${changed}"\\)`));
          } finally {
            backend.dispose();
          }
        }
      });
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

    describe('run lifecycle writes (claimRun, finishRun): guarded on status, service role only', function () {
      // Per role (run ids 8000 + 10 j + k): k 0 QUEUED, 1 RUNNING, 2 CANCELLED, 3 RUNNING with finish
      // columns already set. Removed again after these tests.
      const ids: string[] = [];
      const rid = (role: string, k: number) => uuid(8000 + 10 * roles.findIndex((r) => r.name === role) + k);
      /** The whole row as PostgreSQL has it (timestamps as text, to the microsecond: updated_at shows any UPDATE). */
      const rowOf = async (runId: string) =>
        (
          await stack.query<{ j: Record<string, unknown> }>(`select to_jsonb(t) as j from ${T} t where run_id = $1`, [
            runId,
          ])
        )[0]?.j;
      /** The whole table, to the microsecond. */
      const tableHash = async () =>
        (await stack.query<{ h: string }>(`select md5(string_agg(t::text, '|' order by id)) as h from ${T} t`))[0].h;
      const hostileMessage =
        'line 1\nline 2\r\n\ttab "double" \'single\' \\back\\slash ),or(status.eq.x) ünïcödé 日本語 🚀 <script>alert(1)</script> [x](command:y) \u202eRTL password=***';
      const bigOutputRef = () => {
        const bottlenecks = Array.from({ length: 3000 }, (_, i) => ({
          dimension_type: 'subagent',
          dimension_key: `${HOSTILE_TEXT[i % HOSTILE_TEXT.length]} #${i}`,
          observed_p50_ms: i * 1.5,
          baseline_p50_ms: 10,
          ratio: 1 + i / 1000,
          sample_count: i,
          exceedance_count: 1,
          evidence_trace_ids: [uuid(i), uuid(i + 1), uuid(i + 2)],
          improvement_id: null,
          note: hostileMessage,
        }));
        return { bottlenecks, traces_scanned: 123_456, dimensions_evaluated: 7, items_created: 3 };
      };
      before(async function () {
        for (const { name } of roles) {
          const base = {
            scope_type: 'workspace',
            scope_id: HOSTILE_SCOPES[(roles.findIndex((r) => r.name === name) * 4) % HOSTILE_SCOPES.length],
            triggered_by: 'MANUAL',
            correlation_id: name,
          };
          const rows: Array<Record<string, unknown>> = [
            {
              ...base,
              run_id: rid(name, 0),
              status: 'QUEUED',
              metadata: { timeout_ms: 1000, source: { extension: 'ehg-telemetry' } },
            },
            {
              ...base,
              run_id: rid(name, 1),
              status: 'RUNNING',
              started_at: new Date(now - 5000),
              metadata: { timeout_ms: 2000 },
            },
            {
              ...base,
              run_id: rid(name, 2),
              status: 'CANCELLED',
              started_at: new Date(now - 5000),
              finished_at: new Date(now - 1000),
              reason_code: 'TEST_CANCEL',
            },
            {
              ...base,
              run_id: rid(name, 3),
              status: 'RUNNING',
              started_at: new Date(now - 5000),
              top_bottleneck_category: 'gate',
              reason_code: 'OLD',
              error_class: 'Old',
              error_message: 'old',
              findings_count: 4,
              output_ref: { bottlenecks: [], traces_scanned: 1 },
            },
          ];
          for (const row of rows) await insertRow(row);
          ids.push(...rows.map((r) => r.run_id as string));
        }
      });
      after(async function () {
        await stack.query(`delete from ${T} where run_id = any($1::uuid[])`, [ids]);
      });

      it('anon and authenticated: claimRun and finishRun answer ok(false) (RLS hides the row from UPDATE) and change nothing', async function () {
        for (const { name, backend } of roles.filter((r) => r.name !== 'service_role')) {
          const hash = await tableHash();
          const rows = await Promise.all([0, 1, 2].map((k) => rowOf(rid(name, k))));
          assert.equal(rows[0]?.status, 'QUEUED');
          assert.equal(rows[1]?.status, 'RUNNING');
          const claim = await backend.claimRun(rid(name, 0), new Date(now), { runner: name });
          assert.deepEqual(claim, { ok: true, value: false }, `${name} claimRun`);
          const fields: FinishFields = {
            status: 'SUCCEEDED',
            finished_at: new Date(now).toISOString(),
            duration_ms: 5,
            error_message: hostileMessage,
          };
          const finish = await backend.finishRun(rid(name, 1), fields);
          assert.deepEqual(finish, { ok: true, value: false }, `${name} finishRun`);
          // Not even the service role's own runs: the row's status does not matter to RLS.
          assert.deepEqual(await backend.claimRun(rid('service_role', 0), new Date(now), {}), {
            ok: true,
            value: false,
          });
          assert.deepEqual(await backend.finishRun(rid('service_role', 1), fields), { ok: true, value: false });
          for (const [k, row] of rows.entries()) {
            const after = await rowOf(rid(name, k));
            assert.deepEqual(
              [after?.status, after?.started_at, after?.finished_at, after?.metadata],
              [row?.status, row?.started_at, row?.finished_at, row?.metadata],
              `${name} run ${k}: status, started_at, finished_at, metadata`,
            );
            assert.deepEqual(after, row, `${name} run ${k}: the whole row, updated_at too`);
          }
          assert.equal(await tableHash(), hash, `${name}: no row of the table changed`);
        }
      });

      it('service role: claimRun takes a QUEUED run to RUNNING with that started_at and metadata once; a second claim is ok(false) and changes nothing', async function () {
        const runId = rid('service_role', 0);
        const before = await rowOf(runId);
        const startedAt = new Date(now - 1234);
        const metadata = {
          timeout_ms: 1000,
          source: { extension: 'ehg-telemetry' },
          runner: { window_id: HOSTILE_TEXT[1], analyzer: HOSTILE_SCOPES[11], pid: 4242 },
          nested: { list: [1, 'two', null, { three: HOSTILE_TEXT[0] }] },
        };
        assert.deepEqual(await service.claimRun(runId, startedAt, metadata), { ok: true, value: true });
        const [claimed] = await stack.query<{ status: string; s: number; metadata: unknown; finished_at: Date | null }>(
          `select status, ${MS('started_at')} as s, metadata, finished_at from ${T} where run_id = $1`,
          [runId],
        );
        assert.deepEqual(claimed, { status: 'RUNNING', s: startedAt.getTime(), metadata, finished_at: null });
        const after = await rowOf(runId);
        const rest = (r: Record<string, unknown> | undefined) => ({
          ...r,
          status: 0,
          started_at: 0,
          metadata: 0,
          updated_at: 0,
        });
        assert.deepEqual(rest(after), rest(before), 'no other column changed');
        assert.notEqual(after?.updated_at, before?.updated_at, 'the row was updated (trigger)');
        const hash = await tableHash();
        assert.deepEqual(await service.claimRun(runId, new Date(now), { other: true }), { ok: true, value: false });
        assert.deepEqual(
          await service.claimRun(rid('service_role', 2), new Date(now), { other: true }),
          { ok: true, value: false },
          'a CANCELLED run is not claimed',
        );
        assert.deepEqual(
          await service.claimRun(uuid(999_999), new Date(now), { other: true }),
          { ok: true, value: false },
          'an unknown run',
        );
        assert.deepEqual(await rowOf(runId), after);
        assert.equal(await tableHash(), hash, 'the refused claims changed nothing');
      });

      it('service role: finishRun writes exactly the given fields (hostile error text, a 1.5 MB output_ref) on a RUNNING run, and ok(false) with no change once it is not RUNNING', async function () {
        const runId = rid('service_role', 1);
        const before = await rowOf(runId);
        const outputRef = bigOutputRef();
        const size = Buffer.byteLength(JSON.stringify(outputRef));
        assert.ok(size > 1_000_000 && size < 2_000_000, `output_ref is ${size} bytes`);
        const fields: Required<FinishFields> = {
          status: 'SUCCEEDED',
          finished_at: new Date(now - 17).toISOString(),
          duration_ms: 2_147_483_647,
          findings_count: 3000,
          top_bottleneck_category: HOSTILE_TEXT[3],
          reason_code: HOSTILE_TEXT[0],
          output_ref: outputRef,
          error_class: HOSTILE_TEXT[1],
          error_message: hostileMessage,
        };
        assert.deepEqual(await service.finishRun(runId, fields), { ok: true, value: true });
        const [row] = await stack.query<Record<string, unknown>>(
          `select status, ${MS('finished_at')} as finished_at, duration_ms, findings_count, top_bottleneck_category, reason_code, output_ref, error_class, error_message from ${T} where run_id = $1`,
          [runId],
        );
        assert.deepEqual(
          row,
          { ...fields, finished_at: Date.parse(fields.finished_at) },
          'every FinishFields column as given, byte for byte',
        );
        const after = await rowOf(runId);
        const rest = (r: Record<string, unknown> | undefined) => {
          const copy = { ...r };
          for (const k of [...Object.keys(fields), 'updated_at']) delete copy[k];
          return copy;
        };
        assert.deepEqual(rest(after), rest(before), 'started_at, metadata and the other columns unchanged');
        const hash = await tableHash();
        const again: FinishFields = {
          status: 'FAILED',
          finished_at: new Date(now).toISOString(),
          duration_ms: 1,
          error_message: 'late',
        };
        assert.deepEqual(
          await service.finishRun(runId, again),
          { ok: true, value: false },
          'a finished run is not finished again',
        );
        assert.deepEqual(
          await service.finishRun(rid('service_role', 2), again),
          { ok: true, value: false },
          'a cancel wins',
        );
        assert.equal(await tableHash(), hash, 'the refused finishes changed nothing');
      });

      it('service role: finishRun sets null where given null and leaves omitted columns alone', async function () {
        const runId = rid('service_role', 3);
        const before = await rowOf(runId);
        const fields: FinishFields = {
          status: 'TIMED_OUT',
          finished_at: new Date(now).toISOString(),
          duration_ms: 0,
          top_bottleneck_category: null,
          reason_code: null,
          error_class: 'TimeoutError',
          error_message: null,
        };
        assert.deepEqual(await service.finishRun(runId, fields), { ok: true, value: true });
        const after = await rowOf(runId);
        assert.deepEqual(
          [
            after?.status,
            after?.duration_ms,
            after?.top_bottleneck_category,
            after?.reason_code,
            after?.error_class,
            after?.error_message,
          ],
          ['TIMED_OUT', 0, null, null, 'TimeoutError', null],
        );
        assert.deepEqual(
          [after?.findings_count, after?.output_ref],
          [before?.findings_count, before?.output_ref],
          'omitted: as they were',
        );
      });

      it('service role: finishRun and claimRun with a hostile run id change no row', async function () {
        const target = rid('service_role', 3);
        await stack.query(`update ${T} set status = 'RUNNING' where run_id = $1`, [target]);
        const hostileIds = [
          '',
          "'",
          '"',
          `${target},${target}`,
          `${target})`,
          `(${target})`,
          `"${target}"`,
          `${target}\\`,
          `${target}",status.eq.RUNNING`,
          `in.(${target})`,
          `${target}&status=neq.RUNNING`,
          `${target} or 1=1`,
          `${target}🚀`,
          'ünïcödé/日本語',
          '*',
        ];
        const hash = await tableHash();
        const fields: FinishFields = {
          status: 'FAILED',
          finished_at: new Date(now).toISOString(),
          duration_ms: 1,
          error_message: 'hostile id',
        };
        for (const id of hostileIds) {
          for (const [what, r] of [
            ['finishRun', await service.finishRun(id, fields)],
            ['claimRun', await service.claimRun(id, new Date(now), {})],
          ] as const) {
            assert.ok(!r.ok, `${what} ${JSON.stringify(id)}: ${JSON.stringify(r)}`);
            // PostgreSQL cannot read it as a uuid: 400, 22P02 (invalid input syntax for type uuid).
            assert.deepEqual(
              [r.error.kind, r.error.status, r.error.code],
              ['constraint', 400, '22P02'],
              `${what} ${JSON.stringify(id)}`,
            );
          }
        }
        assert.equal(await tableHash(), hash, 'no row changed');
        assert.equal((await rowOf(target))?.status, 'RUNNING');
      });
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
