// SESSION_START on workspace open, following the CLI hook's rules (staleness, dedup, never blocking,
// one structured decision line per folder), with convergence for racing windows (see
// domain/sessionTrigger.ts) and a retry with backoff while the backend is unreachable.
import * as vscode from 'vscode';
import type { TelemetryBackend } from '../data/backend';
import { markOrphanedRuns } from '../data/orphans';
import { isTransient } from '../data/errors';
import { decisionLine, TriggerDecisionCode } from '../domain/sessionTrigger';
import type { ConnectionManager } from '../platform/connection';
import { backoffDelayMs } from '../domain/backoff';
import { POLL_DEFAULTS } from '../platform/poller';
import type { Log } from '../platform/log';
import type { FailureReporter } from '../platform/failures';
import { startRun, StartOutcome, StartRunParts } from './startRun';
import { DecisionFields, StartWording, wordStart } from './startWording';

type FolderPhase = 'pending' | 'in-flight' | 'retrying' | 'done';

/** A decision line as logged: per folder (scope) and outcome. */
export interface SessionDecision {
  scopeId: string;
  code: TriggerDecisionCode;
  fields: DecisionFields;
}

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
  private readonly connection: ConnectionManager;
  private readonly decided = new vscode.EventEmitter<SessionDecision>();
  /** A decision line was logged (repeats of the same skip are not logged, so not fired). */
  readonly onDidDecide = this.decided.event;
  private readonly attempting = new vscode.EventEmitter<Promise<void>>();
  /** An attempt for a folder has begun: the promise settles when it has (decided, or left pending). */
  readonly onDidAttempt = this.attempting.event;

  constructor(
    private readonly parts: StartRunParts,
    private readonly log: Log,
    private readonly notifier: FailureReporter,
  ) {
    this.connection = parts.connection;
    this.disposables.push(this.decided, this.attempting);
  }

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
      if (st.phase !== 'pending') continue;
      this.attempting.fire(this.attempt(st));
    }
  }

  private forget(folder: vscode.WorkspaceFolder): void {
    const st = this.folders.get(folder.uri.toString());
    if (st?.timer) clearTimeout(st.timer);
    this.folders.delete(folder.uri.toString());
  }

  private record(st: FolderState, scopeId: string, wording: StartWording): void {
    if (!wording.decision) return;
    const { code, fields } = wording.decision;
    const reason = typeof fields.reason === 'string' ? fields.reason : undefined;
    // Gate skips repeat on every settings/connection change; log them only when they change.
    const repeat =
      code.startsWith('skipped_') && code !== 'skipped_fresh' && st.lastCode === code && st.lastReason === reason;
    st.lastCode = code;
    st.lastReason = reason;
    if (repeat) return;
    // The one structured decision line per folder and outcome (the CLI hook's format).
    const line = decisionLine(code, { scope: scopeId, ...fields });
    if (code === 'enqueue_failed' || code === 'error_non_fatal') this.log.warn(line);
    else this.log.info(line);
    this.decided.fire({ scopeId, code, fields });
  }

  private async attempt(st: FolderState): Promise<void> {
    const o = await startRun(this.parts, {
      trigger: 'SESSION_START',
      folder: st.folder,
      beforeEnqueue: async (backend, scopeId) => {
        st.phase = 'in-flight';
        await this.sweepOrphans(backend, scopeId);
      },
      superseded: (backend) => this.isStale(backend),
    });
    if (o.kind === 'refused' || o.kind === 'dismissed') return;
    // A skip stays pending: trust, configuration or a new key may come later in this session.
    if (o.kind === 'skipped') return this.record(st, o.scopeId, wordStart(o, 'SESSION_START'));
    if (this.isStale(o.backend)) return this.requeue(st);
    if (o.kind === 'failed') return this.failed(st, o);
    if (o.kind === 'abandoned') return;
    st.phase = 'done';
    if (o.kind !== 'no-analyzer') this.notifier.success();
    this.record(st, o.scopeId, wordStart(o, 'SESSION_START'));
  }

  private failed(st: FolderState, o: Extract<StartOutcome, { kind: 'failed' }>): void {
    const e = o.error;
    st.phase = 'pending';
    if (e.kind === 'cancelled') return;
    if (o.stage === 'enqueue' && e.kind === 'permission') {
      this.connection.markReadOnly();
      return this.record(st, o.scopeId, wordStart(o, 'SESSION_START'));
    }
    this.notifier.failure(`SESSION_START ${o.stage}`, e);
    if (!isTransient(e)) return this.record(st, o.scopeId, wordStart(o, 'SESSION_START'));
    st.failures++;
    const delay = backoffDelayMs(st.failures, {
      baseMs: POLL_DEFAULTS.backoffBaseMs,
      maxMs: POLL_DEFAULTS.backoffMaxMs,
      retryAfterMs: e.retryAfterMs,
    });
    st.phase = 'retrying';
    this.record(st, o.scopeId, wordStart(o, 'SESSION_START', { attempt: st.failures, delayMs: delay }));
    st.timer = setTimeout(() => {
      st.timer = undefined;
      st.phase = 'pending';
      if (!this.disposed) this.attemptAll();
    }, delay);
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

  dispose(): void {
    this.disposed = true;
    for (const st of this.folders.values()) if (st.timer) clearTimeout(st.timer);
    for (const d of this.disposables) d.dispose();
  }
}
