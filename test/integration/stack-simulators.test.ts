// The scheduler simulator, demo worker and data generator against a real stack.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { generateRuns, seedDemoScope } from '../stack/datagen';
import { startStack, Stack } from '../stack/index';
import { SchedulerSimulator } from '../stack/scheduler';
import { DemoWorker } from '../stack/worker';

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

  describe('demo worker', function () {
    async function enqueue(n: number, metadata: object = { timeout_ms: 120000 }): Promise<string[]> {
      const rows = await stack.query<{ run_id: string }>(
        `INSERT INTO ${T} (run_id, scope_id, metadata) SELECT gen_random_uuid(), '/sim', $2::jsonb FROM generate_series(1, $1::int) RETURNING run_id`, [n, JSON.stringify(metadata)]);
      return rows.map((r) => r.run_id);
    }
    const status = async (id: string) => (await stack.query(`SELECT * FROM ${T} WHERE run_id = $1`, [id]))[0];

    it('two workers with FOR UPDATE SKIP LOCKED never claim the same run', async function () {
      const ids = await enqueue(60);
      const a = new DemoWorker({ databaseUrl: stack.databaseUrl, pickupDelayMs: 0, runDurationMs: 60_000, name: 'a', seed: 1 });
      const b = new DemoWorker({ databaseUrl: stack.databaseUrl, pickupDelayMs: 0, runDurationMs: 60_000, name: 'b', seed: 2 });
      try {
        await Promise.all([...Array.from({ length: 40 }, () => a.claimOne()), ...Array.from({ length: 40 }, () => b.claimOne())]);
        const all = [...a.claimed, ...b.claimed].filter((x) => ids.includes(x));
        assert.equal(all.length, 60, 'every run claimed');
        assert.equal(new Set(all).size, 60, 'no run claimed twice');
        assert.ok(a.claimed.length > 0 && b.claimed.length > 0, `both workers got work (${a.claimed.length}/${b.claimed.length})`);
        const [r] = await stack.query(`SELECT count(*)::int AS n FROM ${T} WHERE run_id = ANY($1::uuid[]) AND status = 'RUNNING' AND started_at IS NOT NULL`, [ids]);
        assert.equal(r.n, 60);
      } finally {
        await a.close();
        await b.close();
        await stack.query(`DELETE FROM ${T} WHERE scope_id = '/sim'`);
      }
    });

    it('finishes with the analyzer shapes; a cancellation wins; timeout_ms is honoured', async function () {
      const w = new DemoWorker({ databaseUrl: stack.databaseUrl, pickupDelayMs: 0, runDurationMs: 400, seed: 5, pollMs: 50 });
      try {
        w.forceNextOutcome('SUCCEEDED');
        const [ok] = await enqueue(1);
        w.start();
        const done = await waitFor(async () => { const r = await status(ok); return r.status === 'SUCCEEDED' ? r : null; });
        const out = done.output_ref;
        assert.ok(out.bottlenecks.length >= 1);
        assert.equal(done.findings_count, out.bottlenecks.length);
        assert.equal(done.top_bottleneck_category, out.bottlenecks[0].dimension_type);
        assert.equal(done.reason_code, null);
        assert.ok(done.duration_ms >= 300 && done.duration_ms < 5000, String(done.duration_ms));
        assert.ok(done.finished_at >= done.started_at);
        for (let i = 1; i < out.bottlenecks.length; i++) {
          const [p, c] = [out.bottlenecks[i - 1], out.bottlenecks[i]];
          assert.ok(p.ratio > c.ratio || (p.ratio === c.ratio && p.observed_p50_ms >= c.observed_p50_ms), 'sorted worst first');
        }
        for (const b of out.bottlenecks) {
          assert.deepEqual(Object.keys(b).sort(), ['baseline_p50_ms', 'dimension_key', 'dimension_type', 'evidence_trace_ids', 'exceedance_count', 'improvement_id', 'observed_p50_ms', 'ratio', 'sample_count']);
          assert.ok(b.evidence_trace_ids.length <= 5);
        }
        assert.deepEqual(Object.keys(out).sort(), ['bottlenecks', 'dimensions_evaluated', 'items_created', 'traces_scanned']);

        w.forceNextOutcome('INSUFFICIENT_DATA');
        const [ins] = await enqueue(1);
        const insd = await waitFor(async () => { const r = await status(ins); return r.status === 'SUCCEEDED' ? r : null; });
        assert.equal(insd.reason_code, 'INSUFFICIENT_DATA');
        assert.deepEqual(insd.output_ref, { bottlenecks: [], traces_scanned: 0, dimensions_evaluated: 0, items_created: 0 });
        assert.equal(insd.top_bottleneck_category, null);

        w.forceNextOutcome('FAILED');
        const [f] = await enqueue(1);
        const fd = await waitFor(async () => { const r = await status(f); return r.status === 'FAILED' ? r : null; });
        assert.ok(fd.error_class);
        assert.doesNotMatch(fd.error_message, /hunter2|s3cr3t/);
        assert.ok(fd.finished_at && fd.duration_ms !== null);

        const [to] = await enqueue(1, { timeout_ms: 100 });
        const tod = await waitFor(async () => { const r = await status(to); return r.status === 'TIMED_OUT' ? r : null; });
        assert.equal(tod.error_class, 'TimeoutError');
        assert.ok(tod.duration_ms < 400, `timed out at ~100 ms, not the 400 ms run (${tod.duration_ms})`);

        w.runDurationMs = 800;
        const [c] = await enqueue(1);
        await waitFor(async () => (await status(c)).status === 'RUNNING');
        await stack.query(`UPDATE ${T} SET status = 'CANCELLED', finished_at = now(), reason_code = 'USER_CANCELLED' WHERE run_id = $1`, [c]);
        await waitFor(async () => w.finished.some((x) => x.run_id === c));
        assert.equal(w.finished.find((x) => x.run_id === c)?.applied, false);
        const cd = await status(c);
        assert.equal(cd.status, 'CANCELLED');
        assert.equal(cd.output_ref, null);
        assert.equal(cd.reason_code, 'USER_CANCELLED');
      } finally {
        await w.close();
      }
    });

    it('respects the pick-up delay', async function () {
      const w = new DemoWorker({ databaseUrl: stack.databaseUrl, pickupDelayMs: 1500, runDurationMs: 100, pollMs: 50 });
      try {
        const [id] = await enqueue(1);
        w.start();
        await sleep(700);
        assert.equal((await status(id)).status, 'QUEUED');
        await waitFor(async () => (await status(id)).status !== 'QUEUED', 3000);
      } finally {
        await w.close();
      }
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
