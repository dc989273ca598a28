// The scheduler simulator and the data generators against a real stack.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ITEM_REFUSAL } from '../../devkit/stack/analysisShapes';
import { FIXTURE } from './support/analysis';
import { TestBackends } from './support/backends';
import { DEFAULT_SLOW_KEYS, generateRuns, generateTraces, seedDemoScope } from '../../devkit/stack/datagen';
import { startStack, Stack } from '../../devkit/stack/index';
import { SchedulerSimulator, UPSTREAM_ROUNDS } from '../../devkit/stack/scheduler';
import {
  assessSchedulerHealth,
  expectedNextWrite,
  HeartbeatHistory,
  NO_HISTORY,
  parseHeartbeat,
  updateHistory,
} from '../../src/domain/heartbeat';
import { sleep } from '../../devkit/wait';

const T = 'public.telemetry_analysis_runs';

// eslint-disable-next-line @typescript-eslint/no-implied-eval -- a real import() of the ESM fixture from this CommonJS build
const dynamicImport = new Function('u', 'return import(u)') as (u: string) => Promise<Record<string, unknown>>;

describe('stack simulators', function () {
  let stack: Stack;
  before(async function () {
    stack = await startStack({ scheduler: { intervalMs: 1000 } });
  });
  after(async function () {
    await stack?.stop();
  });

  describe('EVA scheduler heartbeat (stand-in for lib/eva/eva-master-scheduler.js and the watcher)', function () {
    type Row = Record<string, any>;
    const hb = async (): Promise<Row | undefined> =>
      (
        await stack.query(
          `SELECT *, extract(epoch FROM next_poll_at - last_poll_at) * 1000 AS gap_ms FROM public.eva_scheduler_heartbeat`,
        )
      )[0];
    const BASE = 300;
    let sim: SchedulerSimulator;
    const make = (o: Partial<ConstructorParameters<typeof SchedulerSimulator>[0]> = {}) =>
      new SchedulerSimulator({ databaseUrl: stack.databaseUrl, intervalMs: BASE, spawnDelayMs: 200, ...o });

    /** Watches the row every 10 ms and returns the distinct writes (by last_poll_at) seen until `until` is true. */
    async function writesUntil(until: (writes: Row[]) => boolean, ms = 10_000): Promise<Row[]> {
      const writes: Row[] = [];
      const end = Date.now() + ms;
      while (!until(writes)) {
        if (Date.now() > end) throw new Error(`timed out; ${writes.length} writes seen`);
        const r = await hb();
        if (
          r &&
          r.last_poll_at &&
          (writes.length === 0 || r.last_poll_at.getTime() !== writes[writes.length - 1].last_poll_at.getTime())
        )
          writes.push({ ...r, seenAt: Date.now() });
        await sleep(10);
      }
      return writes;
    }
    /** As the extension gets it: JSON from PostgREST (timestamps as ISO text), not pg's Date objects. */
    const parseRow = (r: Row | undefined) => parseHeartbeat(JSON.parse(JSON.stringify(r ?? null)));
    const gaps = (w: Row[]) => w.slice(1).map((r, i) => r.last_poll_at.getTime() - w[i].last_poll_at.getTime());

    before(async function () {
      // The stack's own simulator (base 1 s) would write the same row: this suite drives its own.
      await stack.scheduler?.crash();
    });
    afterEach(async function () {
      await sim?.close();
    });

    it('start(): a write with poll_count 0 before the first poll, the poll at once, then idle adaptive waits of 3 × base while next_poll_at says base', async function () {
      await stack.query('DELETE FROM public.eva_scheduler_heartbeat');
      sim = make();
      await sim.start();
      const first = await hb();
      assert.ok(first);
      assert.equal(first.id, 1);
      assert.match(first.instance_id, /^scheduler-[0-9a-f]{8}$/);
      assert.equal(first.poll_count, 1, 'the initial write (poll_count 0) was followed by the first poll at once');
      assert.equal(first.status, 'running');
      assert.equal(first.circuit_breaker_state, 'CLOSED');
      assert.equal(first.paused_reason, null);
      assert.equal(Math.round(Number(first.gap_ms)), BASE, 'next_poll_at = last_poll_at + BASE interval');
      const md = first.metadata;
      assert.deepEqual(Object.keys(md).sort(), [
        'build_provenance',
        'dynamic_scaling',
        'job_last_runs',
        'last_round_runs',
        'metrics_write_failures',
        'observe_only',
        'registered_rounds',
        'round_error_count',
        'round_execution_count',
      ]);
      assert.deepEqual(md.dynamic_scaling, {
        enabled: true,
        current_batch_size: 20,
        base_batch_size: 20,
        last_queue_depth: 0,
      });
      assert.equal(md.observe_only, false);
      assert.match(md.build_provenance.git_sha, /^[0-9a-f]{40}$/);
      assert.equal(md.build_provenance.node_version, process.version);
      assert.deepEqual(
        md.registered_rounds,
        UPSTREAM_ROUNDS.map(([n]) => n),
      );
      assert.equal(sim.currentWaitMs, 3 * BASE);
      const w = await writesUntil((ws) => ws.length >= 4);
      for (const g of gaps(w))
        assert.ok(
          g >= 3 * BASE - 20 && g < 3 * BASE + 400,
          `gap ${g} ms, expected ~${3 * BASE} (3 × base), not ${BASE}`,
        );
      for (const r of w) assert.equal(Math.round(Number(r.gap_ms)), BASE);
      assert.deepEqual(
        w.map((r) => r.poll_count),
        [w[0].poll_count, w[0].poll_count + 1, w[0].poll_count + 2, w[0].poll_count + 3],
      );
      assert.equal(
        w[1].metadata.round_execution_count,
        UPSTREAM_ROUNDS.length,
        'rounds ran after the first poll (not observe-only) and show on the next write',
      );
      assert.equal(w[0].started_at.getTime(), first.started_at.getTime(), 'the upsert never writes started_at');
    });

    it('the extension judges the simulator idle through 3 adaptive cycles as healthy at every sample (rows as upstream writes them)', async function () {
      sim = make();
      await sim.start();
      const kinds = new Map<string, number>();
      const polls = new Set<number>();
      let samples = 0;
      // Until 3 adaptive cycles have passed (the start's write and 3 more), however slow the machine.
      const from = Date.now();
      const deadline = from + 15_000;
      while (polls.size < 4 || Date.now() - from < 3 * 3 * BASE) {
        if (Date.now() > deadline) throw new Error(`only ${polls.size} distinct writes in 15 s`);
        const row = await hb();
        polls.add(row?.poll_count);
        const h = parseRow(row);
        assert.ok(h);
        const k = assessSchedulerHealth({ kind: 'row', heartbeat: h }, new Date(), 100).kind;
        kinds.set(k, (kinds.get(k) ?? 0) + 1);
        samples++;
        await sleep(20);
      }
      assert.ok(samples > 30, `${samples} samples`);
      assert.deepEqual([...kinds.keys()], ['healthy'], JSON.stringify([...kinds]));
      // The old rule (next_poll_at + grace) would have said stale for most of each cycle.
      const h = parseRow(await hb());
      assert.ok(h?.nextPollAt && h.lastPollAt);
      assert.equal(h.nextPollAt.getTime() - h.lastPollAt.getTime(), BASE);
    });

    it('queue depth drives the wait (_computeAdaptiveInterval) and is written in dynamic_scaling; adaptive off waits the base', async function () {
      sim = make();
      await sim.start();
      const cases: Array<[number, number, number]> = [
        [0, 3 * BASE, 20],
        [5, BASE, 20],
        [25, 15_000, 25],
        [45, 10_000, 40],
        [-1, BASE, 20],
      ];
      for (const [depth, wait, batch] of cases) {
        await sim.setQueueDepth(depth);
        await sim.writeOnce();
        assert.equal(sim.currentWaitMs, wait, `depth ${depth}`);
        assert.equal((await hb())?.metadata.dynamic_scaling.last_queue_depth, depth);
        await sim.writeOnce();
        assert.equal(
          (await hb())?.metadata.dynamic_scaling.current_batch_size,
          batch,
          `batch for depth ${depth} shows on the next write`,
        );
      }
      await sim.setQueueDepth(0);
      await sim.setAdaptive(false);
      await sim.writeOnce();
      assert.equal(sim.currentWaitMs, BASE);
      assert.equal((await hb())?.metadata.dynamic_scaling.enabled, false);
      const w = await writesUntil((ws) => ws.length >= 3);
      for (const g of gaps(w)) assert.ok(g >= BASE - 20 && g < BASE + 400, `gap ${g} ms with adaptive off`);
      await assert.rejects(sim.setQueueDepth(1.5), /integer/);
    });

    it("breaker: the adapter's answer shows at the next poll; only an exact OPEN pauses (no dispatch, depth not re-read); HALF_OPEN, 'open' and any text as given; never paused with CLOSED", async function () {
      sim = make({ queueDepth: 5 });
      await sim.start();
      const before = await hb();
      await sim.setBreaker('OPEN');
      assert.equal(
        (await hb())?.circuit_breaker_state,
        'CLOSED',
        'not written at once: the adapter is read at the next poll',
      );
      assert.equal((await hb())?.poll_count, before?.poll_count);
      await sim.writeOnce();
      const open = await hb();
      assert.equal(open?.circuit_breaker_state, 'OPEN');
      assert.equal(open?.paused_reason, 'circuit_breaker_open');
      await sim.setQueueDepth(0);
      await sim.writeOnce();
      const still = await hb();
      assert.equal(still?.dispatch_count, open?.dispatch_count, 'no dispatch while OPEN');
      assert.ok(still && open && still.poll_count > open.poll_count, 'but it keeps polling');
      assert.equal(still?.metadata.dynamic_scaling.last_queue_depth, 5, 'the depth is not re-read while OPEN');
      await sim.setQueueDepth(5);
      for (const [adapter, written] of [
        ['HALF_OPEN', 'HALF_OPEN'],
        ['MELTED', 'MELTED'],
        ['open', 'open'],
        ['', 'CLOSED'],
        ['CLOSED', 'CLOSED'],
      ]) {
        const d0 = (await hb())?.dispatch_count;
        await sim.setBreaker(adapter);
        await sim.writeOnce();
        const r = await hb();
        assert.equal(r?.circuit_breaker_state, written, `adapter ${JSON.stringify(adapter)}`);
        assert.equal(r?.paused_reason, null, `only an exact 'OPEN' pauses (adapter ${JSON.stringify(adapter)})`);
        assert.ok(r && r.dispatch_count > d0, `dispatch goes on (adapter ${JSON.stringify(adapter)})`);
      }
      assert.equal(
        typeof (sim as unknown as Record<string, unknown>).pause,
        'undefined',
        'the daemon has no manual pause',
      );
    });

    it('slow rounds: rounds run after the write and time out (30 s × base/60 s), are not stamped, re-run every poll; each write comes k × timeout later; counters move as upstream', async function () {
      sim = make();
      await sim.start();
      await writesUntil((ws) => ws.length >= 2);
      const hanging = await sim.slowRounds(2);
      assert.deepEqual(hanging, ['vision_rescore', 'gap_analysis']);
      const timeout = sim.roundTimeoutMs;
      assert.equal(timeout, 150, '30 s scaled to a 300 ms base');
      const w = await writesUntil((ws) => ws.length >= 5, 20_000);
      // The first write after slowRounds may precede the first hanging poll; from then on every gap carries 2 timeouts.
      const g = gaps(w).slice(1);
      for (const gap of g)
        assert.ok(
          gap >= 3 * BASE + 2 * timeout - 20 && gap < 3 * BASE + 2 * timeout + 400,
          `gap ${gap} ms, expected ~${3 * BASE + 2 * timeout}`,
        );
      for (let i = 2; i < w.length; i++) {
        const a = w[i - 1].metadata;
        const b = w[i].metadata;
        assert.equal(b.round_error_count - a.round_error_count, 2, 'round_error_count +2 a poll');
        assert.equal(b.round_execution_count, a.round_execution_count, 'round_execution_count counts successes only');
        assert.ok(
          b.metrics_write_failures > a.metrics_write_failures,
          'metric rows fail (no eva_scheduler_metrics table here)',
        );
        assert.equal(w[i].error_count, w[i - 1].error_count, 'error_count is not a round counter');
        for (const name of hanging) assert.equal(b.last_round_runs[name], undefined, `${name} is never stamped`);
      }
      // The extension, reading as the monitor does (history kept), through these slow cycles: never stale.
      const grace = 100;
      let history: HeartbeatHistory = NO_HISTORY;
      const kinds = new Map<string, number>();
      const end = Date.now() + 3 * (3 * BASE + 2 * timeout) + 200;
      while (Date.now() < end) {
        const h = parseRow(await hb());
        assert.ok(h);
        history = updateHistory(history, { kind: 'row', heartbeat: h }, new Date());
        const k = assessSchedulerHealth({ kind: 'row', heartbeat: h }, new Date(), grace, history).kind;
        kinds.set(k, (kinds.get(k) ?? 0) + 1);
        await sleep(20);
      }
      assert.deepEqual([...kinds.keys()], ['healthy'], JSON.stringify([...kinds]));
      assert.ok(
        Math.min(...g) > 3 * BASE + grace,
        'each gap is longer than interval + grace: the old rule would have said stale',
      );
      await sim.fastRounds();
      const healed = await writesUntil((ws) => ws.length >= 3);
      const last = healed[healed.length - 1].metadata;
      for (const name of hanging) assert.ok(last.last_round_runs[name] > 0, `${name} succeeds and is stamped again`);
    });

    it('a daemon that dies after slow writes (rounds timing out at its scaled 150 ms): read as the monitor does, stale at interval + rounds + grace and not polling 4 intervals later, within 0.25 s — not after a 30 s-per-round allowance', async function () {
      sim = make();
      await sim.start();
      await writesUntil((ws) => ws.length >= 2);
      await sim.slowRounds(2);
      const timeout = sim.roundTimeoutMs;
      const grace = 100;
      let history: HeartbeatHistory = NO_HISTORY;
      let lastSeen = -1;
      let slowWrites = 0;
      let lastWriteAt = 0;
      let staleAt: number | null = null;
      let notPollingAt: number | null = null;
      let expectedTotal = 0;
      let crashed = false;
      const alive = new Map<string, number>();
      const end = Date.now() + 60_000;
      while (notPollingAt === null && Date.now() < end) {
        const h = parseRow(await hb());
        assert.ok(h && h.lastPollAt);
        const now = new Date();
        history = updateHistory(history, { kind: 'row', heartbeat: h }, now);
        const k = assessSchedulerHealth({ kind: 'row', heartbeat: h }, now, grace, history).kind;
        if (h.lastPollAt.getTime() !== lastSeen) {
          lastSeen = h.lastPollAt.getTime();
          slowWrites++;
          // 5 writes after slowRounds: the last 3 gaps carry 2 timeouts each. Die right after the 6th.
          if (slowWrites >= 6 && !crashed) {
            await sim.crash();
            crashed = true;
            lastWriteAt = lastSeen;
            expectedTotal = expectedNextWrite(h, history).totalMs;
          }
        }
        if (!crashed) alive.set(k, (alive.get(k) ?? 0) + 1);
        else if (k === 'stale' && staleAt === null) staleAt = now.getTime();
        else if (k === 'not-polling') notPollingAt = now.getTime();
        await sleep(20);
      }
      assert.deepEqual([...alive.keys()], ['healthy'], `alive through slow writes: ${JSON.stringify([...alive])}`);
      assert.ok(staleAt !== null && notPollingAt !== null, 'stale, then not polling');
      const interval = 3 * BASE;
      const honest = interval + 2 * timeout; // what the daemon really took between writes
      assert.ok(
        Math.abs(expectedTotal - honest) <= 100,
        `the expected next write is learned from the gaps (${expectedTotal} ms vs ${honest} ms), not 2 × 30 s`,
      );
      const stale = staleAt - lastWriteAt;
      const notPolling = notPollingAt - lastWriteAt;
      const wantStale = honest + grace;
      const wantNotPolling = wantStale + 4 * interval;
      assert.ok(stale > wantStale - 150 && stale <= wantStale + 250, `stale at +${stale} ms (want ${wantStale})`);
      assert.ok(
        notPolling > wantNotPolling - 150 && notPolling <= wantNotPolling + 250,
        `not polling at +${notPolling} ms (want ${wantNotPolling})`,
      );
    });

    it("breaker adapter: the CLI's daemon has none (CLOSED, nothing recorded); with one, every failed round is reported as upstream's runRound does, dispatches as successes, and a throwing getState reads OPEN", async function () {
      sim = make({ queueDepth: 3 });
      // A getter, not the property: TypeScript would keep its narrowing to null across the calls that change it.
      const record = () => sim.breakerRecord;
      await sim.start();
      assert.equal(record(), null, 'started as scripts/eva-scheduler.js does: no adapter');
      assert.equal(sim.settings.breakerAdapter, null);
      await sim.slowRounds(2);
      await sim.writeOnce();
      await sim.writeOnce();
      const noAdapter = await hb();
      assert.equal(noAdapter?.circuit_breaker_state, 'CLOSED');
      assert.ok(noAdapter && noAdapter.metadata.round_error_count >= 2, 'rounds failed');
      assert.equal(record(), null, 'failures recorded nowhere without an adapter');

      // An adapter answering CLOSED, tripping after 3 failures in a row (the adapter's rule, ours).
      await sim.setBreaker('CLOSED', { openAfterFailures: 3 });
      const e0 = (await hb())?.metadata.round_error_count as number;
      await sim.writeOnce(); // write (dispatch 3: 3 successes), then 2 rounds fail: 2 failures
      let rec = record();
      assert.ok(rec);
      assert.deepEqual(rec.failures, ['round:vision_rescore: Round timeout', 'round:gap_analysis: Round timeout']);
      assert.equal(rec.successes, 3, 'each completed dispatch: recordSuccess (L1262)');
      const r1 = await hb();
      assert.equal(
        r1?.metadata.round_error_count,
        e0 + 2,
        "the write shows the previous poll's failures; this poll's show at the next",
      );
      assert.equal(r1?.circuit_breaker_state, 'CLOSED');
      await sim.writeOnce(); // 3 successes reset the run; 2 more failures (2 in a row)
      rec = record();
      assert.equal(rec?.failures.length, 4);
      assert.equal((await hb())?.circuit_breaker_state, 'CLOSED');
      await sim.setQueueDepth(0);
      await sim.writeOnce(); // no dispatch: 2 more failures, 4 in a row
      assert.equal(record()?.failures.length, 6);
      await sim.writeOnce(); // the adapter now answers OPEN: paused, no rounds
      const open = await hb();
      assert.equal(open?.circuit_breaker_state, 'OPEN');
      assert.equal(open?.paused_reason, 'circuit_breaker_open');
      assert.equal(record()?.failures.length, 6, 'no rounds while OPEN (L382-386)');
      await sim.writeOnce();
      assert.equal(
        (await hb())?.metadata.round_error_count,
        open?.metadata.round_error_count,
        'round_error_count stops growing while OPEN',
      );

      // getState throws: upstream fails closed (reads OPEN).
      await sim.setBreaker('CLOSED');
      await sim.writeOnce();
      assert.equal((await hb())?.circuit_breaker_state, 'CLOSED');
      await sim.failBreakerReads(true);
      await sim.writeOnce();
      const failed = await hb();
      assert.equal(failed?.circuit_breaker_state, 'OPEN');
      assert.equal(failed?.paused_reason, 'circuit_breaker_open');
      await sim.detachBreaker();
      await sim.writeOnce();
      assert.equal((await hb())?.circuit_breaker_state, 'CLOSED', 'no adapter again: CLOSED');
      assert.equal(record(), null);
    });

    it('registered_rounds empties while polling goes on, and comes back', async function () {
      sim = make();
      await sim.start();
      await sim.clearRounds();
      const w = await writesUntil((ws) => ws.length >= 2);
      assert.deepEqual(w[1].metadata.registered_rounds, []);
      assert.equal(w[1].status, 'running');
      assert.ok(w[1].poll_count > w[0].poll_count);
      await sim.restoreRounds();
      await sim.writeOnce();
      assert.equal((await hb())?.metadata.registered_rounds.length, UPSTREAM_ROUNDS.length);
    });

    it('stop(): status stopped, breaker CLOSED even after OPEN, no pause, next_poll_at still last + base; crash(): writes stop, status stays running', async function () {
      sim = make();
      await sim.start();
      await sim.setBreaker('OPEN');
      await sim.writeOnce();
      assert.equal((await hb())?.paused_reason, 'circuit_breaker_open');
      await sim.stop();
      await sim.setBreaker('CLOSED');
      const stopped = await hb();
      assert.equal(stopped?.status, 'stopped');
      assert.equal(stopped?.circuit_breaker_state, 'CLOSED');
      assert.equal(stopped?.paused_reason, null);
      assert.equal(Math.round(Number(stopped?.gap_ms)), BASE);
      await sleep(3 * BASE + 200);
      assert.equal((await hb())?.poll_count, stopped?.poll_count, 'no writes after stop');
      await sim.start();
      const again = await hb();
      assert.notEqual(again?.instance_id, stopped?.instance_id);
      assert.equal(again?.poll_count, 1);
      assert.equal(
        again?.metadata.round_execution_count,
        0,
        'counts restart; the rounds ran within their cadence (rehydrated from last_round_runs)',
      );
      await sim.crash();
      assert.equal(sim.running, false);
      const dead = await hb();
      await sleep(3 * BASE + 300);
      const later = await hb();
      assert.equal(later?.poll_count, dead?.poll_count);
      assert.equal(later?.last_poll_at.getTime(), dead?.last_poll_at.getTime(), 'last_poll_at frozen');
      assert.equal(later?.status, 'running', 'a crash leaves status running');
      const h = parseRow(later);
      assert.ok(h);
      assert.equal(
        assessSchedulerHealth(
          { kind: 'row', heartbeat: h },
          new Date(dead!.last_poll_at.getTime() + 3 * BASE + 101),
          100,
        ).kind,
        'stale',
      );
      // Not polling: the stale threshold (interval + grace) + 4 intervals.
      assert.equal(
        assessSchedulerHealth(
          { kind: 'row', heartbeat: h },
          new Date(dead!.last_poll_at.getTime() + 3 * BASE + 100 + 4 * 3 * BASE),
          100,
        ).kind,
        'stale',
      );
      assert.equal(
        assessSchedulerHealth(
          { kind: 'row', heartbeat: h },
          new Date(dead!.last_poll_at.getTime() + 3 * BASE + 100 + 4 * 3 * BASE + 1),
          100,
        ).kind,
        'not-polling',
      );
    });

    it('watcher: leaves a row younger than its threshold alone; then CAS without touching last_poll_at; a failed spawn leaves the token; the next pass swaps it for a new one and the spawned daemon takes over', async function () {
      sim = make();
      await sim.start();
      await sim.writeOnce();
      assert.equal(sim.watcherStaleMs, 1_500, '300 s scaled to a 300 ms base');
      assert.equal((await sim.watcherTick()).action, 'alive');
      await sim.crash();
      const before = await hb();
      assert.ok(before);
      await sim.failSpawns(1);
      assert.equal((await sim.watcherTick()).action, 'alive', 'a dead daemon younger than the threshold is left alone');
      await sleep(Math.max(0, before.last_poll_at.getTime() + sim.watcherStaleMs + 50 - Date.now()));
      const first = await sim.watcherTick();
      assert.equal(first.action, 'unconfirmed');
      const token1 = first.action === 'unconfirmed' ? first.token : '';
      assert.match(token1, /^supervisor-[0-9a-f]{8}$/);
      const claimed = await hb();
      assert.equal(claimed?.instance_id, token1, 'the failed spawn leaves the token');
      assert.equal(
        claimed?.last_poll_at.getTime(),
        before.last_poll_at.getTime(),
        'the claim does not touch last_poll_at',
      );
      assert.equal(claimed?.poll_count, before.poll_count);
      assert.equal(claimed?.status, 'running');
      const h = parseRow(claimed);
      assert.ok(h);
      const seen = new Date();
      const hist = updateHistory(NO_HISTORY, { kind: 'row', heartbeat: h }, seen);
      assert.equal(assessSchedulerHealth({ kind: 'row', heartbeat: h }, seen, 100, hist).kind, 'reviving');
      assert.equal(
        assessSchedulerHealth({ kind: 'row', heartbeat: h }, new Date(seen.getTime() + 30_001), 100, hist).kind,
        'revival-failed',
      );
      const second = await sim.watcherTick();
      assert.equal(second.action, 'revived');
      assert.ok(second.action === 'revived' && second.token !== token1, 'the next pass swaps to a new token');
      const fresh = await hb();
      assert.match(fresh?.instance_id, /^scheduler-[0-9a-f]{8}$/);
      assert.notEqual(fresh?.instance_id, before.instance_id);
      assert.ok(fresh && fresh.poll_count <= 1, `counts restart (poll_count ${fresh?.poll_count})`);
      assert.equal(fresh?.dispatch_count, 0);
      const hist2 = updateHistory(hist, { kind: 'row', heartbeat: parseRow(fresh)! }, new Date());
      assert.equal(hist2.revivalSeenSince, null, "the new instance's write ends the revival");
      assert.equal(
        assessSchedulerHealth({ kind: 'row', heartbeat: parseRow(fresh)! }, new Date(), 100, hist2).kind,
        'healthy',
      );
    });

    it("revive() with no row: the watcher inserts { id: 1, instance_id: token, status: 'stopped' }, then the new instance writes", async function () {
      sim = make({ spawnDelayMs: 400 });
      await sim.crash();
      await stack.query('DELETE FROM public.eva_scheduler_heartbeat');
      const token = await sim.claimRevival();
      const inserted = await hb();
      assert.equal(inserted?.instance_id, token);
      assert.equal(inserted?.status, 'stopped');
      assert.equal(inserted?.last_poll_at, null);
      assert.equal(inserted?.poll_count, 0);
      assert.deepEqual(inserted?.metadata, {});
      const h = parseRow(inserted);
      assert.ok(h);
      assert.equal(assessSchedulerHealth({ kind: 'row', heartbeat: h }, new Date(), 100).kind, 'reviving');
      // A row with no poll time is stale to the watcher: the next pass swaps from the observed token.
      const second = await sim.revive();
      assert.equal(second.action, 'revived');
      assert.ok(second.action === 'revived' && second.token !== token);
      const w = await writesUntil((ws) => ws.length >= 1);
      assert.match(w[0].instance_id, /^scheduler-/);
      assert.equal(w[0].status, 'running');
    });

    it('deleteRow(), then writeOnce() upserts the row again', async function () {
      sim = make();
      await sim.start();
      await sim.crash();
      await sim.deleteRow();
      assert.equal(await hb(), undefined);
      await sim.writeOnce();
      assert.equal((await hb())?.id, 1);
    });
  });

  describe('data generator', function () {
    it('inserts many realistic runs quickly with set-based SQL', async function () {
      await stack.query(`DELETE FROM ${T}`);
      const r = await generateRuns(stack.databaseUrl, { rows: 50_000, scopes: 1000 });
      assert.equal(r.rows, 50_000);
      assert.ok(r.ms < 30_000, `${r.ms} ms`);
      const [s] =
        await stack.query(`SELECT count(*)::int AS n, count(DISTINCT scope_id)::int AS scopes, count(*) FILTER (WHERE scope_id IS NULL)::int AS global,
        count(*) FILTER (WHERE status IN ('QUEUED','RUNNING'))::int AS active, count(*) FILTER (WHERE status = 'SUCCEEDED')::int AS ok,
        count(DISTINCT status)::int AS statuses FROM ${T}`);
      assert.equal(s.n, 50_000);
      assert.equal(s.scopes, 1000);
      assert.ok(s.global > 500 && s.global < 1500, `global ${s.global}`);
      assert.ok(s.active > 0 && s.active < 500, `active ${s.active}`);
      assert.ok(s.ok > 35_000, `succeeded ${s.ok}`);
      assert.equal(s.statuses, 7);
      const bad = await stack.query(
        `SELECT count(*)::int AS n FROM ${T} WHERE status = 'SUCCEEDED' AND reason_code IS NULL AND top_bottleneck_category IS DISTINCT FROM output_ref->'bottlenecks'->0->>'dimension_type'`,
      );
      assert.equal(bad[0].n, 0);
      assertAnalyzerShaped(
        await stack.query(`SELECT * FROM ${T} WHERE status = 'SUCCEEDED' ORDER BY run_id LIMIT 2000`),
      );
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
      const slow = rows
        .filter((x) => x.recent / x.base >= 3)
        .map((x) => x.k)
        .sort();
      assert.deepEqual(slow, [...DEFAULT_SLOW_KEYS].sort());
      const [span] = await stack.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM public.workflow_trace_log WHERE created_at < now() - interval '7 days' OR duration_ms <= 0",
      );
      assert.equal(span.n, 0, 'all inside the baseline window, all with a duration');
    });

    it('demo seed: every status, the analyzer’s three bottleneck categories, findings only the analyzer can write', async function () {
      const ids = await seedDemoScope(stack.databaseUrl, '/home/me/ws');
      const rows = await stack.query(
        `SELECT status, top_bottleneck_category, scope_id FROM ${T} WHERE run_id = ANY($1::uuid[])`,
        [Object.values(ids)],
      );
      assert.ok(rows.length >= 12);
      assert.deepEqual([...new Set(rows.map((r) => r.status))].sort(), [
        'CANCELLED',
        'FAILED',
        'FAILED_ENQUEUE',
        'QUEUED',
        'RUNNING',
        'SUCCEEDED',
        'TIMED_OUT',
      ]);
      // The analyzer's three dimensions, and nothing else (it has no sd_type dimension).
      assert.deepEqual([...new Set(rows.map((r) => r.top_bottleneck_category).filter(Boolean))].sort(), [
        'gate',
        'phase',
        'subagent',
      ]);
      assert.ok(rows.some((r) => r.scope_id === null));
      const succeeded = await stack.query(
        `SELECT * FROM ${T} WHERE run_id = ANY($1::uuid[]) AND status = 'SUCCEEDED'`,
        [Object.values(ids)],
      );
      assertAnalyzerShaped(succeeded);
      // Every evidence trace id is a span of that bottleneck's dimension, in the run's lookback day.
      for (const r of succeeded)
        for (const b of r.output_ref?.bottlenecks ?? []) {
          const spans = await stack.query(
            `SELECT span_type, coalesce(phase, gate_name, subagent_name) AS k, created_at FROM public.workflow_trace_log WHERE trace_id = ANY($1::uuid[])`,
            [b.evidence_trace_ids],
          );
          assert.equal(spans.length, b.evidence_trace_ids.length, `${r.run_id} ${b.dimension_key}`);
          for (const sp of spans) {
            assert.equal(`${sp.span_type}:${sp.k}`, `${b.dimension_type}:${b.dimension_key}`);
            const at = new Date(sp.created_at).getTime();
            const start = new Date(r.started_at).getTime();
            assert.ok(at < start && at >= start - 86_400_000, 'in the run’s lookback');
          }
        }
      // …and today's traces still make the analyzer (the fixture's stand-in, which returns what
      // upstream's does on the same data) find only generateTraces' slow keys.
      await generateTraces(stack.databaseUrl, { spans: 3000 });
      const backends = new TestBackends(() => stack, 'ehg-telemetry-tests');
      const backend = backends.create();
      try {
        const mod = await dynamicImport(
          pathToFileURL(path.join(FIXTURE, 'lib', 'telemetry', 'bottleneck-analyzer.js')).href,
        );
        const result = (await (mod.analyzeBottlenecks as (s: unknown, o: unknown) => Promise<any>)(backend.supabase, {
          enableAutoCreate: false,
        })) as { bottlenecks: { dimension_type: string; dimension_key: string }[]; errors: string[] };
        assert.deepEqual(result.errors, []);
        assert.deepEqual(
          result.bottlenecks.map((b) => `${b.dimension_type}:${b.dimension_key}`).sort(),
          [...DEFAULT_SLOW_KEYS].sort(),
        );
      } finally {
        backends.disposeAll();
      }
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
    const r = await fetch(`${s.url}/rest/v1/`).then(
      () => 'up',
      () => 'down',
    );
    assert.equal(r, 'down');
    await s.stop(); // idempotent
  });
});

/**
 * Every SUCCEEDED row's findings are what the analyzer (EHG_Engineer lib/telemetry/bottleneck-analyzer.js)
 * can write: its three dimensions, one bottleneck per key, ratio >= its 3.0 default to two decimals and
 * equal to observed / baseline, worst first, min_samples <= exceedances <= samples, <= 5 evidence ids,
 * no improvement item (production's table refuses each one) and, when errors are kept, one
 * create_failed per bottleneck with the refusal the live stack gives.
 */
function assertAnalyzerShaped(rows: any[]): void {
  assert.ok(rows.length > 0);
  for (const r of rows) {
    const out = r.output_ref;
    if (!out) continue;
    const list: any[] = out.bottlenecks;
    const where = `${r.run_id}: ${JSON.stringify(list).slice(0, 300)}`;
    assert.equal(r.findings_count, list.length, where);
    assert.equal(r.top_bottleneck_category, list[0]?.dimension_type ?? null, where);
    assert.equal(
      new Set(list.map((b) => `${b.dimension_type}:${b.dimension_key}`)).size,
      list.length,
      `one per key: ${where}`,
    );
    list.forEach((b, i) => {
      assert.ok(['phase', 'gate', 'subagent'].includes(b.dimension_type), where);
      assert.ok(b.ratio >= 3, where);
      assert.equal(b.ratio, Math.round((b.observed_p50_ms / b.baseline_p50_ms) * 100) / 100, where);
      assert.ok(b.exceedance_count >= 3 && b.exceedance_count <= b.sample_count, where);
      assert.ok(b.evidence_trace_ids.length >= 1 && b.evidence_trace_ids.length <= Math.min(5, b.sample_count), where);
      assert.equal(b.improvement_id, null, where);
      const next = list[i + 1];
      if (next)
        assert.ok(
          b.ratio > next.ratio || (b.ratio === next.ratio && b.observed_p50_ms >= next.observed_p50_ms),
          `sorted: ${where}`,
        );
    });
    assert.equal(out.items_created, 0, where);
    assert.ok(out.traces_scanned <= 10_000, where);
    if (out.errors !== undefined)
      assert.deepEqual(
        out.errors,
        list.map((b) => `create_failed:${b.dimension_key}: ${ITEM_REFUSAL}`),
        where,
      );
  }
}
