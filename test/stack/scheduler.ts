// A STAND-IN for the EVA master scheduler and its watcher, not the real thing. It writes the
// singleton eva_scheduler_heartbeat row (id = 1) the way these upstream files do (rickfelix/EHG_Engineer):
//   - lib/eva/eva-master-scheduler.js
//       start(): a new `scheduler-<8 hex>` instance, counters from 0, one write before the first poll
//         (`_updateHeartbeat('running')`, poll_count 0), then a poll at once, then adaptive polling;
//       `_startAdaptivePolling` / `_computeAdaptiveInterval`: the next poll after min(3 × base, 300 s)
//         with an empty queue, max(base / 2, 10 s) above 2 × batch, max(0.75 × base, 15 s) above
//         batch, else base (adaptive on unless EVA_DYNAMIC_SCALING=false); the batch size it sets is
//         written on the NEXT write;
//       `poll()`: breaker OPEN → write with paused_reason 'circuit_breaker_open', no dispatch, the
//         queue depth not re-read; else the depth is read, the write follows, then the due rounds run
//         (observe-only only stamps them), so their counters show on the next write;
//       `_updateHeartbeat`: an upsert of exactly its columns (never started_at), with
//         next_poll_at = now + BASE interval even when adaptive, metadata { observe_only,
//         build_provenance, metrics_write_failures, round_execution_count, round_error_count,
//         registered_rounds, dynamic_scaling, last_round_runs, job_last_runs };
//       stop(): a last write with status 'stopped' (next_poll_at still now + base).
//   - scripts/cron/eva-scheduler-watcher.mjs
//       `claimRevival`: swap instance_id to `supervisor-<8 hex>` by compare-and-swap without touching
//         last_poll_at, or, with no row, insert { id: 1, instance_id: token, status: 'stopped' };
//       then it spawns a daemon whose first write is a new `scheduler-…` instance (counts restart).
// Not upstream, kept for the extension's other states: pause(reason) writes any paused_reason,
// setStopping() writes status 'stopping' (the CHECK allows it; the daemon never writes it),
// setBreaker(any text) (the daemon as launched always writes CLOSED), clearRounds() (the registry
// emptying, as a 24 h TTL did until 2026-07-07), crash() (writes stop, status stays 'running').
// Connects as the database superuser.
import { randomBytes } from 'node:crypto';
import { Pool } from 'pg';

/** `listRounds().map(r => r.type)` of the upstream scheduler, with each round's cadence. */
export const UPSTREAM_ROUNDS: ReadonlyArray<[string, string]> = [
  ['vision_rescore', 'weekly'],
  ['gap_analysis', 'weekly'],
  ['stage_health', 'monthly'],
  ['corrective_generation', 'weekly'],
  ['apa_standing', 'daily'],
  ['weekly_consultant_analysis', 'weekly'],
  ['weekly_management_review', 'weekly'],
  ['portfolio_review', 'weekly'],
  ['friday_meeting', 'weekly'],
  ['daily_burn_rate', 'daily'],
  ['daily_digest', 'daily'],
  ['weekly_summary', 'weekly'],
  ['sensemaking_disposition_monitor', 'frequent'],
];
const CADENCE_TO_MS: Record<string, number> = {
  frequent: 600_000,
  hourly: 3_600_000,
  daily: 86_400_000,
  weekly: 604_800_000,
  monthly: 2_592_000_000,
};
const JOBS = ['okr-monthly-snapshot', 'okr-monthly-generate', 'okr-mid-month-review'];

export interface SchedulerOptions {
  databaseUrl: string;
  /** The BASE poll interval (EVA_SCHEDULER_POLL_INTERVAL_SECONDS × 1000; upstream default 60 s). */
  intervalMs: number;
  /** Adaptive polling (EVA_DYNAMIC_SCALING, default on). */
  adaptive?: boolean;
  /** Pending entries in eva_scheduler_queue (default 0: idle). */
  queueDepth?: number;
  /** EVA_SCHEDULER_DISPATCH_BATCH_SIZE (default 20). */
  batchSize?: number;
  /** EVA_SCHEDULER_OBSERVE_ONLY (default false upstream; production runs true). */
  observeOnly?: boolean;
  /** Round names; default the upstream registry. */
  registeredRounds?: string[];
  /** How long the watcher's spawned daemon takes to write its first heartbeat (default 1.5 s; the watcher waits 8 s). */
  spawnDelayMs?: number;
  gitSha?: string;
  log?: (line: string) => void;
}

export interface HeartbeatState {
  instanceId: string;
  lastPollAt: Date | null;
  nextPollAt: Date | null;
  pollCount: number;
  dispatchCount: number;
  errorCount: number;
  breaker: string;
  pausedReason: string | null;
  status: 'running' | 'stopping' | 'stopped';
}

/** `_computeAdaptiveInterval`: the wait before the next poll and the batch size it sets. */
export function adaptiveInterval(baseMs: number, baseBatch: number, depth: number): { ms: number; batch: number } {
  if (depth === 0) return { ms: Math.min(baseMs * 3, 300_000), batch: baseBatch };
  if (depth > baseBatch * 2) return { ms: Math.max(baseMs / 2, 10_000), batch: Math.min(baseBatch * 2, 50) };
  if (depth > baseBatch) return { ms: Math.max(baseMs * 0.75, 15_000), batch: Math.min(baseBatch + 5, 40) };
  return { ms: baseMs, batch: baseBatch };
}

const hex8 = () => randomBytes(4).toString('hex');

export class SchedulerSimulator {
  readonly intervalMs: number;
  private readonly pool: Pool;
  private timer: NodeJS.Timeout | null = null;
  private spawnTimer: NodeJS.Timeout | null = null;
  private state: HeartbeatState;
  private adaptive: boolean;
  private queueDepth: number;
  private lastQueueDepth = 0;
  private readonly baseBatch: number;
  private batch: number;
  private rounds: string[];
  private manualPause: string | null = null;
  private totalRoundExecutions = 0;
  private totalRoundErrors = 0;
  private metricsWriteFailures = 0;
  private lastRoundRun = new Map<string, number>();
  private jobLastRunAt = new Map<string, number>();
  private provenance: Record<string, unknown>;
  private writing: Promise<void> = Promise.resolve();
  private lastWaitMs: number | null = null;
  /** Polling is on (between start() and stop/crash), even while a poll runs and no timer is set. */
  private pollingWanted = false;
  private readonly log: (line: string) => void;

  constructor(private readonly opts: SchedulerOptions) {
    this.intervalMs = opts.intervalMs;
    this.adaptive = opts.adaptive ?? true;
    this.queueDepth = opts.queueDepth ?? 0;
    this.baseBatch = opts.batchSize ?? 20;
    this.batch = this.baseBatch;
    this.rounds = opts.registeredRounds ?? UPSTREAM_ROUNDS.map(([n]) => n);
    this.log = opts.log ?? (() => undefined);
    this.pool = new Pool({ connectionString: opts.databaseUrl, max: 2 });
    this.pool.on('error', () => undefined);
    this.state = this.freshState('CLOSED');
    this.provenance = this.stampProvenance();
  }

  private freshState(breaker: string): HeartbeatState {
    return {
      instanceId: `scheduler-${hex8()}`,
      lastPollAt: null,
      nextPollAt: null,
      pollCount: 0,
      dispatchCount: 0,
      errorCount: 0,
      breaker,
      pausedReason: null,
      status: 'running',
    };
  }

  /** `computeBuildProvenance`: once per process (instance). */
  private stampProvenance(): Record<string, unknown> {
    const observeOnly = this.opts.observeOnly ?? false;
    return {
      git_sha: this.opts.gitSha ?? 'd3adb33f0c0ffee1234567890abcdef012345678',
      started_from: '/srv/EHG_Engineer (stack simulator)',
      node_version: process.version,
      env: { okr_require_acceptance: true, eva_scheduler_observe_only: observeOnly },
      stamped_at: new Date().toISOString(),
    };
  }

  get current(): Readonly<HeartbeatState> {
    return { ...this.state };
  }
  get running(): boolean {
    return this.pollingWanted;
  }
  /** The wait before the next poll as the daemon chose it (null when not polling). */
  get currentWaitMs(): number | null {
    return this.pollingWanted ? this.lastWaitMs : null;
  }
  get settings(): { adaptive: boolean; queueDepth: number; baseIntervalMs: number; batchSize: number; rounds: number } {
    return {
      adaptive: this.adaptive,
      queueDepth: this.queueDepth,
      baseIntervalMs: this.intervalMs,
      batchSize: this.baseBatch,
      rounds: this.rounds.length,
    };
  }

  /**
   * A new daemon process: new instance_id, counters from 0, a write before the first poll (poll_count
   * 0), a poll at once, then adaptive polling. Rounds' last runs are read back from the row first
   * (`_rehydrateCadenceState`).
   */
  async start(): Promise<void> {
    this.clearTimers();
    await this.writing;
    this.state = this.freshState(this.state.breaker);
    this.totalRoundExecutions = 0;
    this.totalRoundErrors = 0;
    this.metricsWriteFailures = 0;
    this.lastQueueDepth = 0;
    this.batch = this.baseBatch;
    this.provenance = this.stampProvenance();
    await this.rehydrate();
    this.log(
      `[scheduler] ${this.state.instanceId} started (base ${this.intervalMs} ms, adaptive ${this.adaptive ? 'on' : 'off'}, queue ${this.queueDepth})`,
    );
    await this.serial(() => this.updateHeartbeat('running'));
    await this.pollOnce();
    this.scheduleNext();
  }

  private async rehydrate(): Promise<void> {
    const rows = await this.pool
      .query<{ metadata: Record<string, unknown> | null }>(
        'SELECT metadata FROM public.eva_scheduler_heartbeat WHERE id = 1',
      )
      .catch(() => ({ rows: [] as Array<{ metadata: Record<string, unknown> | null }> }));
    const md = rows.rows[0]?.metadata ?? {};
    const toMap = (o: unknown) =>
      new Map(
        Object.entries(o && typeof o === 'object' && !Array.isArray(o) ? (o as Record<string, unknown>) : {}).filter(
          ([, v]) => typeof v === 'number' && v > 0,
        ) as Array<[string, number]>,
      );
    this.lastRoundRun = toMap(md.last_round_runs);
    this.jobLastRunAt = toMap(md.job_last_runs);
  }

  /** `_startAdaptivePolling`: one timeout per poll, its length computed after the poll. */
  private scheduleNext(): void {
    this.clearPollTimer();
    const next = this.adaptive
      ? adaptiveInterval(this.intervalMs, this.baseBatch, this.lastQueueDepth)
      : { ms: this.intervalMs, batch: this.batch };
    this.batch = next.batch;
    this.lastWaitMs = next.ms;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.pollOnce()
        .catch((e) => this.log(`[scheduler] poll failed: ${String(e)}`))
        .finally(() => {
          if (this.timer === null && this.pollingWanted) this.scheduleNext();
        });
    }, next.ms);
    this.timer.unref();
    this.pollingWanted = true;
  }

  private clearPollTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private clearTimers(): void {
    this.pollingWanted = false;
    this.clearPollTimer();
    if (this.spawnTimer) clearTimeout(this.spawnTimer);
    this.spawnTimer = null;
  }

  private serial(fn: () => Promise<void>): Promise<void> {
    const next = this.writing.then(fn);
    this.writing = next.catch(() => undefined);
    return next;
  }

  /** One `poll()`. */
  private pollOnce(): Promise<void> {
    return this.serial(async () => {
      const s = this.state;
      s.pollCount++;
      // Upstream always writes 'running' from a poll; 'stopping' (a stand-in state) sticks until start().
      const status = s.status === 'stopping' ? 'stopping' : 'running';
      if (s.breaker === 'OPEN') {
        await this.updateHeartbeat(status, 'OPEN', 'circuit_breaker_open');
        return;
      }
      this.lastQueueDepth = this.queueDepth;
      if (this.manualPause !== null) {
        await this.updateHeartbeat(status, s.breaker, this.manualPause);
        return;
      }
      if (this.queueDepth > 0 && !(this.opts.observeOnly ?? false))
        s.dispatchCount += Math.min(this.queueDepth, this.batch);
      await this.updateHeartbeat(status, s.breaker, null);
      this.executeScheduledRounds();
    });
  }

  /** `_executeScheduledRounds` (each round succeeds at once; observe-only only stamps it). */
  private executeScheduledRounds(): void {
    const now = Date.now();
    const cadence = new Map(UPSTREAM_ROUNDS);
    for (const name of this.rounds) {
      const ms = CADENCE_TO_MS[cadence.get(name) ?? ''];
      if (!ms || now - (this.lastRoundRun.get(name) ?? 0) < ms) continue;
      if (!(this.opts.observeOnly ?? false)) this.totalRoundExecutions++;
      this.lastRoundRun.set(name, now);
    }
    for (const job of JOBS) if (!this.jobLastRunAt.has(job)) this.jobLastRunAt.set(job, now);
  }

  /** `_updateHeartbeat(status, extra)`: the upsert, exactly its columns. */
  private async updateHeartbeat(
    status: HeartbeatState['status'],
    breaker = this.state.breaker,
    pausedReason: string | null = null,
  ): Promise<void> {
    const s = this.state;
    const now = new Date();
    s.status = status;
    s.lastPollAt = now;
    s.nextPollAt = new Date(now.getTime() + this.intervalMs);
    s.pausedReason = pausedReason;
    const metadata = {
      observe_only: this.opts.observeOnly ?? false,
      build_provenance: this.provenance,
      metrics_write_failures: this.metricsWriteFailures,
      round_execution_count: this.totalRoundExecutions,
      round_error_count: this.totalRoundErrors,
      registered_rounds: [...this.rounds],
      dynamic_scaling: {
        enabled: this.adaptive,
        current_batch_size: this.batch,
        base_batch_size: this.baseBatch,
        last_queue_depth: this.lastQueueDepth,
      },
      last_round_runs: Object.fromEntries(this.lastRoundRun),
      job_last_runs: Object.fromEntries(this.jobLastRunAt),
    };
    await this.pool.query(
      `INSERT INTO public.eva_scheduler_heartbeat
         (id, instance_id, last_poll_at, next_poll_at, poll_count, dispatch_count, error_count, status, circuit_breaker_state, paused_reason, updated_at, metadata)
       VALUES (1, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
       ON CONFLICT (id) DO UPDATE SET
         instance_id = EXCLUDED.instance_id, last_poll_at = EXCLUDED.last_poll_at, next_poll_at = EXCLUDED.next_poll_at,
         poll_count = EXCLUDED.poll_count, dispatch_count = EXCLUDED.dispatch_count, error_count = EXCLUDED.error_count,
         status = EXCLUDED.status, circuit_breaker_state = EXCLUDED.circuit_breaker_state, paused_reason = EXCLUDED.paused_reason,
         updated_at = EXCLUDED.updated_at, metadata = EXCLUDED.metadata`,
      [
        s.instanceId,
        s.lastPollAt,
        s.nextPollAt,
        s.pollCount,
        s.dispatchCount,
        s.errorCount,
        status,
        breaker || 'CLOSED',
        pausedReason,
        now,
        JSON.stringify(metadata),
      ],
    );
  }

  /** One poll now (then the adaptive wait restarts if polling). */
  async writeOnce(): Promise<void> {
    await this.pollOnce();
    if (this.pollingWanted) this.scheduleNext();
  }

  /** The queue depth the next polls read (eva_scheduler_queue pending count); -1 is a failed count query. */
  async setQueueDepth(depth: number): Promise<void> {
    if (!Number.isInteger(depth) || depth < -1) throw new Error(`queue depth must be an integer ≥ -1, got ${depth}`);
    this.queueDepth = depth;
    this.log(`[scheduler] queue depth -> ${depth}`);
  }

  /** EVA_DYNAMIC_SCALING for this process (takes effect at the next wait). */
  async setAdaptive(on: boolean): Promise<void> {
    this.adaptive = on;
    this.log(`[scheduler] adaptive polling ${on ? 'on' : 'off'}`);
  }

  /** The round registry empties while polling goes on (the 24 h TTL bug fixed upstream on 2026-07-07). Shows on the next write. */
  async clearRounds(): Promise<void> {
    this.rounds = [];
    this.log('[scheduler] registered rounds emptied');
  }
  async restoreRounds(): Promise<void> {
    this.rounds = this.opts.registeredRounds ?? UPSTREAM_ROUNDS.map(([n]) => n);
  }

  /** Any text is accepted (the column has no CHECK); the next poll is written at once. */
  async setBreaker(state: string): Promise<void> {
    this.state.breaker = state;
    this.log(`[scheduler] circuit breaker -> ${state}`);
    await this.pollNowIfRunning();
  }

  async pause(reason = 'manual_pause'): Promise<void> {
    this.manualPause = reason;
    await this.pollNowIfRunning();
  }
  async resume(): Promise<void> {
    this.manualPause = null;
    await this.pollNowIfRunning();
  }

  /** Counts an error (as a failed round would). */
  async recordError(): Promise<void> {
    this.state.errorCount++;
    this.totalRoundErrors++;
    await this.pollNowIfRunning();
  }

  async setStopping(): Promise<void> {
    this.state.status = 'stopping';
    await this.serial(() => this.updateHeartbeat('stopping'));
  }

  private async pollNowIfRunning(): Promise<void> {
    if (this.pollingWanted) await this.writeOnce();
  }

  /** Graceful stop: stops polling and writes status 'stopped' (next_poll_at still now + base, as upstream). */
  async stop(): Promise<void> {
    this.clearTimers();
    await this.serial(() => this.updateHeartbeat('stopped'));
    this.log(`[scheduler] ${this.state.instanceId} stopped`);
  }

  /** The daemon dies: no more writes, no goodbye; the row keeps status 'running' and a frozen last_poll_at. */
  async crash(): Promise<void> {
    this.clearTimers();
    await this.writing;
    this.log(`[scheduler] ${this.state.instanceId} crashed (no more writes, status stays as written)`);
  }

  /** Old name of crash(). */
  silence(): Promise<void> {
    return this.crash();
  }

  /**
   * The watcher's claim (`claimRevival`): compare-and-swap instance_id to a `supervisor-<8 hex>` token
   * without touching anything else, or insert { id: 1, instance_id: token, status: 'stopped' } when
   * there is no row. A running daemon is crashed first (the watcher only claims a stale row; this
   * control does not wait the watcher's 5 min). Returns the token, or null when the swap lost.
   */
  async claimRevival(): Promise<string | null> {
    await this.crash();
    const token = `supervisor-${hex8()}`;
    const cur = await this.pool.query<{ instance_id: string | null }>(
      'SELECT instance_id FROM public.eva_scheduler_heartbeat WHERE id = 1',
    );
    if (cur.rows.length === 0) {
      const ins = await this.pool.query(
        `INSERT INTO public.eva_scheduler_heartbeat (id, instance_id, status) VALUES (1, $1, 'stopped') ON CONFLICT (id) DO NOTHING`,
        [token],
      );
      this.log(`[watcher] no heartbeat row: inserted ${token} (status stopped)`);
      return ins.rowCount === 1 ? token : null;
    }
    const observed = cur.rows[0].instance_id;
    const upd =
      observed === null
        ? await this.pool.query(
            'UPDATE public.eva_scheduler_heartbeat SET instance_id = $1 WHERE id = 1 AND instance_id IS NULL',
            [token],
          )
        : await this.pool.query(
            'UPDATE public.eva_scheduler_heartbeat SET instance_id = $1 WHERE id = 1 AND instance_id = $2',
            [token, observed],
          );
    this.log(`[watcher] claimed the heartbeat: ${observed} -> ${token}`);
    return upd.rowCount === 1 ? token : null;
  }

  /** The whole revival: the claim, then after `spawnDelayMs` the spawned daemon starts (a new instance, counts from 0). */
  async revive(): Promise<string | null> {
    const token = await this.claimRevival();
    if (token === null) return null;
    const delay = this.opts.spawnDelayMs ?? 1_500;
    this.spawnTimer = setTimeout(() => {
      this.spawnTimer = null;
      this.start().catch((e) => this.log(`[scheduler] revived start failed: ${String(e)}`));
    }, delay);
    this.spawnTimer.unref();
    return token;
  }

  async deleteRow(): Promise<void> {
    await this.writing;
    await this.pool.query('DELETE FROM public.eva_scheduler_heartbeat WHERE id = 1');
  }

  /** Stops timers and releases the connection pool (no final write). */
  async close(): Promise<void> {
    this.clearTimers();
    await this.writing;
    await this.pool.end().catch(() => undefined);
  }
}
