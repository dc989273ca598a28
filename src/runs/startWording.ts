// How a start's outcome (startRun.ts) is told, in one place for both callers: session start writes
// one structured decision line per folder (the CLI hook's format); Trigger Analysis Run tells the
// user (a notification with its actions, a log line, a status bar message).
import * as vscode from 'vscode';
import { formatAge } from '../domain/format';
import { deduplicatedReason, TriggerDecisionCode } from '../domain/sessionTrigger';
import type { StartOutcome, StartTrigger } from './startRun';

export type DecisionFields = Record<string, string | number | boolean | null | undefined>;

/** What a button on a notice does; ui/commands/runs.ts carries it out. */
export type NoticeAction =
  | { label: string; does: 'configure' | 'manageTrust' | 'openAnalysisSettings' | 'showLog' }
  | { label: string; does: 'showRun'; runId: string };

export interface Notice {
  severity: 'info' | 'warning' | 'error';
  text: string;
  detail?: string;
  actions: NoticeAction[];
}

export interface StartWording {
  /** Session start: the decision line's code and fields. */
  decision?: { code: TriggerDecisionCode; fields: DecisionFields };
  /** Trigger: a log line. */
  log?: { level: 'info' | 'warn'; line: string };
  /** Trigger: what the user is told. */
  notice?: Notice;
  /** Trigger: a status bar message (5 s). */
  status?: string;
  /** The key turned out read-only: the connection is marked so. */
  readOnly?: boolean;
}

/** Session start, a failed request: retried after a backoff when the failure is transient. */
export interface Retry {
  attempt: number;
  delayMs: number;
}

export function wordStart(o: StartOutcome, trigger: StartTrigger, retry?: Retry): StartWording {
  return trigger === 'SESSION_START' ? wordSessionStart(o, retry) : wordTrigger(o);
}

function wordSessionStart(o: StartOutcome, retry: Retry | undefined): StartWording {
  const duration_ms = 'startedAt' in o ? Date.now() - o.startedAt : undefined;
  const decide = (code: TriggerDecisionCode, fields: DecisionFields): StartWording => ({
    decision: { code, fields },
  });
  switch (o.kind) {
    case 'skipped':
      return decide(o.code, { reason: o.reason });
    case 'failed': {
      const e = o.error;
      if (e.kind === 'cancelled') return {};
      if (o.stage === 'enqueue' && e.kind === 'permission')
        return {
          readOnly: true,
          ...decide('enqueue_failed', {
            reason: 'key is read-only (row-level security refused the insert)',
            code: e.code,
            duration_ms,
          }),
        };
      if (retry)
        return decide('deferred_unreachable', {
          stage: o.stage,
          reason: e.message,
          attempt: retry.attempt,
          retry_in_ms: retry.delayMs,
          duration_ms,
        });
      return decide(o.stage === 'enqueue' ? 'enqueue_failed' : 'error_non_fatal', {
        stage: o.stage,
        reason: e.message,
        status: e.status,
        code: e.code,
        duration_ms,
      });
    }
    case 'already-active':
      return decide('already_queued', { run_id: o.run.runId, status: o.run.status, duration_ms });
    case 'skipped-fresh':
      return decide('skipped_fresh', { run_id: o.run.runId, finished_at: o.run.finishedAt.toISOString(), duration_ms });
    case 'deduplicated':
      return decide('deduplicated', {
        run_id: o.runId,
        winner: o.winner,
        winner_is_hook: o.winnerIsHook ?? false,
        reason: deduplicatedReason(o),
        duration_ms,
      });
    case 'no-analyzer':
      return decide('skipped_no_analyzer', {
        reason: o.reason,
        fix: 'open the EHG_Engineer checkout (trusted), or set ehgTelemetry.analysis.executor to "external" if a worker claims QUEUED runs',
        duration_ms,
      });
    case 'enqueued':
      return decide('enqueued', {
        run_id: o.runId,
        correlation_id: o.correlationId,
        duration_ms,
        duplicates_cancelled: o.duplicatesCancelled,
        executed_by: o.execution
          ? `this window (analysis process ${o.execution.process.pid ?? '?'}, loaded in ${o.execution.process.loadMs} ms)`
          : 'external worker (ehgTelemetry.analysis.executor = external)',
        convergence: typeof o.convergence === 'string' ? o.convergence : `unchecked (${o.convergence.error.message})`,
        // The analysis starts a few seconds late on purpose: see HOOK_HOLD_MS (domain/sessionTrigger.ts).
        hook_wait_ms: o.hookWaitMs,
        hook_wait:
          o.hookWaitMs !== undefined
            ? `the analysis started ${o.hookWaitMs} ms after our insert: held for a CLI hook that might have missed our run (its 5 s budget + margin); none had inserted`
            : undefined,
      });
    default:
      // refused / dismissed (Trigger only); abandoned: the window is closing, nothing to say.
      return {};
  }
}

function wordTrigger(o: StartOutcome): StartWording {
  const configure = vscode.l10n.t('Configure…');
  switch (o.kind) {
    case 'refused':
      return { notice: refusal(o, configure) };
    case 'no-analyzer':
      return {
        log: {
          level: 'info',
          line: `Manual run not started for ${JSON.stringify(o.scopeId)}: skipped_no_analyzer (${o.reason})`,
        },
        notice: {
          severity: 'warning',
          text: vscode.l10n.t('EHG Telemetry: no run was started: {0}.', o.reason),
          detail: vscode.l10n.t(
            'Runs are executed with the folder\'s own EHG_Engineer analyzer (ehgTelemetry.analysis.analyzerPath). Open the EHG_Engineer checkout, or set ehgTelemetry.analysis.executor to "external" if a worker claims queued runs.',
          ),
          actions: [{ label: vscode.l10n.t('Open Settings'), does: 'openAnalysisSettings' }],
        },
      };
    case 'failed':
      return {
        readOnly: o.error.kind === 'permission',
        log: { level: 'warn', line: o.error.message },
        notice: {
          severity: 'error',
          text: vscode.l10n.t('EHG Telemetry: {0}', o.error.message),
          actions: [{ label: vscode.l10n.t('Show Log'), does: 'showLog' }],
        },
      };
    case 'already-active':
      return {
        notice: {
          severity: 'info',
          text: alreadyActive(o.run.status, o.folder.name, formatAge(o.run.triggeredAt, new Date())),
          actions: [{ label: vscode.l10n.t('Show Run'), does: 'showRun', runId: o.run.runId }],
        },
      };
    case 'enqueued':
      return {
        log: {
          level: 'info',
          line: `Manual run enqueued: run_id=${o.runId} scope=${JSON.stringify(o.scopeId)}${o.execution ? ` executed by this window (analysis process ${o.execution.process.pid ?? '?'})` : ' (executor external: left QUEUED for a worker)'}`,
        },
        status: o.execution
          ? vscode.l10n.t('$(sync~spin) EHG Telemetry: analysis running')
          : vscode.l10n.t('$(check) EHG Telemetry: analysis run queued'),
      };
    default:
      return {};
  }
}

function refusal(o: Extract<StartOutcome, { kind: 'refused' }>, configure: string): Notice {
  switch (o.why) {
    case 'untrusted':
      return {
        severity: 'info',
        text: vscode.l10n.t(
          'EHG Telemetry: runs cannot be started in Restricted Mode. Trust this workspace to enable it.',
        ),
        actions: [{ label: vscode.l10n.t('Manage Trust'), does: 'manageTrust' }],
      };
    case 'not-connected':
      return {
        severity: 'warning',
        text: notConnectedText(o.state),
        actions: [{ label: configure, does: 'configure' }],
      };
    case 'read-only':
      return {
        severity: 'warning',
        text: vscode.l10n.t(
          'EHG Telemetry: this key is read-only, so runs cannot be started. Configure a service-role key.',
        ),
        actions: [{ label: configure, does: 'configure' }],
      };
    case 'no-folder':
      return {
        severity: 'info',
        text: vscode.l10n.t('EHG Telemetry: open a folder first; runs are scoped to a workspace folder.'),
        actions: [],
      };
  }
}

/** Why there is no backend, for a command that needs one. */
export function notConnectedText(s: Extract<StartOutcome, { kind: 'refused'; why: 'not-connected' }>['state']): string {
  return s.kind === 'restricted'
    ? vscode.l10n.t('EHG Telemetry: This workspace is in Restricted Mode, so its .env is not read.')
    : s.kind === 'invalid'
      ? vscode.l10n.t('EHG Telemetry: {0}', s.message)
      : vscode.l10n.t('EHG Telemetry: No connection is configured.');
}

function alreadyActive(status: string, folder: string, age: string): string {
  if (status === 'RUNNING')
    return vscode.l10n.t('EHG Telemetry: an analysis run is already running for {0} (triggered {1}).', folder, age);
  if (status === 'QUEUED')
    return vscode.l10n.t('EHG Telemetry: an analysis run is already queued for {0} (triggered {1}).', folder, age);
  // Only QUEUED and RUNNING runs are active; any other status is the database's own word.
  return vscode.l10n.t(
    'EHG Telemetry: an analysis run is already {0} for {1} (triggered {2}).',
    status.toLowerCase(),
    folder,
    age,
  );
}
