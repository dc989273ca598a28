// The scheduler status-bar item follows every heartbeat state the simulator can produce.
import * as assert from 'assert';
import { StatusBarSnapshot } from '../shared';
import { config, control, refresh, testing, Testing, waitFor } from './helpers';

type Background = 'none' | 'warning' | 'error';

interface Expectation {
  /** The extension's health kind (src/domain/heartbeat.ts SchedulerHealth). */
  state: string;
  text: RegExp;
  tooltip: RegExp;
  background: Background;
}

function background(s: StatusBarSnapshot): Background {
  const raw = s.backgroundColor as unknown;
  const id = typeof raw === 'string' ? raw : raw && typeof raw === 'object' && 'id' in raw ? String(raw.id) : '';
  if (!id) return 'none';
  if (/error/i.test(id)) return 'error';
  if (/warning/i.test(id)) return 'warning';
  return 'none';
}

async function expectStatus(t: Testing, what: string, want: Expectation): Promise<StatusBarSnapshot> {
  // The heartbeat is re-read by the extension's own schedule; Refresh (as a user would) makes it immediate.
  const s = await waitFor(
    async () => {
      await refresh();
      return t.statusBar();
    },
    {
      message: `status bar state "${want.state}" (${what})`,
      until: (s) => s.state === want.state,
      timeoutMs: 30_000,
      intervalMs: 500,
    },
  );
  assert.match(s.text, want.text, `text for ${what}`);
  // The tooltip is Markdown: compare its text without backslash escapes (HALF\_OPEN → HALF_OPEN).
  assert.match(s.tooltip.replace(/\\(.)/g, '$1'), want.tooltip, `tooltip for ${what}: ${s.tooltip}`);
  assert.strictEqual(background(s), want.background, `background for ${what} (${JSON.stringify(s.backgroundColor)})`);
  assert.strictEqual(s.name, 'EHG Scheduler');
  assert.ok(s.accessibilityLabel.length > 0, 'has an accessibility label');
  return s;
}

describe('status bar follows the scheduler heartbeat', function () {
  this.timeout(90_000);
  let t: Testing;

  before(async () => {
    t = await testing();
    await control('scheduler.setBreaker', 'CLOSED');
    await control('scheduler.fastRounds');
    await control('scheduler.start');
  });

  // Each test starts from a freshly started scheduler whose breaker adapter says CLOSED (none relies on
  // the one before). The adapter is set first: the daemon reads it at each poll, not at once.
  beforeEach(async () => {
    await control('scheduler.setBreaker', 'CLOSED');
    await control('scheduler.start');
  });

  after(async () => {
    // Leave a healthy scheduler behind for whatever runs next.
    await control('scheduler.setBreaker', 'CLOSED').catch(() => undefined);
    await control('scheduler.start').catch(() => undefined);
  });

  it('healthy: running, no background', async () => {
    await control('scheduler.writeOnce');
    const s = await expectStatus(t, 'healthy', {
      state: 'healthy',
      text: /running/i,
      tooltip: /polling on time/i,
      background: 'none',
    });
    assert.strictEqual(s.command, 'ehgTelemetry.showSchedulerDetails');
  });

  it('breaker OPEN: error background', async () => {
    // The adapter says OPEN; the next poll (brought forward) writes it with paused_reason circuit_breaker_open.
    await control('scheduler.setBreaker', 'OPEN');
    await control('scheduler.writeOnce');
    await expectStatus(t, 'breaker OPEN', {
      state: 'breaker-open',
      text: /OPEN/,
      tooltip: /OPEN/,
      background: 'error',
    });
  });

  it('breaker HALF_OPEN: warning background', async () => {
    await control('scheduler.setBreaker', 'HALF_OPEN');
    await control('scheduler.writeOnce');
    await expectStatus(t, 'breaker HALF_OPEN', {
      state: 'breaker-half-open',
      text: /half-open/i,
      tooltip: /HALF_OPEN/,
      background: 'warning',
    });
  });

  it("breaker 'open' in lower case is OPEN (compared case-insensitively, as eva:health does)", async () => {
    // Only an exact 'OPEN' pauses the daemon; 'open' is written as given, without a pause.
    await control('scheduler.setBreaker', 'open');
    await control('scheduler.writeOnce');
    await expectStatus(t, "breaker 'open'", {
      state: 'breaker-open',
      text: /OPEN/,
      tooltip: /Circuit breaker:\*\* open/,
      background: 'error',
    });
  });

  it('paused (a row no upstream writer produces: paused with the breaker not OPEN): warning background, reason in the tooltip', async () => {
    // A fresh write first, so the crashed row is far from stale when it is read.
    await control('scheduler.writeOnce');
    await control('scheduler.pause', 'e2e maintenance window');
    await expectStatus(t, 'paused', {
      state: 'paused',
      text: /paused/i,
      tooltip: /e2e maintenance window/,
      background: 'warning',
    });
  });

  it('stopping (a row the daemon never writes): warning background', async () => {
    await control('scheduler.writeOnce');
    await control('scheduler.setStopping');
    await expectStatus(t, 'stopping', {
      state: 'stopping',
      text: /stopping/i,
      tooltip: /shutting down/i,
      background: 'warning',
    });
  });

  it('stopped: error background', async () => {
    await control('scheduler.stop');
    await expectStatus(t, 'stopped', { state: 'stopped', text: /stopped/i, tooltip: /stopped/i, background: 'error' });
  });

  it('stale (no heartbeat past the expected write + grace): warning background', async () => {
    await control('scheduler.start');
    await control('scheduler.writeOnce');
    await expectStatus(t, 'healthy again', {
      state: 'healthy',
      text: /running/i,
      tooltip: /polling on time/i,
      background: 'none',
    });
    await control('scheduler.crash');
    // Idle and adaptive, the next write is expected 3 × base after the last; the test settings set the grace to 1 s.
    await expectStatus(t, `silent for > 3 × ${config.schedulerIntervalMs} ms + grace`, {
      state: 'stale',
      text: /stale/i,
      tooltip: /next heartbeat was due .* \(it writes every \d+ s: queue empty\)/i,
      background: 'warning',
    });
  });

  it('no row: "no heartbeat", warning background', async () => {
    // No daemon left to write the row again (as after the stale case, but not relying on it).
    await control('scheduler.crash');
    await control('scheduler.deleteRow');
    await expectStatus(t, 'no heartbeat row', {
      state: 'no-row',
      text: /no heartbeat/i,
      tooltip: /no workers/i,
      background: 'warning',
    });
  });
});
