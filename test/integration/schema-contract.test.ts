// The local stack's schema must match the table contracts exactly: the in-repo contract
// (devkit/stack/contract.json, written from the user's seed documents) against the live catalog, and
// that contract against the documents parsed at run time: the originals (../shared/seeds or
// EHG_SEEDS_DIR) when they are beside the checkout, else their verbatim copies in devkit/stack/seeds/,
// which must then equal the originals byte for byte. (PostgreSQL 18 also lists NOT NULL as
// pg_constraint rows of type 'n'; those are covered by the columns test, as in the documents.)
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { Client } from 'pg';
import * as path from 'node:path';
import {
  ContractTable,
  findSeedsDir,
  loadContract,
  loadSeeds,
  normaliseType,
  seedFiles,
  vendoredSeedsDir,
} from '../../devkit/stack/seed-doc';
import { startStack, Stack } from '../../devkit/stack/index';

describe('the in-repo contract == the seed documents', function () {
  // The user's documents beside this clone, if any; both tests below follow what was found.
  const originals = findSeedsDir();

  it('devkit/stack/contract.json says exactly what the seed documents say', function () {
    const dir = originals ?? vendoredSeedsDir();
    console.log(`      (documents read from ${originals ? dir : `${dir}: no ../shared/seeds beside this clone`})`);
    const fromDocs = loadSeeds(dir).map(({ file, ...t }) => ({ source: path.basename(file), ...t }));
    assert.equal(fromDocs.length, 2, `two table contracts in ${dir}`);
    assert.deepEqual(loadContract(), fromDocs);
  });

  // What this clone can check is said in the test's title: with the originals beside it, the copies
  // byte for byte; without, only that the copies are all there (the test above parses them).
  const title = originals
    ? `devkit/stack/seeds/ holds the user's documents verbatim (compared with ${originals})`
    : 'devkit/stack/seeds/ holds every document (no originals beside this clone to compare them with byte for byte)';
  it(title, function () {
    const vendored = vendoredSeedsDir();
    const copies = fs.readdirSync(vendored).sort();
    assert.deepEqual(seedFiles(vendored), ['000_bd44547f510987f5.txt', '003_031617e18d327c50.txt']);
    assert.ok(copies.includes('README.md'), 'the documents folder README is copied too');
    if (!originals) return;
    assert.deepEqual(copies, fs.readdirSync(originals).sort(), `the same files as ${originals}`);
    for (const f of copies)
      assert.ok(
        fs.readFileSync(path.join(vendored, f)).equals(fs.readFileSync(path.join(originals, f))),
        `devkit/stack/seeds/${f} differs from ${path.join(originals, f)}: copy the user's document again`,
      );
  });
});

describe('schema contract: stack catalog == the in-repo contract', function () {
  let stack: Stack;
  let seeds: ContractTable[];

  before(async function () {
    seeds = loadContract();
    stack = await startStack();
  });
  after(async function () {
    await stack?.stop();
  });

  it('holds both tables', function () {
    assert.deepEqual(seeds.map((s) => s.table).sort(), ['eva_scheduler_heartbeat', 'telemetry_analysis_runs']);
    for (const s of seeds) assert.ok(s.columns.length > 10, `${s.source}: columns`);
  });

  it('columns: names, order, types, nullability and defaults', async function () {
    for (const s of seeds) {
      const rows = await stack.query<{
        column_name: string;
        data_type: string;
        is_nullable: string;
        column_default: string | null;
      }>(
        `SELECT column_name, data_type, is_nullable, column_default FROM information_schema.columns
          WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position`,
        [s.table],
      );
      assert.deepEqual(
        rows.map((r) => r.column_name),
        s.columns.map((c) => c.name),
        `${s.table}: column names/order`,
      );
      for (const c of s.columns) {
        const r = rows.find((x) => x.column_name === c.name);
        assert.ok(r);
        assert.equal(r.data_type, normaliseType(c.type), `${s.table}.${c.name} type`);
        assert.equal(r.is_nullable === 'YES', c.nullable, `${s.table}.${c.name} nullable`);
        assert.equal(r.column_default, c.default, `${s.table}.${c.name} default`);
      }
    }
  });

  it('constraints: primary key, unique and CHECK with exact names and definitions', async function () {
    for (const s of seeds) {
      const rows = await stack.query<{ conname: string; contype: string; def: string }>(
        `SELECT conname, contype, pg_get_constraintdef(oid) AS def FROM pg_constraint
          WHERE conrelid = ('public.' || quote_ident($1))::regclass AND contype <> 'n' ORDER BY conname`,
        [s.table],
      );
      const expected = [
        ...(s.primaryKey ? [{ ...s.primaryKey, type: 'p' }] : []),
        ...s.unique.map((u) => ({ ...u, type: 'u' })),
        ...s.checks.map((c) => ({ ...c, type: 'c' })),
      ].sort((a, b) => a.name.localeCompare(b.name));
      assert.deepEqual(
        rows.map((r) => ({ name: r.conname, def: r.def, type: r.contype })),
        expected.map((e) => ({ name: e.name, def: e.def, type: e.type })),
        s.table,
      );
    }
  });

  it('indexes: exactly the documented five (+1) with names, columns and partial WHERE', async function () {
    for (const s of seeds) {
      const rows = await stack.query<{ indexname: string; indexdef: string }>(
        `SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename = $1 ORDER BY indexname`,
        [s.table],
      );
      assert.deepEqual(
        rows.map((r) => ({ name: r.indexname, def: r.indexdef })),
        [...s.indexes].sort((a, b) => a.name.localeCompare(b.name)),
        s.table,
      );
    }
    assert.equal(seeds.find((s) => s.table === 'telemetry_analysis_runs')?.indexes.length, 5);
  });

  it('row-level security enabled and policies exactly as written', async function () {
    for (const s of seeds) {
      const [cls] = await stack.query<{ relrowsecurity: boolean }>(
        `SELECT relrowsecurity FROM pg_class WHERE oid = ('public.' || quote_ident($1))::regclass`,
        [s.table],
      );
      assert.equal(cls.relrowsecurity, s.rlsEnabled, `${s.table} RLS`);
      const rows = await stack.query<{
        policyname: string;
        cmd: string;
        roles: string[];
        qual: string | null;
        with_check: string | null;
        permissive: string;
      }>(
        `SELECT policyname, cmd, roles::text[] AS roles, qual, with_check, permissive FROM pg_policies
          WHERE schemaname = 'public' AND tablename = $1 ORDER BY policyname`,
        [s.table],
      );
      assert.deepEqual(
        rows.map((r) => ({
          name: r.policyname,
          command: r.cmd,
          roles: r.roles,
          using: r.qual,
          withCheck: r.with_check,
        })),
        [...s.policies].sort((a, b) => a.name.localeCompare(b.name)),
        s.table,
      );
      for (const r of rows) assert.equal(r.permissive, 'PERMISSIVE');
    }
  });

  it('triggers: name, timing and function as documented, and the function sets updated_at', async function () {
    for (const s of seeds) {
      const rows = await stack.query<{ tgname: string; tgtype: number; fn: string; def: string }>(
        `SELECT tgname, tgtype, tgfoid::regproc::text AS fn, pg_get_triggerdef(oid) AS def FROM pg_trigger
          WHERE tgrelid = ('public.' || quote_ident($1))::regclass AND NOT tgisinternal ORDER BY tgname`,
        [s.table],
      );
      assert.deepEqual(
        rows.map((r) => r.tgname),
        s.triggers.map((t) => t.name),
        `${s.table} triggers`,
      );
      for (const t of s.triggers) {
        const r = rows.find((x) => x.tgname === t.name);
        assert.ok(r);
        const timing = `${r.tgtype & 2 ? 'BEFORE' : r.tgtype & 64 ? 'INSTEAD OF' : 'AFTER'} ${[r.tgtype & 4 && 'INSERT', r.tgtype & 8 && 'DELETE', r.tgtype & 16 && 'UPDATE', r.tgtype & 32 && 'TRUNCATE'].filter(Boolean).join(' OR ')}`;
        assert.equal(timing, t.timing);
        assert.equal(r.tgtype & 1, 1, 'FOR EACH ROW');
        assert.ok(r.def.endsWith(t.action), `${r.def} ends with ${t.action}`);
      }
    }
    const [row] = await stack.query<{ run_id: string }>(
      `INSERT INTO public.telemetry_analysis_runs (run_id, created_at, updated_at) VALUES (gen_random_uuid(), now() - interval '1 hour', now() - interval '1 hour') RETURNING updated_at, run_id`,
    );
    const [after] = await stack.query<{ updated_at: Date; fresh: boolean }>(
      `UPDATE public.telemetry_analysis_runs SET status = 'CANCELLED' WHERE run_id = $1 RETURNING updated_at, updated_at > now() - interval '1 minute' AS fresh`,
      [row.run_id],
    );
    assert.equal(after.fresh, true);
    const [src] = await stack.query<{ src: string }>(
      `SELECT prosrc AS src FROM pg_proc WHERE proname = 'update_telemetry_runs_updated_at'`,
    );
    assert.match(src.src, /NEW\.updated_at\s*=\s*now\(\)/);
  });

  it('Supabase role model: API roles, authenticator, BYPASSRLS, grants and auth.* functions', async function () {
    const roles = await stack.query<{
      rolname: string;
      rolcanlogin: boolean;
      rolbypassrls: boolean;
      rolinherit: boolean;
    }>(
      `SELECT rolname, rolcanlogin, rolbypassrls, rolinherit FROM pg_roles WHERE rolname IN ('anon','authenticated','service_role','authenticator') ORDER BY rolname`,
    );
    assert.deepEqual(roles, [
      { rolname: 'anon', rolcanlogin: false, rolbypassrls: false, rolinherit: false },
      { rolname: 'authenticated', rolcanlogin: false, rolbypassrls: false, rolinherit: false },
      { rolname: 'authenticator', rolcanlogin: true, rolbypassrls: false, rolinherit: false },
      { rolname: 'service_role', rolcanlogin: false, rolbypassrls: true, rolinherit: false },
    ]);
    for (const r of ['anon', 'authenticated', 'service_role']) {
      const [g] = await stack.query<{ member: boolean; usage: boolean; ins: boolean; sel: boolean; fn: boolean }>(
        `SELECT pg_has_role('authenticator', $1, 'MEMBER') AS member, has_schema_privilege($1, 'public', 'USAGE') AS usage,
                has_table_privilege($1, 'public.telemetry_analysis_runs', 'INSERT') AS ins,
                has_table_privilege($1, 'public.eva_scheduler_heartbeat', 'SELECT') AS sel,
                has_function_privilege($1, 'public.stack_echo(text)', 'EXECUTE') AS fn`,
        [r],
      );
      assert.deepEqual(g, { member: true, usage: true, ins: true, sel: true, fn: true }, r);
    }
    const c = new Client({ connectionString: stack.databaseUrl });
    await c.connect();
    try {
      await c.query('BEGIN');
      await c.query(
        `SELECT set_config('request.jwt.claims', '{"role":"authenticated","sub":"00000000-0000-4000-8000-00000000000a"}', true)`,
      );
      const r = await c.query(`SELECT auth.role() AS role, auth.uid()::text AS uid, auth.jwt() ->> 'role' AS jrole`);
      assert.deepEqual(r.rows[0], {
        role: 'authenticated',
        uid: '00000000-0000-4000-8000-00000000000a',
        jrole: 'authenticated',
      });
      await c.query(`SELECT set_config('request.jwt.claim.role', 'service_role', true)`);
      assert.equal(
        (await c.query(`SELECT auth.role() AS r`)).rows[0].r,
        'service_role',
        'legacy per-claim setting wins',
      );
      await c.query('ROLLBACK');
      const none = await c.query(`SELECT auth.role() AS r, auth.uid() AS u, auth.jwt() AS j`);
      assert.deepEqual(none.rows[0], { r: null, u: null, j: null });
    } finally {
      await c.end();
    }
  });

  it('on the real server, RLS WITH CHECK beats CHECK: anon probe insert → 42501, service_role → 23514', async function () {
    const c = new Client({ connectionString: stack.databaseUrl });
    await c.connect();
    const probe = async (role: string) => {
      await c.query('BEGIN');
      try {
        await c.query(`SET LOCAL ROLE ${role}`);
        await c.query(`SELECT set_config('request.jwt.claims', $1, true)`, [JSON.stringify({ role })]);
        await c.query(
          `INSERT INTO public.telemetry_analysis_runs (run_id, status) VALUES (gen_random_uuid(), '__capability_probe__')`,
        );
        return 'inserted';
      } catch (e) {
        return (e as { code?: string }).code;
      } finally {
        await c.query('ROLLBACK');
      }
    };
    try {
      assert.equal(await probe('anon'), '42501');
      assert.equal(await probe('authenticated'), '42501');
      assert.equal(await probe('service_role'), '23514');
    } finally {
      await c.end();
    }
  });
});
