// Words for the scheduler's state, shared by the status bar, its tooltip and the details view.
import { formatRelative } from './format';
import { t } from './l10n';
import {
  ExpectedInterval,
  expectedNextWrite,
  ExpectedWrite,
  Heartbeat,
  HeartbeatHistory,
  lastWriteAt,
  NO_HISTORY,
  NOT_POLLING_EXTRA_INTERVALS,
  REVIVAL_BOUND_MS,
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
  return (PRESENTERS[h.kind] as (h: SchedulerHealth) => HealthPresentation)(h);
}

type HealthOf<K extends SchedulerHealth['kind']> = Extract<SchedulerHealth, { kind: K }>;

const show = (text: string, icon: string, severity: Severity, explanation: string): HealthPresentation => ({
  text,
  icon,
  severity,
  explanation,
});

/** One row per state of the scheduler: its status-bar words, icon, severity and explanation. */
const PRESENTERS: { [K in SchedulerHealth['kind']]: (h: HealthOf<K>) => HealthPresentation } = {
  healthy: () => show(t('EVA: running'), 'pulse', 'ok', t('The EVA master scheduler is polling on time.')),
  stale: (h) =>
    show(
      t('EVA: stale'),
      'warning',
      'warning',
      t('{0} It may have crashed or lost its database connection.', staleWhen(h)),
    ),
  'not-polling': (h) => show(t('EVA: not polling'), 'error', 'error', notPollingExplanation(h)),
  reviving: (h) => show(t('EVA: reviving'), 'sync~spin', 'warning', revivingExplanation(h)),
  'revival-failed': (h) => show(t('EVA: revival failed'), 'error', 'error', revivalFailedExplanation(h)),
  'no-rounds': () =>
    show(
      t('EVA: no rounds'),
      'warning',
      'warning',
      t(
        'The scheduler polls on time but registers no rounds (metadata.registered_rounds is empty), so no EVA round runs. Restart the scheduler to register them again.',
      ),
    ),
  stopping: () => show(t('EVA: stopping'), 'loading~spin', 'warning', t('The scheduler is shutting down.')),
  stopped: () =>
    show(
      t('EVA: stopped'),
      'debug-stop',
      'error',
      t('The scheduler stopped gracefully. Nothing is dispatched until it is started again.'),
    ),
  'breaker-open': () =>
    show(
      t('EVA: breaker OPEN'),
      'circle-slash',
      'error',
      t('The circuit breaker is OPEN: the scheduler skips dispatch until it recovers.'),
    ),
  'breaker-half-open': () =>
    show(
      t('EVA: breaker half-open'),
      'debug-pause',
      'warning',
      t('The circuit breaker is HALF_OPEN: the scheduler is testing whether dispatch works again.'),
    ),
  'breaker-unknown': (h) =>
    show(
      t('EVA: breaker unknown'),
      'question',
      'warning',
      t('The circuit breaker reports a state this extension does not know ({0}).', h.heartbeat.rawBreaker ?? ''),
    ),
  paused: (h) => show(t('EVA: paused'), 'debug-pause', 'warning', t('The scheduler is paused: {0}.', h.reason)),
  'status-unknown': (h) =>
    show(
      t('EVA: unknown status'),
      'question',
      'warning',
      t('The scheduler reports a status this extension does not know ({0}).', h.heartbeat.rawStatus ?? ''),
    ),
  'no-row': () =>
    show(
      t('EVA: no heartbeat'),
      'circle-outline',
      'warning',
      t('No scheduler has written a heartbeat: no workers are running.'),
    ),
  'not-visible': () =>
    show(
      t('EVA: not visible'),
      'eye-closed',
      'info',
      t(
        'The heartbeat is not visible with this key (row-level security lets only authenticated or service-role keys read it). This says nothing about whether the scheduler runs.',
      ),
    ),
  unreachable: (h) =>
    show(
      t('EVA: unreachable'),
      'cloud-offline',
      'error',
      t("The backend could not be reached, so the scheduler's state is unknown. {0}", h.detail),
    ),
  'not-configured': (h) =>
    show(t('EVA: not configured'), 'plug', 'info', t('No connection is configured. {0}', h.detail)),
  error: (h) => show(t('EVA: error'), 'error', 'error', h.detail),
  loading: () => show('EVA', 'sync~spin', 'info', t('Reading the scheduler heartbeat…')),
};

/** When the stale scheduler should have written, or that it never polled. */
function staleWhen(h: HealthOf<'stale'>): string {
  return Number.isFinite(h.overdueMs) && h.silentMs !== null && h.expected
    ? t(
        "The scheduler's next heartbeat was due {0} ago (it writes {1}); last poll {2} ago.",
        span(h.overdueMs),
        describeExpected(h.expected),
        span(h.silentMs),
      )
    : t('The heartbeat row has no poll time, so the scheduler has never been seen polling.');
}

function notPollingExplanation(h: HealthOf<'not-polling'>): string {
  const status = h.heartbeat.rawStatus === null ? t('no status') : t('status still says {0}', h.heartbeat.rawStatus);
  return t(
    'The scheduler is not polling: last poll {0} ago; {1}. That is {2} missed writes (it writes {3}; this shows {4} intervals after the first missed write). A crashed daemon leaves its status as it was: start it again (npm run eva:scheduler:start) or let the watcher revive it.',
    span(h.silentMs),
    status,
    h.missed,
    describeExpected(h.expected),
    NOT_POLLING_EXTRA_INTERVALS,
  );
}

function revivingExplanation(h: HealthOf<'reviving'>): string {
  return h.silentMs === null
    ? t(
        "The watcher (eva-scheduler-watcher) holds the heartbeat with token {0} and is starting a new scheduler. The new instance's first write ends this. The watcher confirms a takeover within {1} s; if no scheduler writes within {2} s of this window seeing the token, the revival has failed.",
        h.token,
        WATCHER_CONFIRM_TIMEOUT_MS / 1000,
        REVIVAL_BOUND_MS / 1000,
      )
    : t(
        "The watcher (eva-scheduler-watcher) holds the heartbeat with token {0} and is starting a new scheduler; the last poll was {1} ago. The new instance's first write ends this. The watcher confirms a takeover within {2} s; if no scheduler writes within {3} s of this window seeing the token, the revival has failed.",
        h.token,
        span(h.silentMs),
        WATCHER_CONFIRM_TIMEOUT_MS / 1000,
        REVIVAL_BOUND_MS / 1000,
      );
}

function revivalFailedExplanation(h: HealthOf<'revival-failed'>): string {
  return h.silentMs === null
    ? t(
        'The scheduler is not polling: the watcher (eva-scheduler-watcher) claimed the heartbeat with token {0} {1} ago, but no scheduler has written since, and none ever polled. The spawned daemon did not come up (see logs/eva-scheduler-daemon.log); the watcher retries on its next run, or start it yourself (npm run eva:scheduler:start).',
        h.token,
        span(h.seenForMs),
      )
    : t(
        'The scheduler is not polling: last poll {0} ago. The watcher (eva-scheduler-watcher) claimed the heartbeat with token {1} at least {2} ago, but no scheduler has written since. The spawned daemon did not come up (see logs/eva-scheduler-daemon.log); the watcher retries on its next run, or start it yourself (npm run eva:scheduler:start).',
        span(h.silentMs),
        h.token,
        span(h.seenForMs),
      );
}

/** "3 min", "45 s", "7.5 s", "2.5 min": an interval as people say it. */
export function span(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 1000) return t('{0} ms', Math.round(ms));
  if (ms < 120_000 && ms % 60_000 !== 0) return t('{0} s', Number((ms / 1000).toFixed(ms < 10_000 ? 1 : 0)));
  if (ms < 3600_000) return t('{0} min', ms % 60_000 === 0 ? ms / 60_000 : Math.floor(ms / 60_000));
  const h = Math.floor(ms / 3600_000);
  const m = Math.floor((ms % 3600_000) / 60_000);
  return m ? t('{0} h {1} min', h, m) : t('{0} h', h);
}

/** "every 3 min: queue empty": the interval in use and why. */
export function describeInterval(iv: ExpectedInterval): string {
  const every = span(iv.ms);
  const b = iv.basis;
  switch (b.kind) {
    case 'queue-empty':
      return t('every {0}: queue empty', every);
    case 'queue-heavy':
      return t('every {0}: queue {1} > 2 × batch {2}', every, b.depth, b.batch);
    case 'queue-moderate':
      return t('every {0}: queue {1} > batch {2}', every, b.depth, b.batch);
    case 'queue-normal':
      return b.depth < 0
        ? t('every {0}: queue depth unknown (the queue query failed)', every)
        : t('every {0}: queue {1} ≤ batch {2}', every, b.depth, b.batch);
    case 'adaptive-off':
      return t('every {0}: adaptive polling off', every);
    case 'next-poll-at':
      return t('every {0}: next_poll_at − last_poll_at', every);
    case 'default':
      return t('every {0}: the default (no poll times in the row)', every);
  }
}

/** "every 3 min: queue empty, + up to 60 s for 2 due rounds, + 4 s seen late": the gap to the next write and why. */
export function describeExpected(e: ExpectedWrite): string {
  let out = describeInterval(e.interval);
  if (e.rounds.kind === 'due-rounds')
    out =
      e.rounds.due === 1
        ? t('{0}, + up to {1} for 1 due round', out, span(e.rounds.ms))
        : t('{0}, + up to {1} for {2} due rounds', out, span(e.rounds.ms), e.rounds.due);
  else if (e.rounds.kind === 'failing-rounds')
    out = t('{0}, + up to {1} for rounds that keep failing ({2} a poll)', out, span(e.rounds.ms), e.rounds.perPoll);
  if (e.observedExtraMs > 0) out = t('{0}, + {1} its recent writes came late', out, span(e.observedExtraMs));
  return out;
}

/** Label/value pairs describing the heartbeat row, for tooltips and details (values unescaped). */
export function heartbeatFacts(
  hb: Heartbeat,
  now: Date,
  history: HeartbeatHistory = NO_HISTORY,
): Array<[string, string]> {
  const n = (v: number | null) => (v === null ? '—' : String(v));
  const ew = expectedNextWrite(hb, history);
  const iv = ew.interval;
  const last = lastWriteAt(hb);
  const expected = last ? new Date(last.getTime() + ew.totalMs) : null;
  const ds = hb.dynamicScaling;
  const depth = ds?.lastQueueDepth ?? null;
  const rounds = hb.registeredRounds;
  const facts: Array<[string, string]> = [
    [t('Instance'), hb.instanceId ?? '—'],
    [t('Status'), hb.rawStatus ?? '—'],
    [t('Last poll'), hb.lastPollAt ? `${formatRelative(hb.lastPollAt, now)} (${hb.lastPollAt.toISOString()})` : '—'],
    [t('Interval'), describeInterval(iv)],
    [t('Rounds after a write'), describeRounds(ew)],
    [t('Next write expected'), expected ? `${formatRelative(expected, now)} (${expected.toISOString()})` : '—'],
    ['next_poll_at', hb.nextPollAt ? `${formatRelative(hb.nextPollAt, now)} (${hb.nextPollAt.toISOString()})` : '—'],
    [
      t('Queue depth'),
      depth === null
        ? '—'
        : depth < 0
          ? t('unknown (the queue query failed)')
          : ds?.currentBatchSize == null
            ? String(depth)
            : ds.baseBatchSize != null && ds.baseBatchSize !== ds.currentBatchSize
              ? t('{0} (batch {1}, base {2})', depth, ds.currentBatchSize, ds.baseBatchSize)
              : t('{0} (batch {1})', depth, ds.currentBatchSize),
    ],
    [
      t('Registered rounds'),
      rounds === null
        ? '—'
        : rounds.length === 0
          ? t('none')
          : `${rounds.length}: ${rounds.slice(0, 8).join(', ')}${rounds.length > 8 ? ', …' : ''}`,
    ],
    [t('Rounds run / failed'), `${n(hb.roundExecutionCount)} / ${n(hb.roundErrorCount)}`],
    [t('Metric write failures'), n(hb.metricsWriteFailures)],
    [t('Polls / dispatches / errors'), `${n(hb.pollCount)} / ${n(hb.dispatchCount)} / ${n(hb.errorCount)}`],
    [t('Circuit breaker'), hb.breaker === 'UNREPORTED' ? t('not reported') : (hb.rawBreaker ?? '—')],
    [t('Paused reason'), hb.pausedReason ?? '—'],
    [t('Observe-only'), hb.observeOnly === null ? '—' : hb.observeOnly ? t('yes') : t('no')],
    [
      t('Build'),
      hb.gitSha
        ? hb.nodeVersion
          ? t('{0} (node {1})', hb.gitSha.slice(0, 12), hb.nodeVersion)
          : hb.gitSha.slice(0, 12)
        : '—',
    ],
    [t('Row created'), hb.startedAt ? `${formatRelative(hb.startedAt, now)} (${hb.startedAt.toISOString()})` : '—'],
  ];
  return facts;
}

/** The round allowance in words, for the facts. */
function describeRounds(e: ExpectedWrite): string {
  const r = e.rounds;
  switch (r.kind) {
    case 'due-rounds':
      return r.due === 1
        ? t('1 due: up to {0} (30 s timeout each)', span(r.ms))
        : t('{0} due: up to {1} (30 s timeout each)', r.due, span(r.ms));
    case 'failing-rounds':
      return t('{0} failing a poll: up to {1}', r.perPoll, span(r.ms));
    case 'none':
      switch (r.reason) {
        case 'observe-only':
          return t('none (observe-only skips them)');
        case 'breaker-open':
          return t('none (skipped while the breaker is OPEN)');
        case 'no-rounds-known':
          return '—';
        case 'none-due':
          return t('none due');
        case 'seen-in-gaps':
          return t('as long as its recent writes showed (observed lateness)');
      }
  }
}
