// EVA scheduler heartbeat (table eva_scheduler_heartbeat, singleton id = 1): parsing and health.
//
// The rules follow the real writer, EHG_Engineer's lib/eva/eva-master-scheduler.js (`_updateHeartbeat`,
// `_computeAdaptiveInterval`), and the watcher that revives it, scripts/cron/eva-scheduler-watcher.mjs:
//  - every write sets next_poll_at = now + the BASE interval, but with adaptive polling (the default)
//    the next write really comes after an interval derived from the queue depth, which the write
//    records in metadata.dynamic_scaling (idle: 3 × base, so 180 s while next_poll_at says 60 s);
//  - a crashed daemon leaves status 'running' with a frozen last_poll_at: only the age counts;
//  - the watcher swaps instance_id to `supervisor-<8 hex>` without touching last_poll_at (or inserts
//    the row with status 'stopped'), then the daemon it spawns writes as a new `scheduler-…` instance.
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
    breaker:
      rawBreaker === null
        ? 'UNREPORTED'
        : rawBreaker === 'CLOSED' || rawBreaker === 'OPEN' || rawBreaker === 'HALF_OPEN'
          ? rawBreaker
          : 'UNKNOWN',
    rawBreaker,
    pausedReason: cleanText(row.paused_reason, 200),
    status: rawStatus === 'running' || rawStatus === 'stopping' || rawStatus === 'stopped' ? rawStatus : 'unknown',
    rawStatus,
    observeOnly: typeof meta.observe_only === 'boolean' ? meta.observe_only : null,
    gitSha: cleanText(provenance.git_sha, 64),
    nodeVersion: cleanText(provenance.node_version, 40),
    updatedAt: parseTimestamp(row.updated_at),
    dynamicScaling: parseDynamicScaling(meta.dynamic_scaling),
    registeredRounds: parseRounds(meta.registered_rounds),
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
/** "Not polling" after this many expected intervals without a write (900 s at the idle 180 s: the coordinator's EVA_SCHEDULER_STALE alarm). */
export const NOT_POLLING_INTERVALS = 5;
/** The watcher's token while it revives the daemon (`supervisor-${randomUUID().slice(0, 8)}`). */
export const SUPERVISOR_PREFIX = 'supervisor-';
/** The watcher waits this long for the spawned daemon to take over (CONFIRM_TIMEOUT_MS). */
export const WATCHER_CONFIRM_TIMEOUT_MS = 8_000;
const MAX_INTERVAL_MS = 24 * 3600_000;

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

/** When the timing verdict changes: late after `staleAfterMs`, not polling after `notPollingAfterMs` (both from the last write). */
export interface Timing {
  interval: ExpectedInterval;
  /** now − last write, ≥ 0 (a last write in the future, from clock skew, counts as just now); null without any timestamp. */
  ageMs: number | null;
  staleAfterMs: number;
  notPollingAfterMs: number;
}

export function heartbeatTiming(hb: Heartbeat, now: Date, graceMs: number): Timing {
  const interval = expectedPollInterval(hb);
  const grace = Number.isFinite(graceMs) && graceMs > 0 ? graceMs : 0;
  const last = lastWriteAt(hb);
  const staleAfterMs = interval.ms + grace;
  return {
    interval,
    ageMs: last ? Math.max(0, now.getTime() - last.getTime()) : null,
    staleAfterMs,
    notPollingAfterMs: Math.max(NOT_POLLING_INTERVALS * interval.ms, staleAfterMs),
  };
}

export type SchedulerHealth =
  | { kind: 'healthy'; heartbeat: Heartbeat }
  | { kind: 'stale'; heartbeat: Heartbeat; overdueMs: number; silentMs: number | null }
  | { kind: 'not-polling'; heartbeat: Heartbeat; silentMs: number; missed: number }
  | { kind: 'reviving'; heartbeat: Heartbeat; token: string; silentMs: number | null }
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

/**
 * Judges the scheduler. `now` should already be corrected for clock skew against the server.
 * Order: what we cannot see; the watcher's revival token (its insert says 'stopped', its swap keeps
 * the dead daemon's 'running': neither is the daemon's word); a graceful stop or stopping; then the
 * age of the last write against the expected interval (late, then not polling, whatever status
 * says); then the breaker; a pause; no registered rounds; an unknown status.
 */
export function assessSchedulerHealth(obs: HeartbeatObservation, now: Date, graceMs: number): SchedulerHealth {
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
  const t = heartbeatTiming(hb, now, graceMs);
  if (isSupervisorToken(hb.instanceId))
    return {
      kind: 'reviving',
      heartbeat: hb,
      token: hb.instanceId as string,
      silentMs: hb.lastPollAt ? t.ageMs : null,
    };
  if (hb.status === 'stopped') return { kind: 'stopped', heartbeat: hb };
  if (hb.status === 'stopping') return { kind: 'stopping', heartbeat: hb };
  if (t.ageMs === null) return { kind: 'stale', heartbeat: hb, overdueMs: Infinity, silentMs: null };
  if (t.ageMs > t.notPollingAfterMs)
    return { kind: 'not-polling', heartbeat: hb, silentMs: t.ageMs, missed: Math.floor(t.ageMs / t.interval.ms) };
  if (t.ageMs > t.staleAfterMs)
    return { kind: 'stale', heartbeat: hb, overdueMs: t.ageMs - t.interval.ms, silentMs: t.ageMs };
  if (hb.breaker === 'OPEN') return { kind: 'breaker-open', heartbeat: hb };
  if (hb.breaker === 'HALF_OPEN') return { kind: 'breaker-half-open', heartbeat: hb };
  if (hb.breaker === 'UNKNOWN') return { kind: 'breaker-unknown', heartbeat: hb };
  if (hb.pausedReason) return { kind: 'paused', heartbeat: hb, reason: hb.pausedReason };
  if (hb.registeredRounds !== null && hb.registeredRounds.length === 0) return { kind: 'no-rounds', heartbeat: hb };
  if (hb.status === 'unknown') return { kind: 'status-unknown', heartbeat: hb };
  return { kind: 'healthy', heartbeat: hb };
}

/**
 * When the verdict on the same row changes next (late, then not polling), in ms from now; null when
 * it will not change by time alone (stopped, stopping, reviving, already not polling, no timestamps).
 * Lets the status bar turn stale at the right moment even while reads are stretched.
 */
export function nextVerdictChangeMs(health: SchedulerHealth, now: Date, graceMs: number): number | null {
  if (!('heartbeat' in health)) return null;
  if (
    health.kind === 'stopped' ||
    health.kind === 'stopping' ||
    health.kind === 'reviving' ||
    health.kind === 'not-polling'
  )
    return null;
  const t = heartbeatTiming(health.heartbeat, now, graceMs);
  if (t.ageMs === null) return null;
  if (t.ageMs <= t.staleAfterMs) return t.staleAfterMs - t.ageMs;
  if (t.ageMs <= t.notPollingAfterMs) return t.notPollingAfterMs - t.ageMs;
  return null;
}

/**
 * When to read the heartbeat next: just after the scheduler's expected next write (last write + the
 * interval it really uses), not on a fast fixed timer, so a focused window reads about once per
 * write. The settle time stays under half the grace so the write is read before the row would turn
 * late. When the scheduler is late, re-read just after the grace runs out (so "stale" shows
 * promptly), then at the expected interval. While the watcher revives it, re-read within 30 s (the
 * new instance writes within the watcher's 8 s confirm window). Bounds keep a broken clock or a
 * hostile row from causing a tight loop or a silent hour.
 */
export function nextHeartbeatReadDelayMs(
  health: SchedulerHealth,
  now: Date,
  opts: { settleMs: number; minMs: number; maxMs: number; graceMs?: number },
): number {
  const clamp = (ms: number) => Math.min(opts.maxMs, Math.max(opts.minMs, ms));
  if (!('heartbeat' in health)) return clamp(DEFAULT_POLL_INTERVAL_MS);
  const grace = opts.graceMs !== undefined && Number.isFinite(opts.graceMs) && opts.graceMs > 0 ? opts.graceMs : 0;
  const settle = opts.graceMs === undefined ? opts.settleMs : Math.min(opts.settleMs, grace / 2);
  const t = heartbeatTiming(health.heartbeat, now, grace);
  if (health.kind === 'reviving') return clamp(Math.min(t.interval.ms, 30_000));
  if (health.kind === 'stopped' || t.ageMs === null) return clamp(t.interval.ms);
  const untilNext = t.interval.ms - t.ageMs;
  if (untilNext >= 0) return clamp(untilNext + settle);
  const untilStale = t.staleAfterMs - t.ageMs;
  if (untilStale >= 0) return clamp(untilStale + settle);
  return clamp(t.interval.ms);
}
