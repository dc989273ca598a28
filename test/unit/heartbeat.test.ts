import * as assert from 'node:assert/strict';
import {
  assessSchedulerHealth,
  DEFAULT_POLL_INTERVAL_MS,
  expectedNextWrite,
  expectedPollInterval,
  FAST_READ_WINDOW_MS,
  Heartbeat,
  HeartbeatHistory,
  HeartbeatObservation,
  IntervalBasis,
  LASTING_READ_MS,
  MAX_ROUNDS,
  nextHeartbeatReadDelayMs,
  nextVerdictChangeMs,
  NO_HISTORY,
  noteVerdict,
  parseHeartbeat,
  REVIVAL_BOUND_MS,
  roundAllowance,
  RoundAllowance,
  SchedulerHealth,
  TRANSITIONAL_READ_MS,
  updateHistory,
} from '../../src/domain/heartbeat';
import { describeInterval, heartbeatFacts, presentHealth, span } from '../../src/domain/heartbeatFormat';
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
      dynamicScaling: null,
      registeredRounds: null,
      lastRoundRuns: null,
      roundExecutionCount: null,
      roundErrorCount: null,
      metricsWriteFailures: null,
    } satisfies Heartbeat);
  });

  const cases: { name: string; input: unknown; expected: Partial<Heartbeat> | null }[] = [
    { name: 'not an object', input: 'row', expected: null },
    { name: 'array', input: [row()], expected: null },
    { name: 'null', input: null, expected: null },
    {
      name: 'breaker OPEN',
      input: row({ circuit_breaker_state: 'OPEN' }),
      expected: { breaker: 'OPEN', rawBreaker: 'OPEN' },
    },
    {
      name: 'breaker HALF_OPEN',
      input: row({ circuit_breaker_state: 'HALF_OPEN' }),
      expected: { breaker: 'HALF_OPEN' },
    },
    {
      name: 'breaker unknown text',
      input: row({ circuit_breaker_state: 'TRIPPED' }),
      expected: { breaker: 'UNKNOWN', rawBreaker: 'TRIPPED' },
    },
    {
      // scripts/eva-health-check.cjs: String(row.circuit_breaker_state || '').toUpperCase() === 'OPEN'
      name: "breaker lowercase 'open' is OPEN (compared case-insensitively, as eva:health does)",
      input: row({ circuit_breaker_state: 'open' }),
      expected: { breaker: 'OPEN', rawBreaker: 'open' },
    },
    {
      name: "breaker ' Half-Open ' is HALF_OPEN",
      input: row({ circuit_breaker_state: ' Half-Open ' }),
      expected: { breaker: 'HALF_OPEN' },
    },
    {
      name: "breaker 'closed' is CLOSED",
      input: row({ circuit_breaker_state: 'closed' }),
      expected: { breaker: 'CLOSED' },
    },
    {
      name: "status 'Running' is running, 'STOPPED' is stopped",
      input: row({ status: 'STOPPED' }),
      expected: { status: 'stopped', rawStatus: 'STOPPED' },
    },
    {
      name: 'breaker null is unreported',
      input: row({ circuit_breaker_state: null }),
      expected: { breaker: 'UNREPORTED', rawBreaker: null },
    },
    {
      name: 'breaker object is unreported',
      input: row({ circuit_breaker_state: { s: 'OPEN' } }),
      expected: { breaker: 'UNREPORTED', rawBreaker: null },
    },
    { name: 'status stopping', input: row({ status: 'stopping' }), expected: { status: 'stopping' } },
    { name: 'status stopped', input: row({ status: 'stopped' }), expected: { status: 'stopped' } },
    {
      name: 'status unknown text',
      input: row({ status: 'draining' }),
      expected: { status: 'unknown', rawStatus: 'draining' },
    },
    { name: 'status null', input: row({ status: null }), expected: { status: 'unknown', rawStatus: null } },
    {
      name: 'counts as strings',
      input: row({ poll_count: '61', dispatch_count: '5', error_count: '2' }),
      expected: { pollCount: 61, dispatchCount: 5, errorCount: 2 },
    },
    {
      name: 'counts as junk',
      input: row({ poll_count: {}, dispatch_count: 'x', error_count: null }),
      expected: { pollCount: null, dispatchCount: null, errorCount: null },
    },
    {
      name: 'timestamps as junk',
      input: row({ last_poll_at: 'x', next_poll_at: {}, started_at: null, updated_at: '7q' }),
      expected: { lastPollAt: null, nextPollAt: null, startedAt: null, updatedAt: null },
    },
    {
      name: 'metadata missing',
      input: row({ metadata: undefined }),
      expected: { observeOnly: null, gitSha: null, nodeVersion: null },
    },
    {
      name: 'metadata is a string',
      input: row({ metadata: '{"observe_only":true}' }),
      expected: { observeOnly: null },
    },
    {
      name: 'observe_only as string is ignored',
      input: row({ metadata: { observe_only: 'true' } }),
      expected: { observeOnly: null },
    },
    { name: 'observe_only true', input: row({ metadata: { observe_only: true } }), expected: { observeOnly: true } },
    {
      name: 'provenance not an object',
      input: row({ metadata: { build_provenance: 'abc' } }),
      expected: { gitSha: null, nodeVersion: null },
    },
    {
      name: 'paused reason cleaned',
      input: row({ paused_reason: 'circuit_breaker_open\n\u202e' }),
      expected: { pausedReason: 'circuit_breaker_open' },
    },
    {
      name: 'long strings bounded',
      input: row({ instance_id: 'i'.repeat(10_000), paused_reason: 'p'.repeat(10_000) }),
      expected: { instanceId: `${'i'.repeat(119)}…`, pausedReason: `${'p'.repeat(199)}…` },
    },
    {
      name: 'dynamic_scaling parsed',
      input: row({
        metadata: {
          dynamic_scaling: { enabled: true, current_batch_size: 25, base_batch_size: 20, last_queue_depth: '7' },
        },
      }),
      expected: { dynamicScaling: { enabled: true, currentBatchSize: 25, baseBatchSize: 20, lastQueueDepth: 7 } },
    },
    {
      name: 'dynamic_scaling junk fields are null',
      input: row({
        metadata: {
          dynamic_scaling: { enabled: 'yes', current_batch_size: 1.5, base_batch_size: {}, last_queue_depth: 'x' },
        },
      }),
      expected: {
        dynamicScaling: { enabled: null, currentBatchSize: null, baseBatchSize: null, lastQueueDepth: null },
      },
    },
    {
      name: 'dynamic_scaling not an object',
      input: row({ metadata: { dynamic_scaling: [1] } }),
      expected: { dynamicScaling: null },
    },
    {
      name: 'registered_rounds names, junk entries dropped',
      input: row({ metadata: { registered_rounds: ['vision_rescore', 7, null, 'gap\nanalysis', ''] } }),
      expected: { registeredRounds: ['vision_rescore', 'gap analysis'] },
    },
    {
      name: 'registered_rounds empty',
      input: row({ metadata: { registered_rounds: [] } }),
      expected: { registeredRounds: [] },
    },
    {
      name: 'registered_rounds not an array is unknown',
      input: row({ metadata: { registered_rounds: 'vision_rescore' } }),
      expected: { registeredRounds: null },
    },
    {
      name: 'registered_rounds bounded',
      input: row({ metadata: { registered_rounds: Array.from({ length: 500 }, (_, i) => `r${i}`) } }),
      expected: { registeredRounds: Array.from({ length: MAX_ROUNDS }, (_, i) => `r${i}`) },
    },
    {
      name: 'round counters',
      input: row({ metadata: { round_execution_count: 12, round_error_count: '2', metrics_write_failures: 3 } }),
      expected: { roundExecutionCount: 12, roundErrorCount: 2, metricsWriteFailures: 3 },
    },
    {
      name: 'empty row',
      input: {},
      expected: { instanceId: null, lastPollAt: null, nextPollAt: null, breaker: 'UNREPORTED', status: 'unknown' },
    },
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
  it('round names are single-line and fully escapable', () => {
    const h = parseHeartbeat(row({ metadata: { registered_rounds: [...HOSTILE_TEXTS] } }));
    assert.ok(h?.registeredRounds && h.registeredRounds.length > 0);
    for (const r of h.registeredRounds) {
      assert.ok(!/[\r\n]/.test(r));
      assert.equal(findUnescaped(escapeMarkdown(r)), null);
    }
  });
  for (const hostile of HOSTILE_TEXTS) {
    it(`single-line and fully escapable: ${JSON.stringify(hostile).slice(0, 50)}`, () => {
      const h = parseHeartbeat(
        row({
          instance_id: hostile,
          circuit_breaker_state: hostile,
          paused_reason: hostile,
          status: hostile,
          metadata: { build_provenance: { git_sha: hostile, node_version: hostile } },
        }),
      );
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

// ---- rows shaped exactly as the upstream writers write them ---------------------------------------

/** The rounds lib/eva/eva-master-scheduler.js registers (`listRounds().map(r => r.type)`). */
const UPSTREAM_ROUNDS = [
  'vision_rescore',
  'gap_analysis',
  'stage_health',
  'corrective_generation',
  'apa_standing',
  'weekly_consultant_analysis',
  'weekly_management_review',
  'portfolio_review',
  'friday_meeting',
  'daily_burn_rate',
  'daily_digest',
  'weekly_summary',
  'sensemaking_disposition_monitor',
];

interface Up {
  lastAgoMs?: number;
  baseMs?: number;
  depth?: number;
  adaptive?: boolean;
  batch?: number;
  rounds?: string[];
  status?: string;
  breaker?: string;
  paused?: string | null;
  instance?: string;
  pollCount?: number;
  /** ms between the two Date.now() calls of one write (next_poll_at is computed after last_poll_at). */
  jitterMs?: number;
}

/**
 * One `_updateHeartbeat` upsert: last_poll_at = now, next_poll_at = now + BASE interval (even when
 * adaptive), metadata with observe_only, build_provenance, the round counters, registered_rounds and
 * dynamic_scaling. started_at is never written by the upsert (the row's insert default stays).
 */
function upstreamRow(o: Up = {}): Record<string, unknown> {
  const last = NOW - (o.lastAgoMs ?? 5_000);
  const base = o.baseMs ?? MIN;
  const batch = o.batch ?? 20;
  return {
    id: 1,
    instance_id: o.instance ?? 'scheduler-1a2b3c4d',
    started_at: isoAt(NOW - 86_400_000),
    last_poll_at: isoAt(last),
    next_poll_at: isoAt(last + base + (o.jitterMs ?? 0)),
    poll_count: o.pollCount ?? 412,
    dispatch_count: 0,
    error_count: 1,
    status: o.status ?? 'running',
    circuit_breaker_state: o.breaker ?? 'CLOSED',
    paused_reason: o.paused ?? null,
    updated_at: isoAt(last),
    metadata: {
      observe_only: true,
      build_provenance: {
        git_sha: '8f0f6ab57e3c1d2e4f5a6b7c8d9e0f1a2b3c4d5e',
        started_from: '/srv/EHG_Engineer',
        node_version: 'v22.3.0',
        env: { okr_require_acceptance: true, eva_scheduler_observe_only: true },
        stamped_at: isoAt(NOW - 86_400_000),
      },
      metrics_write_failures: 0,
      round_execution_count: 0,
      round_error_count: 0,
      registered_rounds: o.rounds ?? UPSTREAM_ROUNDS,
      dynamic_scaling: {
        enabled: o.adaptive ?? true,
        current_batch_size: batch,
        base_batch_size: batch,
        last_queue_depth: o.depth ?? 0,
      },
      last_round_runs: { vision_rescore: NOW - 3600_000 },
      job_last_runs: { 'okr-monthly-snapshot': NOW - 3600_000 },
    },
  };
}

function up(o: Up = {}): Heartbeat {
  const h = parseHeartbeat(upstreamRow(o));
  assert.ok(h);
  return h;
}

/** The watcher's claim on a dead daemon's row: instance_id swapped to its token, nothing else touched. */
const watcherSwap = (lastAgoMs: number) => up({ instance: 'supervisor-0a1b2c3d', lastAgoMs });
/** The watcher's insert when there is no row: `{ id: 1, instance_id: token, status: 'stopped' }` + column defaults. */
const watcherInsert = () =>
  parseHeartbeat({
    id: 1,
    instance_id: 'supervisor-0a1b2c3d',
    started_at: isoAt(NOW - 2_000),
    last_poll_at: null,
    next_poll_at: null,
    poll_count: 0,
    dispatch_count: 0,
    error_count: 0,
    circuit_breaker_state: 'CLOSED',
    paused_reason: null,
    status: 'stopped',
    metadata: {},
    updated_at: isoAt(NOW - 2_000),
  }) as Heartbeat;

describe('heartbeat: expectedPollInterval (the interval the scheduler really uses)', () => {
  type Exp = { ms: number; basis: IntervalBasis['kind'] };
  const cases: { name: string; input: Heartbeat; expected: Exp }[] = [
    {
      name: 'adaptive, queue empty: 3 × base (180 s while next_poll_at says 60 s)',
      input: up(),
      expected: { ms: 180_000, basis: 'queue-empty' },
    },
    {
      name: 'adaptive, queue empty, base 2 min: capped at 5 min',
      input: up({ baseMs: 120_000 }),
      expected: { ms: 300_000, basis: 'queue-empty' },
    },
    {
      name: 'adaptive, queue 45 > 2 × batch 20: base / 2',
      input: up({ depth: 45 }),
      expected: { ms: 30_000, basis: 'queue-heavy' },
    },
    {
      name: 'adaptive, heavy, base 10 s: at least 10 s',
      input: up({ depth: 45, baseMs: 10_000 }),
      expected: { ms: 10_000, basis: 'queue-heavy' },
    },
    { name: 'adaptive, queue 41: heavy', input: up({ depth: 41 }), expected: { ms: 30_000, basis: 'queue-heavy' } },
    {
      name: 'adaptive, queue 40 (= 2 × batch): moderate',
      input: up({ depth: 40 }),
      expected: { ms: 45_000, basis: 'queue-moderate' },
    },
    {
      name: 'adaptive, queue 25 > batch: 0.75 × base',
      input: up({ depth: 25 }),
      expected: { ms: 45_000, basis: 'queue-moderate' },
    },
    {
      name: 'adaptive, moderate, base 10 s: at least 15 s',
      input: up({ depth: 25, baseMs: 10_000 }),
      expected: { ms: 15_000, basis: 'queue-moderate' },
    },
    {
      name: 'adaptive, queue 20 (= batch): base',
      input: up({ depth: 20 }),
      expected: { ms: 60_000, basis: 'queue-normal' },
    },
    { name: 'adaptive, queue 1: base', input: up({ depth: 1 }), expected: { ms: 60_000, basis: 'queue-normal' } },
    {
      name: 'adaptive, queue query failed (-1): base',
      input: up({ depth: -1 }),
      expected: { ms: 60_000, basis: 'queue-normal' },
    },
    {
      name: 'adaptive, batch 5: queue 11 is heavy',
      input: up({ depth: 11, batch: 5 }),
      expected: { ms: 30_000, basis: 'queue-heavy' },
    },
    {
      name: 'adaptive off (EVA_DYNAMIC_SCALING=false): base',
      input: up({ adaptive: false }),
      expected: { ms: 60_000, basis: 'adaptive-off' },
    },
    {
      name: 'two Date.now() calls 3 ms apart: base 60.003 s',
      input: up({ jitterMs: 3 }),
      expected: { ms: 180_009, basis: 'queue-empty' },
    },
    {
      name: 'no dynamic_scaling: next_poll_at − last_poll_at',
      input: hb({}, 0, 30_000),
      expected: { ms: 30_000, basis: 'next-poll-at' },
    },
    {
      name: 'dynamic_scaling without a usable depth: next_poll_at − last_poll_at',
      input: hb({ metadata: { dynamic_scaling: { enabled: true, last_queue_depth: 'x' } } }),
      expected: { ms: 60_000, basis: 'next-poll-at' },
    },
    {
      name: 'dynamic_scaling enabled not a boolean: next_poll_at − last_poll_at',
      input: hb({ metadata: { dynamic_scaling: { enabled: 1, last_queue_depth: 0 } } }),
      expected: { ms: 60_000, basis: 'next-poll-at' },
    },
    {
      name: 'dynamic_scaling, no base_batch_size: batch 20',
      input: hb({ metadata: { dynamic_scaling: { enabled: true, last_queue_depth: 25 } } }),
      expected: { ms: 45_000, basis: 'queue-moderate' },
    },
    {
      name: 'dynamic_scaling, no next_poll_at: base 60 s',
      input: parseHeartbeat({ ...upstreamRow(), next_poll_at: null }) as Heartbeat,
      expected: { ms: 180_000, basis: 'queue-empty' },
    },
    {
      name: 'adaptive off, no poll times: default',
      input: parseHeartbeat({
        ...upstreamRow({ adaptive: false }),
        next_poll_at: null,
        last_poll_at: null,
      }) as Heartbeat,
      expected: { ms: DEFAULT_POLL_INTERVAL_MS, basis: 'default' },
    },
    {
      name: 'next before last: default',
      input: hb({ last_poll_at: isoAt(NOW), next_poll_at: isoAt(NOW - 1000) }),
      expected: { ms: DEFAULT_POLL_INTERVAL_MS, basis: 'default' },
    },
    {
      name: 'next equals last: default',
      input: hb({ last_poll_at: isoAt(NOW), next_poll_at: isoAt(NOW) }),
      expected: { ms: DEFAULT_POLL_INTERVAL_MS, basis: 'default' },
    },
    {
      name: 'exactly 24 h accepted',
      input: hb({ last_poll_at: isoAt(NOW), next_poll_at: isoAt(NOW + 86_400_000) }),
      expected: { ms: 86_400_000, basis: 'next-poll-at' },
    },
    {
      name: 'more than 24 h rejected',
      input: hb({ last_poll_at: isoAt(NOW), next_poll_at: isoAt(NOW + 86_400_001) }),
      expected: { ms: DEFAULT_POLL_INTERVAL_MS, basis: 'default' },
    },
    {
      name: "the watcher's insert: default",
      input: watcherInsert(),
      expected: { ms: DEFAULT_POLL_INTERVAL_MS, basis: 'default' },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const iv = expectedPollInterval(c.input);
      assert.deepEqual({ ms: iv.ms, basis: iv.basis.kind }, c.expected);
    });
  }
});

describe('heartbeat: describeInterval and span', () => {
  const cases: { input: Heartbeat; expected: string }[] = [
    { input: up(), expected: 'every 3 min: queue empty' },
    { input: up({ depth: 45 }), expected: 'every 30 s: queue 45 > 2 × batch 20' },
    { input: up({ depth: 25 }), expected: 'every 45 s: queue 25 > batch 20' },
    { input: up({ depth: 3 }), expected: 'every 1 min: queue 3 ≤ batch 20' },
    { input: up({ depth: -1 }), expected: 'every 1 min: queue depth unknown (the queue query failed)' },
    { input: up({ adaptive: false }), expected: 'every 1 min: adaptive polling off' },
    { input: up({ baseMs: 2_000 }), expected: 'every 6 s: queue empty' },
    { input: hb({}, 0, 30_000), expected: 'every 30 s: next_poll_at − last_poll_at' },
    { input: watcherInsert(), expected: 'every 1 min: the default (no poll times in the row)' },
  ];
  for (const c of cases)
    it(c.expected, () => assert.equal(describeInterval(expectedPollInterval(c.input)), c.expected));
  const spans: Array<[number, string]> = [
    [500, '500 ms'],
    [6_000, '6 s'],
    [7_500, '7.5 s'],
    [45_000, '45 s'],
    [60_000, '1 min'],
    [90_000, '90 s'],
    [180_000, '3 min'],
    [17 * MIN + 30_000, '17 min'],
    [3600_000, '1 h'],
    [5_400_000, '1 h 30 min'],
    [-1, '—'],
    [Infinity, '—'],
  ];
  for (const [ms, text] of spans) it(`span(${ms}) = ${text}`, () => assert.equal(span(ms), text));
});

describe('heartbeat: assessSchedulerHealth over rows as the upstream scheduler and watcher write them', () => {
  const obs = (h: Heartbeat): HeartbeatObservation => ({ kind: 'row', heartbeat: h });
  type Expect = {
    kind: SchedulerHealth['kind'];
    overdueMs?: number;
    silentMs?: number | null;
    missed?: number;
    token?: string;
    reason?: string;
  };
  const cases: { name: string; input: HeartbeatObservation; now?: number; grace?: number; expected: Expect }[] = [
    // adaptive idle (the default): writes every 180 s, next_poll_at says 60 s
    { name: 'idle, 5 s after a write', input: obs(up({ lastAgoMs: 5_000 })), expected: { kind: 'healthy' } },
    {
      name: 'idle, 91 s after a write (next_poll_at + grace passed): still healthy',
      input: obs(up({ lastAgoMs: 91_000 })),
      expected: { kind: 'healthy' },
    },
    { name: 'idle, 180 s after a write', input: obs(up({ lastAgoMs: 180_000 })), expected: { kind: 'healthy' } },
    {
      name: 'idle, exactly expected write + grace',
      input: obs(up({ lastAgoMs: 210_000 })),
      expected: { kind: 'healthy' },
    },
    {
      name: 'idle, 1 ms past expected write + grace: stale',
      input: obs(up({ lastAgoMs: 210_001 })),
      expected: { kind: 'stale', overdueMs: 30_001, silentMs: 210_001 },
    },
    {
      name: 'idle, 15 min exactly: still stale',
      input: obs(up({ lastAgoMs: 900_000 })),
      expected: { kind: 'stale', overdueMs: 720_000 },
    },
    {
      name: 'idle, stale threshold + 4 intervals (210 + 720 s) exactly: still stale',
      input: obs(up({ lastAgoMs: 930_000 })),
      expected: { kind: 'stale', overdueMs: 750_000 },
    },
    {
      name: 'idle, 930 s + 1 ms (5 missed writes): not polling',
      input: obs(up({ lastAgoMs: 930_001 })),
      expected: { kind: 'not-polling', silentMs: 930_001, missed: 5 },
    },
    {
      name: 'crashed daemon 17 min ago, status still running: not polling',
      input: obs(up({ lastAgoMs: 17 * MIN })),
      expected: { kind: 'not-polling', silentMs: 17 * MIN, missed: 5 },
    },
    {
      name: 'crashed daemon 3 days ago: not polling',
      input: obs(up({ lastAgoMs: 3 * 86_400_000 })),
      expected: { kind: 'not-polling', missed: 1440 },
    },
    // other adaptive intervals
    {
      name: 'heavy queue (30 s), 59 s after a write',
      input: obs(up({ depth: 45, lastAgoMs: 59_000 })),
      expected: { kind: 'healthy' },
    },
    {
      name: 'heavy queue (30 s), 61 s after a write: stale',
      input: obs(up({ depth: 45, lastAgoMs: 61_000 })),
      expected: { kind: 'stale', overdueMs: 31_000 },
    },
    {
      name: 'heavy queue (30 s), 180 s after (60 s + 4 × 30 s): still stale',
      input: obs(up({ depth: 45, lastAgoMs: 180_000 })),
      expected: { kind: 'stale' },
    },
    {
      name: 'heavy queue (30 s), 181 s after: not polling',
      input: obs(up({ depth: 45, lastAgoMs: 181_000 })),
      expected: { kind: 'not-polling', missed: 6 },
    },
    {
      name: 'moderate queue (45 s), 76 s after: stale',
      input: obs(up({ depth: 25, lastAgoMs: 76_000 })),
      expected: { kind: 'stale' },
    },
    {
      name: 'adaptive off (60 s), 91 s after: stale',
      input: obs(up({ adaptive: false, lastAgoMs: 91_000 })),
      expected: { kind: 'stale', overdueMs: 31_000 },
    },
    {
      name: 'adaptive off (60 s), 331 s after (90 s + 4 × 60 s): not polling',
      input: obs(up({ adaptive: false, lastAgoMs: 331_000 })),
      expected: { kind: 'not-polling' },
    },
    {
      name: 'grace larger than 5 intervals: not polling only 4 intervals after the grace',
      input: obs(up({ baseMs: 2_000, depth: 1, lastAgoMs: 40_000 })),
      grace: 45_000,
      expected: { kind: 'healthy' },
    },
    {
      name: 'grace larger than 5 intervals, 2 + 45 + 4 × 2 s: still stale',
      input: obs(up({ baseMs: 2_000, depth: 1, lastAgoMs: 55_000 })),
      grace: 45_000,
      expected: { kind: 'stale' },
    },
    {
      name: 'grace larger than 5 intervals, past it: not polling',
      input: obs(up({ baseMs: 2_000, depth: 1, lastAgoMs: 55_001 })),
      grace: 45_000,
      expected: { kind: 'not-polling' },
    },
    {
      name: 'negative grace counts as none',
      input: obs(up({ lastAgoMs: 180_001 })),
      grace: -5_000,
      expected: { kind: 'stale', overdueMs: 1 },
    },
    // breaker, pause, rounds
    {
      name: 'breaker OPEN on time (paused_reason circuit_breaker_open)',
      input: obs(up({ breaker: 'OPEN', paused: 'circuit_breaker_open' })),
      expected: { kind: 'breaker-open' },
    },
    {
      name: 'breaker OPEN, dead 17 min: not polling beats the breaker',
      input: obs(up({ breaker: 'OPEN', paused: 'circuit_breaker_open', lastAgoMs: 17 * MIN })),
      expected: { kind: 'not-polling' },
    },
    {
      name: 'breaker HALF_OPEN on time',
      input: obs(up({ breaker: 'HALF_OPEN' })),
      expected: { kind: 'breaker-half-open' },
    },
    {
      name: 'breaker unknown text on time',
      input: obs(up({ breaker: 'WOBBLY' })),
      expected: { kind: 'breaker-unknown' },
    },
    {
      name: 'paused with a reason on time',
      input: obs(up({ paused: 'maintenance window' })),
      expected: { kind: 'paused', reason: 'maintenance window' },
    },
    {
      name: 'registered_rounds emptied while polling on time: no rounds',
      input: obs(up({ rounds: [] })),
      expected: { kind: 'no-rounds' },
    },
    {
      name: 'no rounds and 91 s idle: still just no rounds (on time)',
      input: obs(up({ rounds: [], lastAgoMs: 91_000 })),
      expected: { kind: 'no-rounds' },
    },
    {
      name: 'no rounds and dead 17 min: not polling',
      input: obs(up({ rounds: [], lastAgoMs: 17 * MIN })),
      expected: { kind: 'not-polling' },
    },
    {
      name: 'no rounds and paused: paused',
      input: obs(up({ rounds: [], paused: 'x' })),
      expected: { kind: 'paused', reason: 'x' },
    },
    {
      name: 'no rounds and breaker OPEN: breaker',
      input: obs(up({ rounds: [], breaker: 'OPEN' })),
      expected: { kind: 'breaker-open' },
    },
    { name: 'registered_rounds absent (older writer): healthy', input: obs(hb()), expected: { kind: 'healthy' } },
    // status
    {
      name: 'graceful stop (status stopped; upstream still writes next_poll_at), 1 h ago',
      input: obs(up({ status: 'stopped', lastAgoMs: 3600_000 })),
      expected: { kind: 'stopped' },
    },
    { name: 'stopping on time', input: obs(up({ status: 'stopping' })), expected: { kind: 'stopping' } },
    { name: 'unknown status on time', input: obs(up({ status: 'draining' })), expected: { kind: 'status-unknown' } },
    {
      name: 'unknown status, dead 17 min: not polling',
      input: obs(up({ status: 'draining', lastAgoMs: 17 * MIN })),
      expected: { kind: 'not-polling' },
    },
    // the watcher's revival
    {
      name: 'watcher swapped instance_id to its token (last poll 20 min ago, status running): reviving',
      input: obs(watcherSwap(20 * MIN)),
      expected: { kind: 'reviving', token: 'supervisor-0a1b2c3d', silentMs: 20 * MIN },
    },
    {
      name: 'watcher inserted the row (status stopped, no last poll): reviving, not stopped',
      input: obs(watcherInsert()),
      expected: { kind: 'reviving', token: 'supervisor-0a1b2c3d', silentMs: null },
    },
    {
      name: "the new instance's first write (poll_count 0): healthy",
      input: obs(up({ instance: 'scheduler-9f8e7d6c', pollCount: 0, lastAgoMs: 500 })),
      expected: { kind: 'healthy' },
    },
    {
      name: 'supervisor as a substring is not a token',
      input: obs(up({ instance: 'scheduler-supervisor-1' })),
      expected: { kind: 'healthy' },
    },
    // clock skew (now is the server-corrected clock)
    {
      name: 'skew: scheduler clock 2 min ahead (last_poll_at in the future)',
      input: obs(up({ lastAgoMs: -120_000 })),
      expected: { kind: 'healthy' },
    },
    {
      name: 'skew: local clock 4 min fast, corrected now',
      input: obs(up({ lastAgoMs: 5_000 })),
      now: NOW + 240_000 - 240_000,
      expected: { kind: 'healthy' },
    },
    {
      name: 'skew: the same fast clock uncorrected would say stale',
      input: obs(up({ lastAgoMs: 5_000 })),
      now: NOW + 240_000,
      expected: { kind: 'stale', overdueMs: 65_000 },
    },
    {
      name: 'skew: local clock 1 h slow, corrected, still catches a dead scheduler',
      input: obs(up({ lastAgoMs: 17 * MIN })),
      now: NOW - 3600_000 + 3600_000,
      expected: { kind: 'not-polling' },
    },
    // missing fields
    {
      name: 'no metadata (older writer): next_poll_at − last_poll_at, 91 s is stale',
      input: obs(hb({}, 91_000)),
      expected: { kind: 'stale', overdueMs: 31_000 },
    },
    { name: 'no metadata, 70 s: healthy', input: obs(hb({}, 70_000)), expected: { kind: 'healthy' } },
    {
      name: 'no next_poll_at, no metadata: 60 s default',
      input: obs(hb({ next_poll_at: null }, 89_000)),
      expected: { kind: 'healthy' },
    },
    {
      name: 'no next_poll_at, no metadata, 91 s: stale',
      input: obs(hb({ next_poll_at: null }, 91_000)),
      expected: { kind: 'stale' },
    },
    {
      name: 'dynamic_scaling but no next_poll_at: 180 s from the default base',
      input: obs(parseHeartbeat({ ...upstreamRow({ lastAgoMs: 200_000 }), next_poll_at: null }) as Heartbeat),
      expected: { kind: 'healthy' },
    },
    {
      name: 'no last_poll_at: from updated_at',
      input: obs(hb({ next_poll_at: null, last_poll_at: null, updated_at: isoAt(NOW - 400_000) })),
      expected: { kind: 'not-polling', silentMs: 400_000 },
    },
    {
      name: 'no last_poll_at, no updated_at: from started_at',
      input: obs(hb({ next_poll_at: null, last_poll_at: null, updated_at: null, started_at: isoAt(NOW - 1_000) })),
      expected: { kind: 'healthy' },
    },
    {
      name: 'no timestamps at all: stale (never seen polling)',
      input: obs(hb({ next_poll_at: null, last_poll_at: null, updated_at: null, started_at: null })),
      expected: { kind: 'stale', overdueMs: Infinity, silentMs: null },
    },
    {
      name: 'only status and breaker: stale, not healthy',
      input: obs(parseHeartbeat({ status: 'running', circuit_breaker_state: 'CLOSED' }) as Heartbeat),
      expected: { kind: 'stale', overdueMs: Infinity },
    },
    // what we cannot see
    { name: 'no-row', input: { kind: 'no-row' }, expected: { kind: 'no-row' } },
    { name: 'not-visible', input: { kind: 'not-visible' }, expected: { kind: 'not-visible' } },
    { name: 'unreachable', input: { kind: 'unreachable', detail: 'fetch failed' }, expected: { kind: 'unreachable' } },
    {
      name: 'not-configured',
      input: { kind: 'not-configured', detail: 'no url' },
      expected: { kind: 'not-configured' },
    },
    { name: 'error', input: { kind: 'error', detail: 'boom' }, expected: { kind: 'error' } },
    // precedence kept from before
    {
      name: 'stopped beats breaker open',
      input: obs(up({ status: 'stopped', breaker: 'OPEN' })),
      expected: { kind: 'stopped' },
    },
    {
      name: 'stopping beats breaker open',
      input: obs(up({ status: 'stopping', breaker: 'OPEN' })),
      expected: { kind: 'stopping' },
    },
    { name: 'stale beats paused', input: obs(up({ paused: 'x', lastAgoMs: 300_000 })), expected: { kind: 'stale' } },
    {
      name: 'breaker unknown beats paused',
      input: obs(up({ breaker: '???', paused: 'x' })),
      expected: { kind: 'breaker-unknown' },
    },
    {
      name: 'paused beats unknown status',
      input: obs(up({ status: 'draining', paused: 'x' })),
      expected: { kind: 'paused' },
    },
    { name: 'empty paused reason is not a pause', input: obs(up({ paused: '  ' })), expected: { kind: 'healthy' } },
    {
      name: 'breaker null (unreported) is healthy',
      input: obs(hb({ circuit_breaker_state: null })),
      expected: { kind: 'healthy' },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const h = assessSchedulerHealth(c.input, new Date(c.now ?? NOW), c.grace ?? GRACE);
      assert.equal(h.kind, c.expected.kind);
      for (const k of ['overdueMs', 'silentMs', 'missed', 'token', 'reason'] as const) {
        if (c.expected[k] !== undefined) assert.equal((h as Record<string, unknown>)[k], c.expected[k], k);
      }
      if (c.input.kind === 'row') assert.equal((h as { heartbeat?: Heartbeat }).heartbeat, c.input.heartbeat);
    });
  }

  it('an on-time idle scheduler is healthy at every second of many cycles, and late only after the grace', () => {
    for (let age = 0; age <= 210_000; age += 1_000)
      assert.equal(
        assessSchedulerHealth(obs(up({ lastAgoMs: age })), new Date(NOW), GRACE).kind,
        'healthy',
        `age ${age}`,
      );
    for (let age = 211_000; age <= 900_000; age += 1_000)
      assert.equal(
        assessSchedulerHealth(obs(up({ lastAgoMs: age })), new Date(NOW), GRACE).kind,
        'stale',
        `age ${age}`,
      );
  });
});

describe('heartbeat: presentHealth and heartbeatFacts', () => {
  const at = (h: Heartbeat, grace = GRACE) =>
    assessSchedulerHealth({ kind: 'row', heartbeat: h }, new Date(NOW), grace);
  type Exp = { text: string; icon: string; severity: string; explanation: RegExp };
  const cases: { name: string; input: SchedulerHealth; expected: Exp }[] = [
    {
      name: 'healthy',
      input: at(up()),
      expected: { text: 'EVA: running', icon: 'pulse', severity: 'ok', explanation: /polling on time/ },
    },
    {
      name: 'stale',
      input: at(up({ lastAgoMs: 240_000 })),
      expected: {
        text: 'EVA: stale',
        icon: 'warning',
        severity: 'warning',
        explanation: /next heartbeat was due 1 min ago \(it writes every 3 min: queue empty\); last poll 4 min ago/,
      },
    },
    {
      name: 'stale without timestamps',
      input: at(parseHeartbeat({ status: 'running' }) as Heartbeat),
      expected: { text: 'EVA: stale', icon: 'warning', severity: 'warning', explanation: /never been seen polling/ },
    },
    {
      name: 'not polling',
      input: at(up({ lastAgoMs: 17 * MIN })),
      expected: {
        text: 'EVA: not polling',
        icon: 'error',
        severity: 'error',
        explanation:
          /last poll 17 min ago; status still says running\. That is 5 missed writes \(it writes every 3 min: queue empty/,
      },
    },
    {
      name: 'not polling, odd status',
      input: at(up({ status: 'draining', lastAgoMs: 17 * MIN })),
      expected: {
        text: 'EVA: not polling',
        icon: 'error',
        severity: 'error',
        explanation: /status still says draining/,
      },
    },
    {
      name: 'reviving (swap)',
      input: at(watcherSwap(20 * MIN)),
      expected: {
        text: 'EVA: reviving',
        icon: 'sync~spin',
        severity: 'warning',
        explanation: /token supervisor-0a1b2c3d .*last poll was 20 min ago.*first write ends this/,
      },
    },
    {
      name: 'reviving (insert)',
      input: at(watcherInsert()),
      expected: {
        text: 'EVA: reviving',
        icon: 'sync~spin',
        severity: 'warning',
        explanation: /starting a new scheduler\. The new instance/,
      },
    },
    {
      name: 'no rounds',
      input: at(up({ rounds: [] })),
      expected: {
        text: 'EVA: no rounds',
        icon: 'warning',
        severity: 'warning',
        explanation: /registered_rounds is empty/,
      },
    },
    {
      name: 'stopped',
      input: at(up({ status: 'stopped' })),
      expected: { text: 'EVA: stopped', icon: 'debug-stop', severity: 'error', explanation: /stopped gracefully/ },
    },
    {
      name: 'stopping',
      input: at(up({ status: 'stopping' })),
      expected: { text: 'EVA: stopping', icon: 'loading~spin', severity: 'warning', explanation: /shutting down/ },
    },
    {
      name: 'breaker open',
      input: at(up({ breaker: 'OPEN' })),
      expected: { text: 'EVA: breaker OPEN', icon: 'circle-slash', severity: 'error', explanation: /OPEN/ },
    },
    {
      name: 'paused',
      input: at(up({ paused: 'deploy' })),
      expected: { text: 'EVA: paused', icon: 'debug-pause', severity: 'warning', explanation: /paused: deploy/ },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const p = presentHealth(c.input);
      assert.deepEqual(
        { text: p.text, icon: p.icon, severity: p.severity },
        { text: c.expected.text, icon: c.expected.icon, severity: c.expected.severity },
      );
      assert.match(p.explanation, c.expected.explanation);
    });
  }

  // The states the assessed cases above do not reach, each a row of presentHealth's table.
  const direct: { input: SchedulerHealth; expected: Exp }[] = [
    {
      input: { kind: 'breaker-half-open', heartbeat: up({ breaker: 'HALF_OPEN' }) },
      expected: { text: 'EVA: breaker half-open', icon: 'debug-pause', severity: 'warning', explanation: /HALF_OPEN/ },
    },
    {
      input: { kind: 'breaker-unknown', heartbeat: { ...up(), rawBreaker: 'SIDEWAYS' } },
      expected: { text: 'EVA: breaker unknown', icon: 'question', severity: 'warning', explanation: /\(SIDEWAYS\)/ },
    },
    {
      input: { kind: 'status-unknown', heartbeat: { ...up(), rawStatus: 'dancing' } },
      expected: { text: 'EVA: unknown status', icon: 'question', severity: 'warning', explanation: /\(dancing\)/ },
    },
    {
      input: { kind: 'revival-failed', heartbeat: up(), token: 'tok-1', silentMs: 600_000, seenForMs: 120_000 },
      expected: {
        text: 'EVA: revival failed',
        icon: 'error',
        severity: 'error',
        explanation: /last poll 10 min ago\. .*token tok-1 at least 2 min ago/,
      },
    },
    {
      input: { kind: 'no-row' },
      expected: { text: 'EVA: no heartbeat', icon: 'circle-outline', severity: 'warning', explanation: /no workers/ },
    },
    {
      input: { kind: 'not-visible' },
      expected: { text: 'EVA: not visible', icon: 'eye-closed', severity: 'info', explanation: /row-level security/ },
    },
    {
      input: { kind: 'unreachable', detail: 'Check the URL.' },
      expected: {
        text: 'EVA: unreachable',
        icon: 'cloud-offline',
        severity: 'error',
        explanation: /state is unknown\. Check the URL\.$/,
      },
    },
    {
      input: { kind: 'not-configured', detail: 'Configure it.' },
      expected: {
        text: 'EVA: not configured',
        icon: 'plug',
        severity: 'info',
        explanation: /configured\. Configure it\.$/,
      },
    },
    {
      input: { kind: 'error', detail: 'boom' },
      expected: { text: 'EVA: error', icon: 'error', severity: 'error', explanation: /^boom$/ },
    },
    {
      input: { kind: 'loading' },
      expected: { text: 'EVA', icon: 'sync~spin', severity: 'info', explanation: /Reading the scheduler heartbeat/ },
    },
  ];
  for (const c of direct) {
    it(`${c.input.kind} (built directly)`, () => {
      const p = presentHealth(c.input);
      assert.deepEqual(
        { text: p.text, icon: p.icon, severity: p.severity },
        { text: c.expected.text, icon: c.expected.icon, severity: c.expected.severity },
      );
      assert.match(p.explanation, c.expected.explanation);
    });
  }

  it('facts: the interval in use and why, queue depth, registered rounds, observe-only, build', () => {
    const facts = new Map(heartbeatFacts(up({ lastAgoMs: 30_000 }), new Date(NOW)));
    assert.equal(facts.get('Interval'), 'every 3 min: queue empty');
    assert.equal(facts.get('Queue depth'), '0 (batch 20)');
    assert.equal(facts.get('Registered rounds'), `13: ${UPSTREAM_ROUNDS.slice(0, 8).join(', ')}, …`);
    assert.equal(facts.get('Observe-only'), 'yes');
    assert.equal(facts.get('Build'), '8f0f6ab57e3c (node v22.3.0)');
    assert.match(facts.get('Next write expected') ?? '', /^in 2m /);
    assert.match(facts.get('next_poll_at') ?? '', /^in 30s /);
    assert.equal(facts.get('Rounds run / failed'), '0 / 0');
  });

  it('facts: no rounds, failed queue query, older rows', () => {
    assert.equal(new Map(heartbeatFacts(up({ rounds: [] }), new Date(NOW))).get('Registered rounds'), 'none');
    assert.equal(
      new Map(heartbeatFacts(up({ depth: -1 }), new Date(NOW))).get('Queue depth'),
      'unknown (the queue query failed)',
    );
    const old = new Map(heartbeatFacts(hb(), new Date(NOW)));
    assert.equal(old.get('Registered rounds'), '—');
    assert.equal(old.get('Queue depth'), '—');
    assert.equal(old.get('Interval'), 'every 1 min: next_poll_at − last_poll_at');
  });
});

describe('heartbeat: nextVerdictChangeMs', () => {
  const at = (h: Heartbeat) => assessSchedulerHealth({ kind: 'row', heartbeat: h }, new Date(NOW), GRACE);
  const cases: { name: string; input: SchedulerHealth; expected: number | null }[] = [
    { name: 'idle, 5 s after a write: late at 210 s', input: at(up({ lastAgoMs: 5_000 })), expected: 205_000 },
    { name: 'idle, late: not polling at 210 + 4 × 180 s', input: at(up({ lastAgoMs: 300_000 })), expected: 630_000 },
    {
      name: 'no rounds on time: late at 210 s too',
      input: at(up({ rounds: [], lastAgoMs: 10_000 })),
      expected: 200_000,
    },
    { name: 'not polling: no further change', input: at(up({ lastAgoMs: 17 * MIN })), expected: null },
    { name: 'stopped: none', input: at(up({ status: 'stopped' })), expected: null },
    { name: 'reviving: none (the next read decides)', input: at(watcherSwap(20 * MIN)), expected: null },
    { name: 'no timestamps: none', input: at(parseHeartbeat({ status: 'running' }) as Heartbeat), expected: null },
    { name: 'no-row: none', input: { kind: 'no-row' }, expected: null },
  ];
  for (const c of cases) it(c.name, () => assert.equal(nextVerdictChangeMs(c.input, new Date(NOW), GRACE), c.expected));
});

describe('heartbeat: nextHeartbeatReadDelayMs', () => {
  const opts = { settleMs: 2_000, minMs: 5_000, maxMs: 300_000, graceMs: GRACE };
  const at = (h: Heartbeat, grace = GRACE) =>
    assessSchedulerHealth({ kind: 'row', heartbeat: h }, new Date(NOW), grace);
  const cases: { name: string; input: SchedulerHealth; opts?: typeof opts; expected: number }[] = [
    {
      name: 'idle: just after the expected write (180 s), not after next_poll_at (60 s)',
      input: at(up({ lastAgoMs: 5_000 })),
      expected: 175_000 + 2_000,
    },
    { name: 'idle, expected write imminent: clamped to min', input: at(up({ lastAgoMs: 179_000 })), expected: 5_000 },
    {
      name: 'idle, 10 s late: re-read just after the grace runs out',
      input: at(up({ lastAgoMs: 190_000 })),
      expected: 20_000 + 2_000,
    },
    // Transitional states are read every 10 s (TRANSITIONAL_READ_MS), so a restart or revival shows within 15 s.
    { name: 'idle, stale: re-read every 10 s', input: at(up({ lastAgoMs: 250_000 })), expected: 10_000 },
    { name: 'not polling: every 10 s', input: at(up({ lastAgoMs: 17 * MIN })), expected: 10_000 },
    { name: 'heavy queue: 30 s interval', input: at(up({ depth: 45, lastAgoMs: 0 })), expected: 32_000 },
    { name: 'adaptive off: 60 s', input: at(up({ adaptive: false, lastAgoMs: 10_000 })), expected: 52_000 },
    {
      name: 'grace 1 s: settle shortened to 0.5 s so the write is read before the row turns late',
      input: at(up({ baseMs: 2_000, lastAgoMs: 200 }), 1_000),
      opts: { ...opts, graceMs: 1_000 },
      expected: 5_800 + 500,
    },
    { name: 'reviving: every 10 s', input: at(watcherSwap(20 * MIN)), expected: 10_000 },
    { name: "reviving after the watcher's insert: every 10 s", input: at(watcherInsert()), expected: 10_000 },
    { name: 'stopped: every 10 s', input: at(up({ status: 'stopped', adaptive: false })), expected: 10_000 },
    {
      name: 'no timestamps (judged stale): every 10 s',
      input: at(parseHeartbeat({ status: 'running' }) as Heartbeat),
      expected: 10_000,
    },
    {
      name: 'hostile next_poll_at a year ahead: default interval',
      input: at(hb({ next_poll_at: isoAt(NOW + 365 * 86_400_000) })),
      expected: 52_000,
    },
    {
      name: 'hostile next_poll_at year 275759',
      input: at(hb({ next_poll_at: '+275760-09-13T00:00:00.000Z' })),
      expected: 52_000,
    },
    {
      name: 'hostile last_poll_at far in the past (not polling): every 10 s',
      input: at(hb({ last_poll_at: isoAt(0), next_poll_at: isoAt(60_000) })),
      expected: 10_000,
    },
    { name: 'no-row: every 10 s (the first write shows within 15 s)', input: { kind: 'no-row' }, expected: 10_000 },
    { name: 'not-visible: default interval', input: { kind: 'not-visible' }, expected: 60_000 },
    { name: 'unreachable: default interval', input: { kind: 'unreachable', detail: '' }, expected: 60_000 },
    { name: 'loading: default interval', input: { kind: 'loading' }, expected: 60_000 },
  ];
  for (const c of cases)
    it(c.name, () => assert.equal(nextHeartbeatReadDelayMs(c.input, new Date(NOW), c.opts ?? opts), c.expected));

  describe('states that can last for days: every 10 s only for 5 min after this window first saw them, then the interval, at most 60 s', () => {
    const seen = (kind: SchedulerHealth['kind'], agoMs: number): HeartbeatHistory => ({
      writes: [],
      revivalSeenSince: null,
      verdictSince: { kind, since: new Date(NOW - agoMs) },
    });
    const hist2 = (h: SchedulerHealth, agoMs: number) => seen(h.kind, agoMs);
    const stopped = at(up({ status: 'stopped' }));
    const stoppedOff = at(up({ status: 'stopped', adaptive: false, baseMs: 30_000 }));
    const dead = at(up({ lastAgoMs: 17 * MIN }));
    const deadFast = at(up({ lastAgoMs: 17 * MIN, baseMs: 2_000 }), 1_000);
    const failed = assessSchedulerHealth({ kind: 'row', heartbeat: watcherSwap(20 * MIN) }, new Date(NOW), GRACE, {
      writes: [],
      revivalSeenSince: new Date(NOW - REVIVAL_BOUND_MS - 1),
    });
    assert.equal(failed.kind, 'revival-failed');
    const noRow: SchedulerHealth = { kind: 'no-row' };
    const cases2: {
      name: string;
      input: SchedulerHealth;
      agoMs: number;
      history?: HeartbeatHistory;
      expected: number;
    }[] = [
      { name: 'no row, just seen', input: noRow, agoMs: 0, expected: TRANSITIONAL_READ_MS },
      { name: 'no row for 4:59', input: noRow, agoMs: FAST_READ_WINDOW_MS - 1_000, expected: TRANSITIONAL_READ_MS },
      { name: 'no row for 5 min: 60 s', input: noRow, agoMs: FAST_READ_WINDOW_MS, expected: LASTING_READ_MS },
      { name: 'no row for 3 days: 60 s', input: noRow, agoMs: 3 * 86_400_000, expected: LASTING_READ_MS },
      { name: 'stopped, 1 min', input: stopped, agoMs: MIN, expected: TRANSITIONAL_READ_MS },
      { name: 'stopped (idle: 180 s interval), 6 min: at most 60 s', input: stopped, agoMs: 6 * MIN, expected: 60_000 },
      {
        name: 'stopped (adaptive off, 30 s base), 6 min: its 30 s interval',
        input: stoppedOff,
        agoMs: 6 * MIN,
        expected: 30_000,
      },
      { name: 'not polling, 2 min', input: dead, agoMs: 2 * MIN, expected: TRANSITIONAL_READ_MS },
      { name: 'not polling, 1 day: 60 s', input: dead, agoMs: 86_400_000, expected: 60_000 },
      {
        name: 'not polling at a 2 s base, 10 min: its 6 s interval (the 5 s floor below it)',
        input: deadFast,
        agoMs: 10 * MIN,
        expected: 6_000,
      },
      { name: 'revival failed, 1 min', input: failed, agoMs: MIN, expected: TRANSITIONAL_READ_MS },
      { name: 'revival failed, 20 min: 60 s', input: failed, agoMs: 20 * MIN, expected: 60_000 },
      {
        name: 'stopped now, but the window last saw "running" 1 h ago (a new span): fast',
        input: stopped,
        agoMs: 0,
        history: seen('healthy', 3600_000),
        expected: TRANSITIONAL_READ_MS,
      },
      {
        name: 'stale for 20 min: still every 10 s (it ends by itself: not polling)',
        input: at(up({ lastAgoMs: 250_000 })),
        agoMs: 20 * MIN,
        expected: TRANSITIONAL_READ_MS,
      },
      {
        name: 'reviving: every 10 s (bounded by REVIVAL_BOUND_MS)',
        input: at(watcherSwap(20 * MIN)),
        agoMs: 20 * MIN,
        expected: TRANSITIONAL_READ_MS,
      },
    ];
    for (const c of cases2)
      it(c.name, () =>
        assert.equal(
          nextHeartbeatReadDelayMs(c.input, new Date(NOW), opts, c.history ?? hist2(c.input, c.agoMs)),
          c.expected,
        ),
      );

    it('noteVerdict: keeps the first sighting of a verdict, starts over on a new one, ignores failed reads', () => {
      let h = noteVerdict(NO_HISTORY, stopped, new Date(NOW));
      assert.equal(h.verdictSince?.since.getTime(), NOW);
      h = noteVerdict(h, stopped, new Date(NOW + 5 * MIN));
      assert.equal(h.verdictSince?.since.getTime(), NOW, 'the same verdict keeps its start');
      h = noteVerdict(h, { kind: 'unreachable', detail: 'x' }, new Date(NOW + 6 * MIN));
      assert.equal(h.verdictSince?.kind, 'stopped', 'a failed read neither starts nor ends it');
      h = updateHistory(h, { kind: 'no-row' }, new Date(NOW + 7 * MIN));
      assert.equal(h.verdictSince?.kind, 'stopped', 'no row keeps the span until judged');
      h = noteVerdict(h, noRow, new Date(NOW + 7 * MIN));
      assert.deepEqual(h.verdictSince, { kind: 'no-row', since: new Date(NOW + 7 * MIN) });
    });

    it('a row stopped for 2 days, read as the monitor does: 30 reads in the first 5 min, then one a minute', () => {
      let h: HeartbeatHistory = NO_HISTORY;
      let t = NOW;
      const delays: number[] = [];
      while (t < NOW + 2 * 86_400_000) {
        h = noteVerdict(h, stopped, new Date(t));
        const d = nextHeartbeatReadDelayMs(stopped, new Date(t), opts, h);
        delays.push(d);
        t += d;
      }
      assert.equal(delays.filter((d) => d === TRANSITIONAL_READ_MS).length, 30);
      assert.ok(delays.slice(30).every((d) => d === 60_000));
      assert.ok(delays.length < 30 + 2 * 1440 + 1, `${delays.length} reads in 2 days (10 s for ever: 17,280)`);
    });
  });

  it('without graceMs the settle time is used as given', () => {
    assert.equal(
      nextHeartbeatReadDelayMs(at(up({ lastAgoMs: 5_000 })), new Date(NOW), {
        settleMs: 2_000,
        minMs: 5_000,
        maxMs: 300_000,
      }),
      177_000,
    );
  });

  it('never leaves [minMs, maxMs] for any poll times', () => {
    const tight = { settleMs: 1_000, minMs: 10_000, maxMs: 120_000, graceMs: GRACE };
    const offsets = [-1e13, -1e9, -86_400_001, -1, 0, 1, 5_000, 9_000, 60_000, 119_000, 86_400_001, 1e9, 1e13];
    for (const nextOff of offsets) {
      for (const lastOff of [-1e13, -60_000, 0, 60_000, 1e13]) {
        for (const meta of [{}, upstreamRow().metadata]) {
          const h = parseHeartbeat(
            row({ next_poll_at: isoAt(NOW + nextOff), last_poll_at: isoAt(NOW + lastOff), metadata: meta }),
          );
          assert.ok(h);
          const d = nextHeartbeatReadDelayMs(
            assessSchedulerHealth({ kind: 'row', heartbeat: h }, new Date(NOW), GRACE),
            new Date(NOW),
            tight,
          );
          assert.ok(
            Number.isFinite(d) && d >= tight.minMs && d <= tight.maxMs,
            `next ${nextOff} last ${lastOff} → ${d}`,
          );
        }
      }
    }
  });

  /**
   * A scheduler writing as upstream does (idle: every 180 s + a little poll time, next_poll_at = +60 s)
   * and a reader that reads when nextHeartbeatReadDelayMs says and judges the last row it read at
   * every second (as the status bar does, with its re-judging timer).
   */
  function simulate(opts2: {
    baseMs: number;
    graceMs: number;
    settleMs: number;
    minMs: number;
    pollMs: number;
    durationMs: number;
  }) {
    const interval = Math.min(opts2.baseMs * 3, 300_000);
    const writes: number[] = [];
    for (let t = 0; t <= opts2.durationMs; t += interval + opts2.pollMs) writes.push(t);
    const rowAt = (t: number): Heartbeat => {
      const w = [...writes].reverse().find((x) => x <= t) ?? 0;
      return parseHeartbeat({
        ...upstreamRow({ baseMs: opts2.baseMs }),
        last_poll_at: isoAt(w),
        next_poll_at: isoAt(w + opts2.baseMs),
        updated_at: isoAt(w),
      }) as Heartbeat;
    };
    let reads = 0;
    let seen: Heartbeat = rowAt(0);
    let nextRead = 0;
    const kinds = new Set<string>();
    for (let t = 0; t <= opts2.durationMs; t += 100) {
      if (t >= nextRead) {
        reads++;
        seen = rowAt(t);
        const h = assessSchedulerHealth({ kind: 'row', heartbeat: seen }, new Date(t), opts2.graceMs);
        nextRead =
          t +
          nextHeartbeatReadDelayMs(h, new Date(t), {
            settleMs: opts2.settleMs,
            minMs: opts2.minMs,
            maxMs: 300_000,
            graceMs: opts2.graceMs,
          });
      }
      kinds.add(assessSchedulerHealth({ kind: 'row', heartbeat: seen }, new Date(t), opts2.graceMs).kind);
    }
    return { reads, writes: writes.length, kinds: [...kinds] };
  }

  it('idle upstream scheduler (base 60 s, grace 30 s) for 1 h: healthy throughout, at most one read per write', () => {
    const r = simulate({
      baseMs: 60_000,
      graceMs: 30_000,
      settleMs: 2_000,
      minMs: 5_000,
      pollMs: 300,
      durationMs: 3600_000,
    });
    assert.deepEqual(r.kinds, ['healthy']);
    assert.ok(r.reads <= r.writes, `${r.reads} reads for ${r.writes} writes`);
    assert.ok(r.reads >= r.writes - 1, `${r.reads} reads for ${r.writes} writes`);
  });

  it('idle simulator as in the e2e run (base 2 s, grace 1 s) for 5 min: healthy throughout, at most one read per write', () => {
    const r = simulate({
      baseMs: 2_000,
      graceMs: 1_000,
      settleMs: 2_000,
      minMs: 5_000,
      pollMs: 20,
      durationMs: 300_000,
    });
    assert.deepEqual(r.kinds, ['healthy']);
    assert.ok(r.reads <= r.writes && r.reads >= r.writes - 1, `${r.reads} reads for ${r.writes} writes`);
  });
});

// ---- a live daemon whose rounds take time, a dead one, and a revival that fails ------------------

/**
 * A row as a NON-observe-only daemon writes it (rounds really run after the write): `runs` is
 * last_round_runs (round → epoch ms of its last successful run), `roundErrors` round_error_count.
 */
function liveRow(o: Up & { runs?: Record<string, number> | null; roundErrors?: number } = {}): Heartbeat {
  const r = upstreamRow(o);
  const md: Record<string, unknown> = {
    ...(r.metadata as Record<string, unknown>),
    observe_only: false,
    round_error_count: o.roundErrors ?? 0,
  };
  if (o.runs === null) delete md.last_round_runs;
  else md.last_round_runs = o.runs ?? Object.fromEntries(UPSTREAM_ROUNDS.map((n) => [n, NOW - 60_000]));
  const h = parseHeartbeat({ ...r, metadata: md });
  assert.ok(h);
  return h;
}
const allRanAgo = (ms: number, except: string[] = []) =>
  Object.fromEntries(UPSTREAM_ROUNDS.filter((n) => !except.includes(n)).map((n) => [n, NOW - ms]));

describe('heartbeat: the rounds after a write (roundAllowance)', () => {
  const cases: { name: string; input: Heartbeat; expected: RoundAllowance }[] = [
    {
      name: 'observe-only (production): rounds are skipped, no allowance',
      input: up(),
      expected: { kind: 'none', ms: 0, reason: 'observe-only' },
    },
    {
      name: 'breaker OPEN: poll() returns before the rounds',
      input: liveRow({ breaker: 'open', runs: {} }),
      expected: { kind: 'none', ms: 0, reason: 'breaker-open' },
    },
    {
      name: 'every round ran within its cadence: none due',
      input: liveRow({ runs: allRanAgo(60_000) }),
      expected: { kind: 'none', ms: 0, reason: 'none-due' },
    },
    {
      name: 'the 10-min sensemaking monitor last ran 11 min before the write: 1 due, 30 s',
      input: liveRow({ runs: { ...allRanAgo(60_000), sensemaking_disposition_monitor: NOW - 5_000 - 11 * MIN } }),
      expected: { kind: 'due-rounds', ms: 30_000, due: 1 },
    },
    {
      name: 'two rounds failing (never stamped): 2 due, 60 s',
      input: liveRow({ runs: allRanAgo(60_000, ['daily_digest', 'gap_analysis']) }),
      expected: { kind: 'due-rounds', ms: 60_000, due: 2 },
    },
    {
      name: 'a fresh daemon with no round ever run: all 13 due',
      input: liveRow({ runs: {} }),
      expected: { kind: 'due-rounds', ms: 13 * 30_000, due: 13 },
    },
    {
      name: 'an unknown round that ran 11 min ago is due (the shortest cadence)',
      input: liveRow({ rounds: ['new_round'], runs: { new_round: NOW - 5_000 - 11 * MIN } }),
      expected: { kind: 'due-rounds', ms: 30_000, due: 1 },
    },
    {
      name: 'no last_round_runs: failed rounds per poll from the counters (40 over 20 polls: 2)',
      input: liveRow({ runs: null, roundErrors: 40, pollCount: 21 }),
      expected: { kind: 'failing-rounds', ms: 60_000, perPoll: 2 },
    },
    {
      name: 'no last_round_runs and no failures: none',
      input: liveRow({ runs: null, roundErrors: 0 }),
      expected: { kind: 'none', ms: 0, reason: 'none-due' },
    },
    {
      name: 'no registered_rounds: nothing known',
      input: parseHeartbeat(row()) as Heartbeat,
      expected: { kind: 'none', ms: 0, reason: 'no-rounds-known' },
    },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(roundAllowance(c.input), c.expected));
});

describe('heartbeat: slow rounds are not "stale", a dead daemon still is', () => {
  const judge = (h: Heartbeat, history: HeartbeatHistory = NO_HISTORY) =>
    assessSchedulerHealth({ kind: 'row', heartbeat: h }, new Date(NOW), GRACE, history);
  const failing2 = (lastAgoMs: number) =>
    liveRow({ lastAgoMs, runs: allRanAgo(60_000, ['daily_digest', 'gap_analysis']) });
  const cases: { name: string; input: Heartbeat; history?: HeartbeatHistory; expected: SchedulerHealth['kind'] }[] = [
    {
      name: 'two failing rounds, 265 s after a write (180 + 60 + 25): healthy',
      input: failing2(265_000),
      expected: 'healthy',
    },
    { name: 'two failing rounds, exactly 180 + 60 + grace: healthy', input: failing2(270_000), expected: 'healthy' },
    { name: 'two failing rounds, 1 ms later: stale', input: failing2(270_001), expected: 'stale' },
    {
      name: 'two failing rounds, dead: still stale at the stale threshold + 4 idle intervals (270 + 720 s)',
      input: failing2(990_000),
      expected: 'stale',
    },
    { name: 'two failing rounds, 1 ms later: not polling', input: failing2(990_001), expected: 'not-polling' },
  ];
  for (const c of cases) it(c.name, () => assert.equal(judge(c.input, c.history).kind, c.expected));

  it('two failing rounds, dead: the tooltip counts the first expected write (180 + 60 s) and then one per 180 s wait (5 missed writes, not 4)', () => {
    const h = judge(failing2(990_001));
    assert.equal(h.kind, 'not-polling');
    assert.equal(h.kind === 'not-polling' && h.missed, 5);
  });

  /** This instance's writes at polls 10, 11, … with the given gaps (ms) before the last one at NOW − lastAgoMs; each saw `due` rounds due after it. */
  const gapsHist = (
    gaps: number[],
    lastAgoMs: number,
    due: number | number[] = 0,
    instanceId = 'scheduler-1a2b3c4d',
  ): HeartbeatHistory => {
    const writes = [];
    let at = NOW - lastAgoMs - gaps.reduce((x, y) => x + y, 0);
    for (let i = 0; i <= gaps.length; i++) {
      writes.push({
        instanceId,
        pollCount: 10 + i,
        lastPollAtMs: at,
        intervalMs: 180_000,
        dueRounds: Array.isArray(due) ? (due[i] ?? 0) : due,
      });
      at += gaps[i] ?? 0;
    }
    return { writes, revivalSeenSince: null };
  };
  /** A live row at poll 10 + gaps, none or `except` rounds due. */
  const at = (lastAgoMs: number, gaps: number, except: string[] = []) =>
    liveRow({ lastAgoMs, runs: allRanAgo(60_000, except), pollCount: 10 + gaps });
  const learned: {
    name: string;
    input: Heartbeat;
    history: HeartbeatHistory;
    extra: number;
    roundsMs: number;
    kind: SchedulerHealth['kind'];
  }[] = [
    {
      name: 'one suspend gap (100 min) among on-time ones teaches nothing: stale 1 ms after 180 s + grace',
      input: at(210_001, 3),
      history: gapsHist([180_000, 100 * MIN, 180_000], 210_001),
      extra: 0,
      roundsMs: 0,
      kind: 'stale',
    },
    {
      name: 'one slow gap (a 4-min job) as the latest: still nothing learned',
      input: at(210_001, 3),
      history: gapsHist([180_000, 180_000, 420_000], 210_001),
      extra: 0,
      roundsMs: 0,
      kind: 'stale',
    },
    {
      name: 'consistently 70 s late in 3 gaps: learned, healthy at 270 s (180 + 70 + 30 = 280)',
      input: at(270_000, 3),
      history: gapsHist([250_000, 250_000, 250_000], 270_000),
      extra: 70_000,
      roundsMs: 0,
      kind: 'healthy',
    },
    {
      name: 'consistently 70 s late: stale 1 ms after 280 s',
      input: at(280_001, 3),
      history: gapsHist([250_000, 250_000, 250_000], 280_001),
      extra: 70_000,
      roundsMs: 0,
      kind: 'stale',
    },
    {
      name: 'late in 2 of 3 gaps (60 s and 90 s): the smaller counts',
      input: at(5_000, 3),
      history: gapsHist([180_000, 240_000, 270_000], 5_000),
      extra: 60_000,
      roundsMs: 0,
      kind: 'healthy',
    },
    {
      name: 'one gap only (even 70 s late): nothing learned yet',
      input: at(270_000, 1),
      history: gapsHist([250_000], 270_000),
      extra: 0,
      roundsMs: 0,
      kind: 'stale',
    },
    {
      name: 'lateness of another instance does not count',
      input: at(270_000, 3),
      history: gapsHist([250_000, 250_000, 250_000], 270_000, 0, 'scheduler-00000000'),
      extra: 0,
      roundsMs: 0,
      kind: 'stale',
    },
    {
      name: 'two suspends: capped at 30 s × 13 registered rounds',
      input: at(5_000, 3),
      history: gapsHist([180_000, 100 * MIN, 100 * MIN], 5_000),
      extra: 13 * 30_000,
      roundsMs: 0,
      kind: 'healthy',
    },
    {
      // The e2e's daemon: rounds time out after 1 s (its scaled timeout), not upstream's 30 s. Once two
      // gaps show it, the 2 × 30 s prior gives way to what the gaps show: 2 s.
      name: 'two rounds failing every poll, gaps show 2 s: the 60 s prior gives way, stale 1 ms after 180 + 2 + 30 s',
      input: at(212_001, 3, ['daily_digest', 'gap_analysis']),
      history: gapsHist([182_000, 182_000, 182_000], 212_001, 2),
      extra: 2_000,
      roundsMs: 0,
      kind: 'stale',
    },
    {
      name: 'the same, 1 s earlier: healthy',
      input: at(211_000, 3, ['daily_digest', 'gap_analysis']),
      history: gapsHist([182_000, 182_000, 182_000], 211_000, 2),
      extra: 2_000,
      roundsMs: 0,
      kind: 'healthy',
    },
    {
      name: 'two rounds newly due after gaps with none due: those two keep the 30 s prior each',
      input: at(269_000, 3, ['daily_digest', 'gap_analysis']),
      history: gapsHist([180_000, 180_000, 180_000], 269_000, 0),
      extra: 0,
      roundsMs: 60_000,
      kind: 'healthy',
    },
    {
      name: 'two failing rounds seen in one slow gap only: the prior stays',
      input: at(269_000, 3, ['daily_digest', 'gap_analysis']),
      history: gapsHist([180_000, 180_000, 182_000], 269_000, [0, 0, 2]),
      extra: 0,
      roundsMs: 60_000,
      kind: 'healthy',
    },
  ];
  for (const c of learned)
    it(`learned lateness: ${c.name}`, () => {
      const e = expectedNextWrite(c.input, c.history);
      assert.equal(e.observedExtraMs, c.extra);
      assert.equal(e.rounds.ms, c.roundsMs);
      assert.equal(judge(c.input, c.history).kind, c.kind);
    });

  it('a dead daemon with all 13 rounds due (fresh, no gaps): stale after 180 + 390 + 30 s, not polling 4 idle intervals later (22 min, not 52)', () => {
    const fresh = (ago: number) => liveRow({ lastAgoMs: ago, runs: {} });
    assert.equal(judge(fresh(600_000)).kind, 'healthy');
    assert.equal(judge(fresh(600_001)).kind, 'stale');
    assert.equal(judge(fresh(600_000 + 4 * 180_000)).kind, 'stale');
    assert.equal(judge(fresh(600_001 + 4 * 180_000)).kind, 'not-polling');
  });

  it('a dead daemon that had learned 2 suspends (the cap): not polling at stale + 4 × 180 s, bounded', () => {
    const h = at(180_000 + 390_000 + GRACE + 4 * 180_000 + 1, 3);
    const hist = gapsHist([180_000, 100 * MIN, 100 * MIN], 180_000 + 390_000 + GRACE + 4 * 180_000 + 1);
    assert.equal(judge(h, hist).kind, 'not-polling');
  });

  it('observed lateness counts to 0.1 s: write latency and timer jitter (tens of ms) are not lateness', () => {
    const h = liveRow({ lastAgoMs: 5_000, runs: allRanAgo(60_000), pollCount: 12 });
    const hist = (perPollMs: number) => gapsHist([perPollMs, perPollMs], 5_000);
    assert.equal(expectedNextWrite(h, hist(180_040)).observedExtraMs, 0);
    assert.equal(expectedNextWrite(h, hist(180_330)).observedExtraMs, 300, 'a sub-second round timeout is lateness');
    assert.equal(expectedNextWrite(h, hist(250_400)).observedExtraMs, 70_400);
    assert.equal(expectedNextWrite(h, hist(250_400)).totalMs, 250_400);
    assert.equal(expectedNextWrite(h, hist(181_960)).observedExtraMs, 2_000, 'rounded, not cut');
    assert.equal(expectedNextWrite(h, hist(170_000)).observedExtraMs, 0, 'early writes teach nothing');
  });

  /**
   * A non-observe daemon as lib/eva/eva-master-scheduler.js runs it, idle (base 60 s, so 180 s waits):
   * poll() writes, then the due rounds run (2 s each, or the 30 s timeout for a hanging one, which is
   * then not stamped and so runs again at every poll), then the adaptive wait. From minute 20 the
   * sensemaking monitor and daily_digest hang. A reader reads when nextHeartbeatReadDelayMs says,
   * keeps the history as the monitor does, and judges at every second. Then the daemon dies.
   */
  function liveDaemon(hanging: string[], dieAtMs: number) {
    const cadence: Record<string, number> = {
      sensemaking_disposition_monitor: 10 * MIN,
      daily_digest: 86_400_000,
      apa_standing: 86_400_000,
      daily_burn_rate: 86_400_000,
      stage_health: 30 * 86_400_000,
    };
    const lastRun = new Map<string, number>(UPSTREAM_ROUNDS.map((n) => [n, -1]));
    const writes: Array<{ at: number; row: Record<string, unknown> }> = [];
    let t = 0;
    let poll = 0;
    let errors = 0;
    while (t < dieAtMs) {
      const base = upstreamRow({ baseMs: MIN, pollCount: poll });
      writes.push({
        at: t,
        row: {
          ...base,
          poll_count: poll,
          last_poll_at: isoAt(t + 300),
          next_poll_at: isoAt(t + 300 + MIN),
          updated_at: isoAt(t + 300),
          metadata: {
            ...(base.metadata as Record<string, unknown>),
            observe_only: false,
            round_error_count: errors,
            last_round_runs: Object.fromEntries([...lastRun].filter(([, v]) => v > 0)),
          },
        },
      });
      t += 300; // the write itself
      for (const name of UPSTREAM_ROUNDS) {
        const last = lastRun.get(name) ?? -1;
        if (last > 0 && t - last < (cadence[name] ?? 7 * 86_400_000)) continue;
        if (t >= 20 * MIN && hanging.includes(name)) {
          t += 30_000;
          errors++;
        } else {
          t += 2_000;
          lastRun.set(name, t);
        }
      }
      t += 180_000;
      poll++;
    }
    return writes;
  }

  for (const hanging of [
    [],
    ['sensemaking_disposition_monitor'],
    ['sensemaking_disposition_monitor', 'daily_digest'],
  ]) {
    it(`${hanging.length} hanging round(s) for 2 h: never stale while alive; dead: stale within expected + grace, not polling 4 intervals after that`, () => {
      const dieAt = 2 * 3600_000;
      const writes = liveDaemon(hanging, dieAt);
      const lastWrite = writes[writes.length - 1];
      let history: HeartbeatHistory = NO_HISTORY;
      let seen: Heartbeat | null = null;
      let nextRead = 0;
      let reads = 0;
      const kinds = new Map<string, number>();
      let staleAt: number | null = null;
      let notPollingAt: number | null = null;
      let expectedAtDeath = 0;
      let intervalAtDeath = 0;
      for (let now = 0; now <= dieAt + 3 * 3600_000; now += 1_000) {
        if (now >= nextRead) {
          if (now <= lastWrite.at) reads++;
          const w = [...writes].reverse().find((x) => Date.parse(x.row.last_poll_at as string) <= now);
          const parsed = w ? parseHeartbeat(w.row) : null;
          if (parsed) {
            seen = parsed;
            history = updateHistory(history, { kind: 'row', heartbeat: parsed }, new Date(now));
          }
          const h0 = seen ? judge2(seen, now, history) : ({ kind: 'no-row' } as SchedulerHealth);
          nextRead =
            now +
            nextHeartbeatReadDelayMs(
              h0,
              new Date(now),
              { settleMs: 2_000, minMs: 5_000, maxMs: 300_000, graceMs: GRACE },
              history,
            );
        }
        if (!seen) continue;
        const k = judge2(seen, now, history).kind;
        if (now <= lastWrite.at + 300 + 180_000) kinds.set(k, (kinds.get(k) ?? 0) + 1);
        else if (k === 'stale' && staleAt === null) {
          staleAt = now;
          expectedAtDeath = expectedNextWrite(seen, history).totalMs;
          intervalAtDeath = expectedNextWrite(seen, history).interval.ms;
        } else if (k === 'not-polling' && notPollingAt === null) notPollingAt = now;
      }
      assert.deepEqual([...kinds.keys()], ['healthy'], `alive: ${JSON.stringify([...kinds])}`);
      const last = lastWrite.at + 300;
      assert.ok(staleAt !== null && notPollingAt !== null, 'dead: stale, then not polling');
      assert.ok(
        staleAt - last > expectedAtDeath + GRACE - 1_000 && staleAt - last <= expectedAtDeath + GRACE + 1_000,
        `stale at +${staleAt - last} ms (expected ${expectedAtDeath} + grace)`,
      );
      // Not polling: the stale threshold + 4 × the interval alone (a dead daemon runs no rounds).
      const notPollingBound = expectedAtDeath + GRACE + 4 * intervalAtDeath;
      assert.ok(
        notPollingAt - last > notPollingBound && notPollingAt - last <= notPollingBound + 1_000,
        `not polling at +${notPollingAt - last} ms (stale threshold + 4 × ${intervalAtDeath} ms = ${notPollingBound} ms)`,
      );
      // One read per write when no round is due after it; else the earliest write, then every 10 s
      // through the rounds' 30 s allowances (so a stop or a claim meanwhile shows within 15 s).
      // A write after which rounds are due (the 10-min monitor, or hanging ones) may come after the
      // earliest read: then at most one more read per 10 s of their allowance.
      const alive = writes.length;
      const due = writes.filter((w) => roundAllowance(parseHeartbeat(w.row) as Heartbeat).kind !== 'none').length;
      const extra = due * 3 * Math.max(1, hanging.length);
      assert.ok(reads <= alive + extra + 1, `${reads} reads for ${alive} writes (${due} with rounds due)`);
      if (!hanging.length) assert.ok(due <= 13, `the 10-min round is due about every 10 min (${due} writes in 2 h)`);
    });
  }
  function judge2(h: Heartbeat, now: number, history: HeartbeatHistory) {
    return assessSchedulerHealth({ kind: 'row', heartbeat: h }, new Date(now), GRACE, history);
  }
});

describe('heartbeat: a revival that fails is "revival failed", not "reviving" for ever', () => {
  const swapped = watcherSwap(20 * MIN);
  const seenAgo = (ms: number): HeartbeatHistory => ({ writes: [], revivalSeenSince: new Date(NOW - ms) });
  const judge = (h: Heartbeat, history: HeartbeatHistory) =>
    assessSchedulerHealth({ kind: 'row', heartbeat: h }, new Date(NOW), GRACE, history);
  it('token just seen: reviving, with the age of the last real write', () => {
    const h = judge(swapped, seenAgo(0));
    assert.equal(h.kind, 'reviving');
    assert.equal((h as { silentMs: number }).silentMs, 20 * MIN);
  });
  it(`token seen for exactly ${REVIVAL_BOUND_MS} ms: still reviving; nextVerdictChangeMs says when it fails`, () => {
    assert.equal(judge(swapped, seenAgo(REVIVAL_BOUND_MS)).kind, 'reviving');
    assert.equal(
      nextVerdictChangeMs(judge(swapped, seenAgo(12_000)), new Date(NOW), GRACE, seenAgo(12_000)),
      REVIVAL_BOUND_MS - 12_000,
    );
  });
  it("token seen 1 ms longer: revival failed (error), with the last real write's age", () => {
    const h = judge(swapped, seenAgo(REVIVAL_BOUND_MS + 1));
    assert.equal(h.kind, 'revival-failed');
    const p = presentHealth(h);
    assert.equal(p.severity, 'error');
    assert.equal(p.text, 'EVA: revival failed');
    assert.match(p.explanation, /last poll 20 min ago/);
    assert.match(p.explanation, /supervisor-0a1b2c3d/);
  });
  it("the watcher's insert (no poll ever) that stands: revival failed, says no scheduler ever polled", () => {
    const h = judge(watcherInsert(), seenAgo(5 * MIN));
    assert.equal(h.kind, 'revival-failed');
    assert.match(presentHealth(h).explanation, /none ever polled/);
  });
  it('history: a token swapped for a new one (failed spawn, next watcher tick) keeps the first sighting', () => {
    const t0 = new Date(NOW - 10 * MIN);
    let hist = updateHistory(
      NO_HISTORY,
      { kind: 'row', heartbeat: up({ lastAgoMs: 20 * MIN }) },
      new Date(NOW - 20 * MIN),
    );
    hist = updateHistory(hist, { kind: 'row', heartbeat: watcherSwap(20 * MIN) }, t0);
    hist = updateHistory(
      hist,
      { kind: 'row', heartbeat: up({ instance: 'supervisor-99999999', lastAgoMs: 20 * MIN }) },
      new Date(NOW),
    );
    assert.equal(hist.revivalSeenSince?.getTime(), t0.getTime());
    assert.equal(judge(up({ instance: 'supervisor-99999999', lastAgoMs: 20 * MIN }), hist).kind, 'revival-failed');
  });
  it('history: a daemon write ends the revival; no row forgets; a failed read changes nothing', () => {
    let hist = updateHistory(NO_HISTORY, { kind: 'row', heartbeat: watcherSwap(20 * MIN) }, new Date(NOW));
    assert.ok(hist.revivalSeenSince);
    assert.equal(updateHistory(hist, { kind: 'unreachable', detail: 'x' }, new Date(NOW)), hist);
    hist = updateHistory(
      hist,
      { kind: 'row', heartbeat: up({ instance: 'scheduler-feedf00d', pollCount: 0 }) },
      new Date(NOW),
    );
    assert.equal(hist.revivalSeenSince, null);
    assert.equal(hist.writes.length, 1);
    assert.deepEqual(updateHistory(hist, { kind: 'no-row' }, new Date(NOW)), NO_HISTORY);
  });
  it('history: writes of one instance are kept once each, the last few, a new instance starts over', () => {
    let hist = NO_HISTORY;
    for (let p = 1; p <= 6; p++)
      for (let again = 0; again < 2; again++)
        hist = updateHistory(
          hist,
          { kind: 'row', heartbeat: up({ pollCount: p, lastAgoMs: (10 - p) * 180_000 }) },
          new Date(NOW),
        );
    assert.deepEqual(
      hist.writes.map((w) => w.pollCount),
      [3, 4, 5, 6],
    );
    hist = updateHistory(
      hist,
      { kind: 'row', heartbeat: up({ instance: 'scheduler-00000001', pollCount: 0 }) },
      new Date(NOW),
    );
    assert.deepEqual(
      hist.writes.map((w) => [w.instanceId, w.pollCount]),
      [['scheduler-00000001', 0]],
    );
  });
  it('reads: a transitional state is read every 10 s; reviving then revival failed by time alone', () => {
    const opts = { settleMs: 2_000, minMs: 5_000, maxMs: 300_000, graceMs: GRACE };
    for (const h of [judge(swapped, seenAgo(0)), judge(swapped, seenAgo(MIN))])
      assert.equal(nextHeartbeatReadDelayMs(h, new Date(NOW), opts, seenAgo(0)), TRANSITIONAL_READ_MS);
    assert.equal(nextVerdictChangeMs(judge(swapped, seenAgo(MIN)), new Date(NOW), GRACE, seenAgo(MIN)), null);
  });
});
