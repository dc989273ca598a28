// SESSION_START on workspace open, following the CLI hook's rules (staleness, dedup, never blocking,
// one structured decision line per folder), with convergence for racing windows (see
// domain/sessionTrigger.ts) and a retry with backoff while the backend is unreachable.
import * as vscode from 'vscode';
import type { BackendError, TelemetryBackend } from '../data/backend';
import { markOrphanedRuns } from '../data/orphans';
import { isTransient } from '../data/errors';
import {
  decisionLine,
  deduplicatedReason,
  gateSessionTrigger,
  NewRunMetadata,
  TriggerDecisionCode,
} from '../domain/sessionTrigger';
import type { ConnectionManager } from '../platform/connection';
import { folderSettings } from '../platform/settings';
import { backoffDelayMs } from '../domain/backoff';
import { POLL_DEFAULTS } from './poller';
import type { Log } from '../platform/log';
import type { FailureNotifier } from './failureNotifier';
import type { AnalysisRunner } from './analysisRunner';
import type { StartedRuns } from './startedRuns';

type FolderPhase = 'pending' | 'in-flight' | 'retrying' | 'done';

interface FolderState {
  folder: vscode.WorkspaceFolder;
  phase: FolderPhase;
  failures: number;
  timer?: NodeJS.Timeout;
  lastCode?: TriggerDecisionCode;
  lastReason?: string;
}

export class SessionStartController implements vscode.Disposable {
  private readonly folders = new Map<string, FolderState>();
  private readonly disposables: vscode.Disposable[] = [];
  private disposed = false;
  private readonly swept = new Set<string>();

  constructor(
    private readonly connection: ConnectionManager,
    private readonly log: Log,
    private readonly notifier: FailureNotifier,
    private readonly source: { extensionVersion: string },
    private readonly started: Pick<StartedRuns, 'add'>,
    private readonly analysis: AnalysisRunner,
  ) {}

  /** Begins after activation: nothing here awaits the network. */
  start(): void {
    this.disposables.push(
      this.connection.onDidChange(() => this.attemptAll()),
      vscode.workspace.onDidChangeWorkspaceFolders((e) => {
        for (const f of e.removed) this.forget(f);
        this.attemptAll();
      }),
    );
    this.attemptAll();
  }

  private attemptAll(): void {
    if (this.disposed) return;
    if (
      this.connection.snapshot.state.kind === 'not-configured' &&
      this.connection.snapshot.state.cause === 'resolving'
    )
      return;
    for (const folder of vscode.workspace.workspaceFolders ?? []) {
      const key = folder.uri.toString();
      let st = this.folders.get(key);
      if (!st) {
        st = { folder, phase: 'pending', failures: 0 };
        this.folders.set(key, st);
      }
      if (st.phase === 'pending') void this.attempt(st);
    }
  }

  private forget(folder: vscode.WorkspaceFolder): void {
    const st = this.folders.get(folder.uri.toString());
    if (st?.timer) clearTimeout(st.timer);
    this.folders.delete(folder.uri.toString());
  }

  private record(
    st: FolderState,
    scopeId: string,
    code: TriggerDecisionCode,
    fields: Record<string, string | number | boolean | null | undefined>,
  ): void {
    const reason = typeof fields.reason === 'string' ? fields.reason : undefined;
    // Gate skips repeat on every settings/connection change; log them only when they change.
    const repeat =
      code.startsWith('skipped_') && code !== 'skipped_fresh' && st.lastCode === code && st.lastReason === reason;
    st.lastCode = code;
    st.lastReason = reason;
    if (repeat) return;
    this.logDecision(scopeId, code, fields);
  }

  /** The one structured decision line per folder and outcome (the CLI hook's format). */
  private logDecision(
    scopeId: string,
    code: TriggerDecisionCode,
    fields: Record<string, string | number | boolean | null | undefined>,
  ): void {
    const line = decisionLine(code, { scope: scopeId, ...fields });
    if (code === 'enqueue_failed' || code === 'error_non_fatal') this.log.warn(line);
    else this.log.info(line);
  }

  private async attempt(st: FolderState): Promise<void> {
    const started = Date.now();
    const snap = this.connection.snapshot;
    const { autoTrigger, scopeId } = folderSettings(st.folder);
    const gate = gateSessionTrigger({
      mode: autoTrigger,
      trusted: vscode.workspace.isTrusted,
      configured: snap.backend !== null,
      disabledByEnv: snap.autoDisabledFolders.has(st.folder.uri.toString()),
      canWrite: snap.canWrite,
    });
    if (gate.kind === 'skip') {
      this.record(st, scopeId, gate.code, { reason: gate.reason });
      return; // stays pending: trust, configuration or a new key may come later in this session
    }
    const backend = snap.backend!;
    st.phase = 'in-flight';
    await this.sweepOrphans(backend, scopeId);
    const { outcome, execution } = await this.analysis.enqueue(st.folder, backend, {
      scopeId,
      triggeredBy: 'SESSION_START',
      mode: autoTrigger === 'always' ? 'always' : 'whenStale',
      stalenessMs: snap.settings.stalenessMs,
      dedupMs: snap.settings.dedupMs,
      metadata: runMetadata(snap.settings.runTimeoutMs, this.source.extensionVersion, this.analysis.windowId),
    });
    if (this.isStale(backend)) return this.requeue(st);
    const duration_ms = Date.now() - started;
    switch (outcome.kind) {
      case 'failed':
        if (outcome.stage === 'enqueue' && outcome.error.kind === 'permission') {
          this.connection.markReadOnly();
          st.phase = 'pending';
          return this.record(st, scopeId, 'enqueue_failed', {
            reason: 'key is read-only (row-level security refused the insert)',
            code: outcome.error.code,
            duration_ms,
          });
        }
        return this.failed(st, scopeId, outcome.error, outcome.stage, started);
      case 'already-active':
        st.phase = 'done';
        this.notifier.success();
        return this.record(st, scopeId, 'already_queued', {
          run_id: outcome.run.runId,
          status: outcome.run.status,
          duration_ms,
        });
      case 'skipped-fresh':
        st.phase = 'done';
        this.notifier.success();
        return this.record(st, scopeId, 'skipped_fresh', {
          run_id: outcome.run.runId,
          finished_at: outcome.run.finishedAt.toISOString(),
          duration_ms,
        });
      case 'deduplicated':
        st.phase = 'done';
        this.notifier.success();
        return this.record(st, scopeId, 'deduplicated', {
          run_id: outcome.runId,
          winner: outcome.winner,
          winner_is_hook: outcome.winnerIsHook ?? false,
          reason: deduplicatedReason(outcome),
          duration_ms,
        });
      case 'no-analyzer':
        // Nothing was inserted: a run nobody executes would only make the CLI hook skip its own.
        st.phase = 'done';
        return this.record(st, scopeId, 'skipped_no_analyzer', {
          reason: outcome.reason,
          fix: 'open the EHG_Engineer checkout (trusted), or set ehgTelemetry.analysis.executor to "external" if a worker claims QUEUED runs',
          duration_ms,
        });
      case 'enqueued':
        st.phase = 'done';
        this.notifier.success();
        void this.started.add(outcome.runId, 'if-visible');
        return this.record(st, scopeId, 'enqueued', {
          run_id: outcome.runId,
          correlation_id: outcome.correlationId,
          duration_ms,
          duplicates_cancelled: outcome.duplicatesCancelled,
          executed_by: execution
            ? `this window (analysis process ${execution.process.pid ?? '?'}, loaded in ${execution.process.loadMs} ms)`
            : 'external worker (ehgTelemetry.analysis.executor = external)',
          convergence:
            typeof outcome.convergence === 'string'
              ? outcome.convergence
              : `unchecked (${outcome.convergence.error.message})`,
          // The analysis starts a few seconds late on purpose: see HOOK_HOLD_MS (domain/sessionTrigger.ts).
          hook_wait_ms: outcome.hookWaitMs,
          hook_wait:
            outcome.hookWaitMs !== undefined
              ? `the analysis started ${outcome.hookWaitMs} ms after our insert: held for a CLI hook that might have missed our run (its 5 s budget + margin); none had inserted`
              : undefined,
        });
    }
  }

  /**
   * Once per scope and session: RUNNING runs whose runner must be gone (past started_at +
   * timeout_ms + grace) are marked TIMED_OUT, so they stop counting as active. One log line.
   */
  private async sweepOrphans(backend: TelemetryBackend, scopeId: string): Promise<void> {
    if (this.swept.has(scopeId) || this.connection.snapshot.canWrite === false) return;
    this.swept.add(scopeId);
    const r = await markOrphanedRuns(backend, [scopeId]);
    if (!r.ok) this.log.warn(`Checking for abandoned runs failed (${r.error.message}); continuing.`);
    else if (r.marked.length)
      this.log.info(
        `Marked ${r.marked.length} abandoned run(s) TIMED_OUT (reason_code ORPHANED_PAST_TIMEOUT: still RUNNING past started_at + timeout_ms + 5 min, so no runner can still be working on them): ${r.marked.join(', ')}`,
      );
  }

  private isStale(backend: TelemetryBackend): boolean {
    return this.disposed || backend !== this.connection.snapshot.backend;
  }

  private requeue(st: FolderState): void {
    if (st.phase !== 'done') st.phase = 'pending';
    if (!this.disposed) this.attemptAll();
  }

  private failed(st: FolderState, scopeId: string, e: BackendError, stage: string, started: number): void {
    if (e.kind === 'cancelled') {
      st.phase = 'pending';
      return;
    }
    this.notifier.failure(`SESSION_START ${stage}`, e);
    if (isTransient(e)) {
      st.failures++;
      const delay = backoffDelayMs(st.failures, {
        baseMs: POLL_DEFAULTS.backoffBaseMs,
        maxMs: POLL_DEFAULTS.backoffMaxMs,
        retryAfterMs: e.retryAfterMs,
      });
      st.phase = 'retrying';
      this.record(st, scopeId, 'deferred_unreachable', {
        stage,
        reason: e.message,
        attempt: st.failures,
        retry_in_ms: delay,
        duration_ms: Date.now() - started,
      });
      st.timer = setTimeout(() => {
        st.timer = undefined;
        st.phase = 'pending';
        if (!this.disposed) this.attemptAll();
      }, delay);
      return;
    }
    st.phase = 'pending';
    this.record(st, scopeId, stage === 'enqueue' ? 'enqueue_failed' : 'error_non_fatal', {
      stage,
      reason: e.message,
      status: e.status,
      code: e.code,
      duration_ms: Date.now() - started,
    });
  }

  dispose(): void {
    this.disposed = true;
    for (const st of this.folders.values()) if (st.timer) clearTimeout(st.timer);
    for (const d of this.disposables) d.dispose();
  }
}

/** metadata for runs this extension enqueues: the timeout plus where the run came from. */
export function runMetadata(timeoutMs: number, extensionVersion: string, windowId: string): NewRunMetadata {
  return {
    timeout_ms: timeoutMs,
    source: {
      extension: 'ehg-telemetry',
      extension_version: extensionVersion,
      vscode_version: vscode.version,
      window_id: windowId,
      app_host: vscode.env.appHost,
    },
  };
}
