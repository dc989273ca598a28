// Demo analysis worker: claims QUEUED runs with FOR UPDATE SKIP LOCKED, marks them RUNNING and
// finishes them - only if they are still RUNNING, so a cancellation wins - with the shapes the real
// bottleneck analyzer writes (see /work/shared/notes/domain.md). Connects as the database superuser.
import { Pool } from 'pg';
import { makeAnalysis, makeRng, AnalysisOutput } from './analysisShapes';
export { makeAnalysis, makeRng };

export type Outcome = 'SUCCEEDED' | 'NO_FINDINGS' | 'INSUFFICIENT_DATA' | 'FAILED' | 'TIMED_OUT';

/** Masks secrets the way the analyzer does before writing error_message. */
export function maskSecrets(msg: string): string {
  return msg
    .replace(/(password|passwd|pwd|secret|token|apikey|api_key)=([^\s&;,]+)/gi, '$1=***')
    .replace(/(postgres(?:ql)?:\/\/[^:/\s]+:)([^@\s]+)@/gi, '$1***@')
    .replace(/Bearer\s+[A-Za-z0-9._-]+/g, 'Bearer ***');
}

export interface WorkerOptions {
  databaseUrl: string;
  /** A QUEUED run is picked up once it is this old (default 2000). */
  pickupDelayMs?: number;
  /** How long a run takes (default 5000). */
  runDurationMs?: number;
  seed?: number;
  pollMs?: number;
  name?: string;
  log?: (line: string) => void;
}

export interface ClaimedRun { id: string; run_id: string; scope_id: string | null; metadata: Record<string, unknown> | null }

export class DemoWorker {
  readonly name: string;
  readonly claimed: string[] = [];
  readonly finished: Array<{ run_id: string; status: string; applied: boolean }> = [];
  pickupDelayMs: number;
  runDurationMs: number;
  private readonly pool: Pool;
  private readonly rng: () => number;
  private forced: Outcome[] = [];
  private timer: NodeJS.Timeout | null = null;
  private readonly pending = new Set<NodeJS.Timeout>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private ticking = false;
  private readonly log: (line: string) => void;

  constructor(private readonly opts: WorkerOptions) {
    this.name = opts.name ?? 'demo-worker';
    this.pickupDelayMs = opts.pickupDelayMs ?? 2000;
    this.runDurationMs = opts.runDurationMs ?? 5000;
    this.rng = makeRng(opts.seed ?? 1);
    this.log = opts.log ?? (() => undefined);
    this.pool = new Pool({ connectionString: opts.databaseUrl, max: 4 });
    this.pool.on('error', () => undefined);
  }

  /** The next finished run ends with this outcome (queue several by calling again). */
  forceNextOutcome(o: Outcome): void { this.forced.push(o); }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => { void this.tick(); }, this.opts.pollMs ?? 250);
    this.timer.unref();
  }

  get running(): boolean { return this.timer !== null; }

  /** Stops claiming and abandons scheduled finishes (runs it claimed stay RUNNING). */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (const t of this.pending) clearTimeout(t);
    this.pending.clear();
    await Promise.allSettled([...this.inFlight]);
  }

  async close(): Promise<void> {
    await this.stop();
    await this.pool.end().catch(() => undefined);
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p)).catch(() => undefined);
    return p;
  }

  /** Claims every eligible QUEUED run and schedules its finish. */
  async tick(): Promise<number> {
    if (this.ticking) return 0;
    this.ticking = true;
    let n = 0;
    try {
      for (;;) {
        const run = await this.track(this.claimOne());
        if (!run) break;
        n++;
        this.scheduleFinish(run);
      }
    } catch (e) {
      this.log(`[worker] ${this.name}: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      this.ticking = false;
    }
    return n;
  }

  /** Atomically moves one QUEUED run (old enough) to RUNNING; SKIP LOCKED keeps workers apart. */
  async claimOne(): Promise<ClaimedRun | null> {
    // The candidate is picked by a scalar sub-select (an InitPlan, evaluated exactly once). A join
    // against a LIMIT 1 … SKIP LOCKED sub-query can be re-scanned and claim more than one row.
    const r = await this.pool.query<ClaimedRun>(
      `UPDATE public.telemetry_analysis_runs r
          SET status = 'RUNNING', started_at = now()
        WHERE r.id = (SELECT q.id FROM public.telemetry_analysis_runs q
                       WHERE q.status = 'QUEUED' AND q.triggered_at <= now() - make_interval(secs => $1::double precision / 1000)
                       ORDER BY q.triggered_at, q.id
                       LIMIT 1
                       FOR UPDATE SKIP LOCKED)
          AND r.status = 'QUEUED'
        RETURNING r.id, r.run_id, r.scope_id, r.metadata`,
      [this.pickupDelayMs],
    );
    if ((r.rowCount ?? 0) > 1) throw new Error(`claim matched ${r.rowCount} rows`);
    const run = r.rows[0] ?? null;
    if (run) {
      this.claimed.push(run.run_id);
      this.log(`[worker] ${this.name} claimed ${run.run_id}`);
    }
    return run;
  }

  private scheduleFinish(run: ClaimedRun): void {
    let outcome: Outcome = this.forced.shift() ?? this.pickOutcome();
    const timeoutMs = typeof run.metadata?.timeout_ms === 'number' && run.metadata.timeout_ms > 0 ? run.metadata.timeout_ms : null;
    let wait = this.runDurationMs;
    if (timeoutMs !== null && (timeoutMs < this.runDurationMs || outcome === 'TIMED_OUT')) {
      outcome = 'TIMED_OUT';
      wait = Math.min(timeoutMs, this.runDurationMs);
    }
    const t = setTimeout(() => {
      this.pending.delete(t);
      void this.track(this.finish(run, outcome, timeoutMs)).catch((e) => this.log(`[worker] finish failed: ${String(e)}`));
    }, wait);
    t.unref();
    this.pending.add(t);
  }

  private pickOutcome(): Outcome {
    const r = this.rng();
    if (r < 0.62) return 'SUCCEEDED';
    if (r < 0.72) return 'NO_FINDINGS';
    if (r < 0.82) return 'INSUFFICIENT_DATA';
    if (r < 0.93) return 'FAILED';
    return 'TIMED_OUT';
  }

  /** Writes the result, only if the run is still RUNNING. Returns whether it was applied. */
  async finish(run: ClaimedRun, outcome: Outcome, timeoutMs: number | null = null): Promise<boolean> {
    const sets: Record<string, unknown> = {};
    if (outcome === 'SUCCEEDED' || outcome === 'NO_FINDINGS' || outcome === 'INSUFFICIENT_DATA') {
      const out: AnalysisOutput = outcome === 'INSUFFICIENT_DATA'
        ? { bottlenecks: [], traces_scanned: 0, dimensions_evaluated: 0, items_created: 0 }
        : makeAnalysis(this.rng, outcome === 'NO_FINDINGS' ? 0 : 1 + Math.floor(this.rng() * 6));
      sets.status = 'SUCCEEDED';
      sets.output_ref = JSON.stringify(out);
      sets.findings_count = out.bottlenecks.length;
      sets.top_bottleneck_category = out.bottlenecks[0]?.dimension_type ?? null;
      sets.reason_code = outcome === 'INSUFFICIENT_DATA' ? 'INSUFFICIENT_DATA' : null;
    } else if (outcome === 'FAILED') {
      const raw = [
        'connect ECONNREFUSED 10.0.4.12:5432 (host=db.internal user=analyzer password=hunter2-prod)',
        'query failed: postgres://analyzer:s3cr3t-pass@db.internal:5432/ehg timed out reading traces',
        'TypeError: Cannot read properties of undefined (reading \'p50\') while scoring gate baselines',
      ][Math.floor(this.rng() * 3)];
      sets.status = 'FAILED';
      sets.error_class = raw.startsWith('TypeError') ? 'TypeError' : 'DatabaseError';
      sets.error_message = maskSecrets(raw);
    } else {
      sets.status = 'TIMED_OUT';
      sets.error_class = 'TimeoutError';
      sets.error_message = `Analysis exceeded timeout of ${timeoutMs ?? this.runDurationMs}ms`;
    }
    const cols = Object.keys(sets);
    const r = await this.pool.query(
      `UPDATE public.telemetry_analysis_runs
          SET ${cols.map((c, i) => `${c} = $${i + 2}`).join(', ')},
              finished_at = now(),
              duration_ms = GREATEST(0, round(extract(epoch FROM (now() - coalesce(started_at, now()))) * 1000))::integer
        WHERE id = $1 AND status = 'RUNNING'`,
      [run.id, ...cols.map((c) => sets[c])],
    );
    const applied = (r.rowCount ?? 0) === 1;
    this.finished.push({ run_id: run.run_id, status: sets.status as string, applied });
    this.log(`[worker] ${this.name} ${applied ? 'finished' : 'skipped (no longer RUNNING)'} ${run.run_id} -> ${String(sets.status)}`);
    return applied;
  }
}
