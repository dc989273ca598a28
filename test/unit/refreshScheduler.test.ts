import * as assert from 'node:assert/strict';
import * as FakeTimers from '@sinonjs/fake-timers';
import { backoffDelayMs } from '../../src/domain/backoff';
import { Clock, RefreshScheduler, RefreshSchedulerOptions, TickOutcome } from '../../src/platform/refreshScheduler';

const SEC = 1000;
const MIN = 60 * SEC;
const HOUR = 60 * MIN;

const BASE_OPTS = {
  unfocusedFactor: 4,
  backoffBaseMs: 1 * SEC,
  backoffMaxMs: 5 * MIN,
  maxDelayMs: 10 * MIN,
  minIntervalMs: 30 * SEC,
};

type Behaviour = (n: number, fake: FakeTimers.Clock) => TickOutcome | Promise<TickOutcome>;

interface Harness {
  fake: FakeTimers.Clock;
  sched: RefreshScheduler;
  /** Fake time at which each task invocation started. */
  calls: number[];
  /** Highest number of task invocations running at once. */
  maxConcurrent: () => number;
}

function harness(behaviour: Behaviour, over: Partial<RefreshSchedulerOptions> = {}): Harness {
  const fake = FakeTimers.createClock(0);
  const clock: Clock = {
    now: () => fake.now,
    setTimeout: (fn, ms) => fake.setTimeout(fn, ms),
    clearTimeout: (h) => fake.clearTimeout(h as FakeTimers.TimerId),
  };
  const calls: number[] = [];
  let running = 0;
  let maxRunning = 0;
  const task = async (): Promise<TickOutcome> => {
    calls.push(fake.now);
    running++;
    maxRunning = Math.max(maxRunning, running);
    try {
      return await behaviour(calls.length, fake);
    } finally {
      running--;
    }
  };
  const sched = new RefreshScheduler({ ...BASE_OPTS, ...over, task, clock });
  return { fake, sched, calls, maxConcurrent: () => maxRunning };
}

const every =
  (ms: number): Behaviour =>
  () => ({ ok: true, nextDelayMs: ms });
const failing =
  (retryAfterMs?: number): Behaviour =>
  () =>
    retryAfterMs === undefined ? { ok: false } : { ok: false, retryAfterMs };
const gaps = (xs: number[]) => xs.slice(1).map((x, i) => x - xs[i]);

/** A task whose completion the test controls. */
function deferredTask() {
  const resolvers: ((o: TickOutcome) => void)[] = [];
  const behaviour: Behaviour = () => new Promise<TickOutcome>((r) => resolvers.push(r));
  return { behaviour, resolvers };
}

describe('refreshScheduler: start and task-driven delays', () => {
  it('runs immediately on start', async () => {
    const h = harness(every(MIN));
    assert.equal(h.calls.length, 0);
    h.sched.start();
    await h.fake.tickAsync(0);
    assert.deepEqual(h.calls, [0]);
    assert.equal(h.sched.runCount, 1);
    h.sched.dispose();
  });

  it('does not run before start', async () => {
    const h = harness(every(MIN));
    await h.fake.tickAsync(HOUR);
    assert.equal(h.calls.length, 0);
  });

  const delays: { name: string; nextDelayMs: number; expectedGap: number }[] = [
    { name: '45 s', nextDelayMs: 45 * SEC, expectedGap: 45 * SEC },
    { name: '5 s', nextDelayMs: 5 * SEC, expectedGap: 5 * SEC },
    { name: 'capped at maxDelayMs', nextDelayMs: 2 * HOUR, expectedGap: 10 * MIN },
    { name: 'NaN does not spin: treated as the longest delay', nextDelayMs: NaN, expectedGap: 10 * MIN },
  ];
  for (const c of delays) {
    it(`uses the task's nextDelayMs: ${c.name}`, async () => {
      const h = harness(every(c.nextDelayMs));
      h.sched.start();
      await h.fake.tickAsync(3 * c.expectedGap);
      assert.deepEqual(gaps(h.calls), [c.expectedGap, c.expectedGap, c.expectedGap]);
      h.sched.dispose();
    });
  }

  it('a delay can change from one run to the next', async () => {
    const seq = [10 * SEC, 50 * SEC, 20 * SEC, 99 * MIN];
    const h = harness((n) => ({ ok: true, nextDelayMs: seq[Math.min(n, seq.length) - 1] }));
    h.sched.start();
    await h.fake.tickAsync(2 * MIN);
    assert.deepEqual(h.calls, [0, 10 * SEC, 60 * SEC, 80 * SEC]);
    h.sched.dispose();
  });

  it('measures the delay from the end of the previous run', async () => {
    const h = harness(
      (_n, fake) => new Promise((r) => fake.setTimeout(() => r({ ok: true, nextDelayMs: MIN }), 5 * SEC)),
    );
    h.sched.start();
    await h.fake.tickAsync(3 * 65 * SEC);
    assert.deepEqual(h.calls, [0, 65 * SEC, 130 * SEC, 195 * SEC]);
    h.sched.dispose();
  });
});

describe('refreshScheduler: never overlaps', () => {
  it('refreshNow during an in-flight task runs exactly once, right after it', async () => {
    const d = deferredTask();
    const h = harness(d.behaviour);
    h.sched.start();
    await h.fake.tickAsync(0);
    assert.equal(h.calls.length, 1);
    assert.equal(h.sched.hasTimer, false, 'no timer while a run is in flight');
    void h.sched.refreshNow();
    void h.sched.refreshNow();
    void h.sched.refreshNow();
    await h.fake.tickAsync(5 * SEC);
    assert.equal(h.calls.length, 1, 'nothing starts while the first is in flight');
    d.resolvers[0]({ ok: true, nextDelayMs: MIN });
    await h.fake.tickAsync(0);
    assert.deepEqual(h.calls, [0, 5 * SEC], 'exactly one follow-up, at once');
    d.resolvers[1]({ ok: true, nextDelayMs: MIN });
    await h.fake.tickAsync(MIN);
    assert.deepEqual(h.calls, [0, 5 * SEC, 65 * SEC], 'then back to the normal cadence');
    assert.equal(h.maxConcurrent(), 1);
    h.sched.dispose();
  });

  it('the promise of a coalesced refreshNow settles only after the run it asked for', async () => {
    const d = deferredTask();
    const h = harness(d.behaviour);
    h.sched.start();
    await h.fake.tickAsync(0);
    let settled = false;
    const p = h.sched.refreshNow().then(() => {
      settled = true;
    });
    d.resolvers[0]({ ok: true, nextDelayMs: MIN });
    await h.fake.tickAsync(0);
    assert.equal(h.calls.length, 2);
    assert.equal(settled, false, 'settled before the requested refresh finished');
    d.resolvers[1]({ ok: true, nextDelayMs: MIN });
    await p;
    assert.equal(settled, true);
    h.sched.dispose();
  });

  it('refreshNow while idle runs at once, cancels the pending timer and restarts the cadence', async () => {
    const h = harness(every(MIN));
    h.sched.start();
    await h.fake.tickAsync(20 * SEC);
    await h.sched.refreshNow();
    assert.deepEqual(h.calls, [0, 20 * SEC]);
    await h.fake.tickAsync(MIN);
    assert.deepEqual(h.calls, [0, 20 * SEC, 80 * SEC]);
    h.sched.dispose();
  });

  it('a burst of refreshNow calls with a slow task never runs two at once', async () => {
    const h = harness(
      (_n, fake) => new Promise((r) => fake.setTimeout(() => r({ ok: true, nextDelayMs: MIN }), 3 * SEC)),
    );
    h.sched.start();
    for (let i = 0; i < 20; i++) {
      void h.sched.refreshNow();
      await h.fake.tickAsync(500);
    }
    await h.fake.tickAsync(10 * SEC);
    assert.equal(h.maxConcurrent(), 1);
    // 10 s of requests against a 3 s task: at most one run per 3 s plus the trailing one.
    assert.ok(h.calls.length >= 3 && h.calls.length <= 5, String(h.calls.length));
    h.sched.dispose();
  });
});

describe('refreshScheduler: visibility and enablement', () => {
  it('pauses with no timer while not visible', async () => {
    const h = harness(every(MIN));
    h.sched.start();
    await h.fake.tickAsync(0);
    h.sched.setVisible(false);
    assert.equal(h.sched.hasTimer, false);
    assert.equal(h.sched.isActive, false);
    await h.fake.tickAsync(HOUR);
    assert.equal(h.calls.length, 1);
    h.sched.dispose();
  });

  it('becoming visible after more than minIntervalMs runs promptly', async () => {
    const h = harness(every(5 * MIN));
    h.sched.start();
    await h.fake.tickAsync(0);
    h.sched.setVisible(false);
    await h.fake.tickAsync(2 * MIN);
    h.sched.setVisible(true);
    await h.fake.tickAsync(0);
    assert.deepEqual(h.calls, [0, 2 * MIN]);
    h.sched.dispose();
  });

  it('becoming visible within minIntervalMs waits for the normal due time (no flicker loop)', async () => {
    const h = harness(every(5 * MIN));
    h.sched.start();
    await h.fake.tickAsync(0);
    for (let i = 0; i < 10; i++) {
      h.sched.setVisible(false);
      await h.fake.tickAsync(SEC);
      h.sched.setVisible(true);
      await h.fake.tickAsync(SEC);
    }
    assert.deepEqual(h.calls, [0]);
    await h.fake.tickAsync(5 * MIN);
    assert.deepEqual(h.calls, [0, 5 * MIN]);
    h.sched.dispose();
  });

  it('becoming visible when a run is already overdue runs it now', async () => {
    const h = harness(every(MIN));
    h.sched.start();
    await h.fake.tickAsync(0);
    h.sched.setVisible(false);
    await h.fake.tickAsync(25 * MIN);
    h.sched.setVisible(true);
    assert.equal(h.sched.hasTimer, true);
    await h.fake.tickAsync(0);
    assert.deepEqual(h.calls, [0, 25 * MIN]);
    h.sched.dispose();
  });

  it('start while not visible does nothing until visible', async () => {
    const h = harness(every(MIN));
    h.sched.setVisible(false);
    h.sched.start();
    await h.fake.tickAsync(10 * MIN);
    assert.equal(h.calls.length, 0);
    h.sched.setVisible(true);
    await h.fake.tickAsync(0);
    assert.deepEqual(h.calls, [10 * MIN]);
    h.sched.dispose();
  });

  it('pauses with no timer while disabled, runs at once when enabled again', async () => {
    const h = harness(every(5 * MIN));
    h.sched.start();
    await h.fake.tickAsync(0);
    h.sched.setEnabled(false);
    assert.equal(h.sched.hasTimer, false);
    await h.fake.tickAsync(HOUR);
    assert.deepEqual(h.calls, [0]);
    h.sched.setEnabled(true);
    await h.fake.tickAsync(0);
    assert.deepEqual(h.calls, [0, HOUR]);
    h.sched.dispose();
  });

  it('a run in flight while hidden does not schedule another', async () => {
    const d = deferredTask();
    const h = harness(d.behaviour);
    h.sched.start();
    await h.fake.tickAsync(0);
    h.sched.setVisible(false);
    d.resolvers[0]({ ok: true, nextDelayMs: SEC });
    await h.fake.tickAsync(HOUR);
    assert.equal(h.calls.length, 1);
    assert.equal(h.sched.hasTimer, false);
    h.sched.dispose();
  });
});

describe('refreshScheduler: focus', () => {
  it('stretches the delay by unfocusedFactor while unfocused and shrinks back on focus', async () => {
    const h = harness(every(MIN));
    h.sched.start();
    await h.fake.tickAsync(0);
    h.sched.setFocused(false);
    await h.fake.tickAsync(4 * MIN);
    assert.deepEqual(h.calls, [0, 4 * MIN], 'unfocused: every 4 min');
    await h.fake.tickAsync(2 * MIN);
    assert.equal(h.calls.length, 2);
    h.sched.setFocused(true);
    await h.fake.tickAsync(0);
    assert.deepEqual(h.calls, [0, 4 * MIN, 6 * MIN], 'focus: overdue by the focused delay, runs now');
    await h.fake.tickAsync(MIN);
    assert.deepEqual(h.calls, [0, 4 * MIN, 6 * MIN, 7 * MIN]);
    h.sched.dispose();
  });

  it('regaining focus before the focused delay has passed waits for it', async () => {
    const h = harness(every(MIN));
    h.sched.start();
    await h.fake.tickAsync(0);
    h.sched.setFocused(false);
    await h.fake.tickAsync(20 * SEC);
    h.sched.setFocused(true);
    await h.fake.tickAsync(39 * SEC);
    assert.deepEqual(h.calls, [0]);
    await h.fake.tickAsync(SEC);
    assert.deepEqual(h.calls, [0, MIN]);
    h.sched.dispose();
  });

  it('the stretched delay is capped at maxDelayMs', async () => {
    const h = harness(every(5 * MIN));
    h.sched.setFocused(false);
    h.sched.start();
    await h.fake.tickAsync(30 * MIN);
    assert.deepEqual(gaps(h.calls), [10 * MIN, 10 * MIN, 10 * MIN]);
    h.sched.dispose();
  });
});

describe('refreshScheduler: backoff', () => {
  it('backs off exponentially on failures, capped at backoffMaxMs', async () => {
    const h = harness(failing());
    h.sched.start();
    await h.fake.tickAsync(HOUR);
    assert.deepEqual(
      gaps(h.calls).slice(0, 12),
      [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300].map((s) => s * SEC),
    );
    assert.equal(h.sched.consecutiveFailures, h.calls.length);
    h.sched.dispose();
  });

  it('a task that throws counts as a failure', async () => {
    const h = harness(() => {
      throw new Error('boom');
    });
    h.sched.start();
    await h.fake.tickAsync(7 * SEC);
    assert.deepEqual(h.calls, [0, SEC, 3 * SEC, 7 * SEC]);
    assert.equal(h.sched.consecutiveFailures, 4);
    h.sched.dispose();
  });

  const retry: { name: string; retryAfterMs: number; expectedGap: number }[] = [
    { name: 'longer than the backoff: honoured', retryAfterMs: 120 * SEC, expectedGap: 120 * SEC },
    { name: 'shorter than the backoff: backoff wins', retryAfterMs: 10, expectedGap: SEC },
    { name: 'longer than maxDelayMs: capped', retryAfterMs: 2 * HOUR, expectedGap: 10 * MIN },
    { name: 'NaN does not spin: backoff applies', retryAfterMs: NaN, expectedGap: SEC },
  ];
  for (const c of retry) {
    it(`honours retryAfterMs: ${c.name}`, async () => {
      const h = harness(failing(c.retryAfterMs));
      h.sched.start();
      await h.fake.tickAsync(c.expectedGap);
      assert.deepEqual(h.calls, [0, c.expectedGap]);
      h.sched.dispose();
    });
  }

  it('resets after a success', async () => {
    const outcomes: TickOutcome[] = [
      { ok: false },
      { ok: false },
      { ok: false },
      { ok: true, nextDelayMs: MIN },
      { ok: false },
      { ok: false },
    ];
    const h = harness((n) => outcomes[Math.min(n, outcomes.length) - 1]);
    h.sched.start();
    await h.fake.tickAsync(0);
    assert.equal(h.sched.consecutiveFailures, 1);
    await h.fake.tickAsync(3 * SEC);
    assert.equal(h.sched.consecutiveFailures, 3);
    await h.fake.tickAsync(4 * SEC);
    assert.equal(h.sched.consecutiveFailures, 0);
    await h.fake.tickAsync(MIN + 3 * SEC);
    assert.deepEqual(gaps(h.calls), [SEC, 2 * SEC, 4 * SEC, MIN, SEC, 2 * SEC]);
    h.sched.dispose();
  });

  it('becoming visible while backing off does not cut the backoff short', async () => {
    const h = harness(failing());
    h.sched.start();
    await h.fake.tickAsync(255 * SEC); // 9 failures, next gap 256 s
    assert.equal(h.calls.length, 9);
    h.sched.setVisible(false);
    await h.fake.tickAsync(MIN);
    h.sched.setVisible(true);
    await h.fake.tickAsync(0);
    assert.equal(h.calls.length, 9);
    await h.fake.tickAsync(256 * SEC - MIN);
    assert.equal(h.calls.length, 10);
    h.sched.dispose();
  });

  it('re-enabling clears the backoff', async () => {
    const h = harness(failing());
    h.sched.start();
    await h.fake.tickAsync(15 * SEC);
    assert.equal(h.sched.consecutiveFailures, 5);
    h.sched.setEnabled(false);
    h.sched.setEnabled(true);
    assert.equal(h.sched.consecutiveFailures, 0);
    await h.fake.tickAsync(0);
    assert.equal(h.calls.at(-1), 15 * SEC);
    h.sched.dispose();
  });
});

describe('backoffDelayMs: the one backoff (pollers and the session start retries)', () => {
  const o = { baseMs: 5_000, maxMs: 300_000 };
  const cases: Array<[string, number, number | null | undefined, number]> = [
    ['first failure: the base', 1, undefined, 5_000],
    ['doubles', 2, undefined, 10_000],
    ['doubles again', 4, null, 40_000],
    ['capped', 20, undefined, 300_000],
    ['zero failures counts as one', 0, undefined, 5_000],
    ['Retry-After longer than the backoff wins', 1, 8_000, 8_000],
    ['Retry-After shorter than the backoff does not shorten it', 3, 1_000, 20_000],
    ['Retry-After beyond the cap is kept (the server asked)', 20, 600_000, 600_000],
    ['NaN Retry-After is ignored', 2, NaN, 10_000],
  ];
  for (const [name, failures, retryAfterMs, want] of cases)
    it(name, () => assert.equal(backoffDelayMs(failures, { ...o, retryAfterMs }), want));
});

describe('refreshScheduler: dispose', () => {
  it('clears the timer and stops further runs', async () => {
    const h = harness(every(MIN));
    h.sched.start();
    await h.fake.tickAsync(0);
    assert.equal(h.sched.hasTimer, true);
    h.sched.dispose();
    assert.equal(h.sched.hasTimer, false);
    assert.equal(h.fake.countTimers(), 0);
    await h.fake.tickAsync(HOUR);
    assert.equal(h.calls.length, 1);
  });

  it('during an in-flight run: no follow-up, even with a refresh pending', async () => {
    const d = deferredTask();
    const h = harness(d.behaviour);
    h.sched.start();
    await h.fake.tickAsync(0);
    void h.sched.refreshNow();
    h.sched.dispose();
    d.resolvers[0]({ ok: true, nextDelayMs: SEC });
    await h.fake.tickAsync(HOUR);
    assert.equal(h.calls.length, 1);
    assert.equal(h.sched.hasTimer, false);
  });

  it('refreshNow, setVisible, setFocused, setEnabled and start after dispose do nothing', async () => {
    const h = harness(every(MIN));
    h.sched.start();
    await h.fake.tickAsync(0);
    h.sched.dispose();
    await h.sched.refreshNow();
    h.sched.setVisible(false);
    h.sched.setVisible(true);
    h.sched.setFocused(false);
    h.sched.setEnabled(false);
    h.sched.setEnabled(true);
    h.sched.start();
    await h.fake.tickAsync(HOUR);
    assert.equal(h.calls.length, 1);
    assert.equal(h.sched.hasTimer, false);
  });
});

describe('refreshScheduler: task invocations over a simulated hour', () => {
  const cases: { name: string; behaviour: Behaviour; setup?: (s: RefreshScheduler) => void; expected: number }[] = [
    { name: 'visible and focused, every 60 s', behaviour: every(MIN), expected: 61 },
    {
      name: 'unfocused (factor 4), every 60 s',
      behaviour: every(MIN),
      setup: (s) => s.setFocused(false),
      expected: 16,
    },
    { name: 'not visible', behaviour: every(MIN), setup: (s) => s.setVisible(false), expected: 0 },
    { name: 'disabled', behaviour: every(MIN), setup: (s) => s.setEnabled(false), expected: 0 },
    { name: 'always failing (backoff 1 s … 5 min)', behaviour: failing(), expected: 20 },
    {
      name: 'always failing, unfocused (stretched, capped at 10 min)',
      behaviour: failing(),
      setup: (s) => s.setFocused(false),
      expected: 13,
    },
    { name: 'always failing with Retry-After 15 min (capped at 10 min)', behaviour: failing(15 * MIN), expected: 7 },
    { name: 'task asks for 10 s', behaviour: every(10 * SEC), expected: 361 },
    { name: 'task asks for 1 day', behaviour: every(24 * HOUR), expected: 7 },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const h = harness(c.behaviour);
      c.setup?.(h.sched);
      h.sched.start();
      await h.fake.tickAsync(HOUR);
      assert.equal(h.calls.length, c.expected);
      assert.equal(h.maxConcurrent(), h.calls.length > 0 ? 1 : 0);
      h.sched.dispose();
    });
  }
});

describe('RefreshScheduler: delay floor', () => {
  const cases: Array<{ name: string; delay: number }> = [
    { name: 'a task asking for 0 ms', delay: 0 },
    { name: 'a task asking for a negative delay', delay: -5_000 },
    { name: 'a task asking for 10 ms', delay: 10 },
  ];
  for (const c of cases) {
    it(`${c.name} runs at most once per MIN_DELAY_MS`, async () => {
      const h = harness(every(c.delay));
      h.sched.start();
      await h.fake.tickAsync(10 * SEC);
      h.sched.dispose();
      assert.ok(h.calls.length >= 2, `it keeps running (${h.calls.length})`);
      assert.ok(h.calls.length <= 11, `no spin: ${h.calls.length} runs in 10 s`);
      for (const g of gaps(h.calls)) assert.ok(g >= 1_000, `gap ${g} ms`);
    });
  }
});
