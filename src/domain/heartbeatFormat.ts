// Words for the scheduler's state, shared by the status bar, its tooltip and the details view.
import { formatDuration, formatRelative } from './format';
import { Heartbeat, pollIntervalMs, SchedulerHealth } from './heartbeat';

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
      return { text: 'EVA: running', icon: 'pulse', severity: 'ok', explanation: 'The EVA master scheduler is polling on time.' };
    case 'stale':
      return { text: 'EVA: stale', icon: 'warning', severity: 'warning', explanation: `The scheduler has not written a heartbeat when expected${Number.isFinite(h.overdueMs) ? ` (overdue by ${formatDuration(h.overdueMs)})` : ''}. It may have crashed or lost its database connection.` };
    case 'stopping':
      return { text: 'EVA: stopping', icon: 'loading~spin', severity: 'warning', explanation: 'The scheduler is shutting down.' };
    case 'stopped':
      return { text: 'EVA: stopped', icon: 'debug-stop', severity: 'error', explanation: 'The scheduler stopped gracefully. Nothing is dispatched until it is started again.' };
    case 'breaker-open':
      return { text: 'EVA: breaker OPEN', icon: 'circle-slash', severity: 'error', explanation: 'The circuit breaker is OPEN: the scheduler skips dispatch until it recovers.' };
    case 'breaker-half-open':
      return { text: 'EVA: breaker half-open', icon: 'debug-pause', severity: 'warning', explanation: 'The circuit breaker is HALF_OPEN: the scheduler is testing whether dispatch works again.' };
    case 'breaker-unknown':
      return { text: 'EVA: breaker unknown', icon: 'question', severity: 'warning', explanation: `The circuit breaker reports a state this extension does not know (${h.heartbeat.rawBreaker ?? ''}).` };
    case 'paused':
      return { text: 'EVA: paused', icon: 'debug-pause', severity: 'warning', explanation: `The scheduler is paused: ${h.reason}.` };
    case 'status-unknown':
      return { text: 'EVA: unknown status', icon: 'question', severity: 'warning', explanation: `The scheduler reports a status this extension does not know (${h.heartbeat.rawStatus ?? ''}).` };
    case 'no-row':
      return { text: 'EVA: no heartbeat', icon: 'circle-outline', severity: 'warning', explanation: 'No scheduler has written a heartbeat: no workers are running.' };
    case 'not-visible':
      return { text: 'EVA: not visible', icon: 'eye-closed', severity: 'info', explanation: 'The heartbeat is not visible with this key (row-level security lets only authenticated or service-role keys read it). This says nothing about whether the scheduler runs.' };
    case 'unreachable':
      return { text: 'EVA: unreachable', icon: 'cloud-offline', severity: 'error', explanation: `The backend could not be reached, so the scheduler's state is unknown. ${h.detail}` };
    case 'not-configured':
      return { text: 'EVA: not configured', icon: 'plug', severity: 'info', explanation: `No connection is configured. ${h.detail}` };
    case 'error':
      return { text: 'EVA: error', icon: 'error', severity: 'error', explanation: h.detail };
    case 'loading':
      return { text: 'EVA', icon: 'sync~spin', severity: 'info', explanation: 'Reading the scheduler heartbeat…' };
  }
}

/** Label/value pairs describing the heartbeat row, for tooltips and details (values unescaped). */
export function heartbeatFacts(hb: Heartbeat, now: Date): Array<[string, string]> {
  const n = (v: number | null) => (v === null ? '—' : String(v));
  const facts: Array<[string, string]> = [
    ['Instance', hb.instanceId ?? '—'],
    ['Status', hb.rawStatus ?? '—'],
    ['Last poll', hb.lastPollAt ? `${formatRelative(hb.lastPollAt, now)} (${hb.lastPollAt.toISOString()})` : '—'],
    ['Next poll', hb.nextPollAt ? `${formatRelative(hb.nextPollAt, now)} (${hb.nextPollAt.toISOString()})` : '—'],
    ['Poll interval', formatDuration(pollIntervalMs(hb))],
    ['Polls / dispatches / errors', `${n(hb.pollCount)} / ${n(hb.dispatchCount)} / ${n(hb.errorCount)}`],
    ['Circuit breaker', hb.breaker === 'UNREPORTED' ? 'not reported' : hb.rawBreaker ?? '—'],
    ['Paused reason', hb.pausedReason ?? '—'],
    ['Observe-only', hb.observeOnly === null ? '—' : hb.observeOnly ? 'yes' : 'no'],
    ['Build', hb.gitSha ? `${hb.gitSha.slice(0, 12)}${hb.nodeVersion ? ` (node ${hb.nodeVersion})` : ''}` : '—'],
    ['Started', hb.startedAt ? `${formatRelative(hb.startedAt, now)} (${hb.startedAt.toISOString()})` : '—'],
  ];
  return facts;
}
