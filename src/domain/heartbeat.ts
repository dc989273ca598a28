// EVA scheduler heartbeat (table eva_scheduler_heartbeat, singleton id = 1): parsing and health.
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
    breaker: rawBreaker === null ? 'UNREPORTED' : rawBreaker === 'CLOSED' || rawBreaker === 'OPEN' || rawBreaker === 'HALF_OPEN' ? rawBreaker : 'UNKNOWN',
    rawBreaker,
    pausedReason: cleanText(row.paused_reason, 200),
    status: rawStatus === 'running' || rawStatus === 'stopping' || rawStatus === 'stopped' ? rawStatus : 'unknown',
    rawStatus,
    observeOnly: typeof meta.observe_only === 'boolean' ? meta.observe_only : null,
    gitSha: cleanText(provenance.git_sha, 64),
    nodeVersion: cleanText(provenance.node_version, 40),
    updatedAt: parseTimestamp(row.updated_at),
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

export type SchedulerHealth =
  | { kind: 'healthy'; heartbeat: Heartbeat }
  | { kind: 'stale'; heartbeat: Heartbeat; overdueMs: number }
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

export const DEFAULT_POLL_INTERVAL_MS = 60_000;
/** The CLI health check: stale when the last poll is older than 5 × the poll interval. */
export const STALE_INTERVAL_MULTIPLE = 5;

/** The scheduler's poll interval, as its own writes reveal it (next_poll_at = last_poll_at + interval). */
export function pollIntervalMs(hb: Heartbeat): number {
  if (hb.lastPollAt && hb.nextPollAt) {
    const d = hb.nextPollAt.getTime() - hb.lastPollAt.getTime();
    if (d > 0 && d <= 24 * 3600_000) return d;
  }
  return DEFAULT_POLL_INTERVAL_MS;
}

/**
 * How late the scheduler is, in ms (≤ 0 when on time). `now` should already be corrected for clock
 * skew against the server. Without next_poll_at, falls back to the CLI's 5 × interval rule.
 */
export function overdueMs(hb: Heartbeat, now: Date, graceMs: number): number | null {
  if (hb.nextPollAt) return now.getTime() - (hb.nextPollAt.getTime() + graceMs);
  const last = hb.lastPollAt ?? hb.updatedAt ?? hb.startedAt;
  if (!last) return null;
  return now.getTime() - (last.getTime() + STALE_INTERVAL_MULTIPLE * pollIntervalMs(hb));
}

/**
 * Judges the scheduler. Order matters: what we cannot see comes first; then a stopped or stopping
 * scheduler (its own word); then silence (stale: anything else it says is old news); then the
 * breaker; then a pause.
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
  if (hb.status === 'stopped') return { kind: 'stopped', heartbeat: hb };
  if (hb.status === 'stopping') return { kind: 'stopping', heartbeat: hb };
  const late = overdueMs(hb, now, graceMs);
  if (late === null || late > 0) return { kind: 'stale', heartbeat: hb, overdueMs: late ?? Infinity };
  if (hb.breaker === 'OPEN') return { kind: 'breaker-open', heartbeat: hb };
  if (hb.breaker === 'HALF_OPEN') return { kind: 'breaker-half-open', heartbeat: hb };
  if (hb.breaker === 'UNKNOWN') return { kind: 'breaker-unknown', heartbeat: hb };
  if (hb.pausedReason) return { kind: 'paused', heartbeat: hb, reason: hb.pausedReason };
  if (hb.status === 'unknown') return { kind: 'status-unknown', heartbeat: hb };
  return { kind: 'healthy', heartbeat: hb };
}

/**
 * When to read the heartbeat next: shortly after the scheduler's next write, not on a fast fixed
 * timer. When the scheduler is late, re-read just after the grace period runs out (so "stale" shows
 * promptly), then at the poll interval. Bounds keep a broken clock or a hostile next_poll_at from
 * causing a tight loop or a silent hour.
 */
export function nextHeartbeatReadDelayMs(health: SchedulerHealth, now: Date, opts: { settleMs: number; minMs: number; maxMs: number; graceMs?: number }): number {
  const clamp = (ms: number) => Math.min(opts.maxMs, Math.max(opts.minMs, ms));
  if ('heartbeat' in health) {
    const hb = health.heartbeat;
    const interval = pollIntervalMs(hb);
    if (hb.nextPollAt && hb.status !== 'stopped') {
      const untilNext = hb.nextPollAt.getTime() - now.getTime();
      if (untilNext >= 0) return clamp(untilNext + opts.settleMs);
      const untilStale = untilNext + (opts.graceMs ?? 0);
      if (untilStale >= 0) return clamp(untilStale + opts.settleMs);
    }
    return clamp(interval);
  }
  return clamp(DEFAULT_POLL_INTERVAL_MS);
}
