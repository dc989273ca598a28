// EVA scheduler heartbeat (table eva_scheduler_heartbeat, singleton id = 1): parsing and health.
//
// The rules follow the real writer, EHG_Engineer's lib/eva/eva-master-scheduler.js (`_updateHeartbeat`,
// `_computeAdaptiveInterval`), and the watcher that revives it, scripts/cron/eva-scheduler-watcher.mjs:
//  - every write sets next_poll_at = now + the BASE interval, but with adaptive polling (the default)
//    the next write really comes after an interval derived from the queue depth, which the write
//    records in metadata.dynamic_scaling (idle: 3 × base, so 180 s while next_poll_at says 60 s);
//  - a crashed daemon leaves status 'running' with a frozen last_poll_at: only the age counts;
//  - the watcher swaps instance_id to `supervisor-<8 hex>` without touching last_poll_at (or inserts
//    the row with status 'stopped'), then the daemon it spawns writes as a new `scheduler-…` instance;
//    a failed spawn leaves the token, and the watcher's next tick swaps it for a new one;
//  - the rounds run AFTER the write (`poll()`: `_updateHeartbeat` then `_executeScheduledRounds`), each
//    under a 30 s timeout (`runRound`, DEFAULT_ROUND_TIMEOUT_MS), and a failed round is not stamped in
//    last_round_runs, so it re-runs on every poll: k timed-out rounds make every write k × 30 s later.
// What this window has seen over time (the writes, when it first saw a watcher token) is kept by the
// monitor and passed in as a HeartbeatHistory; everything here stays a pure function of its inputs.
import { cleanText, isRecord, parseNumber, parseTimestamp } from './text';

export const HEARTBEAT_COLUMNS = [
  'instance_id',
  'started_at',
  'last_poll_at',
  'next_poll_at',
  'poll_count',
  'dispatch_count',
  'error_count',
  'circuit_breaker_state',
  'paused_reason',
  'status',
  'metadata',
  'updated_at',
] as const;

export type BreakerState = 'CLOSED' | 'OPEN' | 'HALF_OPEN' | 'UNREPORTED' | 'UNKNOWN';
export type SchedulerStatus = 'running' | 'stopping' | 'stopped' | 'unknown';

/** metadata.dynamic_scaling as `_updateHeartbeat` writes it; a field is null when absent or not a number/boolean. */
export interface DynamicScaling {
  enabled: boolean | null;
  currentBatchSize: number | null;
  baseBatchSize: number | null;
  lastQueueDepth: number | null;
}

export interface Heartbeat {
  instanceId: string | null;
  startedAt: Date | null;
  lastPollAt: Date | null;
  nextPollAt: Date | null;
  pollCount: number | null;
  dispatchCount: number | null;
  errorCount: number | null;
  breaker: BreakerState;
  rawBreaker: string | null;
  pausedReason: string | null;
  status: SchedulerStatus;
  rawStatus: string | null;
  observeOnly: boolean | null;
  gitSha: string | null;
  nodeVersion: string | null;
  updatedAt: Date | null;
  /** null when the row has no dynamic_scaling object (older writers, the watcher's insert). */
  dynamicScaling: DynamicScaling | null;
  /** Round names; null when metadata.registered_rounds is absent or not an array. */
  registeredRounds: string[] | null;
  /** metadata.last_round_runs (round → epoch ms of its last successful run); null when absent or not an object. */
  lastRoundRuns: ReadonlyMap<string, number> | null;
  roundExecutionCount: number | null;
  roundErrorCount: number | null;
  metricsWriteFailures: number | null;
}

/** At most this many round names are kept (the real scheduler registers about 15). */
export const MAX_ROUNDS = 50;

function parseRounds(value: unknown): string[] | null {
  if (!Array.isArray(value)) return null;
  const out: string[] = [];
  for (const v of value.slice(0, MAX_ROUNDS)) {
    const name = typeof v === 'string' ? cleanText(v, 80) : null;
    if (name) out.push(name);
  }
  return out;
}

/** last_round_runs as upstream's parseHeartbeatCadenceState reads it: finite positive numbers only. */
function parseRoundRuns(value: unknown): Map<string, number> | null {
  if (!isRecord(value)) return null;
  const out = new Map<string, number>();
  for (const [k, v] of Object.entries(value).slice(0, MAX_ROUNDS * 2)) {
    const n = typeof v === 'number' ? v : Number(v);
    if (k && Number.isFinite(n) && n > 0) out.set(k, n);
  }
  return out;
}

/**
 * Breaker words compared case-insensitively, as upstream's eva:health does
 * (scripts/eva-health-check.cjs: `String(row.circuit_breaker_state || '').toUpperCase() === 'OPEN'`).
 */
function parseBreaker(raw: string | null): BreakerState {
  if (raw === null) return 'UNREPORTED';
  const w = raw.trim().toUpperCase().replace(/[- ]/g, '_');
  return w === 'CLOSED' || w === 'OPEN' || w === 'HALF_OPEN' ? w : 'UNKNOWN';
}

function parseStatus(raw: string | null): SchedulerStatus {
  const w = raw?.trim().toLowerCase();
  return w === 'running' || w === 'stopping' || w === 'stopped' ? w : 'unknown';
}

function parseDynamicScaling(value: unknown): DynamicScaling | null {
  if (!isRecord(value)) return null;
  const count = (v: unknown) => {
    const n = parseNumber(v);
    return n === null || !Number.isInteger(n) ? null : n;
  };
  return {
    enabled: typeof value.enabled === 'boolean' ? value.enabled : null,
    currentBatchSize: count(value.current_batch_size),
    baseBatchSize: count(value.base_batch_size),
    lastQueueDepth: count(value.last_queue_depth),
  };
}

export function parseHeartbeat(row: unknown): Heartbeat | null {
  if (!isRecord(row)) return null;
  const meta = isRecord(row.metadata) ? row.metadata : {};
  const provenance = isRecord(meta.build_provenance) ? meta.build_provenance : {};
  const rawBreaker = cleanText(row.circuit_breaker_state, 40);
  const rawStatus = cleanText(row.status, 40);
  return {
    instanceId: cleanText(row.instance_id, 120),
    startedAt: parseTimestamp(row.started_at),
    lastPollAt: parseTimestamp(row.last_poll_at),
    nextPollAt: parseTimestamp(row.next_poll_at),
    pollCount: parseNumber(row.poll_count),
    dispatchCount: parseNumber(row.dispatch_count),
    errorCount: parseNumber(row.error_count),
    breaker: parseBreaker(rawBreaker),
    rawBreaker,
    pausedReason: cleanText(row.paused_reason, 200),
    status: parseStatus(rawStatus),
    rawStatus,
    observeOnly: typeof meta.observe_only === 'boolean' ? meta.observe_only : null,
    gitSha: cleanText(provenance.git_sha, 64),
    nodeVersion: cleanText(provenance.node_version, 40),
    updatedAt: parseTimestamp(row.updated_at),
    dynamicScaling: parseDynamicScaling(meta.dynamic_scaling),
    registeredRounds: parseRounds(meta.registered_rounds),
    lastRoundRuns: parseRoundRuns(meta.last_round_runs),
    roundExecutionCount: parseNumber(meta.round_execution_count),
    roundErrorCount: parseNumber(meta.round_error_count),
    metricsWriteFailures: parseNumber(meta.metrics_write_failures),
  };
}

/** What a heartbeat read produced, before judging health. */
export type HeartbeatObservation =
  | { kind: 'row'; heartbeat: Heartbeat }
  | { kind: 'no-row' }
  | { kind: 'not-visible' }
  | { kind: 'not-configured'; detail: string }
  | { kind: 'unreachable'; detail: string }
  | { kind: 'error'; detail: string };

/** The upstream scheduler's DEFAULT_POLL_INTERVAL_MS (EVA_SCHEDULER_POLL_INTERVAL_SECONDS unset). */
export const DEFAULT_POLL_INTERVAL_MS = 60_000;
/** The upstream DEFAULT_DISPATCH_BATCH_SIZE, used when a row's dynamic_scaling lacks base_batch_size. */
export const DEFAULT_BATCH_SIZE = 20;
/** "Not polling" at the stale threshold + (this − 1) intervals (about 900 s at the idle 180 s: the coordinator's EVA_SCHEDULER_STALE alarm). */
export const NOT_POLLING_INTERVALS = 5;
/** The watcher's token while it revives the daemon (`supervisor-${randomUUID().slice(0, 8)}`). */
export const SUPERVISOR_PREFIX = 'supervisor-';
/** The watcher waits this long for the spawned daemon to take over (CONFIRM_TIMEOUT_MS). */
export const WATCHER_CONFIRM_TIMEOUT_MS = 8_000;
const MAX_INTERVAL_MS = 24 * 3600_000;
/** Upstream DEFAULT_ROUND_TIMEOUT_MS: `runRound` races each round against it. */
export const ROUND_TIMEOUT_MS = 30_000;
/**
 * How long a watcher token may stand, counted from when this window first saw it, before the revival
 * counts as failed. Upstream the spawned daemon writes about 1.3 s after the claim and the watcher
 * gives up after CONFIRM_TIMEOUT_MS (8 s); the rest is room for one transitional read (10 s).
 */
export const REVIVAL_BOUND_MS = 30_000;
/** How often the heartbeat is read (focused window) while the row is in a transitional state. */
export const TRANSITIONAL_READ_MS = 10_000;
/**
 * Each registered round's cadence as upstream registers it (`_registerDefaultRounds`,
 * `_registerSensemakingMonitor`, `_registerNotificationRounds`; CADENCE_TO_MS). A round not listed
 * here is assumed due after the shortest cadence (10 min) once it has run, and due when it never has.
 */
const CADENCE = { frequent: 600_000, daily: 86_400_000, weekly: 604_800_000, monthly: 2_592_000_000 };
export const ROUND_CADENCE_MS: Readonly<Record<string, number>> = {
  vision_rescore: CADENCE.weekly,
  gap_analysis: CADENCE.weekly,
  stage_health: CADENCE.monthly,
  corrective_generation: CADENCE.weekly,
  apa_standing: CADENCE.daily,
  weekly_consultant_analysis: CADENCE.weekly,
  weekly_management_review: CADENCE.weekly,
  portfolio_review: CADENCE.weekly,
  friday_meeting: CADENCE.weekly,
  daily_burn_rate: CADENCE.daily,
  daily_digest: CADENCE.daily,
  weekly_summary: CADENCE.weekly,
  sensemaking_disposition_monitor: CADENCE.frequent,
};
/** Upstream registers about 15 rounds; the round allowance never assumes more than this many. */
const ROUNDS_ASSUMED_WHEN_UNKNOWN = 15;

/** Why the scheduler waits as long as it does between writes. */
export type IntervalBasis =
  | { kind: 'queue-empty'; baseMs: number }
  | { kind: 'queue-heavy'; baseMs: number; depth: number; batch: number }
  | { kind: 'queue-moderate'; baseMs: number; depth: number; batch: number }
  | { kind: 'queue-normal'; baseMs: number; depth: number; batch: number }
  | { kind: 'adaptive-off'; baseMs: number }
  | { kind: 'next-poll-at' }
  | { kind: 'default' };

export interface ExpectedInterval {
  /** Time between two writes, as the scheduler really waits it. */
  ms: number;
  basis: IntervalBasis;
}

/** The base interval a write reveals: next_poll_at − last_poll_at (always the base, even when adaptive). */
function baseIntervalMs(hb: Heartbeat): number | null {
  if (hb.lastPollAt && hb.nextPollAt) {
    const d = hb.nextPollAt.getTime() - hb.lastPollAt.getTime();
    if (d > 0 && d <= MAX_INTERVAL_MS) return d;
  }
  return null;
}

/**
 * The interval the scheduler really uses until its next write: from metadata.dynamic_scaling when
 * present (the same branches as `_computeAdaptiveInterval`, over the base from next_poll_at −
 * last_poll_at), else next_poll_at − last_poll_at, else 60 s.
 */
export function expectedPollInterval(hb: Heartbeat): ExpectedInterval {
  const base = baseIntervalMs(hb);
  const ds = hb.dynamicScaling;
  if (ds && ds.enabled === false) {
    return base === null
      ? { ms: DEFAULT_POLL_INTERVAL_MS, basis: { kind: 'default' } }
      : { ms: base, basis: { kind: 'adaptive-off', baseMs: base } };
  }
  if (ds && ds.enabled === true && ds.lastQueueDepth !== null) {
    const b = base ?? DEFAULT_POLL_INTERVAL_MS;
    const batch = ds.baseBatchSize !== null && ds.baseBatchSize > 0 ? ds.baseBatchSize : DEFAULT_BATCH_SIZE;
    const depth = ds.lastQueueDepth;
    // Upstream: depth is -1 when the queue query failed; that falls through to the base.
    if (depth === 0) return { ms: Math.min(b * 3, 300_000), basis: { kind: 'queue-empty', baseMs: b } };
    if (depth > batch * 2)
      return { ms: Math.max(b / 2, 10_000), basis: { kind: 'queue-heavy', baseMs: b, depth, batch } };
    if (depth > batch)
      return { ms: Math.max(b * 0.75, 15_000), basis: { kind: 'queue-moderate', baseMs: b, depth, batch } };
    return { ms: b, basis: { kind: 'queue-normal', baseMs: b, depth, batch } };
  }
  if (base !== null) return { ms: base, basis: { kind: 'next-poll-at' } };
  return { ms: DEFAULT_POLL_INTERVAL_MS, basis: { kind: 'default' } };
}

/** The scheduler's last write: last_poll_at, else updated_at, else started_at. */
export function lastWriteAt(hb: Heartbeat): Date | null {
  return hb.lastPollAt ?? hb.updatedAt ?? hb.startedAt;
}

/** The instance id is the watcher's revival token. */
export function isSupervisorToken(instanceId: string | null): boolean {
  return instanceId !== null && instanceId.startsWith(SUPERVISOR_PREFIX);
}

/** One write this window saw (from parseHeartbeat of a row read). */
export interface ObservedWrite {
  instanceId: string;
  pollCount: number;
  lastPollAtMs: number;
  /** The wait the scheduler chose after this write (expectedPollInterval(…).ms): the gap without rounds or lateness. */
  intervalMs: number;
  /** The rounds due after this write (roundAllowance: due rounds, or failing rounds a poll); their time is in the gap that follows. */
  dueRounds: number;
}

/** Verdicts that can last for days; read fast only for FAST_READ_WINDOW_MS after this window first saw them. */
export type LastingKind = 'no-row' | 'stopped' | 'stopping' | 'not-polling' | 'revival-failed';

/** What this window has seen over time; kept by the monitor, judged here. */
export interface HeartbeatHistory {
  /** The daemon writes seen, oldest first (the monitor keeps the last few). */
  writes: readonly ObservedWrite[];
  /** When (server clock) this window first saw a watcher token since the daemon last wrote; null when none. */
  revivalSeenSince: Date | null;
  /** The verdict the last read gave and since when (server clock) this window has given it without a break; null before any. */
  verdictSince?: { kind: SchedulerHealth['kind']; since: Date } | null;
}

export const NO_HISTORY: HeartbeatHistory = { writes: [], revivalSeenSince: null, verdictSince: null };
/** How many observed writes the monitor keeps (3 gaps). */
export const HISTORY_WRITES = 4;

/** The write as an observation for the history; null for a row that is not a daemon's write. */
export function observedWrite(hb: Heartbeat): ObservedWrite | null {
  if (!hb.instanceId || isSupervisorToken(hb.instanceId) || !hb.lastPollAt || hb.pollCount === null) return null;
  return {
    instanceId: hb.instanceId,
    pollCount: hb.pollCount,
    lastPollAtMs: hb.lastPollAt.getTime(),
    intervalMs: expectedPollInterval(hb).ms,
    dueRounds: dueRoundCount(roundAllowance(hb)),
  };
}

/** Adds a write to the history (once; the last HISTORY_WRITES kept; a new instance starts over). */
export function recordWrite(writes: readonly ObservedWrite[], w: ObservedWrite): ObservedWrite[] {
  const last = writes[writes.length - 1];
  if (
    last &&
    last.instanceId === w.instanceId &&
    last.pollCount === w.pollCount &&
    last.lastPollAtMs === w.lastPollAtMs
  )
    return [...writes];
  const same = writes.filter((x) => x.instanceId === w.instanceId && x.pollCount < w.pollCount);
  return [...same, w].slice(-HISTORY_WRITES);
}

/**
 * The history after a read. A write of the daemon is kept (its gaps teach how late this instance
 * really writes) and ends any revival; a watcher token is remembered from the first time it is seen,
 * and a token swapped for another (the watcher's next tick after a failed spawn) keeps that first
 * sighting, so a revival that keeps failing does not read as "reviving" again at every tick. No row
 * forgets the writes; a failed read changes nothing. The verdict's start (verdictSince) is kept by
 * noteVerdict, after judging.
 */
export function updateHistory(h: HeartbeatHistory, obs: HeartbeatObservation, now: Date): HeartbeatHistory {
  const verdictSince = h.verdictSince ?? null;
  if (obs.kind === 'no-row') return { ...NO_HISTORY, verdictSince };
  if (obs.kind !== 'row') return h;
  const hb = obs.heartbeat;
  if (isSupervisorToken(hb.instanceId)) return h.revivalSeenSince ? h : { ...h, revivalSeenSince: now };
  const w = observedWrite(hb);
  return { writes: w ? recordWrite(h.writes, w) : [...h.writes], revivalSeenSince: null, verdictSince };
}

/**
 * Remembers since when this window has given the current verdict (server clock). A verdict about the
 * row (or no row) that differs from the last one starts a new span; a read that failed or a window
 * without a backend (unreachable, error, not configured, loading) neither starts nor ends one.
 */
export function noteVerdict(h: HeartbeatHistory, health: SchedulerHealth, now: Date): HeartbeatHistory {
  const k = health.kind;
  if (k === 'unreachable' || k === 'error' || k === 'not-configured' || k === 'loading') return h;
  if (h.verdictSince && h.verdictSince.kind === k) return h;
  return { ...h, verdictSince: { kind: k, since: now } };
}

/** Why the rounds after this write may take as long as they do. */
export type RoundAllowance =
  | {
      kind: 'none';
      ms: 0;
      /** seen-in-gaps: due rounds whose real time this instance's gaps already show (in observedExtraMs). */
      reason: 'observe-only' | 'breaker-open' | 'no-rounds-known' | 'none-due' | 'seen-in-gaps';
    }
  /** Rounds due at the write (not run within their cadence, per last_round_runs): each may take the 30 s timeout. */
  | { kind: 'due-rounds'; ms: number; due: number }
  /** No last_round_runs: failed rounds per poll from the counters (they re-run every poll). */
  | { kind: 'failing-rounds'; ms: number; perPoll: number };

/**
 * The time the rounds after this write may take. `poll()` writes the heartbeat, then
 * `_executeScheduledRounds` runs every registered round whose cadence has elapsed since its last
 * successful run (last_round_runs), each raced against the 30 s timeout; a failed round is not
 * stamped and so is due again at the next poll. Observe-only skips them (only stamps); an OPEN
 * breaker returns before them.
 */
export function roundAllowance(hb: Heartbeat): RoundAllowance {
  if (hb.observeOnly === true) return { kind: 'none', ms: 0, reason: 'observe-only' };
  if (hb.breaker === 'OPEN') return { kind: 'none', ms: 0, reason: 'breaker-open' };
  const rounds = hb.registeredRounds;
  if (rounds === null || rounds.length === 0) return { kind: 'none', ms: 0, reason: 'no-rounds-known' };
  const at = (hb.lastPollAt ?? hb.updatedAt)?.getTime();
  if (hb.lastRoundRuns !== null && at !== undefined) {
    const runs = hb.lastRoundRuns;
    const due = rounds.filter((name) => {
      const last = runs.get(name);
      if (last === undefined) return true;
      return at - last >= (ROUND_CADENCE_MS[name] ?? CADENCE.frequent);
    }).length;
    return due === 0
      ? { kind: 'none', ms: 0, reason: 'none-due' }
      : { kind: 'due-rounds', ms: due * ROUND_TIMEOUT_MS, due };
  }
  // Counters are per instance: rounds run after polls 1 … poll_count − 1 have been counted.
  const errors = hb.roundErrorCount ?? 0;
  const polls = (hb.pollCount ?? 0) - 1;
  if (errors > 0 && polls > 0) {
    const perPoll = Math.min(rounds.length, Math.ceil(errors / polls));
    return { kind: 'failing-rounds', ms: perPoll * ROUND_TIMEOUT_MS, perPoll };
  }
  return { kind: 'none', ms: 0, reason: 'none-due' };
}

/** How many rounds an allowance counts (due rounds, or failing rounds a poll). */
export function dueRoundCount(r: RoundAllowance): number {
  return r.kind === 'due-rounds' ? r.due : r.kind === 'failing-rounds' ? r.perPoll : 0;
}

/** When the scheduler's next write is due, as it really behaves. */
export interface ExpectedWrite {
  /** The wait it chose (adaptive). */
  interval: ExpectedInterval;
  /**
   * The rounds that run between this write and that wait, at upstream's 30 s timeout each: all of
   * them until this instance's gaps have shown how long its rounds really take, then only rounds due
   * beyond those the gaps already covered.
   */
  rounds: RoundAllowance;
  /** How much later than its interval this instance's recent writes came (seen in at least 2 gaps), to 0.1 s, capped. */
  observedExtraMs: number;
  /** The earliest the next write can come: interval + observed extra. */
  earliestMs: number;
  /** The gap to the next write: interval + rounds + observed extra. */
  totalMs: number;
}

/** At least this many gaps of one instance must show a lateness before it counts (one suspend or slow job does not). */
export const LATENESS_GAPS = 2;
/** Lateness is counted to this step (rounded): jitter below half of it is none. */
const LATENESS_STEP_MS = 100;

/** The second largest of the values (the largest seen at least twice when counted as "≥"); 0 for fewer than 2. */
function secondLargest(values: number[]): number {
  if (values.length < LATENESS_GAPS) return 0;
  return [...values].sort((x, y) => y - x)[LATENESS_GAPS - 1];
}

/**
 * The gap between this write and the next: the adaptive interval, plus the rounds that run after the
 * write, plus what this window has seen this instance's writes run late by.
 *
 * Lateness is learned from the per-poll gaps between this instance's last few writes, each against
 * the interval its own row chose (so it holds the rounds' real time, a slow database, jobs): the
 * lateness counted is the one seen in at least 2 of the last 3 gaps (the second largest), so one
 * suspend or one slow job does not stretch the next expectations, while rounds that keep timing out
 * do. Until such gaps exist, each due round is allowed upstream's 30 s timeout (the daemon's
 * DEFAULT_ROUND_TIMEOUT_MS, a constant); once the gaps have covered the rounds due (the second
 * largest due count of the writes that opened them), only rounds due beyond those keep that prior.
 * So a daemon whose rounds time out faster (a test's scaled timeout) is judged by what it does.
 * Lateness is rounded to tenths of a second (a write's latency and timer jitter, tens of ms, are not
 * lateness; a sub-second round timeout is) and capped at 30 s × registered rounds.
 */
export function expectedNextWrite(hb: Heartbeat, history: HeartbeatHistory): ExpectedWrite {
  const interval = expectedPollInterval(hb);
  const prior = roundAllowance(hb);
  const cap = (hb.registeredRounds?.length || ROUNDS_ASSUMED_WHEN_UNKNOWN) * ROUND_TIMEOUT_MS;
  const ws = history.writes.filter((w) => w.instanceId === hb.instanceId);
  const extras: number[] = [];
  const dues: number[] = [];
  for (let i = Math.max(1, ws.length - 3); i < ws.length; i++) {
    const a = ws[i - 1];
    const b = ws[i];
    const polls = b.pollCount - a.pollCount;
    if (polls <= 0) continue;
    const perPoll = (b.lastPollAtMs - a.lastPollAtMs) / polls;
    if (!Number.isFinite(perPoll)) continue;
    extras.push(perPoll - a.intervalMs);
    dues.push(a.dueRounds);
  }
  const learned = extras.length >= LATENESS_GAPS;
  const observedExtraMs = learned
    ? Math.round(Math.min(cap, Math.max(0, secondLargest(extras))) / LATENESS_STEP_MS) * LATENESS_STEP_MS
    : 0;
  let rounds = prior;
  if (learned) {
    const beyond = dueRoundCount(prior) - secondLargest(dues);
    if (prior.kind === 'due-rounds')
      rounds = beyond > 0 ? { kind: 'due-rounds', ms: beyond * ROUND_TIMEOUT_MS, due: beyond } : NO_ROUNDS_BEYOND;
    else if (prior.kind === 'failing-rounds')
      rounds =
        beyond > 0 ? { kind: 'failing-rounds', ms: beyond * ROUND_TIMEOUT_MS, perPoll: beyond } : NO_ROUNDS_BEYOND;
  }
  return {
    interval,
    rounds,
    observedExtraMs,
    earliestMs: interval.ms + observedExtraMs,
    totalMs: interval.ms + rounds.ms + observedExtraMs,
  };
}
const NO_ROUNDS_BEYOND: RoundAllowance = { kind: 'none', ms: 0, reason: 'seen-in-gaps' };

/**
 * After the stale threshold, "not polling" comes this many intervals (the wait alone) later. A dead
 * daemon runs no rounds, so they are no excuse beyond the first missed write: at the idle 180 s that
 * is 5 × 180 s (+ grace), upstream's coordinator alarm EVA_SCHEDULER_STALE (900 s); with due rounds or
 * learned lateness only the first expectation grows, not the four after it.
 */
export const NOT_POLLING_EXTRA_INTERVALS = NOT_POLLING_INTERVALS - 1;

/** When the timing verdict changes: late after `staleAfterMs`, not polling after `notPollingAfterMs` (both from the last write). */
export interface Timing {
  expected: ExpectedWrite;
  /** now − last write, ≥ 0 (a last write in the future, from clock skew, counts as just now); null without any timestamp. */
  ageMs: number | null;
  staleAfterMs: number;
  notPollingAfterMs: number;
}

export function heartbeatTiming(
  hb: Heartbeat,
  now: Date,
  graceMs: number,
  history: HeartbeatHistory = NO_HISTORY,
): Timing {
  const expected = expectedNextWrite(hb, history);
  const grace = Number.isFinite(graceMs) && graceMs > 0 ? graceMs : 0;
  const last = lastWriteAt(hb);
  const staleAfterMs = expected.totalMs + grace;
  return {
    expected,
    ageMs: last ? Math.max(0, now.getTime() - last.getTime()) : null,
    staleAfterMs,
    notPollingAfterMs: staleAfterMs + NOT_POLLING_EXTRA_INTERVALS * expected.interval.ms,
  };
}

export type SchedulerHealth =
  | { kind: 'healthy'; heartbeat: Heartbeat }
  | { kind: 'stale'; heartbeat: Heartbeat; overdueMs: number; silentMs: number | null; expected: ExpectedWrite | null }
  | { kind: 'not-polling'; heartbeat: Heartbeat; silentMs: number; missed: number; expected: ExpectedWrite }
  | { kind: 'reviving'; heartbeat: Heartbeat; token: string; silentMs: number | null; seenForMs: number }
  /** A watcher token has stood longer than REVIVAL_BOUND_MS: the spawned daemon never wrote. */
  | { kind: 'revival-failed'; heartbeat: Heartbeat; token: string; silentMs: number | null; seenForMs: number }
  | { kind: 'no-rounds'; heartbeat: Heartbeat }
  | { kind: 'stopping'; heartbeat: Heartbeat }
  | { kind: 'stopped'; heartbeat: Heartbeat }
  | { kind: 'breaker-open'; heartbeat: Heartbeat }
  | { kind: 'breaker-half-open'; heartbeat: Heartbeat }
  | { kind: 'breaker-unknown'; heartbeat: Heartbeat }
  | { kind: 'paused'; heartbeat: Heartbeat; reason: string }
  | { kind: 'status-unknown'; heartbeat: Heartbeat }
  | { kind: 'no-row' }
  | { kind: 'not-visible' }
  | { kind: 'unreachable'; detail: string }
  | { kind: 'not-configured'; detail: string }
  | { kind: 'error'; detail: string }
  | { kind: 'loading' };

/** How long this window has seen the current watcher token (0 when it has just seen it, or has no history). */
function tokenSeenForMs(history: HeartbeatHistory, now: Date): number {
  const since = history.revivalSeenSince;
  return since ? Math.max(0, now.getTime() - since.getTime()) : 0;
}

/**
 * Judges the scheduler. `now` should already be corrected for clock skew against the server.
 * Order: what we cannot see; the watcher's revival token (its insert says 'stopped', its swap keeps
 * the dead daemon's 'running': neither is the daemon's word), failed once it has stood longer than
 * REVIVAL_BOUND_MS in this window's sight; a graceful stop or stopping; then the age of the last write
 * against the expected next write (interval + rounds + observed lateness: late, then not polling,
 * whatever status says); then the breaker; a pause; no registered rounds; an unknown status.
 */
export function assessSchedulerHealth(
  obs: HeartbeatObservation,
  now: Date,
  graceMs: number,
  history: HeartbeatHistory = NO_HISTORY,
): SchedulerHealth {
  switch (obs.kind) {
    case 'no-row':
    case 'not-visible':
      return { kind: obs.kind };
    case 'unreachable':
    case 'not-configured':
    case 'error':
      return { kind: obs.kind, detail: obs.detail };
    case 'row':
      break;
  }
  const hb = obs.heartbeat;
  const t = heartbeatTiming(hb, now, graceMs, history);
  if (isSupervisorToken(hb.instanceId)) {
    const seenForMs = tokenSeenForMs(history, now);
    return {
      kind: seenForMs > REVIVAL_BOUND_MS ? 'revival-failed' : 'reviving',
      heartbeat: hb,
      token: hb.instanceId as string,
      silentMs: hb.lastPollAt ? t.ageMs : null,
      seenForMs,
    };
  }
  if (hb.status === 'stopped') return { kind: 'stopped', heartbeat: hb };
  if (hb.status === 'stopping') return { kind: 'stopping', heartbeat: hb };
  if (t.ageMs === null) return { kind: 'stale', heartbeat: hb, overdueMs: Infinity, silentMs: null, expected: null };
  if (t.ageMs > t.notPollingAfterMs)
    return {
      kind: 'not-polling',
      heartbeat: hb,
      silentMs: t.ageMs,
      // The first expected write (with its rounds), then one a wait: as notPollingAfterMs counts them.
      missed: 1 + Math.floor(Math.max(0, t.ageMs - t.expected.totalMs) / Math.max(1, t.expected.interval.ms)),
      expected: t.expected,
    };
  if (t.ageMs > t.staleAfterMs)
    return {
      kind: 'stale',
      heartbeat: hb,
      overdueMs: t.ageMs - t.expected.totalMs,
      silentMs: t.ageMs,
      expected: t.expected,
    };
  if (hb.breaker === 'OPEN') return { kind: 'breaker-open', heartbeat: hb };
  if (hb.breaker === 'HALF_OPEN') return { kind: 'breaker-half-open', heartbeat: hb };
  if (hb.breaker === 'UNKNOWN') return { kind: 'breaker-unknown', heartbeat: hb };
  if (hb.pausedReason) return { kind: 'paused', heartbeat: hb, reason: hb.pausedReason };
  if (hb.registeredRounds !== null && hb.registeredRounds.length === 0) return { kind: 'no-rounds', heartbeat: hb };
  if (hb.status === 'unknown') return { kind: 'status-unknown', heartbeat: hb };
  return { kind: 'healthy', heartbeat: hb };
}

/**
 * When the verdict on the same row changes next by time alone, in ms from now: late, then not
 * polling; reviving, then revival failed. null when it will not change by time alone (stopped,
 * stopping, revival failed, already not polling, no timestamps).
 * Lets the status bar change at the right moment even while reads are stretched.
 */
export function nextVerdictChangeMs(
  health: SchedulerHealth,
  now: Date,
  graceMs: number,
  history: HeartbeatHistory = NO_HISTORY,
): number | null {
  if (!('heartbeat' in health)) return null;
  if (health.kind === 'reviving') return history.revivalSeenSince ? REVIVAL_BOUND_MS - health.seenForMs : null;
  if (
    health.kind === 'stopped' ||
    health.kind === 'stopping' ||
    health.kind === 'revival-failed' ||
    health.kind === 'not-polling'
  )
    return null;
  const t = heartbeatTiming(health.heartbeat, now, graceMs, history);
  if (t.ageMs === null) return null;
  if (t.ageMs <= t.staleAfterMs) return t.staleAfterMs - t.ageMs;
  if (t.ageMs <= t.notPollingAfterMs) return t.notPollingAfterMs - t.ageMs;
  return null;
}

/** States in which the row is expected to change soon (or a change must show soon): read every TRANSITIONAL_READ_MS. */
const TRANSITIONAL: ReadonlySet<SchedulerHealth['kind']> = new Set([
  'no-row',
  'stopped',
  'stopping',
  'reviving',
  'revival-failed',
  'stale',
  'not-polling',
]);
/**
 * Of those, the ones that can last for days (a table nobody writes, a stopped or dead daemon, a
 * revival that failed, a foreign 'stopping'): read fast only for FAST_READ_WINDOW_MS after this
 * window first saw the verdict. 'reviving' (≤ REVIVAL_BOUND_MS) and 'stale' (until not polling, 4
 * intervals) end by time on their own.
 */
const LASTING: ReadonlySet<SchedulerHealth['kind']> = new Set<LastingKind>([
  'no-row',
  'stopped',
  'stopping',
  'not-polling',
  'revival-failed',
]);
/**
 * How long a lasting state is read every TRANSITIONAL_READ_MS after this window first saw it: 5 min,
 * one period of the watcher's cron (scripts/cron/eva-scheduler-watcher.mjs, every 5–15 min) and its
 * 300 s threshold — a start, a restart or a revival that follows a stop, a crash or a failed spawn
 * comes within that (an operator's restart, the watcher's next tick); a state older than that is not
 * transitional, and is read at the normal cadence (LASTING_READ_MS at most) instead of 6 a minute.
 */
export const FAST_READ_WINDOW_MS = 5 * 60_000;
/** The read cadence of a lasting state after FAST_READ_WINDOW_MS: a change then shows within about a minute. */
export const LASTING_READ_MS = 60_000;

/**
 * When to read the heartbeat next. While the scheduler runs: just after its expected next write, not
 * on a fast fixed timer, so a focused idle window reads once per write — at the earliest the write can
 * come (interval + observed lateness); if rounds were due and it has not come yet, every
 * TRANSITIONAL_READ_MS until the end of their allowance; then just after the grace (so "stale" shows
 * promptly). The settle time stays under half the grace so the write is read before the row would
 * turn late. In a transitional state (no row, stopped, stopping, reviving, revival failed, stale, not
 * polling) every TRANSITIONAL_READ_MS, so a start, a revival or a stop shows within 15 s; but a state
 * that can last for days (no row, stopped, stopping, not polling, revival failed) only for
 * FAST_READ_WINDOW_MS after this window first saw it (history.verdictSince), then at the scheduler's
 * interval (the row's expected interval, or 60 s without a row), at most LASTING_READ_MS. Bounds keep
 * a broken clock or a hostile row from causing a tight loop or a silent hour.
 */
export function nextHeartbeatReadDelayMs(
  health: SchedulerHealth,
  now: Date,
  opts: { settleMs: number; minMs: number; maxMs: number; graceMs?: number },
  history: HeartbeatHistory = NO_HISTORY,
): number {
  const clamp = (ms: number) => Math.min(opts.maxMs, Math.max(opts.minMs, ms));
  if (LASTING.has(health.kind)) {
    const seen = history.verdictSince;
    const seenForMs = seen && seen.kind === health.kind ? now.getTime() - seen.since.getTime() : 0;
    if (seenForMs < FAST_READ_WINDOW_MS) return clamp(TRANSITIONAL_READ_MS);
    const interval = 'heartbeat' in health ? expectedPollInterval(health.heartbeat).ms : DEFAULT_POLL_INTERVAL_MS;
    return clamp(Math.min(LASTING_READ_MS, interval));
  }
  if (TRANSITIONAL.has(health.kind)) return clamp(TRANSITIONAL_READ_MS);
  if (!('heartbeat' in health)) return clamp(DEFAULT_POLL_INTERVAL_MS);
  const grace = opts.graceMs !== undefined && Number.isFinite(opts.graceMs) && opts.graceMs > 0 ? opts.graceMs : 0;
  const settle = opts.graceMs === undefined ? opts.settleMs : Math.min(opts.settleMs, grace / 2);
  const t = heartbeatTiming(health.heartbeat, now, grace, history);
  if (t.ageMs === null) return clamp(t.expected.totalMs);
  if (t.ageMs < t.expected.earliestMs) return clamp(t.expected.earliestMs - t.ageMs + settle);
  // Past the earliest write while due rounds may still be running: every TRANSITIONAL_READ_MS, so a
  // stop, a crash or the watcher's claim in the meantime shows within 15 s, not at the allowance's end.
  if (t.ageMs < t.expected.totalMs) return clamp(Math.min(t.expected.totalMs - t.ageMs + settle, TRANSITIONAL_READ_MS));
  const untilStale = t.staleAfterMs - t.ageMs;
  if (untilStale >= 0) return clamp(untilStale + settle);
  return clamp(TRANSITIONAL_READ_MS);
}
