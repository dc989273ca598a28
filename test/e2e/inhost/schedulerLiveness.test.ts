// The status bar against the simulator shaped after lib/eva/eva-master-scheduler.js: idle adaptive
// cycles (writes every 3 × base while next_poll_at says base), a crash, the watcher's revival, and
// registered_rounds emptying. The extension reads on its own schedule here (no Refresh while sampling),
// so the samples show what a user would see between writes.
import * as assert from 'assert';
import { config, control, refresh, testing, Testing, waitFor } from './helpers';
import {
  background,
  dbRow,
  GRACE_MS,
  LATE_MS,
  plain,
  reportTransitions,
  SAMPLE_MS,
  sampleUntil,
  SimState,
  summary,
  transitions,
  untilHealthy,
} from './livenessKit';

reportTransitions();

describe('status bar judges the adaptive scheduler by its expected next write: idle cycles, crash, revival', function () {
  this.timeout(240_000);
  let t: Testing;
  let idleMs: number;

  before(async () => {
    t = await testing();
    await control('scheduler.setBreaker', 'CLOSED');
    await control('scheduler.fastRounds');
    await control('scheduler.restoreRounds');
    await control('scheduler.setQueueDepth', 0);
    await control('scheduler.setAdaptive', true);
    await control('scheduler.start');
    const st = await control<SimState>('scheduler.state');
    idleMs = 3 * st.baseIntervalMs;
    assert.strictEqual(st.baseIntervalMs, config.schedulerIntervalMs);
    assert.strictEqual(
      st.nextWaitMs,
      idleMs,
      'the simulator waits 3 × base with an empty queue (upstream _computeAdaptiveInterval)',
    );
    await untilHealthy(t);
  });

  // Each test starts from a freshly started, healthy daemon (none relies on what the one before left).
  beforeEach(async () => {
    await control('scheduler.restoreRounds');
    await control('scheduler.start');
    await untilHealthy(t);
  });

  after(async () => {
    await control('scheduler.restoreRounds').catch(() => undefined);
    await control('scheduler.start').catch(() => undefined);
  });

  it('idle through at least 3 adaptive cycles: every sample healthy, at most one heartbeat read per write', async () => {
    const tip = plain(t.statusBar().tooltip);
    assert.match(
      tip,
      new RegExp(`every ${idleMs / 1000} s: queue empty`),
      `tooltip names the interval in use and why:\n${tip}`,
    );
    assert.match(tip, /Queue depth:\*\* 0/);
    assert.match(tip, /Registered rounds:\*\* 13: vision_rescore/);
    assert.match(tip, /Observe-only:\*\* no/);
    assert.match(tip, /Build:\*\* d3adb33f0c0f/);
    // Start counting once a write has been read, so reads and writes compare over whole cycles.
    const start = (await dbRow())?.poll_count ?? 0;
    await sampleUntil(t, 'the next write', (s) => s.pollCount > start, idleMs + 5_000);
    const readsAtWrite = t.heartbeatReads();
    await waitFor(() => t.heartbeatReads(), {
      message: 'the read of that write',
      until: (n) => n > readsAtWrite,
      timeoutMs: idleMs,
      intervalMs: 50,
    });
    const reads0 = t.heartbeatReads();
    const polls0 = (await dbRow())?.poll_count ?? 0;
    const from = Date.now();
    const samples = await sampleUntil(
      t,
      '3 adaptive cycles and a half',
      (s) => s.pollCount >= polls0 + 3 && s.at - from >= 3.5 * idleMs,
      3.5 * idleMs + 10_000,
    );
    const reads = t.heartbeatReads() - reads0;
    const writes = samples[samples.length - 1].pollCount - polls0;
    const states = new Set(samples.map((s) => s.state));
    console.log(
      `[liveness] idle: ${samples.length} samples over ${((samples[samples.length - 1].at - samples[0].at) / 1000).toFixed(1)} s, ${writes} writes, ${reads} heartbeat reads; states: ${summary(samples)}`,
    );
    assert.deepStrictEqual([...states], ['healthy'], `every sample healthy: ${summary(samples)}`);
    assert.ok(writes >= 3, `at least 3 adaptive cycles (${writes} writes)`);
    // The window ends half a cycle after the last write, so each write's read (0.5 s after it) is in it.
    assert.ok(reads <= writes, `at most one read per write (${reads} reads for ${writes} writes)`);
    assert.ok(reads >= writes, `every write is read (${reads} reads for ${writes} writes)`);
  });
  it('crash: stale within one expected interval plus grace, not polling 4 intervals later', async () => {
    // Crash after a write that no due round follows (poll 1's rounds have run and are stamped by poll 2),
    // so the expected next write is the idle interval alone.
    await sampleUntil(t, 'the second poll', (s) => s.pollCount >= 2, idleMs + 5_000);
    await control('scheduler.crash');
    const row = await dbRow();
    assert.ok(row?.last_poll_at, 'the crashed daemon left its last write');
    const last = row.last_poll_at.getTime();
    const samples = await sampleUntil(t, 'not polling', (s) => s.state === 'not-polling', 5 * idleMs + 15_000);
    const firstStale = samples.find((s) => s.state === 'stale');
    const firstNotPolling = samples[samples.length - 1];
    const order = summary(samples);
    console.log(
      `[liveness] crash: ${samples.length} samples; stale at +${firstStale ? ((firstStale.at - last) / 1000).toFixed(1) : '—'} s, not polling at +${((firstNotPolling.at - last) / 1000).toFixed(1)} s after the last write (expected interval ${idleMs / 1000} s, grace ${GRACE_MS / 1000} s); states: ${order}`,
    );
    if (firstStale) transitions.push(['crash → stale (from the last write)', firstStale.at - last]);
    transitions.push(['crash → not polling (from the last write)', firstNotPolling.at - last]);
    assert.ok(
      /^(healthy×\d+ → )?stale×\d+ → not-polling×1$/.test(order),
      `healthy, then stale, then not polling: ${order}`,
    );
    assert.ok(firstStale, 'stale seen');
    const staleAfter = firstStale.at - last;
    assert.ok(
      staleAfter >= idleMs + GRACE_MS - SAMPLE_MS,
      `not stale before the expected write + grace (${staleAfter} ms)`,
    );
    assert.ok(
      staleAfter <= idleMs + GRACE_MS + LATE_MS,
      `stale within one expected interval plus grace (${staleAfter} ms ≤ ${idleMs + GRACE_MS} + ${LATE_MS} ms)`,
    );
    // Not polling: the stale threshold + 4 intervals (NOT_POLLING_EXTRA_INTERVALS of src/domain/heartbeat.ts).
    const notPollingAfter = firstNotPolling.at - last;
    const wantNotPolling = idleMs + GRACE_MS + 4 * idleMs;
    assert.ok(
      notPollingAfter >= wantNotPolling - SAMPLE_MS,
      `not polling only after stale + 4 intervals (${notPollingAfter} ms)`,
    );
    assert.ok(
      notPollingAfter <= wantNotPolling + LATE_MS,
      `not polling at stale + 4 intervals (${notPollingAfter} ms ≤ ${wantNotPolling} + ${LATE_MS} ms)`,
    );
    const s = t.statusBar();
    assert.match(s.text, /not polling/);
    assert.strictEqual(background(s), 'error');
    assert.match(plain(s.tooltip), /last poll \d+ s ago; status still says running/, s.tooltip);
    assert.strictEqual((await dbRow())?.poll_count, row.poll_count, 'no write since the crash');
  });

  it("revival: the watcher's claim shows reviving, then the new instance's first write is healthy", async () => {
    // Its own dead daemon to revive (as the crash case leaves one, but not relying on it).
    await control('scheduler.crash');
    const dead = await dbRow();
    await control('scheduler.claimRevival');
    const claimedAt = Date.now();
    const reviving = await sampleUntil(t, 'reviving', (s) => s.state === 'reviving', idleMs + 5_000);
    const seenReviving = reviving[reviving.length - 1].at - claimedAt;
    const bar = t.statusBar();
    assert.match(bar.text, /reviving/);
    assert.strictEqual(background(bar), 'warning');
    assert.match(plain(bar.tooltip), /token supervisor-[0-9a-f]{8}/);
    // The watcher's spawned daemon comes up: a new instance, counts from 0.
    await control('scheduler.start');
    const startedAt = Date.now();
    const after = await sampleUntil(t, 'healthy again', (s) => s.state === 'healthy', 30_000 + 5_000);
    const order = summary([...reviving.slice(-1), ...after]);
    const row = await dbRow();
    console.log(
      `[liveness] revival: reviving seen ${(seenReviving / 1000).toFixed(1)} s after the claim; healthy ${((after[after.length - 1].at - startedAt) / 1000).toFixed(1)} s after the new instance started; states: ${order}`,
    );
    assert.ok(/^reviving×\d+ → healthy×1$/.test(order), `reviving, then healthy: ${order}`);
    assert.notStrictEqual(row?.instance_id, dead?.instance_id);
    assert.match(row?.instance_id ?? '', /^scheduler-[0-9a-f]{8}$/);
    assert.ok((row?.poll_count ?? 99) <= 2, `counts restarted (${row?.poll_count})`);
  });

  it('registered_rounds empties while polling goes on: "no rounds" warning, then healthy again', async () => {
    await control('scheduler.clearRounds');
    await control('scheduler.writeOnce');
    const s = await waitFor(
      async () => {
        await refresh();
        return t.statusBar();
      },
      { message: 'no rounds', until: (x) => x.state === 'no-rounds', timeoutMs: 30_000, intervalMs: 500 },
    );
    assert.match(s.text, /no rounds/);
    assert.strictEqual(background(s), 'warning');
    assert.match(plain(s.tooltip), /registered_rounds is empty/);
    assert.match(plain(s.tooltip), /Registered rounds:\*\* none/);
    await control('scheduler.restoreRounds');
    await control('scheduler.writeOnce');
    await waitFor(
      async () => {
        await refresh();
        return t.statusBar();
      },
      { message: 'healthy with rounds', until: (x) => x.state === 'healthy', timeoutMs: 30_000, intervalMs: 500 },
    );
  });
});
