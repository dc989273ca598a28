// PostgREST conformance of the stack gateway, driven through the real @supabase/supabase-js client
// (plus raw fetch where headers matter). One stack for the file.
import * as assert from 'node:assert/strict';
import { createClient, SupabaseClient } from '@supabase/supabase-js';
import { startStack, Stack } from '../stack/index';

const T = 'telemetry_analysis_runs';
const HB = 'eva_scheduler_heartbeat';
const SCOPE = '/work/ws one';
const ODD_SCOPE = '/path/with,comma and "quote" \\ (parens).and.dots';

/** Node 20 has no global WebSocket; supabase-js's realtime client needs a transport even if unused. */
class InertSocket { close(): void { /* never opened */ } }

function client(stack: Stack, key: string): SupabaseClient {
  return createClient(stack.url, key, {
    auth: { persistSession: false, autoRefreshToken: false },
    realtime: { transport: InertSocket as never },
  });
}

function uuid(n: number): string {
  return `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
}

describe('gateway conformance (supabase-js against the PostgREST stand-in)', function () {
  let stack: Stack;
  let svc: SupabaseClient;
  let anon: SupabaseClient;
  let authd: SupabaseClient;
  let rest: string;

  before(async function () {
    stack = await startStack();
    svc = client(stack, stack.keys.serviceRole);
    anon = client(stack, stack.keys.anon);
    authd = client(stack, stack.keys.authenticated);
    rest = `${stack.url}/rest/v1`;
    // 30 runs: 20 in SCOPE, 5 global (scope_id NULL), 4 in another scope, 1 in ODD_SCOPE
    const rows: string[] = [];
    for (let i = 1; i <= 30; i++) {
      const scope = i <= 20 ? `'${SCOPE}'` : i <= 25 ? 'NULL' : i <= 29 ? `'/other'` : `'${ODD_SCOPE.replace(/'/g, "''")}'`;
      const scopeType = i > 20 && i <= 25 ? 'global' : 'workspace';
      const status = ['QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'CANCELLED'][i % 6];
      const finished = ['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'CANCELLED'].includes(status) ? `now() - interval '${i} minutes'` : 'NULL';
      const cat = status === 'SUCCEEDED' ? `'${['phase', 'gate', 'subagent', 'sd_type'][i % 4]}'` : 'NULL';
      rows.push(`('${uuid(i)}', '${scopeType}', ${scope}, '${status}', now() - interval '${i} hours', ${finished}, ${i % 7}, ${cat}, '{"timeout_ms": ${1000 * i}, "tags": {"k": "v${i}"}}', 'corr-${i}')`);
    }
    await stack.query(`INSERT INTO ${T} (run_id, scope_type, scope_id, status, triggered_at, finished_at, findings_count, top_bottleneck_category, metadata, correlation_id) VALUES ${rows.join(',')}`);
    await stack.query(`INSERT INTO ${HB} (id, instance_id, status) VALUES (1, 'scheduler-0badc0de', 'running')`);
    await stack.query(`CREATE FUNCTION public.t_whoami() RETURNS json LANGUAGE sql STABLE AS $$
      SELECT json_build_object('user', current_user, 'claims', current_setting('request.jwt.claims', true)::json,
        'role', current_setting('request.jwt.claim.role', true), 'method', current_setting('request.method', true),
        'path', current_setting('request.path', true), 'auth_role', auth.role()) $$`);
    await stack.query(`GRANT EXECUTE ON FUNCTION public.t_whoami() TO anon, authenticated, service_role`);
    stack.gateway.refreshSchemaCache();
  });

  after(async function () {
    await stack?.stop();
  });

  describe('select', function () {
    it('column lists, aliases, JSON paths -> and ->> (aliased), and *', async function () {
      const { data, error } = await svc.from(T).select('run_id,state:status,timeout_ms:metadata->timeout_ms,tag:metadata->tags->>k,metadata->tags').eq('run_id', uuid(2)).single();
      assert.equal(error, null);
      assert.deepEqual(data, { run_id: uuid(2), state: 'SUCCEEDED', timeout_ms: 2000, tag: 'v2', tags: { k: 'v2' } });
      const star = await svc.from(T).select('*').eq('run_id', uuid(3));
      assert.equal(star.data?.length, 1);
      assert.equal(Object.keys(star.data?.[0] ?? {}).length, 20);
      assert.match(String(star.data?.[0].triggered_at), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+00:00$/);
    });

    it('eq, neq, gt, gte, lt, lte, in, is, like, ilike and not.<op>', async function () {
      const ids = async (q: PromiseLike<{ data: unknown; error: unknown }>) => {
        const r = await q;
        assert.equal(r.error, null);
        return (r.data as Array<{ run_id: string }>).map((x) => Number(x.run_id.slice(-12))).sort((a, b) => a - b);
      };
      const base = () => svc.from(T).select('run_id');
      assert.deepEqual(await ids(base().eq('findings_count', 3)), [3, 10, 17, 24]);
      assert.equal((await ids(base().neq('findings_count', 3))).length, 26);
      assert.deepEqual(await ids(base().gt('findings_count', 5).lte('findings_count', 6)), [6, 13, 20, 27]);
      assert.deepEqual(await ids(base().gte('findings_count', 6).lt('findings_count', 7)), [6, 13, 20, 27]);
      assert.deepEqual(await ids(base().in('run_id', [uuid(1), uuid(2), uuid(99)])), [1, 2]);
      assert.deepEqual(await ids(base().is('scope_id', null)), [21, 22, 23, 24, 25]);
      assert.equal((await ids(base().not('scope_id', 'is', null))).length, 25);
      assert.deepEqual(await ids(base().like('correlation_id', 'corr-1*').lt('findings_count', 2)), [1, 14, 15]);
      assert.deepEqual(await ids(base().ilike('correlation_id', 'CORR-2_')), [20, 21, 22, 23, 24, 25, 26, 27, 28, 29]);
      assert.deepEqual(await ids(base().not('status', 'in', '(QUEUED,RUNNING,SUCCEEDED,FAILED,TIMED_OUT)')), [5, 11, 17, 23, 29]);
      const b = await fetch(`${rest}/${T}?select=run_id&run_id=is.maybe`, { headers: { apikey: stack.keys.serviceRole } });
      assert.equal(b.status, 400);
      assert.equal((await b.json() as any).code, 'PGRST100');
    });

    it('or= with nested and(), quoted values with commas/quotes/backslashes, several or params ANDed', async function () {
      const q = (v: string) => `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
      const scoped = await svc.from(T).select('run_id')
        .or(`and(scope_type.eq.workspace,scope_id.eq.${q(ODD_SCOPE)}),and(scope_type.in.(workspace,user,global),scope_id.is.null)`);
      assert.equal(scoped.error, null);
      assert.deepEqual(scoped.data?.map((r) => Number(r.run_id.slice(-12))).sort((a, b) => a - b), [21, 22, 23, 24, 25, 30]);
      const both = await svc.from(T).select('run_id').or('status.eq.QUEUED,status.eq.RUNNING').or('scope_id.is.null,findings_count.eq.0');
      assert.deepEqual(both.data?.map((r) => Number(r.run_id.slice(-12))).sort((a, b) => a - b), [7, 24, 25]);
      const nested = await svc.from(T).select('run_id').or(`and(status.eq.SUCCEEDED,or(findings_count.eq.2,findings_count.eq.3)),run_id.eq.${uuid(1)}`);
      assert.deepEqual(nested.data?.map((r) => Number(r.run_id.slice(-12))).sort((a, b) => a - b), [1, 2]);
      const inQuoted = await svc.from(T).select('run_id').or(`scope_id.in.(${q(ODD_SCOPE)},"/other")`);
      assert.equal(inQuoted.data?.length, 5);
    });

    it('order (asc/desc, nullsfirst/nullslast, several columns), limit, offset', async function () {
      const r = await svc.from(T).select('run_id,finished_at').order('finished_at', { ascending: false, nullsFirst: true }).order('run_id', { ascending: true }).limit(12);
      assert.equal(r.error, null);
      const rows = r.data ?? [];
      assert.equal(rows.length, 12);
      assert.equal(rows.filter((x) => x.finished_at === null).length, 10, 'ten active runs first');
      assert.deepEqual(rows.slice(0, 3).map((x) => Number(x.run_id.slice(-12))), [1, 6, 7]);
      assert.equal(Number(rows[10].run_id.slice(-12)), 2, 'newest finished after the nulls');
      const last = await svc.from(T).select('run_id').order('finished_at', { ascending: true, nullsFirst: false }).order('run_id').range(25, 29);
      assert.deepEqual(last.data?.map((x) => Number(x.run_id.slice(-12))), [18, 19, 24, 25, 30]);
      const off = await fetch(`${rest}/${T}?select=run_id&order=run_id.desc&limit=2&offset=3`, { headers: { apikey: stack.keys.anon } });
      assert.deepEqual((await off.json() as any).map((x: { run_id: string }) => Number(x.run_id.slice(-12))), [27, 26]);
    });

    it('Range header, Prefer: count=exact with Content-Range, HEAD', async function () {
      const r = await fetch(`${rest}/${T}?select=run_id&order=run_id`, { headers: { apikey: stack.keys.anon, Range: '0-19', 'Range-Unit': 'items', Prefer: 'count=exact' } });
      assert.equal(r.status, 206);
      assert.equal(r.headers.get('content-range'), '0-19/30');
      assert.equal((await r.json() as any).length, 20);
      const none = await fetch(`${rest}/${T}?select=run_id&status=eq.FAILED_ENQUEUE`, { headers: { apikey: stack.keys.anon, Prefer: 'count=exact' } });
      assert.equal(none.status, 200);
      assert.equal(none.headers.get('content-range'), '*/0');
      const noCount = await fetch(`${rest}/${T}?select=run_id&limit=3`, { headers: { apikey: stack.keys.anon } });
      assert.equal(noCount.headers.get('content-range'), '0-2/*');
      const c = await svc.from(T).select('*', { count: 'exact', head: true }).eq('status', 'QUEUED');
      assert.equal(c.error, null);
      assert.equal(c.count, 5);
      assert.equal(c.data, null);
      const head = await fetch(`${rest}/${T}?select=run_id`, { method: 'HEAD', headers: { apikey: stack.keys.anon, Prefer: 'count=exact' } });
      assert.equal(head.status, 200);
      assert.equal(head.headers.get('content-range'), '0-29/30');
      assert.equal((await head.text()), '');
      const paged = await svc.from(T).select('run_id', { count: 'exact' }).order('run_id').range(10, 14);
      assert.equal(paged.count, 30);
      assert.equal(paged.data?.length, 5);
    });

    it('single() / maybeSingle(): one object, or 406 PGRST116 on zero or several rows', async function () {
      const one = await svc.from(T).select('run_id').eq('run_id', uuid(5)).single();
      assert.deepEqual(one.data, { run_id: uuid(5) });
      const zero = await svc.from(T).select('run_id').eq('run_id', uuid(999)).single();
      assert.equal(zero.status, 406);
      assert.equal(zero.error?.code, 'PGRST116');
      assert.match(String(zero.error?.details), /0 rows/);
      const many = await svc.from(T).select('run_id').eq('status', 'QUEUED').single();
      assert.equal(many.status, 406);
      assert.equal(many.error?.code, 'PGRST116');
      const maybe = await svc.from(T).select('run_id').eq('run_id', uuid(999)).maybeSingle();
      assert.equal(maybe.error, null);
      assert.equal(maybe.data, null);
      const raw = await fetch(`${rest}/${T}?select=run_id&run_id=eq.${uuid(5)}`, { headers: { apikey: stack.keys.anon, Accept: 'application/vnd.pgrst.object+json' } });
      assert.match(String(raw.headers.get('content-type')), /application\/vnd\.pgrst\.object\+json/);
      assert.deepEqual(await raw.json(), { run_id: uuid(5) });
    });
  });

  describe('writes', function () {
    it('insert object → 201 without body (return=minimal); with select → 201 + rows', async function () {
      const raw = await fetch(`${rest}/${T}`, { method: 'POST', headers: { apikey: stack.keys.serviceRole, 'Content-Type': 'application/json', Prefer: 'return=minimal' }, body: JSON.stringify({ run_id: uuid(101), scope_id: SCOPE }) });
      assert.equal(raw.status, 201);
      assert.equal(await raw.text(), '');
      const ins = await svc.from(T).insert({ run_id: uuid(102), scope_id: SCOPE, triggered_by: 'MANUAL', metadata: { timeout_ms: 120000 } }).select('run_id,status,triggered_by,t:metadata->timeout_ms');
      assert.equal(ins.status, 201);
      assert.deepEqual(ins.data, [{ run_id: uuid(102), status: 'QUEUED', triggered_by: 'MANUAL', t: 120000 }]);
      const [row] = await stack.query(`SELECT scope_type, findings_count, metadata FROM ${T} WHERE run_id = $1`, [uuid(101)]);
      assert.deepEqual(row, { scope_type: 'workspace', findings_count: 0, metadata: {} }, 'defaults applied for absent keys');
    });

    it('insert array honours the columns parameter (absent key → NULL; missing=default → DEFAULT)', async function () {
      const r = await svc.from(T).insert([{ run_id: uuid(103), scope_id: 'a' }, { run_id: uuid(104), metadata: { x: 1 } }]).select('run_id,scope_id,metadata');
      assert.equal(r.error, null);
      assert.deepEqual(r.data, [{ run_id: uuid(103), scope_id: 'a', metadata: null }, { run_id: uuid(104), scope_id: null, metadata: { x: 1 } }]);
      const d = await svc.from(T).insert([{ run_id: uuid(105), scope_id: 'b' }, { run_id: uuid(106), metadata: { y: 2 } }], { defaultToNull: false }).select('run_id,metadata');
      assert.deepEqual(d.data, [{ run_id: uuid(105), metadata: {} }, { run_id: uuid(106), metadata: { y: 2 } }]);
    });

    it('upsert: merge-duplicates on run_id, ignore-duplicates', async function () {
      const m = await svc.from(T).upsert({ run_id: uuid(103), scope_id: 'merged', status: 'CANCELLED' }, { onConflict: 'run_id' }).select('run_id,scope_id,status');
      assert.equal(m.error, null);
      assert.deepEqual(m.data, [{ run_id: uuid(103), scope_id: 'merged', status: 'CANCELLED' }]);
      const ig = await svc.from(T).upsert([{ run_id: uuid(103), scope_id: 'ignored' }, { run_id: uuid(107), scope_id: 'new' }], { onConflict: 'run_id', ignoreDuplicates: true }).select('run_id,scope_id');
      assert.deepEqual(ig.data, [{ run_id: uuid(107), scope_id: 'new' }]);
      const [row] = await stack.query(`SELECT scope_id FROM ${T} WHERE run_id = $1`, [uuid(103)]);
      assert.equal(row.scope_id, 'merged');
      const dup = await svc.from(T).insert({ run_id: uuid(103) });
      assert.equal(dup.status, 409);
      assert.equal(dup.error?.code, '23505');
    });

    it('PATCH and DELETE with filters (minimal 204, representation 200)', async function () {
      const up = await svc.from(T).update({ status: 'CANCELLED', reason_code: 'USER_CANCELLED' }).in('run_id', [uuid(105), uuid(106)]).in('status', ['QUEUED', 'RUNNING']).select('run_id,status,reason_code');
      assert.equal(up.status, 200);
      assert.equal(up.data?.length, 2);
      assert.ok(up.data?.every((r) => r.status === 'CANCELLED' && r.reason_code === 'USER_CANCELLED'));
      const again = await svc.from(T).update({ status: 'CANCELLED' }).eq('run_id', uuid(105)).in('status', ['QUEUED', 'RUNNING']).select('run_id');
      assert.deepEqual(again.data, [], 'a finished run is not matched');
      const minimal = await svc.from(T).update({ scope_id: 'x' }).eq('run_id', uuid(107));
      assert.equal(minimal.status, 204);
      const del = await svc.from(T).delete().eq('run_id', uuid(107)).select('run_id');
      assert.deepEqual(del.data, [{ run_id: uuid(107) }]);
      const del2 = await svc.from(T).delete().eq('run_id', uuid(107));
      assert.equal(del2.status, 204);
      assert.equal((await stack.query(`SELECT 1 FROM ${T} WHERE run_id = $1`, [uuid(107)])).length, 0);
    });

    it('RPC with named args: scalar, table-returning, unknown function', async function () {
      const e = await anon.rpc('stack_echo', { msg: 'hello, "world"' });
      assert.equal(e.error, null);
      assert.equal(e.data, 'hello, "world"');
      const t = await anon.rpc('server_time');
      assert.ok(Math.abs(Date.parse(String(t.data)) - Date.now()) < 60_000);
      const counts = await svc.rpc('stack_run_counts', { p_scope_id: '/other' });
      assert.deepEqual(counts.data, [{ status: 'CANCELLED', n: 1 }, { status: 'FAILED', n: 1 }, { status: 'SUCCEEDED', n: 1 }, { status: 'TIMED_OUT', n: 1 }]);
      const missing = await anon.rpc('no_such_fn', { a: 1 });
      assert.equal(missing.status, 404);
      assert.equal(missing.error?.code, 'PGRST202');
    });
  });

  describe('auth and request context', function () {
    it('sets role, request.jwt.claims, claim.role, request.method and request.path per request', async function () {
      const a = await anon.rpc('t_whoami') as { data: any }; // eslint-disable-line @typescript-eslint/no-explicit-any
      assert.equal(a.data.user, 'anon');
      assert.equal(a.data.role, 'anon');
      assert.equal(a.data.method, 'POST');
      assert.equal(a.data.path, '/rest/v1/rpc/t_whoami');
      assert.equal(a.data.claims.iss, 'supabase-local-stack');
      const s = await svc.rpc('t_whoami', {}, { get: true }) as { data: any }; // eslint-disable-line @typescript-eslint/no-explicit-any
      assert.equal(s.data.user, 'service_role');
      assert.equal(s.data.auth_role, 'service_role');
      assert.equal(s.data.method, 'GET');
      const none = await fetch(`${rest}/rpc/t_whoami`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
      const n = await none.json() as any; // eslint-disable-line @typescript-eslint/no-explicit-any
      assert.equal(n.user, 'anon');
      assert.deepEqual(n.claims, { role: 'anon' });
      const custom = client(stack, stack.makeJwt({ role: 'authenticated', sub: uuid(77), exp: Math.floor(Date.now() / 1000) + 60 }));
      const c = await custom.rpc('t_whoami') as { data: any }; // eslint-disable-line @typescript-eslint/no-explicit-any
      assert.equal(c.data.user, 'authenticated');
      assert.equal(c.data.claims.sub, uuid(77));
    });

    it('401 PGRST301 for a bad signature or malformed token, 401 PGRST303 when expired, disallowed role refused', async function () {
      const forged = stack.keys.serviceRole.slice(0, -4) + (stack.keys.serviceRole.endsWith('AAAA') ? 'BBBB' : 'AAAA');
      for (const [key, code] of [[forged, 'PGRST301'], ['not-a-jwt', 'PGRST301'], [stack.makeJwt({ role: 'service_role', exp: Math.floor(Date.now() / 1000) - 10 }), 'PGRST303'], [stack.makeJwt({ role: 'postgres' }), 'PGRST301']] as const) {
        const r = await client(stack, key).from(T).select('run_id').limit(1);
        assert.equal(r.status, 401, key);
        assert.equal(r.error?.code, code, key);
      }
      const otherSecret = createClient(stack.url, stack.keys.anon.split('.').slice(0, 2).join('.') + '.c2lnbmF0dXJl', { auth: { persistSession: false }, realtime: { transport: InertSocket as never } });
      assert.equal((await otherSecret.from(T).select('run_id').limit(1)).status, 401);
      // apikey alone is used when there is no Authorization header
      const viaApikey = await fetch(`${rest}/${HB}?select=id`, { headers: { apikey: stack.keys.authenticated } });
      assert.deepEqual(await viaApikey.json(), [{ id: 1 }]);
    });

    it('RLS matrix at gateway level', async function () {
      const aRead = await anon.from(T).select('run_id', { count: 'exact' });
      assert.equal(aRead.error, null);
      assert.ok((aRead.count ?? 0) >= 30);
      const aIns = await anon.from(T).insert({ run_id: uuid(201) });
      assert.equal(aIns.status, 401);
      assert.equal(aIns.error?.code, '42501');
      const aHb = await anon.from(HB).select('*');
      assert.equal(aHb.error, null);
      assert.deepEqual(aHb.data, [], 'anon sees zero heartbeat rows');
      const hb = await authd.from(HB).select('id,instance_id').eq('id', 1);
      assert.deepEqual(hb.data, [{ id: 1, instance_id: 'scheduler-0badc0de' }]);
      const auIns = await authd.from(T).insert({ run_id: uuid(202) });
      assert.equal(auIns.status, 403);
      assert.equal(auIns.error?.code, '42501');
      const auUpd = await authd.from(T).update({ status: 'CANCELLED' }).eq('run_id', uuid(1)).select('run_id');
      assert.deepEqual(auUpd.data, [], 'authenticated cannot update runs (no row passes USING)');
      const auHbWrite = await authd.from(HB).update({ status: 'stopped' }).eq('id', 1).select('id');
      assert.deepEqual(auHbWrite.data, []);
      const sIns = await svc.from(T).insert({ run_id: uuid(203) }).select('run_id');
      assert.equal(sIns.status, 201);
      const sHb = await svc.from(HB).update({ paused_reason: 'test' }).eq('id', 1).select('paused_reason');
      assert.deepEqual(sHb.data, [{ paused_reason: 'test' }]);
      const sDel = await svc.from(T).delete().eq('run_id', uuid(203)).select('run_id');
      assert.equal(sDel.data?.length, 1);
    });

    it('capability probe: anon insert with status __capability_probe__ → 42501 (RLS first), service_role → 23514', async function () {
      const a = await anon.from(T).insert({ run_id: uuid(301), status: '__capability_probe__' });
      assert.equal(a.status, 401);
      assert.equal(a.error?.code, '42501');
      const au = await authd.from(T).insert({ run_id: uuid(302), status: '__capability_probe__' });
      assert.equal(au.status, 403);
      assert.equal(au.error?.code, '42501');
      const s = await svc.from(T).insert({ run_id: uuid(303), status: '__capability_probe__' });
      assert.equal(s.status, 400);
      assert.equal(s.error?.code, '23514');
      assert.match(String(s.error?.message), /telemetry_analysis_runs_status_check/);
      assert.equal((await stack.query(`SELECT 1 FROM ${T} WHERE run_id IN ($1, $2, $3)`, [uuid(301), uuid(302), uuid(303)])).length, 0, 'nothing written');
    });
  });

  describe('errors in PostgREST shape', function () {
    it('maps syntax, unknown column/table, constraint and type errors', async function () {
      const check = async (q: PromiseLike<{ status: number; error: { code?: string; message?: string; details?: unknown; hint?: unknown } | null }>, status: number, code: string) => {
        const r = await q;
        assert.equal(r.status, status, `${code}: ${JSON.stringify(r.error)}`);
        assert.equal(r.error?.code, code);
        assert.equal(typeof r.error?.message, 'string');
        assert.ok(r.error && 'details' in r.error && 'hint' in r.error);
      };
      await check(svc.from(T).select('run_id').or('status.eq'), 400, 'PGRST100');
      await check(svc.from(T).select('run_id').filter('status', 'bogus', 'x'), 400, 'PGRST100');
      await check(svc.from(T).select('nope'), 400, '42703');
      await check(svc.from(T).select('run_id').eq('nope', 1), 400, '42703');
      await check(svc.from(T).insert({ run_id: uuid(401), nope: 1 }), 400, 'PGRST204');
      await check(svc.from('no_such_table').select('*'), 404, 'PGRST205');
      await check(svc.from(T).insert({ run_id: uuid(402), scope_type: 'planet' }), 400, '23514');
      await check(svc.from(T).insert({ scope_id: 'no run id' }), 400, '23502');
      await check(svc.from(T).select('run_id').eq('run_id', 'not-a-uuid'), 400, '22P02');
      await check(svc.from(T).insert({ run_id: uuid(1) }), 409, '23505');
      const raw = await fetch(`${rest}/${T}`, { method: 'POST', headers: { apikey: stack.keys.serviceRole, 'Content-Type': 'application/json' }, body: '{bad json' });
      assert.equal(raw.status, 400);
      assert.equal((await raw.json() as any).code, 'PGRST102');
    });
  });

  describe('injection', function () {
    async function intact(): Promise<void> {
      const [r] = await stack.query(`SELECT count(*)::int AS n, to_regclass('public.${T}') IS NOT NULL AS t FROM ${T}`);
      assert.equal(r.t, true);
      assert.ok(r.n >= 30);
      const [h] = await stack.query(`SELECT count(*)::int AS n FROM ${HB}`);
      assert.equal(h.n, 1);
    }

    it('hostile column names are rejected, never executed', async function () {
      const hostile = ['run_id;DROP TABLE telemetry_analysis_runs', 'run_id)--', '"run_id"" FROM eva_scheduler_heartbeat; --"', 'x:run_id,pg_sleep(5)', 'run_id->>\'a\'); DROP TABLE x; --'];
      for (const h of hostile) {
        const r = await svc.from(T).select(h);
        assert.ok(r.status === 400, `${h} → ${r.status} ${JSON.stringify(r.error)}`);
      }
      for (const key of ['status;DELETE FROM telemetry_analysis_runs', '"status"" = \'\' OR 1=1 --"']) {
        const r = await fetch(`${rest}/${T}?select=run_id&${encodeURIComponent(key)}=eq.x`, { headers: { apikey: stack.keys.serviceRole } });
        assert.equal(r.status, 400, key);
      }
      const o = await fetch(`${rest}/${T}?select=run_id&order=${encodeURIComponent('run_id;DROP TABLE x')}`, { headers: { apikey: stack.keys.serviceRole } });
      assert.equal(o.status, 400);
      const ins = await svc.from(T).insert({ run_id: uuid(501), 'status) VALUES (1); DROP TABLE telemetry_analysis_runs; --': 'x' } as never);
      assert.equal(ins.error?.code, 'PGRST204');
      await intact();
    });

    it('hostile filter values and or= strings are data, not SQL', async function () {
      const evil = `x' OR '1'='1`;
      const e1 = await svc.from(T).select('run_id').eq('scope_id', evil);
      assert.deepEqual(e1.data, []);
      const e2 = await svc.from(T).select('run_id').eq('scope_id', `'; DELETE FROM ${T}; --`);
      assert.deepEqual(e2.data, []);
      const e3 = await svc.from(T).select('run_id').or(`scope_id.eq."a\\"),true) OR (1=1",status.eq.NOPE`);
      assert.deepEqual(e3.data, [], JSON.stringify(e3.error));
      const e4 = await svc.from(T).select('run_id').or(`scope_id.eq.x) OR true OR (1=1`);
      assert.ok(e4.status === 400 || (Array.isArray(e4.data) && e4.data.length === 0), JSON.stringify(e4));
      const e5 = await svc.from(T).select('run_id').in('scope_id', [`a') OR true --`, 'b"c']);
      assert.deepEqual(e5.data, []);
      const e6 = await svc.from(T).select('run_id').like('scope_id', `%' OR 1=1 --`);
      assert.deepEqual(e6.data, []);
      // and a hostile value that IS stored is matched literally
      await svc.from(T).insert({ run_id: uuid(502), scope_id: evil });
      const hit = await svc.from(T).select('run_id').or(`scope_id.eq."${evil}"`);
      assert.deepEqual(hit.data, [{ run_id: uuid(502) }]);
      const upd = await svc.from(T).update({ error_message: `'); DROP TABLE ${T}; --` }).eq('run_id', uuid(502)).select('error_message');
      assert.deepEqual(upd.data, [{ error_message: `'); DROP TABLE ${T}; --` }]);
      await intact();
    });
  });

  describe('test hooks: request log, faults, close/listen, Date header', function () {
    afterEach(function () {
      stack.gateway.setFault(null);
    });

    it('logs each request with method, path, query, status, role, duration and size', async function () {
      stack.gateway.clearLog();
      assert.equal(stack.gateway.requestLog.length, 0);
      await anon.from(T).select('run_id').eq('run_id', uuid(1));
      await anon.from(T).insert({ run_id: uuid(601) });
      const log = stack.gateway.requestLog;
      assert.equal(log.length, 2);
      assert.equal(log[0].method, 'GET');
      assert.equal(log[0].path, `/rest/v1/${T}`);
      assert.match(log[0].query, /run_id=eq\./);
      assert.equal(log[0].status, 200);
      assert.equal(log[0].role, 'anon');
      assert.ok(log[0].durationMs > 0);
      assert.equal(log[0].responseBytes, JSON.stringify([{ run_id: uuid(1) }]).length);
      assert.ok(!Number.isNaN(Date.parse(log[0].at)));
      assert.equal(log[1].status, 401);
    });

    it('fault: status with PostgREST body and Retry-After, only for matching requests', async function () {
      stack.gateway.setFault({ table: HB, status: 503, retryAfter: 7, body: { code: 'PGRST001', message: 'down for test' } });
      const r = await fetch(`${rest}/${HB}?select=id`, { headers: { apikey: stack.keys.serviceRole } });
      assert.equal(r.status, 503);
      assert.equal(r.headers.get('retry-after'), '7');
      assert.deepEqual(await r.json(), { code: 'PGRST001', details: 'injected by the stack gateway', hint: null, message: 'down for test' });
      const other = await svc.from(T).select('run_id').limit(1);
      assert.equal(other.status, 200, 'other tables unaffected');
      stack.gateway.setFault({ match: (q) => q.method === 'POST', status: 500, times: 1 });
      const p1 = await svc.from(T).insert({ run_id: uuid(602) });
      assert.equal(p1.status, 500);
      const p2 = await svc.from(T).insert({ run_id: uuid(602) });
      assert.equal(p2.status, 201, 'times: 1 cleared the fault');
    });

    it('fault: delay and destroyed socket', async function () {
      stack.gateway.setFault({ delayMs: 300 });
      const t0 = Date.now();
      const d = await svc.from(T).select('run_id').limit(1);
      assert.equal(d.status, 200);
      assert.ok(Date.now() - t0 >= 290);
      stack.gateway.setFault({ destroy: true, method: 'POST' });
      const x = await svc.from(T).insert({ run_id: uuid(603) });
      assert.equal(x.status, 0);
      assert.ok(x.error);
      assert.equal((await stack.query(`SELECT 1 FROM ${T} WHERE run_id = $1`, [uuid(603)])).length, 0);
    });

    it('close() takes the backend down, listen() brings it back on the same port; responses carry Date', async function () {
      const port = stack.gateway.port;
      await stack.gateway.close();
      const down = await anon.from(T).select('run_id').limit(1).retry(false);
      assert.equal(down.status, 0);
      assert.ok(down.error);
      assert.equal(await stack.gateway.listen(), port);
      const up = await fetch(`${rest}/${T}?select=run_id&limit=1`, { headers: { apikey: stack.keys.anon } });
      assert.equal(up.status, 200);
      const date = up.headers.get('date');
      assert.ok(date && Math.abs(Date.parse(date) - Date.now()) < 5000);
    });
  });
});
