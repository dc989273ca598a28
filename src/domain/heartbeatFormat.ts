// Words for the scheduler's state, shared by the status bar, its tooltip and the details view.
import { formatRelative } from './format';
import {
  expectedPollInterval,
  ExpectedInterval,
  Heartbeat,
  lastWriteAt,
  NOT_POLLING_INTERVALS,
  SchedulerHealth,
  WATCHER_CONFIRM_TIMEOUT_MS,
} from './heartbeat';

export type Severity = 'ok' | 'info' | 'warning' | 'error';

export interface HealthPresentation {
  /** Short status-bar text (without icon). */
  text: string;
  icon: string;
  severity: Severity;
  /** One sentence: what it means and, where useful, what to do. */
  explanation: string;
}

export function presentHealth(h: SchedulerHealth): HealthPresentation {
  switch (h.kind) {
    case 'healthy':
      return {
        text: 'EVA: running',
        icon: 'pulse',
        severity: 'ok',
        explanation: 'The EVA master scheduler is polling on time.',
      };
    case 'stale': {
      const iv = describeInterval(expectedPollInterval(h.heartbeat));
      const when =
        Number.isFinite(h.overdueMs) && h.silentMs !== null
          ? `The scheduler's next heartbeat was due ${span(h.overdueMs)} ago (it writes ${iv}); last poll ${span(h.silentMs)} ago.`
          : 'The heartbeat row has no poll time, so the scheduler has never been seen polling.';
      return {
        text: 'EVA: stale',
        icon: 'warning',
        severity: 'warning',
        explanation: `${when} It may have crashed or lost its database connection.`,
      };
    }
    case 'not-polling': {
      const iv = describeInterval(expectedPollInterval(h.heartbeat));
      const status = h.heartbeat.rawStatus === null ? 'no status' : `status still says ${h.heartbeat.rawStatus}`;
      return {
        text: 'EVA: not polling',
        icon: 'error',
        severity: 'error',
        explanation: `The scheduler is not polling: last poll ${span(h.silentMs)} ago; ${status}. That is ${h.missed} missed writes (it writes ${iv}; this shows after ${NOT_POLLING_INTERVALS}). A crashed daemon leaves its status as it was: start it again (npm run eva:scheduler:start) or let the watcher revive it.`,
      };
    }
    case 'reviving':
      return {
        text: 'EVA: reviving',
        icon: 'sync~spin',
        severity: 'warning',
        explanation: `The watcher (eva-scheduler-watcher) holds the heartbeat with token ${h.token} and is starting a new scheduler${h.silentMs === null ? '' : `; the last poll was ${span(h.silentMs)} ago`}. The new instance's first write ends this. The watcher confirms a takeover within ${WATCHER_CONFIRM_TIMEOUT_MS / 1000} s; if this lasts, the revival failed and the watcher retries on its next run.`,
      };
    case 'no-rounds':
      return {
        text: 'EVA: no rounds',
        icon: 'warning',
        severity: 'warning',
        explanation:
          'The scheduler polls on time but registers no rounds (metadata.registered_rounds is empty), so no EVA round runs. Restart the scheduler to register them again.',
      };
    case 'stopping':
      return {
        text: 'EVA: stopping',
        icon: 'loading~spin',
        severity: 'warning',
        explanation: 'The scheduler is shutting down.',
      };
    case 'stopped':
      return {
        text: 'EVA: stopped',
        icon: 'debug-stop',
        severity: 'error',
        explanation: 'The scheduler stopped gracefully. Nothing is dispatched until it is started again.',
      };
    case 'breaker-open':
      return {
        text: 'EVA: breaker OPEN',
        icon: 'circle-slash',
        severity: 'error',
        explanation: 'The circuit breaker is OPEN: the scheduler skips dispatch until it recovers.',
      };
    case 'breaker-half-open':
      return {
        text: 'EVA: breaker half-open',
        icon: 'debug-pause',
        severity: 'warning',
        explanation: 'The circuit breaker is HALF_OPEN: the scheduler is testing whether dispatch works again.',
      };
    case 'breaker-unknown':
      return {
        text: 'EVA: breaker unknown',
        icon: 'question',
        severity: 'warning',
        explanation: `The circuit breaker reports a state this extension does not know (${h.heartbeat.rawBreaker ?? ''}).`,
      };
    case 'paused':
      return {
        text: 'EVA: paused',
        icon: 'debug-pause',
        severity: 'warning',
        explanation: `The scheduler is paused: ${h.reason}.`,
      };
    case 'status-unknown':
      return {
        text: 'EVA: unknown status',
        icon: 'question',
        severity: 'warning',
        explanation: `The scheduler reports a status this extension does not know (${h.heartbeat.rawStatus ?? ''}).`,
      };
    case 'no-row':
      return {
        text: 'EVA: no heartbeat',
        icon: 'circle-outline',
        severity: 'warning',
        explanation: 'No scheduler has written a heartbeat: no workers are running.',
      };
    case 'not-visible':
      return {
        text: 'EVA: not visible',
        icon: 'eye-closed',
        severity: 'info',
        explanation:
          'The heartbeat is not visible with this key (row-level security lets only authenticated or service-role keys read it). This says nothing about whether the scheduler runs.',
      };
    case 'unreachable':
      return {
        text: 'EVA: unreachable',
        icon: 'cloud-offline',
        severity: 'error',
        explanation: `The backend could not be reached, so the scheduler's state is unknown. ${h.detail}`,
      };
    case 'not-configured':
      return {
        text: 'EVA: not configured',
        icon: 'plug',
        severity: 'info',
        explanation: `No connection is configured. ${h.detail}`,
      };
    case 'error':
      return { text: 'EVA: error', icon: 'error', severity: 'error', explanation: h.detail };
    case 'loading':
      return { text: 'EVA', icon: 'sync~spin', severity: 'info', explanation: 'Reading the scheduler heartbeat…' };
  }
}

/** "3 min", "45 s", "7.5 s", "2.5 min": an interval as people say it. */
export function span(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 120_000 && ms % 60_000 !== 0) return `${Number((ms / 1000).toFixed(ms < 10_000 ? 1 : 0))} s`;
  if (ms < 3600_000) return ms % 60_000 === 0 ? `${ms / 60_000} min` : `${Math.floor(ms / 60_000)} min`;
  const h = Math.floor(ms / 3600_000);
  const m = Math.floor((ms % 3600_000) / 60_000);
  return m ? `${h} h ${m} min` : `${h} h`;
}

/** "every 3 min: queue empty": the interval in use and why. */
export function describeInterval(iv: ExpectedInterval): string {
  const every = `every ${span(iv.ms)}`;
  const b = iv.basis;
  switch (b.kind) {
    case 'queue-empty':
      return `${every}: queue empty`;
    case 'queue-heavy':
      return `${every}: queue ${b.depth} > 2 × batch ${b.batch}`;
    case 'queue-moderate':
      return `${every}: queue ${b.depth} > batch ${b.batch}`;
    case 'queue-normal':
      return b.depth < 0
        ? `${every}: queue depth unknown (the queue query failed)`
        : `${every}: queue ${b.depth} ≤ batch ${b.batch}`;
    case 'adaptive-off':
      return `${every}: adaptive polling off`;
    case 'next-poll-at':
      return `${every}: next_poll_at − last_poll_at`;
    case 'default':
      return `${every}: the default (no poll times in the row)`;
  }
}

/** Label/value pairs describing the heartbeat row, for tooltips and details (values unescaped). */
export function heartbeatFacts(hb: Heartbeat, now: Date): Array<[string, string]> {
  const n = (v: number | null) => (v === null ? '—' : String(v));
  const iv = expectedPollInterval(hb);
  const last = lastWriteAt(hb);
  const expected = last ? new Date(last.getTime() + iv.ms) : null;
  const ds = hb.dynamicScaling;
  const depth = ds?.lastQueueDepth ?? null;
  const rounds = hb.registeredRounds;
  const facts: Array<[string, string]> = [
    ['Instance', hb.instanceId ?? '—'],
    ['Status', hb.rawStatus ?? '—'],
    ['Last poll', hb.lastPollAt ? `${formatRelative(hb.lastPollAt, now)} (${hb.lastPollAt.toISOString()})` : '—'],
    ['Interval', describeInterval(iv)],
    ['Next write expected', expected ? `${formatRelative(expected, now)} (${expected.toISOString()})` : '—'],
    ['next_poll_at', hb.nextPollAt ? `${formatRelative(hb.nextPollAt, now)} (${hb.nextPollAt.toISOString()})` : '—'],
    [
      'Queue depth',
      depth === null
        ? '—'
        : depth < 0
          ? 'unknown (the queue query failed)'
          : `${depth}${ds?.currentBatchSize != null ? ` (batch ${ds.currentBatchSize}${ds.baseBatchSize != null && ds.baseBatchSize !== ds.currentBatchSize ? `, base ${ds.baseBatchSize}` : ''})` : ''}`,
    ],
    [
      'Registered rounds',
      rounds === null
        ? '—'
        : rounds.length === 0
          ? 'none'
          : `${rounds.length}: ${rounds.slice(0, 8).join(', ')}${rounds.length > 8 ? ', …' : ''}`,
    ],
    ['Rounds run / failed', `${n(hb.roundExecutionCount)} / ${n(hb.roundErrorCount)}`],
    ['Polls / dispatches / errors', `${n(hb.pollCount)} / ${n(hb.dispatchCount)} / ${n(hb.errorCount)}`],
    ['Circuit breaker', hb.breaker === 'UNREPORTED' ? 'not reported' : (hb.rawBreaker ?? '—')],
    ['Paused reason', hb.pausedReason ?? '—'],
    ['Observe-only', hb.observeOnly === null ? '—' : hb.observeOnly ? 'yes' : 'no'],
    ['Build', hb.gitSha ? `${hb.gitSha.slice(0, 12)}${hb.nodeVersion ? ` (node ${hb.nodeVersion})` : ''}` : '—'],
    ['Row created', hb.startedAt ? `${formatRelative(hb.startedAt, now)} (${hb.startedAt.toISOString()})` : '—'],
  ];
  return facts;
}
