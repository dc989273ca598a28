import * as assert from 'node:assert/strict';
import {
  assessSchedulerHealth,
  DEFAULT_POLL_INTERVAL_MS,
  Heartbeat,
  HeartbeatObservation,
  nextHeartbeatReadDelayMs,
  overdueMs,
  parseHeartbeat,
  pollIntervalMs,
  SchedulerHealth,
} from '../../src/domain/heartbeat';
import { escapeMarkdown } from '../../src/domain/text';
import { findUnescaped, HOSTILE_TEXTS, isoAt } from './helpers';

const NOW = Date.UTC(2026, 1, 15, 12, 0, 0);
const GRACE = 30_000;
const MIN = 60_000;

/** A heartbeat row as the scheduler writes it: last poll `lastAgoMs` ago, next poll `interval` later. */
function row(over: Record<string, unknown> = {}, lastAgoMs = 10_000, interval = MIN): Record<string, unknown> {
  const last = NOW - lastAgoMs;
  return {
    id: 1,
    instance_id: 'scheduler-1a2b3c4d',
    started_at: isoAt(NOW - 3600_000),
    last_poll_at: isoAt(last),
    next_poll_at: isoAt(last + interval),
    poll_count: 60,
    dispatch_count: 4,
    error_count: 0,
    circuit_breaker_state: 'CLOSED',
    paused_reason: null,
    status: 'running',
    metadata: { observe_only: false, build_provenance: { git_sha: 'abc123', node_version: 'v20.11.0' } },
    updated_at: isoAt(last),
    ...over,
  };
}

function hb(over: Record<string, unknown> = {}, lastAgoMs?: number, interval?: number): Heartbeat {
  const h = parseHeartbeat(row(over, lastAgoMs, interval));
  assert.ok(h);
  return h;
}

describe('heartbeat: parseHeartbeat', () => {
  it('parses a complete row', () => {
    const h = hb();
    assert.deepEqual(h, {
      instanceId: 'scheduler-1a2b3c4d',
      startedAt: new Date(NOW - 3600_000),
      lastPollAt: new Date(NOW - 10_000),
      nextPollAt: new Date(NOW + 50_000),
      pollCount: 60,
      dispatchCount: 4,
      errorCount: 0,
      breaker: 'CLOSED',
      rawBreaker: 'CLOSED',
      pausedReason: null,
      status: 'running',
      rawStatus: 'running',
      observeOnly: false,
      gitSha: 'abc123',
      nodeVersion: 'v20.11.0',
      updatedAt: new Date(NOW - 10_000),
    } satisfies Heartbeat);
  });

  const cases: { name: string; input: unknown; expected: Partial<Heartbeat> | null }[] = [
    { name: 'not an object', input: 'row', expected: null },
    { name: 'array', input: [row()], expected: null },
    { name: 'null', input: null, expected: null },
    { name: 'breaker OPEN', input: row({ circuit_breaker_state: 'OPEN' }), expected: { breaker: 'OPEN', rawBreaker: 'OPEN' } },
    { name: 'breaker HALF_OPEN', input: row({ circuit_breaker_state: 'HALF_OPEN' }), expected: { breaker: 'HALF_OPEN' } },
    { name: 'breaker unknown text', input: row({ circuit_breaker_state: 'TRIPPED' }), expected: { breaker: 'UNKNOWN', rawBreaker: 'TRIPPED' } },
    { name: 'breaker lowercase is unknown', input: row({ circuit_breaker_state: 'open' }), expected: { breaker: 'UNKNOWN', rawBreaker: 'open' } },
    { name: 'breaker null is unreported', input: row({ circuit_breaker_state: null }), expected: { breaker: 'UNREPORTED', rawBreaker: null } },
    { name: 'breaker object is unreported', input: row({ circuit_breaker_state: { s: 'OPEN' } }), expected: { breaker: 'UNREPORTED', rawBreaker: null } },
    { name: 'status stopping', input: row({ status: 'stopping' }), expected: { status: 'stopping' } },
    { name: 'status stopped', input: row({ status: 'stopped' }), expected: { status: 'stopped' } },
    { name: 'status unknown text', input: row({ status: 'draining' }), expected: { status: 'unknown', rawStatus: 'draining' } },
    { name: 'status null', input: row({ status: null }), expected: { status: 'unknown', rawStatus: null } },
    { name: 'counts as strings', input: row({ poll_count: '61', dispatch_count: '5', error_count: '2' }), expected: { pollCount: 61, dispatchCount: 5, errorCount: 2 } },
    { name: 'counts as junk', input: row({ poll_count: {}, dispatch_count: 'x', error_count: null }), expected: { pollCount: null, dispatchCount: null, errorCount: null } },
    { name: 'timestamps as junk', input: row({ last_poll_at: 'x', next_poll_at: {}, started_at: null, updated_at: '7q' }), expected: { lastPollAt: null, nextPollAt: null, startedAt: null, updatedAt: null } },
    { name: 'metadata missing', input: row({ metadata: undefined }), expected: { observeOnly: null, gitSha: null, nodeVersion: null } },
    { name: 'metadata is a string', input: row({ metadata: '{"observe_only":true}' }), expected: { observeOnly: null } },
    { name: 'observe_only as string is ignored', input: row({ metadata: { observe_only: 'true' } }), expected: { observeOnly: null } },
    { name: 'observe_only true', input: row({ metadata: { observe_only: true } }), expected: { observeOnly: true } },
    { name: 'provenance not an object', input: row({ metadata: { build_provenance: 'abc' } }), expected: { gitSha: null, nodeVersion: null } },
    { name: 'paused reason cleaned', input: row({ paused_reason: 'circuit_breaker_open\n\u202e' }), expected: { pausedReason: 'circuit_breaker_open' } },
    { name: 'long strings bounded', input: row({ instance_id: 'i'.repeat(10_000), paused_reason: 'p'.repeat(10_000) }), expected: { instanceId: `${'i'.repeat(119)}…`, pausedReason: `${'p'.repeat(199)}…` } },
    { name: 'empty row', input: {}, expected: { instanceId: null, lastPollAt: null, nextPollAt: null, breaker: 'UNREPORTED', status: 'unknown' } },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const h = parseHeartbeat(c.input);
      if (c.expected === null) {
        assert.equal(h, null);
        return;
      }
      assert.ok(h);
      for (const [k, v] of Object.entries(c.expected)) assert.deepEqual(h[k as keyof Heartbeat], v, k);
    });
  }
});

describe('heartbeat: hostile text in every text field', () => {
  const keys: (keyof Heartbeat)[] = ['instanceId', 'rawBreaker', 'pausedReason', 'rawStatus', 'gitSha', 'nodeVersion'];
  for (const hostile of HOSTILE_TEXTS) {
    it(`single-line and fully escapable: ${JSON.stringify(hostile).slice(0, 50)}`, () => {
      const h = parseHeartbeat(row({
        instance_id: hostile, circuit_breaker_state: hostile, paused_reason: hostile, status: hostile,
        metadata: { build_provenance: { git_sha: hostile, node_version: hostile } },
      }));
      assert.ok(h);
      assert.equal(h.breaker, 'UNKNOWN');
      assert.equal(h.status, 'unknown');
      for (const k of keys) {
        const v: unknown = h[k];
        assert.equal(typeof v, 'string', k);
        assert.ok(!/[\r\n]/.test(v as string), k);
        assert.equal(findUnescaped(escapeMarkdown(v as string)), null, k);
      }
    });
  }
});

describe('heartbeat: pollIntervalMs', () => {
  const cases: { name: string; input: Heartbeat; expected: number }[] = [
    { name: 'derived from next - last', input: hb({}, 0, 30_000), expected: 30_000 },
    { name: 'default when next missing', input: hb({ next_poll_at: null }), expected: DEFAULT_POLL_INTERVAL_MS },
    { name: 'default when last missing', input: hb({ last_poll_at: null }), expected: DEFAULT_POLL_INTERVAL_MS },
    { name: 'default when next before last', input: hb({ last_poll_at: isoAt(NOW), next_poll_at: isoAt(NOW - 1000) }), expected: DEFAULT_POLL_INTERVAL_MS },
    { name: 'default when equal', input: hb({ last_poll_at: isoAt(NOW), next_poll_at: isoAt(NOW) }), expected: DEFAULT_POLL_INTERVAL_MS },
    { name: 'exactly 24 h accepted', input: hb({ last_poll_at: isoAt(NOW), next_poll_at: isoAt(NOW + 86_400_000) }), expected: 86_400_000 },
    { name: 'more than 24 h rejected', input: hb({ last_poll_at: isoAt(NOW), next_poll_at: isoAt(NOW + 86_400_001) }), expected: DEFAULT_POLL_INTERVAL_MS },
  ];
  for (const c of cases) it(c.name, () => assert.equal(pollIntervalMs(c.input), c.expected));
});

describe('heartbeat: overdueMs', () => {
  const cases: { name: string; input: Heartbeat; now: number; expected: number | null }[] = [
    { name: 'on time (next poll ahead)', input: hb(), now: NOW, expected: -(50_000 + GRACE) },
    { name: 'next poll passed, within grace', input: hb({}, 70_000), now: NOW, expected: 10_000 - GRACE },
    { name: 'next poll passed beyond grace', input: hb({}, 100_000), now: NOW, expected: 40_000 - GRACE },
    { name: 'no next: 5 × default interval from last poll', input: hb({ next_poll_at: null }, 200_000), now: NOW, expected: 200_000 - 300_000 },
    { name: 'no next, no last: from updated_at', input: hb({ next_poll_at: null, last_poll_at: null, updated_at: isoAt(NOW - 400_000) }), now: NOW, expected: 100_000 },
    { name: 'no next, no last, no updated: from started_at', input: hb({ next_poll_at: null, last_poll_at: null, updated_at: null, started_at: isoAt(NOW - 301_000) }), now: NOW, expected: 1000 },
    { name: 'no timestamps at all', input: hb({ next_poll_at: null, last_poll_at: null, updated_at: null, started_at: null }), now: NOW, expected: null },
  ];
  for (const c of cases) it(c.name, () => assert.equal(overdueMs(c.input, new Date(c.now), GRACE), c.expected));
});

describe('heartbeat: assessSchedulerHealth', () => {
  const obs = (h: Heartbeat): HeartbeatObservation => ({ kind: 'row', heartbeat: h });
  type Expect = { kind: SchedulerHealth['kind']; reason?: string; overdueMs?: number; detail?: string };
  const cases: { name: string; input: HeartbeatObservation; now?: number; expected: Expect }[] = [
    { name: 'healthy', input: obs(hb()), expected: { kind: 'healthy' } },
    { name: 'healthy exactly at next_poll_at + grace', input: obs(hb({}, MIN + GRACE)), expected: { kind: 'healthy' } },
    { name: 'stale 1 ms past next_poll_at + grace', input: obs(hb({}, MIN + GRACE + 1)), expected: { kind: 'stale', overdueMs: 1 } },
    { name: 'stale via next_poll_at + grace (10 min silent)', input: obs(hb({}, 600_000)), expected: { kind: 'stale', overdueMs: 600_000 - MIN - GRACE } },
    { name: 'not stale at 4 min without next_poll_at (5 × rule)', input: obs(hb({ next_poll_at: null }, 240_000)), expected: { kind: 'healthy' } },
    { name: 'stale at 6 min without next_poll_at (5 × rule)', input: obs(hb({ next_poll_at: null }, 360_000)), expected: { kind: 'stale', overdueMs: 60_000 } },
    { name: 'stale with no timestamps at all', input: obs(hb({ next_poll_at: null, last_poll_at: null, updated_at: null, started_at: null })), expected: { kind: 'stale', overdueMs: Infinity } },
    { name: 'stopping', input: obs(hb({ status: 'stopping' })), expected: { kind: 'stopping' } },
    { name: 'stopped', input: obs(hb({ status: 'stopped' })), expected: { kind: 'stopped' } },
    { name: 'breaker OPEN', input: obs(hb({ circuit_breaker_state: 'OPEN', paused_reason: 'circuit_breaker_open' })), expected: { kind: 'breaker-open' } },
    { name: 'breaker HALF_OPEN', input: obs(hb({ circuit_breaker_state: 'HALF_OPEN' })), expected: { kind: 'breaker-half-open' } },
    { name: 'breaker unknown text', input: obs(hb({ circuit_breaker_state: 'WOBBLY' })), expected: { kind: 'breaker-unknown' } },
    { name: 'breaker null (unreported) is healthy', input: obs(hb({ circuit_breaker_state: null })), expected: { kind: 'healthy' } },
    { name: 'paused with reason', input: obs(hb({ paused_reason: 'maintenance window' })), expected: { kind: 'paused', reason: 'maintenance window' } },
    { name: 'empty paused reason is not a pause', input: obs(hb({ paused_reason: '  ' })), expected: { kind: 'healthy' } },
    { name: 'unknown status', input: obs(hb({ status: 'draining' })), expected: { kind: 'status-unknown' } },
    { name: 'null status', input: obs(hb({ status: null })), expected: { kind: 'status-unknown' } },
    { name: 'no-row', input: { kind: 'no-row' }, expected: { kind: 'no-row' } },
    { name: 'not-visible', input: { kind: 'not-visible' }, expected: { kind: 'not-visible' } },
    { name: 'unreachable', input: { kind: 'unreachable', detail: 'fetch failed' }, expected: { kind: 'unreachable', detail: 'fetch failed' } },
    { name: 'not-configured', input: { kind: 'not-configured', detail: 'no url' }, expected: { kind: 'not-configured', detail: 'no url' } },
    { name: 'error', input: { kind: 'error', detail: 'boom' }, expected: { kind: 'error', detail: 'boom' } },
    // precedence
    { name: 'stopped beats breaker open', input: obs(hb({ status: 'stopped', circuit_breaker_state: 'OPEN' })), expected: { kind: 'stopped' } },
    { name: 'stopped beats stale', input: obs(hb({ status: 'stopped' }, 3600_000)), expected: { kind: 'stopped' } },
    { name: 'stopping beats breaker open', input: obs(hb({ status: 'stopping', circuit_breaker_state: 'OPEN' })), expected: { kind: 'stopping' } },
    { name: 'stale beats breaker open', input: obs(hb({ circuit_breaker_state: 'OPEN' }, 600_000)), expected: { kind: 'stale', overdueMs: 600_000 - MIN - GRACE } },
    { name: 'stale beats paused', input: obs(hb({ paused_reason: 'x' }, 600_000)), expected: { kind: 'stale', overdueMs: 600_000 - MIN - GRACE } },
    { name: 'breaker open beats paused', input: obs(hb({ circuit_breaker_state: 'OPEN', paused_reason: 'circuit_breaker_open' })), expected: { kind: 'breaker-open' } },
    { name: 'breaker unknown beats paused', input: obs(hb({ circuit_breaker_state: '???', paused_reason: 'x' })), expected: { kind: 'breaker-unknown' } },
    { name: 'paused beats unknown status', input: obs(hb({ status: 'draining', paused_reason: 'x' })), expected: { kind: 'paused', reason: 'x' } },
    // clock skew
    { name: 'skew: last_poll_at in the future (with next) is healthy', input: obs(hb({}, -120_000)), expected: { kind: 'healthy' } },
    { name: 'skew: last_poll_at in the future (no next) is healthy', input: obs(hb({ next_poll_at: null }, -120_000)), expected: { kind: 'healthy' } },
    { name: 'skew: local clock 2 min fast, corrected now is healthy', input: obs(hb()), now: NOW + 120_000 - 120_000, expected: { kind: 'healthy' } },
    { name: 'skew: uncorrected fast clock would be stale', input: obs(hb()), now: NOW + 120_000, expected: { kind: 'stale', overdueMs: 120_000 - 50_000 - GRACE } },
    { name: 'skew: local clock 1 h slow still catches a silent scheduler once corrected', input: obs(hb({}, 600_000)), now: NOW - 3600_000 + 3600_000, expected: { kind: 'stale', overdueMs: 600_000 - MIN - GRACE } },
    // missing fields
    { name: 'only status and breaker (no timestamps) is stale, not healthy', input: obs(parseHeartbeat({ status: 'running', circuit_breaker_state: 'CLOSED' }) as Heartbeat), expected: { kind: 'stale', overdueMs: Infinity } },
    { name: 'only updated_at recent', input: obs(parseHeartbeat({ status: 'running', updated_at: isoAt(NOW - 1000) }) as Heartbeat), expected: { kind: 'healthy' } },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const h = assessSchedulerHealth(c.input, new Date(c.now ?? NOW), GRACE);
      assert.equal(h.kind, c.expected.kind);
      if (c.expected.reason !== undefined) assert.equal((h as { reason?: string }).reason, c.expected.reason);
      if (c.expected.overdueMs !== undefined) assert.equal((h as { overdueMs?: number }).overdueMs, c.expected.overdueMs);
      if (c.expected.detail !== undefined) assert.equal((h as { detail?: string }).detail, c.expected.detail);
      if (c.input.kind === 'row') assert.equal((h as { heartbeat?: Heartbeat }).heartbeat, c.input.heartbeat);
    });
  }
});

describe('heartbeat: nextHeartbeatReadDelayMs', () => {
  const opts = { settleMs: 2_000, minMs: 5_000, maxMs: 300_000 };
  const at = (h: Heartbeat) => assessSchedulerHealth({ kind: 'row', heartbeat: h }, new Date(NOW), GRACE);
  const cases: { name: string; input: SchedulerHealth; now?: number; expected: number }[] = [
    { name: 'just after the next write', input: at(hb({}, 10_000)), expected: 50_000 + 2_000 },
    { name: 'next write imminent: clamped to min', input: at(hb({}, 59_500)), expected: 5_000 },
    { name: 'next write exactly now', input: at(hb({}, MIN)), expected: 5_000 },
    { name: 'stale: re-read at the poll interval', input: at(hb({}, 600_000)), expected: 60_000 },
    { name: 'stale with 30 s interval', input: at(hb({}, 600_000, 30_000)), expected: 30_000 },
    { name: 'hostile next_poll_at a year ahead: clamped to max', input: at(hb({ next_poll_at: isoAt(NOW + 365 * 86_400_000) })), expected: 300_000 },
    { name: 'hostile next_poll_at far in the past: interval default, within bounds', input: at(hb({ next_poll_at: isoAt(NOW - 365 * 86_400_000) })), expected: 60_000 },
    { name: 'hostile next_poll_at year 275759', input: at(hb({ next_poll_at: '+275760-09-13T00:00:00.000Z' })), expected: 300_000 },
    { name: 'hostile next_poll_at year 1970', input: at(hb({ next_poll_at: isoAt(0), last_poll_at: isoAt(0) })), expected: 60_000 },
    { name: 'no next_poll_at: interval default', input: at(hb({ next_poll_at: null })), expected: 60_000 },
    { name: 'no-row: default interval', input: { kind: 'no-row' }, expected: 60_000 },
    { name: 'not-visible: default interval', input: { kind: 'not-visible' }, expected: 60_000 },
    { name: 'unreachable: default interval', input: { kind: 'unreachable', detail: '' }, expected: 60_000 },
    { name: 'loading: default interval', input: { kind: 'loading' }, expected: 60_000 },
  ];
  for (const c of cases) it(c.name, () => assert.equal(nextHeartbeatReadDelayMs(c.input, new Date(c.now ?? NOW), opts), c.expected));

  const withGrace = { ...opts, graceMs: GRACE };
  const graceCases: { name: string; input: SchedulerHealth; expected: number }[] = [
    { name: 'grace: on time, same as without grace', input: at(hb({}, 10_000)), expected: 52_000 },
    { name: 'grace: 10 s late, re-read just after the grace runs out', input: at(hb({}, MIN + 10_000)), expected: 20_000 + 2_000 },
    { name: 'grace: 29 s late, clamped to min', input: at(hb({}, MIN + 29_000)), expected: 5_000 },
    { name: 'grace: past the grace (stale), back to the poll interval', input: at(hb({}, MIN + GRACE + 1)), expected: 60_000 },
    { name: 'stopped: next_poll_at ignored, poll interval', input: at(hb({ status: 'stopped' }, 10_000)), expected: 60_000 },
  ];
  for (const c of graceCases) it(c.name, () => assert.equal(nextHeartbeatReadDelayMs(c.input, new Date(NOW), withGrace), c.expected));

  it('never leaves [minMs, maxMs] for any next_poll_at offset', () => {
    const tight = { settleMs: 1_000, minMs: 10_000, maxMs: 120_000 };
    const offsets = [-1e13, -1e9, -86_400_001, -1, 0, 1, 5_000, 9_000, 60_000, 119_000, 86_400_001, 1e9, 1e13];
    for (const nextOff of offsets) {
      for (const lastOff of [-1e13, -60_000, 0, 60_000, 1e13]) {
        const h = parseHeartbeat(row({ next_poll_at: isoAt(NOW + nextOff), last_poll_at: isoAt(NOW + lastOff) }));
        assert.ok(h);
        for (const health of [assessSchedulerHealth({ kind: 'row', heartbeat: h }, new Date(NOW), GRACE)]) {
          const d = nextHeartbeatReadDelayMs(health, new Date(NOW), { ...tight, graceMs: GRACE });
          assert.ok(Number.isFinite(d) && d >= tight.minMs && d <= tight.maxMs, `next ${nextOff} last ${lastOff} → ${d}`);
        }
      }
    }
  });
});
