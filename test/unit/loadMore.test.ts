// Load More goes through the runs list's poller (src/runs/runPages.ts): a Load More during a poll
// waits for it and then reads once with the extra page, so list reads never overlap (README: requests
// never overlap). Calling the list's read directly, as Load More once did, runs two reads at once.
import * as assert from 'node:assert/strict';
import { MAX_LISTED_RUNS } from '../../src/data/backend';
import { Clock, RefreshScheduler, TickOutcome } from '../../src/platform/refreshScheduler';
import { loadMore, RunPages } from '../../src/runs/runPages';

/** Timers never fire: only refreshNow() runs the task. */
const stillClock: Clock = { now: () => 0, setTimeout: () => ({}), clearTimeout: () => undefined };
const tick = () => new Promise<void>((r) => setImmediate(r));

/** A list read (like RunsModel.load) that stays in flight until released, noting what it asked for. */
function listReads(pages: RunPages) {
  const asked: number[] = [];
  const releases: Array<() => void> = [];
  let running = 0;
  let maxRunning = 0;
  const read = async (): Promise<TickOutcome> => {
    running++;
    maxRunning = Math.max(maxRunning, running);
    asked.push(pages.limit);
    await new Promise<void>((r) => releases.push(r));
    running--;
    return { ok: true, nextDelayMs: 60_000 };
  };
  const release = () => releases.shift()?.();
  return { read, release, asked, maxRunning: () => maxRunning, inFlight: () => releases.length };
}

function poller(task: () => Promise<TickOutcome>): RefreshScheduler {
  return new RefreshScheduler({
    task,
    clock: stillClock,
    unfocusedFactor: 5,
    backoffBaseMs: 5_000,
    backoffMaxMs: 300_000,
    maxDelayMs: 900_000,
    minIntervalMs: 5_000,
  });
}

describe('Load More goes through the poller', () => {
  it('during a poll: waits for it, then reads once with the extra page; never two reads at once', async () => {
    const pages = new RunPages(() => 100);
    const list = listReads(pages);
    const sched = poller(list.read);
    const poll = sched.refreshNow();
    await tick();
    let loaded = false;
    const more = loadMore(pages, true, sched).then(() => (loaded = true));
    await tick();
    assert.equal(list.inFlight(), 1, 'the Load More read waits for the poll in flight');
    assert.deepEqual(list.asked, [100]);
    list.release();
    await poll;
    await tick();
    assert.deepEqual(list.asked, [100, 200], 'then one read with both pages');
    assert.equal(loaded, false, 'Load More settles when its own read has, not with the poll');
    list.release();
    await more;
    assert.equal(list.maxRunning(), 1);
    sched.dispose();
  });

  it('two Load Mores during a poll: one follow-up read, with both extra pages', async () => {
    const pages = new RunPages(() => 100);
    const list = listReads(pages);
    const sched = poller(list.read);
    const poll = sched.refreshNow();
    await tick();
    const both = Promise.all([loadMore(pages, true, sched), loadMore(pages, true, sched)]);
    list.release();
    await poll;
    await tick();
    list.release();
    await both;
    assert.deepEqual(list.asked, [100, 300]);
    assert.equal(list.maxRunning(), 1);
    sched.dispose();
  });

  it('at the cap (MAX_LISTED_RUNS asked for and more exist): no read at all', async () => {
    const pages = new RunPages(() => MAX_LISTED_RUNS);
    const list = listReads(pages);
    const sched = poller(list.read);
    await loadMore(pages, true, sched);
    assert.deepEqual(list.asked, []);
    sched.dispose();
  });
});

describe('RunPages: how much of the list is asked for', () => {
  it('a page at first; each Load More adds one; reset goes back to one', () => {
    const pages = new RunPages(() => 50);
    assert.equal(pages.limit, 50);
    assert.equal(pages.addPage(true), true);
    assert.equal(pages.limit, 100);
    pages.reset();
    assert.equal(pages.limit, 50);
  });

  it(`never more than MAX_LISTED_RUNS (${MAX_LISTED_RUNS}); at the cap Load More adds nothing`, () => {
    const pages = new RunPages(() => 200);
    assert.equal(pages.addPage(true), true);
    assert.equal(pages.addPage(true), true);
    assert.equal(pages.limit, MAX_LISTED_RUNS);
    assert.equal(pages.atCap(true), true);
    assert.equal(pages.atCap(false), false, 'not at the cap when nothing more exists');
    assert.equal(pages.addPage(true), false);
    assert.equal(pages.limit, MAX_LISTED_RUNS);
  });

  it('follows a new page size at once', () => {
    let size = 100;
    const pages = new RunPages(() => size);
    pages.addPage(true);
    size = 150;
    assert.equal(pages.limit, 300);
  });
});
