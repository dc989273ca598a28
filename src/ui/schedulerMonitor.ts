// Reads the EVA scheduler heartbeat, timed to the scheduler's own polls, and publishes its health.
import * as vscode from 'vscode';
import {
  assessSchedulerHealth,
  HeartbeatObservation,
  nextHeartbeatReadDelayMs,
  nextVerdictChangeMs,
  SchedulerHealth,
} from '../domain/heartbeat';
import { isTransient } from '../data/errors';
import type { ConnectionManager } from '../platform/connection';
import { summarizeState } from '../domain/connectionPrecedence';
import { RefreshScheduler, TickOutcome } from '../platform/refreshScheduler';
import type { FailureNotifier } from './failureNotifier';

export const HEARTBEAT_TIMING = { settleMs: 2_000, minMs: 5_000, maxMs: 5 * 60_000 };

export class SchedulerMonitor implements vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<SchedulerHealth>();
  readonly onDidChange = this.emitter.event;
  private readonly scheduler: RefreshScheduler;
  private observation: HeartbeatObservation | null = null;
  private observedAt: Date | null = null;
  private readonly disposables: vscode.Disposable[] = [];
  private stalenessTimer: NodeJS.Timeout | undefined;
  private generation = -1;

  constructor(
    private readonly connection: ConnectionManager,
    private readonly notifier: FailureNotifier,
  ) {
    this.scheduler = new RefreshScheduler({
      task: () => this.read(),
      unfocusedFactor: 5,
      backoffBaseMs: 5_000,
      backoffMaxMs: 5 * 60_000,
      maxDelayMs: 15 * 60_000,
      minIntervalMs: 5_000,
    });
    this.disposables.push(
      this.emitter,
      connection.onDidChange(() => this.onConnection()),
      vscode.window.onDidChangeWindowState((s) => this.scheduler.setFocused(s.focused)),
    );
    this.scheduler.setFocused(vscode.window.state.focused);
    this.scheduler.setEnabled(false);
  }

  /** Starts reading (call after activation has returned). */
  start(): void {
    this.onConnection();
  }

  get health(): SchedulerHealth {
    const snap = this.connection.snapshot;
    if (!snap.backend) {
      if (snap.state.kind === 'not-configured' && snap.state.cause === 'resolving') return { kind: 'loading' };
      return { kind: 'not-configured', detail: summarizeState(snap.state) };
    }
    if (!this.observation) return { kind: 'loading' };
    return assessSchedulerHealth(this.observation, this.serverNow(), snap.settings.heartbeatGraceMs);
  }

  get lastReadAt(): Date | null {
    return this.observedAt;
  }
  get readCount(): number {
    return this.scheduler.runCount;
  }

  refreshNow(): Promise<void> {
    return this.scheduler.refreshNow();
  }

  /** Now on the server's clock (local clock corrected by the last response's Date header). */
  serverNow(): Date {
    return new Date(Date.now() + (this.connection.snapshot.backend?.clockOffsetMs() ?? 0));
  }

  private onConnection(): void {
    const snap = this.connection.snapshot;
    // Only a new backend invalidates what we know; other connection events (settings, canWrite)
    // just re-render, without a "loading" flash or an extra read.
    if (snap.generation !== this.generation) {
      this.generation = snap.generation;
      this.observation = null;
      this.scheduler.setEnabled(snap.backend !== null);
      if (snap.backend) void this.scheduler.refreshNow();
    }
    this.emitter.fire(this.health);
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
      const health = this.health;
      outcome = {
        ok: true,
        nextDelayMs: nextHeartbeatReadDelayMs(health, this.serverNow(), {
          ...HEARTBEAT_TIMING,
          graceMs: this.connection.snapshot.settings.heartbeatGraceMs,
        }),
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
    );
    if (change === null || change > 24 * 3600_000) return;
    this.stalenessTimer = setTimeout(() => {
      this.stalenessTimer = undefined;
      this.emitter.fire(this.health);
      this.armStalenessCheck();
    }, change + 500);
  }

  dispose(): void {
    if (this.stalenessTimer) clearTimeout(this.stalenessTimer);
    this.scheduler.dispose();
    for (const d of this.disposables) d.dispose();
  }
}
