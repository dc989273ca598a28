// The status bar against the simulator shaped after lib/eva/eva-master-scheduler.js: idle adaptive
// cycles (writes every 3 × base while next_poll_at says base), a crash, the watcher's revival, and
// registered_rounds emptying. The extension reads on its own schedule here (no Refresh while sampling),
// so the samples show what a user would see between writes.
import * as assert from 'assert';
import { StatusBarSnapshot } from '../shared';
import { config, control, refresh, sleep, sql, testing, Testing, waitFor } from './helpers';

interface SimState {
  instanceId: string;
  pollCount: number;
  nextWaitMs: number | null;
  baseIntervalMs: number;
  polling: boolean;
}
interface Sample {
  at: number;
  state: string;
  text: string;
  pollCount: number;
}

const SAMPLE_MS = 100;
const GRACE_MS = 1_000; // ehgTelemetry.heartbeatGraceSeconds in the runner's user settings
/**
 * How late a verdict may show: the monitor re-judges 0.5 s after the moment, its server clock comes
 * from the Date header (whole seconds, so up to 1 s behind), and samples are 0.1 s apart. It is never early.
 */
const LATE_MS = 2_000;

async function dbRow(): Promise<{ instance_id: string; poll_count: number; last_poll_at: Date | null } | undefined> {
  return (
    await sql<{ instance_id: string; poll_count: number; last_poll_at: Date | null }>(
      'select instance_id, poll_count, last_poll_at from eva_scheduler_heartbeat where id = 1',
    )
  )[0];
}

/** Samples the status bar every 100 ms until `stop` says so (or `maxMs` passes: then it fails with the states seen). */
async function sampleUntil(
  t: Testing,
  what: string,
  stop: (s: Sample, all: Sample[]) => boolean,
  maxMs: number,
): Promise<Sample[]> {
  const out: Sample[] = [];
  const end = Date.now() + maxMs;
  for (;;) {
    const bar = t.statusBar();
    const row = await dbRow();
    const s: Sample = { at: Date.now(), state: bar.state, text: bar.text, pollCount: row?.poll_count ?? -1 };
    out.push(s);
    if (stop(s, out)) return out;
    if (Date.now() > end) throw new Error(`${what}: not reached within ${maxMs} ms; states seen: ${summary(out)}`);
    await sleep(SAMPLE_MS); // the sampling period, not a wait for something
  }
}

/** "healthy×212 → stale×230 → not-polling×1" */
function summary(samples: Sample[]): string {
  const runs: Array<[string, number]> = [];
  for (const s of samples) {
    const last = runs[runs.length - 1];
    if (last && last[0] === s.state) last[1]++;
    else runs.push([s.state, 1]);
  }
  return runs.map(([k, n]) => `${k}×${n}`).join(' → ');
}

/** Reads the heartbeat until the status bar says healthy (30 s at most). */
function untilHealthy(t: Testing): Promise<StatusBarSnapshot> {
  return waitFor(
    async () => {
      await refresh();
      return t.statusBar();
    },
    { message: 'healthy after a fresh start', until: (s) => s.state === 'healthy', timeoutMs: 30_000, intervalMs: 500 },
  );
}

function background(s: StatusBarSnapshot): 'none' | 'warning' | 'error' {
  const id = String(s.backgroundColor ?? '');
  return /error/i.test(id) ? 'error' : /warning/i.test(id) ? 'warning' : 'none';
}

const plain = (md: string) => md.replace(/\\(.)/g, '$1');

/** How long each transition took to show, printed as one table at the end of the file. */
const transitions: Array<[string, number]> = [];
after(() => {
  if (!transitions.length) return;
  console.log(
    `[liveness] transition timings (status bar, base ${config.schedulerIntervalMs / 1000} s, grace ${GRACE_MS / 1000} s):\n${transitions
      .map(([what, ms]) => `  ${what.padEnd(64)} ${(ms / 1000).toFixed(1).padStart(6)} s`)
      .join('\n')}`,
  );
});

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

interface Row {
  instance_id: string;
  poll_count: number;
  last_poll_at: Date | null;
  round_error_count: number | null;
}
async function fullRow(): Promise<Row | undefined> {
  return (
    await sql<Row>(
      "select instance_id, poll_count, last_poll_at, (metadata->>'round_error_count')::int as round_error_count from eva_scheduler_heartbeat where id = 1",
    )
  )[0];
}
interface RowSample extends Sample {
  instanceId: string | null;
  roundErrors: number;
  lastPollAt: number | null;
  background: 'none' | 'warning' | 'error';
  /** The window's heartbeat reads so far (t.heartbeatReads()). */
  reads: number;
}
/** Samples the status bar and the row every 100 ms until `stop` (or fails after `maxMs` with the states seen). */
async function sampleRows(
  t: Testing,
  what: string,
  stop: (s: RowSample, all: RowSample[]) => boolean,
  maxMs: number,
): Promise<RowSample[]> {
  const out: RowSample[] = [];
  const end = Date.now() + maxMs;
  for (;;) {
    const bar = t.statusBar();
    // The moment the status bar was read (the row's read after it may be slow on a loaded machine).
    const at = Date.now();
    const row = await fullRow();
    const s: RowSample = {
      at,
      state: bar.state,
      text: bar.text,
      pollCount: row?.poll_count ?? -1,
      instanceId: row?.instance_id ?? null,
      roundErrors: row?.round_error_count ?? 0,
      lastPollAt: row?.last_poll_at?.getTime() ?? null,
      background: background(bar),
      reads: t.heartbeatReads(),
    };
    out.push(s);
    if (stop(s, out)) return out;
    if (Date.now() > end) throw new Error(`${what}: not reached within ${maxMs} ms; states seen: ${summary(out)}`);
    await sleep(SAMPLE_MS);
  }
}
/**
 * Like sampleRows, but the window reads each new write as soon as the row shows it (a forced read), so
 * this window's history holds every write of the stretch: what it learns from their gaps then does not
 * depend on when its own schedule happened to read (a window that misses a write averages two gaps).
 */
async function sampleRowsReadEach(
  t: Testing,
  what: string,
  stop: (s: RowSample) => boolean,
  maxMs: number,
): Promise<RowSample[]> {
  const end = Date.now() + maxMs;
  let seen = (await fullRow())?.last_poll_at?.getTime() ?? null;
  const all: RowSample[] = [];
  for (;;) {
    const part = await sampleRows(
      t,
      what,
      (s) => stop(s) || (s.lastPollAt !== null && s.lastPollAt !== seen),
      Math.max(0, end - Date.now()),
    );
    all.push(...part);
    const last = part[part.length - 1];
    if (last.lastPollAt !== null && last.lastPollAt !== seen) {
      seen = last.lastPollAt;
      await t.refreshHeartbeat();
    }
    if (stop(last)) return all;
  }
}
/** "healthy: 312, stale: 0": counts per state. */
function counts(samples: Sample[]): string {
  const m = new Map<string, number>();
  for (const s of samples) m.set(s.state, (m.get(s.state) ?? 0) + 1);
  return [...m].map(([k, n]) => `${k}: ${n}`).join(', ');
}
/** "+0.0 s stale (reads 41), +6.1 s read, +6.2 s reviving, …": when the window read and what it showed, from `from`. */
function timeline(samples: RowSample[], from: number): string {
  const out: string[] = [];
  samples.forEach((s, i) => {
    const p = samples[i - 1];
    const at = `${((s.at - from) / 1000).toFixed(1)} s`;
    if (!p || p.state !== s.state) out.push(`${at} ${s.state} (reads ${s.reads})`);
    else if (p.reads !== s.reads) out.push(`${at} read`);
    if (p && p.instanceId !== s.instanceId) out.push(`${at} row ${s.instanceId}`);
  });
  return out.join(', ');
}
const firstAt = (samples: Sample[], state: string) => samples.find((s) => s.state === state)?.at ?? null;

/** REVIVAL_BOUND_MS and TRANSITIONAL_READ_MS of src/domain/heartbeat.ts: the bound and the read cadence while reviving. */
const REVIVAL_BOUND_MS = 30_000;
const TRANSITIONAL_READ_MS = 10_000;

describe('status bar where the daemon and the watcher are unkind: slow rounds, a failed revival, every transition timed', function () {
  this.timeout(300_000);
  let t: Testing;
  let idleMs: number;

  before(async () => {
    t = await testing();
    idleMs = 3 * config.schedulerIntervalMs;
  });
  beforeEach(async () => {
    await control('scheduler.setBreaker', 'CLOSED');
    await control('scheduler.fastRounds');
    await control('scheduler.failSpawns', 0);
    await control('scheduler.start');
    await untilHealthy(t);
    // From poll 2 on no round is due after a write (poll 1's rounds have run and are stamped): the
    // expected next write is the idle interval alone, as at the steady state.
    await sampleUntil(t, 'the second poll', (s) => s.pollCount >= 2, idleMs + 5_000);
  });
  after(async () => {
    await control('scheduler.fastRounds').catch(() => undefined);
    await control('scheduler.failSpawns', 0).catch(() => undefined);
    await control('scheduler.start').catch(() => undefined);
  });

  it('two rounds time out at every poll, each write comes 2 × the round timeout late: 0 samples stale or not polling while the daemon lives', async () => {
    const st = await control<{ roundTimeoutMs: number }>('scheduler.state');
    const hanging = await control<string[]>('scheduler.slowRounds', 2);
    assert.equal(hanging.length, 2);
    const errors0 = (await fullRow())?.round_error_count ?? 0;
    const reads0 = t.heartbeatReads();
    // Five slow polls: round_error_count grows by 2 at each.
    const samples = await sampleRows(
      t,
      'five slow polls',
      (s) => s.roundErrors >= errors0 + 10,
      5 * (idleMs + 2 * st.roundTimeoutMs) + 15_000,
    );
    const writes: number[] = [];
    for (const s of samples)
      if (s.lastPollAt !== null && s.lastPollAt !== writes[writes.length - 1]) writes.push(s.lastPollAt);
    const gaps = writes.slice(1).map((w, i) => w - writes[i]);
    const slowGaps = gaps.slice(1); // the first write after slowRounds may precede the first slow poll
    const alarms = samples.filter((s) => s.state !== 'healthy');
    console.log(
      `[liveness] slow rounds (2 × ${st.roundTimeoutMs} ms timeout a poll): ${samples.length} samples over ${((samples[samples.length - 1].at - samples[0].at) / 1000).toFixed(1)} s — ${counts(samples)}; ${writes.length} writes, gaps ${slowGaps.map((g) => (g / 1000).toFixed(1)).join(' / ')} s (idle interval ${idleMs / 1000} s + grace ${GRACE_MS / 1000} s = ${(idleMs + GRACE_MS) / 1000} s); ${t.heartbeatReads() - reads0} heartbeat reads; false alarms: ${alarms.length}`,
    );
    assert.ok(slowGaps.length >= 3, `at least 3 slow cycles (${gaps.length} gaps)`);
    for (const g of slowGaps)
      assert.ok(
        g > idleMs + GRACE_MS,
        `each slow write comes later than interval + grace (${g} ms): the rule without rounds would say stale`,
      );
    assert.equal(alarms.length, 0, `0 false alarms while the daemon lives: ${summary(samples)}`);
  });

  it('the daemon dies after slow writes (2 rounds timing out at its scaled timeout): stale at interval + rounds + grace, not polling 4 intervals later — not after a 30 s-per-round allowance', async () => {
    const st = await control<{ roundTimeoutMs: number }>('scheduler.state');
    await control<string[]>('scheduler.slowRounds', 2);
    const errors0 = (await fullRow())?.round_error_count ?? 0;
    // Two slow polls (round_error_count +2 each): with the write that follows, the window has seen 2 slow
    // gaps. The window reads each write when the row shows it: this test sets up what a window that has
    // watched the daemon for a while knows (the test above shows its own schedule never misjudges it),
    // whatever this window read before.
    await sampleRowsReadEach(
      t,
      'two slow polls',
      (s) => s.roundErrors >= errors0 + 4,
      2 * (idleMs + 2 * st.roundTimeoutMs) + 15_000,
    );
    // The next write; the daemon dies right after it (its rounds in flight die with it).
    const before = (await fullRow())?.last_poll_at?.getTime() ?? 0;
    await sampleRowsReadEach(
      t,
      'one more slow write',
      (s) => (s.lastPollAt ?? 0) > before,
      idleMs + 2 * st.roundTimeoutMs + 5_000,
    );
    // …and the window has read it (a loaded machine can answer the window's read after our own; the
    // forced read above is the window's own, so this is a check): the death is timed from a window that
    // has seen the daemon's last write and learned its slow gaps. (That no sample is stale while the
    // daemon lives is the test above.)
    const lastWrite = await fullRow();
    const reads = t.heartbeatReads();
    await t.refreshHeartbeat();
    assert.ok(t.heartbeatReads() > reads, 'the window read the heartbeat before the crash');
    await sampleRows(t, 'the last write read by the window', (s) => s.state === 'healthy', idleMs + 5_000);
    const seenTip = plain(t.statusBar().tooltip);
    assert.match(
      seenTip,
      new RegExp(`Polls / dispatches / errors:\\*\\* ${lastWrite?.poll_count ?? -1} /`),
      `the window has read the daemon's last write (poll ${lastWrite?.poll_count}):\n${seenTip}`,
    );
    // Learned: the rounds' 30 s allowance gives way to the lateness its gaps showed, so the window expects
    // the next write at interval + the rounds' real time (not + 2 × 30 s, not at the bare interval).
    assert.match(
      seenTip,
      /Rounds after a write:\*\* as long as its recent writes showed/,
      `the window has learned the slow gaps (at least 2) before the crash:\n${seenTip}`,
    );
    const tipTime = (label: string) =>
      new Date(new RegExp(`${label}:\\*\\* [^(\\n]*\\(([^)]+)\\)`).exec(seenTip)?.[1] ?? NaN).getTime();
    const expectedGap = tipTime('Next write expected') - tipTime('Last poll');
    assert.ok(
      Math.abs(expectedGap - (idleMs + 2 * st.roundTimeoutMs)) <= 500,
      `the window expects the next write ${expectedGap} ms after the last (its slow gaps: ${idleMs + 2 * st.roundTimeoutMs} ms):\n${seenTip}`,
    );
    await control('scheduler.crash');
    const dead = await fullRow();
    assert.ok(dead?.last_poll_at);
    assert.strictEqual(dead.poll_count, lastWrite?.poll_count, 'no write between the last read and the crash');
    const last = dead.last_poll_at.getTime();
    const samples = await sampleRows(t, 'not polling', (s) => s.state === 'not-polling', 5 * idleMs + 60_000);
    const firstStale = samples.find((s) => s.state === 'stale');
    const notPolling = samples[samples.length - 1];
    const order = summary(samples);
    assert.ok(firstStale, `stale seen: ${order}`);
    assert.ok(/^(healthy×\d+ → )?stale×\d+ → not-polling×1$/.test(order), `healthy, stale, not polling: ${order}`);
    // What the daemon really took between writes: the idle wait + 2 timeouts (its scaled 1 s, not 30 s).
    const honest = idleMs + 2 * st.roundTimeoutMs;
    const wantStale = honest + GRACE_MS;
    const wantNotPolling = wantStale + 4 * idleMs;
    const staleAfter = firstStale.at - last;
    const notPollingAfter = notPolling.at - last;
    console.log(
      `[liveness] death after slow writes: stale at +${(staleAfter / 1000).toFixed(1)} s (want ${wantStale / 1000} s), not polling at +${(notPollingAfter / 1000).toFixed(1)} s (want ${wantNotPolling / 1000} s); ${order}`,
    );
    transitions.push(['death after slow writes → stale (from the last write)', staleAfter]);
    transitions.push(['death after slow writes → not polling (from the last write)', notPollingAfter]);
    // Not before the honest expectation (a small rounding of the learned lateness aside), and not later
    // than the usual lateness of a verdict: an allowance of 2 × 30 s would show stale after 67 s.
    assert.ok(staleAfter >= wantStale - 500, `not stale before interval + rounds + grace (${staleAfter} ms)`);
    assert.ok(staleAfter <= wantStale + LATE_MS, `stale by ${wantStale} + ${LATE_MS} ms (${staleAfter} ms)`);
    assert.ok(
      notPollingAfter >= wantNotPolling - 500,
      `not polling not before ${wantNotPolling} ms (${notPollingAfter} ms)`,
    );
    assert.ok(
      notPollingAfter <= wantNotPolling + LATE_MS,
      `not polling by ${wantNotPolling} + ${LATE_MS} ms (${notPollingAfter} ms)`,
    );
  });

  it('a failed revival: reviving, then "revival failed" (error) within the bound; the next watcher pass swaps the token, its daemon comes up: running', async () => {
    await control('scheduler.failSpawns', 1);
    const dead = await fullRow();
    // The whole revival: crash, the row ages past the watcher's threshold, its pass claims, the spawn fails.
    const revival = control<{ action: string; token?: string }>('scheduler.revive');
    // What the window remembered at each change of state (server clock), for a failure message.
    const memory: string[] = [];
    let lastState = '';
    const samples = await sampleRows(
      t,
      'revival failed',
      (s) => {
        if (s.state !== lastState) {
          const m = t.schedulerMemory();
          memory.push(
            `${s.state} at ${new Date(s.at).toISOString()} (local): token seen since ${m.revivalSeenSince ?? '—'}, ${m.verdictSince ?? '—'}, clock offset ${m.clockOffsetMs} ms`,
          );
          lastState = s.state;
        }
        return s.state === 'revival-failed';
      },
      90_000,
    );
    const outcome = await revival;
    assert.equal(outcome.action, 'unconfirmed', JSON.stringify(outcome));
    const claim = samples.find((s) => s.instanceId?.startsWith('supervisor-'));
    assert.ok(claim, `the claim was seen in the row: ${summary(samples)}`);
    const failedAt = samples[samples.length - 1];
    const revivingAt = firstAt(samples, 'reviving');
    const order = summary(samples);
    console.log(
      `[liveness] failed revival, from the claim: ${timeline(samples, claim.at)}; shown: ${/claimed the heartbeat[^.]*/.exec(plain(t.statusBar().tooltip))?.[0] ?? plain(t.statusBar().tooltip)}`,
    );
    assert.ok(
      /^(healthy×\d+ → )?stale×\d+ → reviving×\d+ → revival-failed×1$/.test(order),
      `healthy, stale, reviving, revival failed: ${order}`,
    );
    assert.equal(failedAt.background, 'error');
    assert.match(failedAt.text, /revival failed/);
    const tip = plain(t.statusBar().tooltip);
    assert.match(tip, new RegExp(`token ${claim.instanceId}`), tip);
    assert.match(tip, /last poll \d+ s ago/, tip);
    // Two promises, each timed on its own: the window reads a transitional row every 10 s, so it sees
    // the token within TRANSITIONAL_READ_MS of the claim; and the bound runs from when this window
    // first saw the token (heartbeat.ts REVIVAL_BOUND_MS), not from the claim.
    assert.ok(revivingAt, `the window showed reviving before revival failed: ${order}`);
    const seenBound = TRANSITIONAL_READ_MS + LATE_MS;
    assert.ok(
      revivingAt - claim.at <= seenBound,
      `the token seen within ${seenBound} ms of the claim (${revivingAt - claim.at} ms)`,
    );
    const failBound = REVIVAL_BOUND_MS + LATE_MS;
    assert.ok(
      failedAt.at - revivingAt <= failBound,
      `error within ${failBound} ms of the window first seeing the token (${failedAt.at - revivingAt} ms); from the claim: ${timeline(samples, claim.at)}; the window's memory: ${memory.join('; ')}`,
    );
    assert.ok(
      failedAt.at - revivingAt >= REVIVAL_BOUND_MS - 1_000,
      `not before the bound (${failedAt.at - revivingAt} ms)`,
    );
    transitions.push(['failed revival: claim → reviving shown', revivingAt ? revivingAt - claim.at : NaN]);
    transitions.push(['failed revival: claim → revival failed (error) shown', failedAt.at - claim.at]);
    // The watcher's next pass (cron, 5–15 min upstream): a new token, and this time the daemon starts.
    const tick = control<{ action: string }>('scheduler.watcherTick');
    const after = await sampleRows(t, 'running again', (s) => s.state === 'healthy', 30_000);
    assert.equal((await tick).action, 'revived');
    const order2 = summary(after);
    assert.ok(/^revival-failed×\d+ → healthy×1$/.test(order2), `still failed until the new daemon writes: ${order2}`);
    const swap = after.find((s) => s.instanceId?.startsWith('scheduler-') && s.instanceId !== dead?.instance_id);
    transitions.push([
      "watcher's next pass: new daemon's first write → running shown",
      swap ? after[after.length - 1].at - swap.at : NaN,
    ]);
  });

  it('transitions: first write into an empty table, stop, restart and a successful revival each show within 15 s', async () => {
    // No row at all (the daemon gone too): "no heartbeat".
    await control('scheduler.deleteRow');
    await sampleRows(t, 'no heartbeat', (s) => s.state === 'no-row', idleMs + 15_000);
    await control('scheduler.start');
    const firstWrite = (await fullRow())?.last_poll_at?.getTime() ?? Date.now();
    const up = await sampleRows(t, 'running after the first write', (s) => s.state === 'healthy', 30_000);
    const toRunning = up[up.length - 1].at - firstWrite;
    transitions.push(['first write into an empty table → running', toRunning]);
    assert.ok(toRunning <= 15_000, `running within 15 s of the first write (${toRunning} ms): ${summary(up)}`);

    // A graceful stop: idle running reads once per write, so it shows at the next expected write.
    await sampleUntil(t, 'a fresh write', (s, all) => s.pollCount > all[0].pollCount, idleMs + 5_000);
    await sleep(1_000);
    await control('scheduler.stop');
    const stoppedAt = (await fullRow())?.last_poll_at?.getTime() ?? Date.now();
    const stopped = await sampleRows(t, 'stopped', (s) => s.state === 'stopped', idleMs + 15_000);
    const toStopped = stopped[stopped.length - 1].at - stoppedAt;
    transitions.push(['stop → stopped (idle running: read at the next expected write)', toStopped]);
    assert.ok(toStopped <= idleMs + LATE_MS, `stopped by the next expected write (${toStopped} ms)`);

    // Restart from stopped (a transitional state: read every 10 s).
    await sleep(2_000);
    await control('scheduler.start');
    const startedAt = (await fullRow())?.last_poll_at?.getTime() ?? Date.now();
    const again = await sampleRows(t, 'running after a restart', (s) => s.state === 'healthy', 30_000);
    const toRestart = again[again.length - 1].at - startedAt;
    transitions.push(['restart (from stopped) → running', toRestart]);
    assert.ok(toRestart <= 15_000, `running within 15 s of the restart (${toRestart} ms)`);

    // A successful revival: crash, the watcher's threshold, claim, spawn (~1.3 s), the new instance writes.
    const before = await fullRow();
    const revival = control<{ action: string }>('scheduler.revive');
    const revived = await sampleRows(
      t,
      'running after the revival',
      (s) => s.state === 'healthy' && s.instanceId !== before?.instance_id && !!s.instanceId?.startsWith('scheduler-'),
      90_000,
    );
    assert.equal((await revival).action, 'revived');
    const claim = revived.find((s) => s.instanceId?.startsWith('supervisor-'));
    const newWrite = revived.find(
      (s) => s.instanceId?.startsWith('scheduler-') && s.instanceId !== before?.instance_id,
    );
    const shownRunning = revived[revived.length - 1].at;
    const revivingShown = firstAt(revived, 'reviving');
    transitions.push(['revival: claim → reviving shown', claim && revivingShown ? revivingShown - claim.at : NaN]);
    if (newWrite) transitions.push(["revival: new daemon's first write → running shown", shownRunning - newWrite.at]);
    console.log(`[liveness] revival: ${summary(revived)}`);
    assert.ok(newWrite && shownRunning - newWrite.at <= 15_000, `running within 15 s of the new daemon's first write`);
  });
});
