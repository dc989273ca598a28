// The scheduler simulator and the data generators against a real stack.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { DEFAULT_SLOW_KEYS, generateRuns, generateTraces, seedDemoScope } from '../stack/datagen';
import { startStack, Stack } from '../stack/index';
import { SchedulerSimulator } from '../stack/scheduler';

const T = 'public.telemetry_analysis_runs';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor<T>(fn: () => Promise<T | null | undefined | false>, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error('timed out waiting');
    await sleep(50);
  }
}

describe('stack simulators', function () {
  let stack: Stack;
  before(async function () {
    stack = await startStack({ scheduler: { intervalMs: 1000 } });
  });
  after(async function () {
    await stack?.stop();
  });

  describe('EVA scheduler heartbeat', function () {
    const hb = async () => (await stack.query(`SELECT *, extract(epoch FROM next_poll_at - last_poll_at) * 1000 AS gap_ms FROM public.eva_scheduler_heartbeat`))[0];

    it('writes row id=1 on start and every interval with next_poll_at = last_poll_at + interval', async function () {
      const s = stack.scheduler as SchedulerSimulator;
      const first = await hb();
      assert.equal(first.id, 1);
      assert.match(first.instance_id, /^scheduler-[0-9a-f]{8}$/);
      assert.equal(first.status, 'running');
      assert.equal(first.circuit_breaker_state, 'CLOSED');
      assert.equal(first.paused_reason, null);
      assert.equal(Math.round(Number(first.gap_ms)), 1000);
      assert.equal(first.metadata.observe_only, false);
      assert.equal(first.metadata.build_provenance.node_version, process.version);
      assert.match(first.metadata.build_provenance.git_sha, /^[0-9a-f]{40}$/);
      assert.ok(Array.isArray(first.metadata.registered_rounds) && first.metadata.registered_rounds.length > 0);
      assert.equal(typeof first.metadata.counters.rounds_dispatched, 'number');
      const later = await waitFor(async () => { const r = await hb(); return r.poll_count >= first.poll_count + 2 ? r : null; }, 5000);
      assert.equal(later.instance_id, first.instance_id);
      assert.ok(later.last_poll_at > first.last_poll_at);
      assert.ok(later.dispatch_count > first.dispatch_count);
      assert.ok(Math.abs(later.last_poll_at.getTime() - Date.now()) < 1500);
      assert.equal(s.intervalMs, 1000);
    });

    it('breaker OPEN → paused_reason circuit_breaker_open and no dispatch; HALF_OPEN and unknown text are written as given', async function () {
      const s = stack.scheduler as SchedulerSimulator;
      await s.setBreaker('OPEN');
      const open = await hb();
      assert.equal(open.circuit_breaker_state, 'OPEN');
      assert.equal(open.paused_reason, 'circuit_breaker_open');
      await sleep(1200);
      const still = await hb();
      assert.equal(still.dispatch_count, open.dispatch_count, 'no dispatch while OPEN');
      assert.ok(still.poll_count > open.poll_count, 'but it keeps polling');
      await s.setBreaker('HALF_OPEN');
      assert.equal((await hb()).circuit_breaker_state, 'HALF_OPEN');
      await s.setBreaker('MELTED');
      assert.equal((await hb()).circuit_breaker_state, 'MELTED');
      await s.setBreaker('CLOSED');
      const closed = await hb();
      assert.equal(closed.paused_reason, null);
      await s.pause('maintenance');
      assert.equal((await hb()).paused_reason, 'maintenance');
      await s.resume();
      assert.equal((await hb()).paused_reason, null);
    });

    it('stop() writes status stopped; start() is a new instance with counters from zero; setStopping; silence; deleteRow', async function () {
      const s = stack.scheduler as SchedulerSimulator;
      const before = await hb();
      await s.stop();
      const stopped = await hb();
      assert.equal(stopped.status, 'stopped');
      assert.equal(stopped.instance_id, before.instance_id);
      await sleep(1200);
      assert.equal((await hb()).poll_count, stopped.poll_count, 'no writes after stop');
      await s.start();
      const again = await hb();
      assert.notEqual(again.instance_id, before.instance_id);
      assert.equal(again.poll_count, 1);
      assert.equal(again.dispatch_count, 1);
      assert.equal(again.status, 'running');
      await s.setStopping();
      assert.equal((await hb()).status, 'stopping');
      await s.silence();
      const silent = await hb();
      await sleep(1300);
      const stale = await hb();
      assert.equal(stale.poll_count, silent.poll_count);
      assert.equal(stale.status, 'stopping', 'no final write');
      await s.deleteRow();
      assert.equal(await hb(), undefined);
      await s.writeOnce();
      assert.equal((await hb()).id, 1);
    });
  });

  describe('data generator', function () {
    it('inserts many realistic runs quickly with set-based SQL', async function () {
      await stack.query(`DELETE FROM ${T}`);
      const r = await generateRuns(stack.databaseUrl, { rows: 50_000, scopes: 1000 });
      assert.equal(r.rows, 50_000);
      assert.ok(r.ms < 30_000, `${r.ms} ms`);
      const [s] = await stack.query(`SELECT count(*)::int AS n, count(DISTINCT scope_id)::int AS scopes, count(*) FILTER (WHERE scope_id IS NULL)::int AS global,
        count(*) FILTER (WHERE status IN ('QUEUED','RUNNING'))::int AS active, count(*) FILTER (WHERE status = 'SUCCEEDED')::int AS ok,
        count(DISTINCT status)::int AS statuses FROM ${T}`);
      assert.equal(s.n, 50_000);
      assert.equal(s.scopes, 1000);
      assert.ok(s.global > 500 && s.global < 1500, `global ${s.global}`);
      assert.ok(s.active > 0 && s.active < 500, `active ${s.active}`);
      assert.ok(s.ok > 35_000, `succeeded ${s.ok}`);
      assert.equal(s.statuses, 7);
      const bad = await stack.query(`SELECT count(*)::int AS n FROM ${T} WHERE status = 'SUCCEEDED' AND reason_code IS NULL AND top_bottleneck_category IS DISTINCT FROM output_ref->'bottlenecks'->0->>'dimension_type'`);
      assert.equal(bad[0].n, 0);
    });

    it('traces: a week of phase/gate/subagent spans in which the slow keys take 5x their usual time in the last day', async function () {
      await stack.query('DELETE FROM public.workflow_trace_log');
      const r = await generateTraces(stack.databaseUrl, { spans: 3000 });
      assert.equal(r.spans, 3000);
      const rows = await stack.query<{ k: string; recent: number; base: number }>(`
        SELECT span_type || ':' || coalesce(phase, gate_name, subagent_name) AS k,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms) FILTER (WHERE created_at > now() - interval '1 day') AS recent,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms) AS base
        FROM public.workflow_trace_log GROUP BY 1`);
      assert.equal(rows.length, 12);
      const slow = rows.filter((x) => x.recent / x.base >= 3).map((x) => x.k).sort();
      assert.deepEqual(slow, [...DEFAULT_SLOW_KEYS].sort());
      const [span] = await stack.query<{ n: number }>("SELECT count(*)::int AS n FROM public.workflow_trace_log WHERE created_at < now() - interval '7 days' OR duration_ms <= 0");
      assert.equal(span.n, 0, 'all inside the baseline window, all with a duration');
    });

    it('demo seed: every status and the four bottleneck categories for the scope', async function () {
      const ids = await seedDemoScope(stack.databaseUrl, '/home/me/ws');
      const rows = await stack.query(`SELECT status, top_bottleneck_category, scope_id FROM ${T} WHERE run_id = ANY($1::uuid[])`, [Object.values(ids)]);
      assert.ok(rows.length >= 12);
      assert.deepEqual([...new Set(rows.map((r) => r.status))].sort(), ['CANCELLED', 'FAILED', 'FAILED_ENQUEUE', 'QUEUED', 'RUNNING', 'SUCCEEDED', 'TIMED_OUT']);
      assert.deepEqual([...new Set(rows.map((r) => r.top_bottleneck_category).filter(Boolean))].sort(), ['gate', 'phase', 'sd_type', 'subagent']);
      assert.ok(rows.some((r) => r.scope_id === null));
    });
  });
});

describe('stack lifecycle', function () {
  it('starts and stops cleanly, leaving no process or data directory', async function () {
    const t0 = Date.now();
    const s = await startStack();
    const startMs = Date.now() - t0;
    const [{ dir }] = await s.query<{ dir: string }>(`SELECT current_setting('data_directory') AS dir`);
    const [{ pid }] = await s.query<{ pid: number }>(`SELECT pg_backend_pid() AS pid`);
    assert.ok(fs.existsSync(dir));
    const pm = Number(fs.readFileSync(`${dir}/postmaster.pid`, 'utf8').split('\n')[0]);
    assert.ok(pm > 0 && pid > 0);
    assert.ok(startMs < 20_000, `started in ${startMs} ms`);
    await s.stop();
    assert.equal(fs.existsSync(dir), false, 'data dir removed');
    assert.throws(() => process.kill(pm, 0), 'postmaster gone');
    const r = await fetch(`${s.url}/rest/v1/`).then(() => 'up', () => 'down');
    assert.equal(r, 'down');
    await s.stop(); // idempotent
  });
});
