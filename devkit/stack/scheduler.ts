// A STAND-IN for the EVA master scheduler and its watcher, not the real thing. It writes the
// singleton eva_scheduler_heartbeat row (id = 1) the way these upstream files do, failures included
// (rickfelix/EHG_Engineer; line numbers of the snapshot in /work/.mirror, HEAD):
//   - lib/eva/eva-master-scheduler.js
//       start() (L231-264): a new `scheduler-<8 hex>` instance, counters from 0; cadence state read
//         back from the row (`_rehydrateCadenceState`, L1080); one write (poll_count 0); the due jobs
//         (`_runDueJobs`, L1102: no timeout; observe-only only stamps them); the first poll at once;
//         then adaptive polling;
//       `_startAdaptivePolling` (L767-779): the next timer is set only AFTER a poll has finished —
//         rounds included — so the gap between two writes is the wait plus the whole poll;
//       `_computeAdaptiveInterval` (L786-806): min(3 × base, 300 s) with an empty queue, max(base / 2,
//         10 s) above 2 × batch, max(0.75 × base, 15 s) above batch, else base; the batch size it sets
//         is written on the NEXT write;
//       the breaker adapter (`deps.circuitBreaker`, L139-145; `_getCircuitBreakerState` L1330-1339,
//         `_recordCircuitBreakerSuccess` L1341-1348, `_recordCircuitBreakerFailure` L1350-1357):
//         scripts/eva-scheduler.js (L112) constructs the daemon with `{ supabase, config }` only — NO
//         adapter — so the CLI-launched daemon reads 'CLOSED' at every poll and records nothing (both
//         record calls return at once). No upstream caller passes one (lib/eva/rounds-scheduler.js L21
//         neither; only its unit tests do). With an adapter: getState() at every poll and again before
//         the rounds (L382), a throwing getState() reads as 'OPEN' (fail closed, L1335-1338);
//         recordFailure(new Error(`round:<type>: <message>`)) after EVERY failed round (`runRound`
//         catch, L354) and for a failed or throwing dispatch (L1264, L1297); recordSuccess() for a
//         completed dispatch (L1262). The simulator starts without an adapter, as the CLI does;
//         setBreaker() attaches one (its answers are the test's; no upstream adapter class exists);
//       `poll()` (L826-906): the breaker is read from the adapter at each poll; only an exact 'OPEN'
//         writes paused_reason 'circuit_breaker_open' and returns (no dispatch, no rounds, the queue
//         depth not re-read); otherwise the depth is read, the write follows, and THEN the rounds run
//         (`_executeScheduledRounds`, L381-405): every round whose cadence has elapsed since its last
//         successful run, one after another, each raced against DEFAULT_ROUND_TIMEOUT_MS = 30 s
//         (`runRound`, L323-362). A round that times out counts in round_error_count and is NOT
//         stamped, so it is due again at every poll: k hanging rounds make every write k × 30 s late.
//         A successful round counts in round_execution_count and is stamped in last_round_runs.
//         Observe-only (L397-401) only stamps them;
//       metrics (`_emitMetric`, L1405; lib/eva/metrics-writer.js): one row per poll and per round,
//         batched; a failed batch counts its rows in metrics_write_failures. This stack has no
//         eva_scheduler_metrics table, so — as for the real daemon run against it — every row fails;
//       `_updateHeartbeat` (L1415-1454): an upsert of exactly its columns (never started_at), with
//         circuit_breaker_state = what the poll passed or 'CLOSED', next_poll_at = now + BASE interval
//         even when adaptive, metadata { observe_only, build_provenance, metrics_write_failures,
//         round_execution_count, round_error_count, registered_rounds, dynamic_scaling,
//         last_round_runs, job_last_runs };
//       stop() (L269-292): a last write with status 'stopped' and no extra, so breaker 'CLOSED' and
//         paused_reason null (next_poll_at still now + base); a round in flight finishes on its own.
//       The daemon never writes status 'stopping', nor a paused_reason with the breaker not OPEN.
//   - scripts/cron/eva-scheduler-watcher.mjs (`main`, L214-329), one `--once` pass per cron tick:
//       liveness by AGE only (L122-133): alive when now − last_poll_at ≤ EVA_SCHEDULER_STALE_MS (300 s);
//       `claimRevival` (L145-162): swap instance_id to `supervisor-<8 hex>` by compare-and-swap
//         without touching last_poll_at (or, with no row, insert { id: 1, instance_id: token,
//         status: 'stopped' });
//       spawn a daemon (L298-311) whose first write, about 1.3 s later, is a new `scheduler-…` instance;
//       `confirmRevival` (L169-199): poll every 500 ms up to 8 s for an instance that is neither the
//         token nor the observed one; an early exit of the child ends the wait (unconfirmed). A failed
//         spawn leaves the token in the row, so the next tick (cron, 5–15 min) swaps it for a new one.
// Timing scales with the base interval (`intervalMs` / 60 s), so a test at a 2 s base sees a 1 s round
// timeout and a 10 s watcher threshold; spawn and confirm times are a process's, not the poll's, and
// do not scale. Connects as the database superuser.
import { randomBytes } from 'node:crypto';
import { Pool } from 'pg';

/** `listRounds().map(r => r.type)` of the upstream scheduler, with each round's cadence (L410-618). */
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
/** CADENCE_TO_MS (L96-102); real time, not scaled: which rounds are due is a matter of days. */
const CADENCE_TO_MS: Record<string, number> = {
  frequent: 600_000,
  hourly: 3_600_000,
  daily: 86_400_000,
  weekly: 604_800_000,
  monthly: 2_592_000_000,
};
/** `_registerBuiltinJobs` (L1004-1036) with cadenceDays. */
const JOBS: ReadonlyArray<[string, number]> = [
  ['okr-monthly-snapshot', 30],
  ['okr-monthly-generate', 30],
  ['okr-mid-month-review', 15],
];
/** Upstream's DEFAULT_POLL_INTERVAL_MS: the base the real timings are stated against. */
const UPSTREAM_BASE_MS = 60_000;

export interface SchedulerOptions {
  databaseUrl: string;
  /** The BASE poll interval (EVA_SCHEDULER_POLL_INTERVAL_SECONDS × 1000; upstream default 60 s). Also scales the timings below. */
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
  /** DEFAULT_ROUND_TIMEOUT_MS (30 s), scaled by default. */
  roundTimeoutMs?: number;
  /** How long a round that succeeds takes (default 0.5 s, scaled). */
  roundMs?: number;
  /** How long a job takes (default 1 s, scaled; jobs have no timeout). */
  jobMs?: number;
  /** The watcher's EVA_SCHEDULER_STALE_MS (300 s), scaled by default. */
  watcherStaleMs?: number;
  /** The watcher's cron period (5 min), scaled by default; used by startWatcher(). */
  watcherTickMs?: number;
  /** How long the watcher's spawned daemon takes to write its first heartbeat (default 1.3 s, as measured upstream). */
  spawnDelayMs?: number;
  /** The watcher's CONFIRM_TIMEOUT_MS (8 s). */
  confirmTimeoutMs?: number;
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
  status: 'running' | 'stopped';
}

/** What one watcher pass did (upstream `main()`'s `action`). */
export type WatcherAction =
  | { action: 'alive'; ageMs: number }
  | { action: 'claim_lost' }
  | { action: 'revived'; token: string; instanceId: string }
  | { action: 'unconfirmed'; token: string; childExited: boolean };

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
  /** intervalMs / 60 s: the factor applied to upstream's timeouts and thresholds. */
  readonly timeScale: number;
  readonly roundTimeoutMs: number;
  readonly watcherStaleMs: number;
  private readonly pool: Pool;
  private timer: NodeJS.Timeout | null = null;
  private watcherTimer: NodeJS.Timeout | null = null;
  private state: HeartbeatState;
  private adaptive: boolean;
  private queueDepth: number;
  private lastQueueDepth = 0;
  private readonly baseBatch: number;
  private batch: number;
  private rounds: string[];
  /**
   * The breaker adapter (deps.circuitBreaker), null as the CLI launches the daemon (none: 'CLOSED',
   * nothing recorded). Not upstream: what it answers is the test's (`state`, or OPEN after
   * `openAfterFailures` failures in a row, a success resetting the run; `readsFail`: getState throws).
   */
  private breakerAdapter: {
    state: string;
    openAfterFailures: number | null;
    failuresInARow: number;
    readsFail: boolean;
    failures: string[];
    successes: number;
  } | null = null;
  /** Rounds whose handler hangs: each poll they run, time out, and stay due. */
  private hanging = new Set<string>();
  private spawnFailures = 0;
  private totalRoundExecutions = 0;
  private totalRoundErrors = 0;
  private metricsWriteFailures = 0;
  private pendingMetricRows = 0;
  private lastRoundRun = new Map<string, number>();
  private jobLastRunAt = new Map<string, number>();
  private provenance: Record<string, unknown>;
  private writing: Promise<void> = Promise.resolve();
  private lastWaitMs: number | null = null;
  /** The daemon process: bumped by crash/stop/start, so a poll of a dead process never writes again. */
  private generation = 0;
  /** Polling is on (between start() and stop/crash), even while a poll runs and no timer is set. */
  private pollingWanted = false;
  private readonly sleepers = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();
  private readonly log: (line: string) => void;

  constructor(private readonly opts: SchedulerOptions) {
    this.intervalMs = opts.intervalMs;
    this.timeScale = opts.intervalMs / UPSTREAM_BASE_MS;
    this.roundTimeoutMs = opts.roundTimeoutMs ?? 30_000 * this.timeScale;
    this.watcherStaleMs = opts.watcherStaleMs ?? 300_000 * this.timeScale;
    this.adaptive = opts.adaptive ?? true;
    this.queueDepth = opts.queueDepth ?? 0;
    this.baseBatch = opts.batchSize ?? 20;
    this.batch = this.baseBatch;
    this.rounds = opts.registeredRounds ?? UPSTREAM_ROUNDS.map(([n]) => n);
    this.log = opts.log ?? (() => undefined);
    this.pool = new Pool({ connectionString: opts.databaseUrl, max: 3 });
    this.pool.on('error', () => undefined);
    this.state = this.freshState();
    this.provenance = this.stampProvenance();
  }

  private freshState(): HeartbeatState {
    return {
      instanceId: `scheduler-${hex8()}`,
      lastPollAt: null,
      nextPollAt: null,
      pollCount: 0,
      dispatchCount: 0,
      errorCount: 0,
      breaker: 'CLOSED',
      pausedReason: null,
      status: 'running',
    };
  }

  /** `computeBuildProvenance` (L25-40): once per process (instance). */
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
  get settings(): {
    adaptive: boolean;
    queueDepth: number;
    baseIntervalMs: number;
    batchSize: number;
    rounds: number;
    hangingRounds: string[];
    roundTimeoutMs: number;
    watcherStaleMs: number;
    /** What the adapter answers now; null: no adapter (the CLI's daemon). */
    breakerAdapter: string | null;
  } {
    return {
      adaptive: this.adaptive,
      queueDepth: this.queueDepth,
      baseIntervalMs: this.intervalMs,
      batchSize: this.baseBatch,
      rounds: this.rounds.length,
      hangingRounds: [...this.hanging],
      roundTimeoutMs: this.roundTimeoutMs,
      watcherStaleMs: this.watcherStaleMs,
      breakerAdapter: this.breakerAdapter ? this.breakerAnswer() : null,
    };
  }

  /** A timer the daemon's death cancels (its promise then resolves, and the caller sees a new generation). */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const s = {
        timer: setTimeout(() => {
          this.sleepers.delete(s);
          resolve();
        }, ms),
        resolve,
      };
      s.timer.unref();
      this.sleepers.add(s);
    });
  }

  /** The daemon process ends: its timers and any round in flight go with it. */
  private endProcess(): void {
    this.generation++;
    this.pollingWanted = false;
    this.clearPollTimer();
    for (const s of this.sleepers) {
      clearTimeout(s.timer);
      s.resolve();
    }
    this.sleepers.clear();
  }

  /**
   * A new daemon process (`node scripts/eva-scheduler.js start`): new instance_id, counters from 0,
   * cadence state read back, a write before the first poll (poll_count 0), the due jobs, the first
   * poll at once, then adaptive polling.
   */
  async start(): Promise<void> {
    this.endProcess();
    await this.writing;
    const gen = this.generation;
    this.state = this.freshState();
    this.totalRoundExecutions = 0;
    this.totalRoundErrors = 0;
    this.metricsWriteFailures = 0;
    this.pendingMetricRows = 0;
    this.lastQueueDepth = 0;
    this.batch = this.baseBatch;
    this.provenance = this.stampProvenance();
    await this.rehydrate();
    this.log(
      `[scheduler] ${this.state.instanceId} started (base ${this.intervalMs} ms, adaptive ${this.adaptive ? 'on' : 'off'}, queue ${this.queueDepth}, round timeout ${this.roundTimeoutMs} ms)`,
    );
    // `_updateHeartbeat('running')` with no extra: breaker CLOSED whatever the adapter says (L250).
    await this.serial(() => this.updateHeartbeat(gen, 'running', 'CLOSED', null));
    await this.runDueJobs(gen);
    if (gen !== this.generation) return;
    this.pollingWanted = true;
    await this.pollOnce(gen);
    if (gen === this.generation) this.scheduleNext(gen);
  }

  private async rehydrate(): Promise<void> {
    const rows = await this.pool
      .query<{
        metadata: Record<string, unknown> | null;
      }>('SELECT metadata FROM public.eva_scheduler_heartbeat WHERE id = 1')
      .catch(() => ({ rows: [] as Array<{ metadata: Record<string, unknown> | null }> }));
    const md = rows.rows[0]?.metadata ?? {};
    // parseHeartbeatCadenceState (L114-130): finite positive numbers only.
    const toMap = (o: unknown) =>
      new Map(
        Object.entries(o && typeof o === 'object' && !Array.isArray(o) ? (o as Record<string, unknown>) : {}).filter(
          ([, v]) => typeof v === 'number' && v > 0,
        ) as Array<[string, number]>,
      );
    const rounds = toMap(md.last_round_runs);
    const jobs = toMap(md.job_last_runs);
    if (rounds.size) this.lastRoundRun = rounds;
    if (jobs.size) this.jobLastRunAt = jobs;
  }

  /** `_startAdaptivePolling`: one timeout per poll, its length computed after the poll (rounds included). */
  private scheduleNext(gen: number): void {
    this.clearPollTimer();
    if (gen !== this.generation || !this.pollingWanted) return;
    const next = this.adaptive
      ? adaptiveInterval(this.intervalMs, this.baseBatch, this.lastQueueDepth)
      : { ms: this.intervalMs, batch: this.batch };
    this.batch = next.batch;
    this.lastWaitMs = next.ms;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.pollOnce(gen)
        .catch((e) => this.log(`[scheduler] poll failed: ${String(e)}`))
        .finally(() => {
          if (this.timer === null) this.scheduleNext(gen);
        });
    }, next.ms);
    this.timer.unref();
  }

  private clearPollTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private serial(fn: () => Promise<void>): Promise<void> {
    const next = this.writing.then(fn);
    this.writing = next.catch(() => undefined);
    return next;
  }

  /** One `poll()`: the write, then (unless the breaker is OPEN) the due rounds, which take their time. */
  private async pollOnce(gen: number): Promise<void> {
    if (gen !== this.generation) return;
    let runRounds = false;
    await this.serial(async () => {
      const s = this.state;
      s.pollCount++;
      const breaker = this.getCircuitBreakerState();
      this.pendingMetricRows++; // scheduler_poll
      if (breaker === 'OPEN') {
        this.pendingMetricRows++; // scheduler_circuit_breaker_pause
        await this.updateHeartbeat(gen, 'running', 'OPEN', 'circuit_breaker_open');
        return;
      }
      this.lastQueueDepth = this.queueDepth;
      if (this.queueDepth > 0 && !(this.opts.observeOnly ?? false)) {
        const n = Math.min(this.queueDepth, this.batch);
        s.dispatchCount += n;
        // Each completed dispatch: _recordCircuitBreakerSuccess (L1262).
        for (let i = 0; i < n; i++) this.recordCircuitBreakerSuccess();
      }
      // L865 / L891: circuit_breaker_state: breakerState || 'CLOSED', paused_reason null.
      await this.updateHeartbeat(gen, 'running', breaker || 'CLOSED', null);
      runRounds = true;
    });
    if (!runRounds) return;
    // With ventures dispatched, the due jobs run before the rounds (L902).
    if (this.queueDepth > 0) await this.runDueJobs(gen);
    await this.executeScheduledRounds(gen);
    this.flushMetrics();
  }

  /** `_executeScheduledRounds` + `runRound`: each due round in turn, raced against the round timeout. */
  private async executeScheduledRounds(gen: number): Promise<void> {
    if (this.getCircuitBreakerState() === 'OPEN') return; // L382-386: read again before the rounds
    const cadence = new Map(UPSTREAM_ROUNDS);
    for (const name of this.rounds) {
      if (gen !== this.generation) return;
      const ms = CADENCE_TO_MS[cadence.get(name) ?? ''];
      if (!ms || Date.now() - (this.lastRoundRun.get(name) ?? 0) < ms) continue;
      if (this.opts.observeOnly ?? false) {
        this.lastRoundRun.set(name, Date.now());
        continue;
      }
      this.pendingMetricRows++; // scheduler_round
      if (this.hanging.has(name)) {
        await this.sleep(this.roundTimeoutMs);
        if (gen !== this.generation) return;
        this.totalRoundErrors++;
        this.log(`[scheduler] Round ${name} failed after ${Math.round(this.roundTimeoutMs)}ms: Round timeout`);
        // runRound's catch (L354): every failed round is reported to the adapter, when there is one.
        this.recordCircuitBreakerFailure(`round:${name}: Round timeout`);
        continue;
      }
      await this.sleep(this.opts.roundMs ?? 500 * this.timeScale);
      if (gen !== this.generation) return;
      this.totalRoundExecutions++;
      this.lastRoundRun.set(name, Date.now());
    }
  }

  /** `_runDueJobs`: a job never run, or not within its cadence, runs (no timeout); observe-only stamps it. */
  private async runDueJobs(gen: number): Promise<void> {
    for (const [name, days] of JOBS) {
      if (gen !== this.generation) return;
      const last = this.jobLastRunAt.get(name);
      if (last && Date.now() - last < days * 86_400_000) continue;
      if (!(this.opts.observeOnly ?? false)) await this.sleep(this.opts.jobMs ?? 1_000 * this.timeScale);
      this.jobLastRunAt.set(name, Date.now());
    }
  }

  /** MetricsWriter.flush: this stack has no eva_scheduler_metrics table, so every batched row fails (onWriteFailure). */
  private flushMetrics(): void {
    this.metricsWriteFailures += this.pendingMetricRows;
    this.pendingMetricRows = 0;
  }

  /** `_updateHeartbeat(status, extra)`: the upsert, exactly its columns. A dead process writes nothing. */
  private async updateHeartbeat(
    gen: number,
    status: HeartbeatState['status'],
    breaker: string,
    pausedReason: string | null,
  ): Promise<void> {
    if (gen !== this.generation) return;
    const s = this.state;
    const now = new Date();
    s.status = status;
    s.lastPollAt = now;
    s.nextPollAt = new Date(now.getTime() + this.intervalMs);
    s.breaker = breaker;
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
        breaker,
        pausedReason,
        now,
        JSON.stringify(metadata),
      ],
    );
  }

  /**
   * Not upstream: a poll brought forward (the daemon polls only on its timer), so a test need not
   * wait the adaptive interval; the adaptive wait restarts after it. Rounds due run after the write.
   */
  async writeOnce(): Promise<void> {
    const gen = this.generation;
    this.clearPollTimer();
    await this.pollOnce(gen);
    if (this.pollingWanted && gen === this.generation) this.scheduleNext(gen);
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

  /**
   * Attaches a breaker adapter (deps.circuitBreaker; the CLI's daemon has none) answering `state` from
   * now on. It shows at the daemon's next poll, not at once (L833); only an exact 'OPEN' pauses (any
   * other text, 'open' included, is written as it is with no pause, as upstream's comparison is exact).
   * `openAfterFailures`: the adapter answers 'OPEN' once that many failures were recorded in a row
   * (our adapter's rule, not upstream's: no adapter class exists upstream).
   */
  async setBreaker(state: string, opts: { openAfterFailures?: number | null } = {}): Promise<void> {
    const a = this.breakerAdapter;
    this.breakerAdapter = {
      state,
      openAfterFailures: opts.openAfterFailures ?? null,
      failuresInARow: 0,
      readsFail: false,
      failures: a?.failures ?? [],
      successes: a?.successes ?? 0,
    };
    this.log(`[scheduler] circuit breaker adapter -> ${state} (shows at the next poll)`);
  }
  /** The daemon as the CLI launches it: no adapter ('CLOSED' at every poll, failures recorded nowhere). */
  async detachBreaker(): Promise<void> {
    this.breakerAdapter = null;
  }
  /** The adapter's getState() throws from now on (on) — upstream then reads 'OPEN' (fail closed, L1335-1338). */
  async failBreakerReads(on = true): Promise<void> {
    if (!this.breakerAdapter) throw new Error('no breaker adapter attached (setBreaker first)');
    this.breakerAdapter.readsFail = on;
  }
  /** What the adapter was told (recordFailure reasons, recordSuccess count); null without an adapter. */
  get breakerRecord(): { failures: string[]; successes: number } | null {
    const a = this.breakerAdapter;
    return a ? { failures: [...a.failures], successes: a.successes } : null;
  }

  private breakerAnswer(): string {
    const a = this.breakerAdapter;
    if (!a) return 'CLOSED';
    if (a.openAfterFailures !== null && a.failuresInARow >= a.openAfterFailures) return 'OPEN';
    return a.state;
  }
  /** `_getCircuitBreakerState` (L1330-1339): no adapter → 'CLOSED'; a throwing getState → 'OPEN'. */
  private getCircuitBreakerState(): string {
    const a = this.breakerAdapter;
    if (!a) return 'CLOSED';
    if (a.readsFail) {
      this.log('[scheduler] Circuit breaker error: getState failed');
      return 'OPEN';
    }
    return this.breakerAnswer();
  }
  /** `_recordCircuitBreakerFailure` (L1350-1357): nothing without an adapter. */
  private recordCircuitBreakerFailure(reason: string): void {
    const a = this.breakerAdapter;
    if (!a) return;
    a.failures.push(reason);
    a.failuresInARow++;
  }
  /** `_recordCircuitBreakerSuccess` (L1341-1348): nothing without an adapter. */
  private recordCircuitBreakerSuccess(): void {
    const a = this.breakerAdapter;
    if (!a) return;
    a.successes++;
    a.failuresInARow = 0;
  }

  /**
   * From the next poll, the first `count` registered rounds hang: they are due (as when their cadence
   * has elapsed), each times out after the round timeout, is counted in round_error_count, is not
   * stamped, and so runs again at every poll — every write comes count × timeout later.
   */
  async slowRounds(count = 1): Promise<string[]> {
    if (!Number.isInteger(count) || count < 0) throw new Error(`slowRounds needs a count ≥ 0, got ${count}`);
    this.hanging = new Set(this.rounds.slice(0, count));
    for (const name of this.hanging) this.lastRoundRun.delete(name);
    this.log(
      `[scheduler] rounds hanging (time out after ${this.roundTimeoutMs} ms each): ${[...this.hanging].join(', ') || 'none'}`,
    );
    return [...this.hanging];
  }
  /** The hanging rounds answer again: they succeed at the next poll and are stamped. */
  async fastRounds(): Promise<void> {
    await this.slowRounds(0);
  }

  /** A job fails (`_runDueJobs` catch, L1136-1143): error_count counts it, shown on the next write. */
  async recordError(): Promise<void> {
    this.state.errorCount++;
  }

  /** Graceful stop (L269-292): stops polling and writes status 'stopped', breaker 'CLOSED', no pause. */
  async stop(): Promise<void> {
    const gen = this.generation;
    this.pollingWanted = false;
    this.clearPollTimer();
    await this.serial(() => this.updateHeartbeat(gen, 'stopped', 'CLOSED', null));
    this.endProcess();
    this.log(`[scheduler] ${this.state.instanceId} stopped`);
  }

  /** The daemon dies: no more writes, no goodbye; the row keeps status 'running' and a frozen last_poll_at. */
  async crash(): Promise<void> {
    this.endProcess();
    await this.writing;
    this.log(`[scheduler] ${this.state.instanceId} crashed (no more writes, status stays as written)`);
  }

  /** Old name of crash(). */
  silence(): Promise<void> {
    return this.crash();
  }

  /** The next `count` daemons the watcher spawns exit at startup (a bad deploy, missing env): no write. */
  async failSpawns(count = 1): Promise<void> {
    this.spawnFailures = count;
    this.log(`[watcher] the next ${count} spawn(s) will exit at startup`);
  }

  /**
   * The watcher's claim (`claimRevival`, L145-162) as it makes it once it has found the row stale:
   * compare-and-swap instance_id to a new `supervisor-<8 hex>` token without touching anything else,
   * or insert { id: 1, instance_id: token, status: 'stopped' } when there is no row. Returns the
   * token, or null when the swap lost. (No staleness check here: that is watcherTick's.)
   */
  async claimRevival(): Promise<string | null> {
    await this.writing;
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

  /**
   * One watcher pass (`main()` with `--once`): alive by age (≤ watcherStaleMs) → nothing; else the
   * claim, the spawn (a new daemon after spawnDelayMs, unless failSpawns made it exit at startup), and
   * the confirm wait (500 ms steps up to confirmTimeoutMs). A failed spawn leaves the token.
   */
  async watcherTick(): Promise<WatcherAction> {
    await this.writing;
    const rows = await this.pool.query<{ instance_id: string | null; age_ms: number | null }>(
      'SELECT instance_id, (extract(epoch FROM now() - last_poll_at) * 1000)::float8 AS age_ms FROM public.eva_scheduler_heartbeat WHERE id = 1',
    );
    const row = rows.rows[0];
    const ageMs = row ? (row.age_ms ?? Infinity) : Infinity;
    if (row && ageMs <= this.watcherStaleMs) {
      this.log(`[watcher] scheduler alive (age ${Math.round(ageMs)} ms) — no action`);
      return { action: 'alive', ageMs };
    }
    const observed = row?.instance_id ?? null;
    const token = await this.claimRevival();
    if (token === null) return { action: 'claim_lost' };
    const fails = this.spawnFailures > 0;
    if (fails) this.spawnFailures--;
    if (this.pollingWanted)
      this.log(
        '[watcher] the claimed daemon is still alive (a second daemon would start here; the simulator keeps one)',
      );
    else if (!fails)
      setTimeout(() => {
        if (!this.pollingWanted) this.start().catch((e) => this.log(`[scheduler] revived start failed: ${String(e)}`));
      }, this.opts.spawnDelayMs ?? 1_300).unref();
    const deadline = Date.now() + (this.opts.confirmTimeoutMs ?? 8_000);
    const exitAt = Date.now() + 300; // a daemon that cannot start exits within a few hundred ms
    while (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      if (fails && Date.now() >= exitAt) {
        this.log(
          `[watcher] spawned daemon exited early — revive UNCONFIRMED; next tick retries (token ${token} stays)`,
        );
        return { action: 'unconfirmed', token, childExited: true };
      }
      const cur = await this.pool.query<{ instance_id: string | null }>(
        'SELECT instance_id FROM public.eva_scheduler_heartbeat WHERE id = 1',
      );
      const id = cur.rows[0]?.instance_id ?? null;
      if (id && id !== token && id !== observed) {
        this.log(`[watcher] revive CONFIRMED — scheduler instance ${id}`);
        return { action: 'revived', token, instanceId: id };
      }
    }
    return { action: 'unconfirmed', token, childExited: false };
  }

  /** The watcher's cron (a pass every watcherTickMs: 5 min scaled by default) until stopWatcher(). */
  startWatcher(tickMs = this.opts.watcherTickMs ?? 300_000 * this.timeScale): void {
    this.stopWatcher();
    const tick = () => {
      this.watcherTick()
        .catch((e) => this.log(`[watcher] pass failed: ${String(e)}`))
        .finally(() => {
          if (this.watcherTimer) this.watcherTimer = setTimeout(tick, tickMs).unref();
        });
    };
    this.watcherTimer = setTimeout(tick, tickMs).unref();
  }
  stopWatcher(): void {
    if (this.watcherTimer) clearTimeout(this.watcherTimer);
    this.watcherTimer = null;
  }

  /**
   * The whole revival of a dead daemon as it happens: the daemon dies (if it runs), the row ages past
   * the watcher's threshold, then one watcher pass claims, spawns and confirms.
   */
  async revive(): Promise<WatcherAction> {
    if (this.pollingWanted) await this.crash();
    const rows = await this.pool.query<{ age_ms: number | null }>(
      'SELECT (extract(epoch FROM now() - last_poll_at) * 1000)::float8 AS age_ms FROM public.eva_scheduler_heartbeat WHERE id = 1',
    );
    const age = rows.rows[0]?.age_ms;
    if (age !== undefined && age !== null && age <= this.watcherStaleMs)
      await new Promise((r) => setTimeout(r, this.watcherStaleMs - age + 50));
    return this.watcherTick();
  }

  async deleteRow(): Promise<void> {
    await this.writing;
    await this.pool.query('DELETE FROM public.eva_scheduler_heartbeat WHERE id = 1');
  }

  /** Stops timers and releases the connection pool (no final write). */
  async close(): Promise<void> {
    this.stopWatcher();
    this.endProcess();
    await this.writing;
    await this.pool.end().catch(() => undefined);
  }
}
