// Reads the EVA scheduler heartbeat, timed to the scheduler's own polls, and publishes its health.
// It keeps what only time shows (the writes it has seen, since when it has seen a watcher token) and
// passes that history to the pure judgement in src/domain/heartbeat.ts.
import * as vscode from 'vscode';
import {
  assessSchedulerHealth,
  HeartbeatHistory,
  HeartbeatObservation,
  nextHeartbeatReadDelayMs,
  nextVerdictChangeMs,
  NO_HISTORY,
  noteVerdict,
  SchedulerHealth,
  updateHistory,
} from '../domain/heartbeat';
import { isTransient } from '../data/errors';
import type { ConnectionManager } from '../platform/connection';
import { summarizeState } from '../domain/connectionPrecedence';
import type { ConnectionSnapshot } from '../platform/connection';
import type { TickOutcome } from '../platform/refreshScheduler';
import { Poller } from '../platform/poller';
import type { FailureReporter } from '../platform/failures';

export const HEARTBEAT_TIMING = { settleMs: 2_000, minMs: 5_000, maxMs: 5 * 60_000 };

export class SchedulerMonitor implements vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<SchedulerHealth>();
  readonly onDidChange = this.emitter.event;
  private readonly poller: Poller;
  private observation: HeartbeatObservation | null = null;
  private observedAt: Date | null = null;
  private historyState: HeartbeatHistory = NO_HISTORY;
  private readonly disposables: vscode.Disposable[] = [];
  private stalenessTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly connection: ConnectionManager,
    private readonly notifier: FailureReporter,
  ) {
    // The status bar is always in sight: no view to follow, only focus (the poller's stretching).
    this.poller = new Poller({
      task: () => this.read(),
      maxDelayMs: 15 * 60_000,
      minIntervalMs: 5_000,
      enabled: false,
    });
    this.disposables.push(
      this.emitter,
      this.poller,
      connection.onDidChangeBackend((snap) => this.onBackend(snap)),
      // Other connection events (settings, canWrite) just re-render, without a "loading" flash or a read.
      connection.onDidChange(() => this.emitter.fire(this.health)),
    );
  }

  /** Starts reading (call after activation has returned). */
  start(): void {
    this.onBackend(this.connection.snapshot);
    this.emitter.fire(this.health);
  }

  get health(): SchedulerHealth {
    const snap = this.connection.snapshot;
    if (!snap.backend) {
      if (snap.state.kind === 'not-configured' && snap.state.cause === 'resolving') return { kind: 'loading' };
      return { kind: 'not-configured', detail: summarizeState(snap.state) };
    }
    if (!this.observation) return { kind: 'loading' };
    return assessSchedulerHealth(this.observation, this.serverNow(), snap.settings.heartbeatGraceMs, this.historyState);
  }

  /** What this window has seen over time (the writes, since when a watcher token stands). */
  get history(): HeartbeatHistory {
    return this.historyState;
  }

  get lastReadAt(): Date | null {
    return this.observedAt;
  }
  get readCount(): number {
    return this.poller.runCount;
  }

  refreshNow(): Promise<void> {
    return this.poller.refreshNow();
  }

  /** Now on the server's clock (local clock corrected by the last response's Date header). */
  serverNow(): Date {
    return new Date(Date.now() + (this.connection.snapshot.backend?.clockOffsetMs() ?? 0));
  }

  /** A new backend (or none): what was observed through the old one is void; read the new one now. */
  private onBackend(snap: ConnectionSnapshot): void {
    this.observation = null;
    this.historyState = NO_HISTORY;
    this.poller.setEnabled(snap.backend !== null);
    if (snap.backend) void this.poller.refreshNow();
  }

  private async read(): Promise<TickOutcome> {
    const backend = this.connection.snapshot.backend;
    if (!backend) return { ok: true, nextDelayMs: HEARTBEAT_TIMING.maxMs };
    const res = await backend.readHeartbeat();
    if (backend !== this.connection.snapshot.backend) return { ok: true, nextDelayMs: 0 };
    let outcome: TickOutcome;
    if (res.ok) {
      this.notifier.success();
      this.observation = res.value;
      this.historyState = updateHistory(this.historyState, res.value, this.serverNow());
      // Since when this verdict stands: a lasting one (stopped, no row, not polling…) is read fast only for a while.
      this.historyState = noteVerdict(this.historyState, this.health, this.serverNow());
      const health = this.health;
      outcome = {
        ok: true,
        nextDelayMs: nextHeartbeatReadDelayMs(
          health,
          this.serverNow(),
          { ...HEARTBEAT_TIMING, graceMs: this.connection.snapshot.settings.heartbeatGraceMs },
          this.historyState,
        ),
      };
    } else {
      if (res.error.kind === 'cancelled') return { ok: true, nextDelayMs: HEARTBEAT_TIMING.maxMs };
      this.notifier.failure('Reading the scheduler heartbeat', res.error);
      this.observation = isTransient(res.error)
        ? { kind: 'unreachable', detail: res.error.message }
        : { kind: 'error', detail: res.error.message };
      if (res.error.kind === 'permission' || res.error.kind === 'unauthorized') {
        this.observation = { kind: 'error', detail: res.error.message };
      }
      outcome = { ok: false, retryAfterMs: res.error.retryAfterMs ?? undefined };
    }
    this.observedAt = new Date();
    this.emitter.fire(this.health);
    this.armStalenessCheck();
    return outcome;
  }

  /**
   * Re-judges the last observation (no request) when the verdict on it changes by time alone (late,
   * then not polling), so the status bar changes at the right moment even while reads are stretched
   * (unfocused window).
   */
  private armStalenessCheck(): void {
    if (this.stalenessTimer) clearTimeout(this.stalenessTimer);
    this.stalenessTimer = undefined;
    const change = nextVerdictChangeMs(
      this.health,
      this.serverNow(),
      this.connection.snapshot.settings.heartbeatGraceMs,
      this.historyState,
    );
    if (change === null || change > 24 * 3600_000) return;
    this.stalenessTimer = setTimeout(() => {
      this.stalenessTimer = undefined;
      this.historyState = noteVerdict(this.historyState, this.health, this.serverNow());
      this.emitter.fire(this.health);
      this.armStalenessCheck();
    }, change + 500);
  }

  dispose(): void {
    if (this.stalenessTimer) clearTimeout(this.stalenessTimer);
    for (const d of this.disposables) d.dispose();
  }
}
