// EVA master scheduler simulator: upserts the singleton eva_scheduler_heartbeat row (id = 1) the way
// the real scheduler does (see /work/shared/notes/domain.md): on start, on every poll and, with
// status 'stopped', on a graceful stop. Connects as the database superuser.
import { randomBytes } from 'node:crypto';
import { Pool } from 'pg';

export interface SchedulerOptions {
  databaseUrl: string;
  intervalMs: number;
  log?: (line: string) => void;
  gitSha?: string;
  observeOnly?: boolean;
  registeredRounds?: string[];
}

export interface HeartbeatState {
  instanceId: string;
  startedAt: Date;
  lastPollAt: Date | null;
  nextPollAt: Date | null;
  pollCount: number;
  dispatchCount: number;
  errorCount: number;
  breaker: string;
  pausedReason: string | null;
  status: 'running' | 'stopping' | 'stopped';
}

export class SchedulerSimulator {
  readonly intervalMs: number;
  private readonly pool: Pool;
  private timer: NodeJS.Timeout | null = null;
  private state: HeartbeatState;
  private manualPause: string | null = null;
  private roundsDispatched = 0;
  private roundsSkipped = 0;
  private metricWriteFailures = 0;
  private writing: Promise<void> = Promise.resolve();
  private readonly log: (line: string) => void;

  constructor(private readonly opts: SchedulerOptions) {
    this.intervalMs = opts.intervalMs;
    this.log = opts.log ?? (() => undefined);
    this.pool = new Pool({ connectionString: opts.databaseUrl, max: 2 });
    this.pool.on('error', () => undefined);
    this.state = this.freshState();
  }

  private freshState(): HeartbeatState {
    this.roundsDispatched = 0;
    this.roundsSkipped = 0;
    this.metricWriteFailures = 0;
    return {
      instanceId: `scheduler-${randomBytes(4).toString('hex')}`,
      startedAt: new Date(),
      lastPollAt: null,
      nextPollAt: null,
      pollCount: 0,
      dispatchCount: 0,
      errorCount: 0,
      breaker: this.state?.breaker ?? 'CLOSED',
      pausedReason: null,
      status: 'running',
    };
  }

  get current(): Readonly<HeartbeatState> { return { ...this.state }; }
  get running(): boolean { return this.timer !== null; }

  /** Starts a new scheduler instance (new instance_id, counters from 0), writes at once, then every interval. */
  async start(): Promise<void> {
    this.clearTimer();
    this.state = this.freshState();
    this.log(`[scheduler] ${this.state.instanceId} started, polling every ${this.intervalMs} ms`);
    await this.writeOnce();
    this.schedule();
  }

  private schedule(): void {
    this.clearTimer();
    this.timer = setInterval(() => { void this.writeOnce().catch((e) => this.log(`[scheduler] write failed: ${String(e)}`)); }, this.intervalMs);
    this.timer.unref();
  }

  private clearTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** One poll: counts it, dispatches unless the breaker is OPEN or paused, upserts the row. */
  writeOnce(): Promise<void> {
    const next = this.writing.then(async () => {
      const s = this.state;
      const now = new Date();
      s.pollCount++;
      s.lastPollAt = now;
      s.nextPollAt = new Date(now.getTime() + this.intervalMs);
      if (s.breaker === 'OPEN') {
        s.pausedReason = 'circuit_breaker_open';
        this.roundsSkipped++;
      } else if (this.manualPause !== null) {
        s.pausedReason = this.manualPause;
        this.roundsSkipped++;
      } else {
        s.pausedReason = null;
        if (s.status === 'running') { s.dispatchCount++; this.roundsDispatched++; }
      }
      await this.upsert();
    });
    this.writing = next.catch(() => undefined);
    return next;
  }

  private async upsert(): Promise<void> {
    const s = this.state;
    const metadata = {
      observe_only: this.opts.observeOnly ?? false,
      build_provenance: { git_sha: this.opts.gitSha ?? 'd3adb33f0c0ffee1234567890abcdef012345678', node_version: process.version, stamped_at: s.startedAt.toISOString() },
      registered_rounds: this.opts.registeredRounds ?? ['telemetry_analysis', 'vision_scoring', 'portfolio_review'],
      counters: { rounds_dispatched: this.roundsDispatched, rounds_skipped: this.roundsSkipped, metric_write_failures: this.metricWriteFailures },
      poll_interval_ms: this.intervalMs,
    };
    await this.pool.query(
      `INSERT INTO public.eva_scheduler_heartbeat
         (id, instance_id, started_at, last_poll_at, next_poll_at, poll_count, dispatch_count, error_count, circuit_breaker_state, paused_reason, status, metadata, updated_at)
       VALUES (1, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, now())
       ON CONFLICT (id) DO UPDATE SET
         instance_id = EXCLUDED.instance_id, started_at = EXCLUDED.started_at, last_poll_at = EXCLUDED.last_poll_at,
         next_poll_at = EXCLUDED.next_poll_at, poll_count = EXCLUDED.poll_count, dispatch_count = EXCLUDED.dispatch_count,
         error_count = EXCLUDED.error_count, circuit_breaker_state = EXCLUDED.circuit_breaker_state,
         paused_reason = EXCLUDED.paused_reason, status = EXCLUDED.status, metadata = EXCLUDED.metadata, updated_at = now()`,
      [s.instanceId, s.startedAt, s.lastPollAt, s.nextPollAt, s.pollCount, s.dispatchCount, s.errorCount, s.breaker, s.pausedReason, s.status, JSON.stringify(metadata)],
    );
  }

  /** Any text is accepted (the column has no CHECK); the next poll is written at once. */
  async setBreaker(state: string): Promise<void> {
    this.state.breaker = state;
    this.log(`[scheduler] circuit breaker -> ${state}`);
    await this.pollNowIfRunning();
  }

  async pause(reason = 'manual_pause'): Promise<void> { this.manualPause = reason; await this.pollNowIfRunning(); }
  async resume(): Promise<void> { this.manualPause = null; await this.pollNowIfRunning(); }

  /** Counts an error (as a failed round would). */
  async recordError(): Promise<void> { this.state.errorCount++; this.metricWriteFailures++; await this.pollNowIfRunning(); }

  async setStopping(): Promise<void> { this.state.status = 'stopping'; await this.pollNowIfRunning(true); }

  private async pollNowIfRunning(evenIfStopped = false): Promise<void> {
    if (this.timer || evenIfStopped) {
      await this.writeOnce();
      if (this.timer) this.schedule();
    }
  }

  /** Graceful stop: stops polling and writes status 'stopped'. */
  async stop(): Promise<void> {
    this.clearTimer();
    await this.writing;
    this.state.status = 'stopped';
    this.state.nextPollAt = null;
    await this.upsert();
    this.log(`[scheduler] ${this.state.instanceId} stopped`);
  }

  /** Stops writing without a final write (the row goes stale, as after a crash). */
  async silence(): Promise<void> {
    this.clearTimer();
    await this.writing;
    this.log(`[scheduler] ${this.state.instanceId} silenced (no more writes)`);
  }

  async deleteRow(): Promise<void> {
    await this.writing;
    await this.pool.query('DELETE FROM public.eva_scheduler_heartbeat WHERE id = 1');
  }

  /** Stops timers and releases the connection pool (no final write). */
  async close(): Promise<void> {
    this.clearTimer();
    await this.writing;
    await this.pool.end().catch(() => undefined);
  }
}
