// TelemetryBackend over @supabase/supabase-js (PostgREST). The only file that knows table names,
// column names and PostgREST filter syntax.
import { createClient, RealtimeClientOptions, SupabaseClient } from '@supabase/supabase-js';
import { keyRole, KeyRole } from '../domain/credentials';
import { HEARTBEAT_COLUMNS, HeartbeatObservation, parseHeartbeat } from '../domain/heartbeat';
import {
  ACTIVE_STATUSES,
  parseRunDetailFields,
  parseRunSummary,
  RUN_HEAD_COLUMNS,
  RUN_LIST_COLUMNS,
  RUN_SUMMARY_COLUMNS,
  RunHeadCache,
  RunSummary,
} from '../domain/run';
import type { ActiveRun, FreshRun } from '../domain/sessionTrigger';
import { isRecord, parseNumber, parseTimestamp, cleanText } from '../domain/text';
import { comparableRun, ComparableRun } from '../domain/runComparison';
import { FinishFields, notBefore, RunningRun } from '../domain/analysisRun';
import {
  BackendError,
  CancelOptions,
  Capabilities,
  NewRun,
  ok,
  Result,
  RunPage,
  RunScope,
  RunScopeKey,
  TelemetryBackend,
} from './backend';
import { classifyFailure, RawFailure } from './errors';
import { t } from '../domain/l10n';
import { createGuardedFetch, GuardedFetch } from './guardedFetch';
import { createPooledFetch, PooledFetch } from './pooledFetch';
import { ClockOffsetEstimator } from '../domain/clockOffset';
import { EVIDENCE_COLUMNS, EvidenceColumn, isUuid, MAX_EVIDENCE_ROWS } from '../domain/evidence';
import {
  ANALYZER_SOURCE_TYPE,
  dedupeKeyOf,
  ImprovementItem,
  ITEM_COLUMNS,
  OPEN_ITEM_STATUSES,
  parseImprovementItem,
  safeLikeTag,
} from '../domain/improvementItem';

export const RUNS_TABLE = 'telemetry_analysis_runs';
export const HEARTBEAT_TABLE = 'eva_scheduler_heartbeat';
export const TRACE_TABLE = 'workflow_trace_log';
export const ITEM_TABLE = 'protocol_improvement_queue';
const ACTIVE = ACTIVE_STATUSES;
// source: present on runs this extension wrote (the CLI hook writes none); updated_at orders claims.
/** run_ids per heads request (listRuns): a quoted uuid is 39 characters in the URL. */
export const HEADS_PER_REQUEST = 100;
const ACTIVE_COLUMNS = 'run_id,status,triggered_by,triggered_at,scope_id,updated_at,source:metadata->source';
/** Every scope_type the CHECK allows. Naming them lets the planner use the (scope_type, scope_id, …) indexes for the global (scope_id IS NULL) branch. */
const ALL_SCOPE_TYPES = '(workspace,user,global)';

/** A value inside a PostgREST or=(…) / and(…) expression: always double-quoted, with \ and " escaped. */
export function quoteFilterValue(v: string): string {
  return `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** "this workspace, or global": scope_type=workspace and scope_id = the folder(s), or scope_id null. */
export function scopeOrFilter(scopeIds: string | readonly string[], extra: string[] = []): string {
  const ids = typeof scopeIds === 'string' ? [scopeIds] : scopeIds;
  const tail = extra.length ? `,${extra.join(',')}` : '';
  const idFilter =
    ids.length === 1
      ? `scope_id.eq.${quoteFilterValue(ids[0])}`
      : `scope_id.in.(${ids.map(quoteFilterValue).join(',')})`;
  const global = `and(scope_type.in.${ALL_SCOPE_TYPES},scope_id.is.null${tail})`;
  return ids.length === 0 ? global : `and(scope_type.eq.workspace,${idFilter}${tail}),${global}`;
}

export interface SupabaseBackendOptions {
  url: string;
  origin: string;
  key: string;
  timeoutMs: number;
  clientInfo: string;
  /** For tests and benchmarks: substitute fetch (e.g. to count requests). */
  baseFetch?: typeof fetch;
  /** Called as each request is sent. */
  onRequest?: () => void;
  /**
   * The connection pool (src/data/pooledFetch.ts): 'own' (one keep-alive pool, closed on dispose) or
   * 'global' (node's global agents: VS Code applies proxy settings with http.proxySupport "on").
   * Default 'global'.
   */
  pool?: 'own' | 'global';
}

interface QueryResult {
  data: unknown;
  error: RawFailure['error'];
  status: number;
  count?: number | null;
}
/** A postgrest-js builder: awaitable, with its built-in retry switch and its request's AbortSignal. */
type Query = PromiseLike<QueryResult> & {
  retry?: (enabled: boolean) => unknown;
  abortSignal?: (signal: AbortSignal) => unknown;
};

export class SupabaseBackend implements TelemetryBackend {
  readonly origin: string;
  readonly role: KeyRole;
  private readonly client: SupabaseClient<any, any, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- untyped schema: rows are parsed as untrusted
  private readonly http: GuardedFetch;
  private readonly pool: PooledFetch | null;
  private readonly clock = new ClockOffsetEstimator();
  /** JSON heads of listed runs, so the list query selects plain columns only (see RUN_LIST_COLUMNS). */
  private readonly heads = new RunHeadCache();
  private disposed = false;

  constructor(private readonly opts: SupabaseBackendOptions) {
    this.origin = opts.origin;
    this.role = keyRole(opts.key);
    this.pool = opts.baseFetch ? null : createPooledFetch({ pool: opts.pool ?? 'global' });
    this.http = createGuardedFetch({
      timeoutMs: opts.timeoutMs,
      base: opts.baseFetch ?? this.pool?.fetch,
      onRequest: opts.onRequest,
      onResponse: (o) => {
        if (o.serverDate !== null) this.clock.add(o.serverDate, o.receivedAt);
      },
    });
    this.client = createClient(opts.url, opts.key, {
      auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
      // Realtime is never used. supabase-js builds its client eagerly and, on Node 20 (VS Code's
      // extension host), throws without a WebSocket transport; this inert one is never opened.
      realtime: { transport: NoRealtimeTransport as unknown as NonNullable<RealtimeClientOptions['transport']> },
      global: { fetch: this.http.fetch, headers: { 'X-Client-Info': opts.clientInfo } },
    });
  }

  get requestCount(): number {
    return this.http.requestCount;
  }
  get inFlight(): number {
    return this.http.inFlight;
  }
  clockOffsetMs(): number {
    return this.clock.offsetMs;
  }

  dispose(): void {
    this.disposed = true;
    this.http.abortAll();
    this.pool?.close();
  }

  /** `failure` is the whole sentence for when it fails ("Could not load runs"): its error messages start with it. */
  private async run<T>(
    failure: string,
    query: Query,
    map: (r: QueryResult) => T,
    signal?: AbortSignal,
  ): Promise<Result<T>> {
    // postgrest-js retries GETs by itself (1 s, 2 s, 4 s) on network errors, timeouts and 503,
    // hiding an outage for 7 s and ignoring whether anyone is looking. Retrying is the refresh
    // scheduler's job (visible-only, exponential backoff, Retry-After), so it is switched off here.
    query.retry?.(false);
    // This request's own signal: the guarded fetch files the response's Retry-After under it, so
    // concurrent requests never see each other's. The caller's signal (if any) aborts it.
    const request = new AbortController();
    query.abortSignal?.(request.signal);
    const onAbort = () => request.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      if (signal?.aborted) return { ok: false, error: cancelledError(t('{0}: the request was cancelled.', failure)) };
      return await this.send(failure, query, request, map);
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  private async send<T>(
    failure: string,
    query: Query,
    request: AbortController,
    map: (r: QueryResult) => T,
  ): Promise<Result<T>> {
    if (this.disposed) return { ok: false, error: cancelledError(t('{0}: the extension is shutting down.', failure)) };
    let r: QueryResult;
    try {
      r = await query;
    } catch (e) {
      // supabase-js normally returns errors as values; a throw (e.g. an abort) is mapped the same way.
      const msg = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
      r = { data: null, error: { message: msg }, status: 0 };
    }
    if (r.error || r.status >= 400 || r.status === 0) {
      return {
        ok: false,
        error: classifyFailure(
          { status: r.status, error: r.error },
          {
            origin: this.origin,
            key: this.opts.key,
            retryAfterMs: this.http.observationFor(request.signal)?.retryAfterMs ?? null,
            failure,
          },
        ),
      };
    }
    return ok(map(r));
  }

  async listRuns(scope: RunScope, offset: number, limit: number): Promise<Result<RunPage>> {
    let q = this.client
      .from(RUNS_TABLE)
      .select(RUN_LIST_COLUMNS.join(','))
      .order('triggered_at', { ascending: false })
      .order('run_id', { ascending: false })
      // One extra row tells whether there is a next page, without a count query.
      .range(offset, offset + limit);
    // This workspace's own runs: (scope_type, scope_id) is the prefix of idx_telemetry_runs_scope_status.
    // Global runs (scope_id null) are not listed here — with no index on triggered_at, sorting every
    // global run made this query ~150 ms at 1M rows; they are under "All Scopes", and they still
    // count for the staleness and dedup checks.
    if (scope.kind === 'workspace') {
      q = q.eq('scope_type', 'workspace');
      // Not .in(): postgrest-js quotes reserved characters but does not escape " or \ inside the quotes.
      q =
        scope.scopeIds.length === 1
          ? q.eq('scope_id', scope.scopeIds[0])
          : q.filter('scope_id', 'in', `(${scope.scopeIds.map(quoteFilterValue).join(',')})`);
    }
    const page = await this.run(t('Could not load runs'), q, (r) =>
      Array.isArray(r.data) ? (r.data as unknown[]) : [],
    );
    if (!page.ok) return page;
    const rows = page.value.slice(0, limit);
    const records = rows.filter(isRecord);
    // The JSON heads (timeout, worst bottleneck) of runs not seen in their current status: one more
    // request, by run_id (the unique index), for new runs and runs that changed since the last list.
    // At most HEADS_PER_REQUEST run_ids per request keeps the URL short (about 4 KB) for gateways and
    // proxies; the requests of one refresh run side by side, so they cost one round trip.
    const missing = this.heads.missing(records);
    const batches: string[][] = [];
    for (let i = 0; i < missing.length; i += HEADS_PER_REQUEST) batches.push(missing.slice(i, i + HEADS_PER_REQUEST));
    const answers = await Promise.all(
      batches.map((ids) =>
        this.run(
          t('Could not load runs'),
          this.client
            .from(RUNS_TABLE)
            .select(RUN_HEAD_COLUMNS.join(','))
            .filter('run_id', 'in', `(${ids.map(quoteFilterValue).join(',')})`),
          (r) => (Array.isArray(r.data) ? (r.data as unknown[]) : []),
        ),
      ),
    );
    for (const a of answers) if (!a.ok) return a;
    if (missing.length) {
      const wanted = new Set(missing);
      this.heads.store(
        records.filter((x) => wanted.has(x.run_id as string)),
        answers.flatMap((a) => (a.ok ? a.value : [])),
      );
    }
    const parsed = rows.map((x) => parseRunSummary(isRecord(x) ? this.heads.merge(x) : x));
    const runs = parsed.filter((x): x is RunSummary => x !== null);
    return ok({ runs, hasMore: page.value.length > limit, skippedRows: parsed.length - runs.length });
  }

  getRunsById(runIds: readonly string[]): Promise<Result<RunSummary[]>> {
    const q = this.client
      .from(RUNS_TABLE)
      .select(RUN_SUMMARY_COLUMNS.join(','))
      .in('run_id', [...runIds]);
    return this.run(t('Could not refresh runs'), q, (r) =>
      (Array.isArray(r.data) ? r.data : []).map(parseRunSummary).filter((x): x is RunSummary => x !== null),
    );
  }

  getRunDetail(runId: string, signal?: AbortSignal): Promise<Result<ReturnType<typeof parseRunDetailFields>>> {
    const q = this.client
      .from(RUNS_TABLE)
      .select('status,reason_code,error_class,error_message,output_ref')
      .eq('run_id', runId)
      .limit(1);
    return this.run(
      t("Could not load the run's findings"),
      q,
      (r) => (Array.isArray(r.data) && r.data.length ? parseRunDetailFields(r.data[0]) : null),
      signal,
    );
  }

  getRunRow(runId: string): Promise<Result<Record<string, unknown> | null>> {
    const q = this.client.from(RUNS_TABLE).select('*').eq('run_id', runId).limit(1);
    return this.run(t('Could not load the run'), q, (r) =>
      Array.isArray(r.data) && r.data.length && isRecord(r.data[0]) ? r.data[0] : null,
    );
  }

  findFreshRun(scopeId: string, finishedSince: Date): Promise<Result<FreshRun | null>> {
    const since = quoteFilterValue(finishedSince.toISOString());
    const q = this.client
      .from(RUNS_TABLE)
      .select('run_id,finished_at,source:metadata->source')
      .or(scopeOrFilter(scopeId, ['status.eq.SUCCEEDED', `finished_at.gte.${since}`]))
      .order('finished_at', { ascending: false })
      .limit(1);
    return this.run(t('Could not check for a recent analysis'), q, (r) => {
      const row: unknown = Array.isArray(r.data) ? r.data[0] : null;
      if (!isRecord(row)) return null;
      const runId = cleanText(row.run_id, 64);
      const finishedAt = parseTimestamp(row.finished_at);
      return runId && finishedAt ? { runId, finishedAt, ours: isRecord(row.source) } : null;
    });
  }

  findActiveRuns(scopeId: string, triggeredSince: Date): Promise<Result<ActiveRun[]>> {
    const q = this.client
      .from(RUNS_TABLE)
      .select(ACTIVE_COLUMNS)
      .in('status', ACTIVE)
      .gte('triggered_at', triggeredSince.toISOString())
      .or(scopeOrFilter(scopeId))
      .order('triggered_at', { ascending: true })
      .limit(50);
    return this.run(t('Could not check for active runs'), q, (r) =>
      (Array.isArray(r.data) ? r.data : []).map(parseActiveRun).filter((x): x is ActiveRun => x !== null),
    );
  }

  insertRun(run: NewRun): Promise<Result<ActiveRun>> {
    const q = this.client
      .from(RUNS_TABLE)
      .insert({
        run_id: run.runId,
        scope_type: 'workspace',
        scope_id: run.scopeId,
        status: 'QUEUED',
        triggered_by: run.triggeredBy,
        correlation_id: run.correlationId,
        metadata: run.metadata,
      })
      .select(ACTIVE_COLUMNS);
    return this.run(t('Could not enqueue an analysis run'), q, (r) => {
      const row = Array.isArray(r.data) ? parseActiveRun(r.data[0]) : null;
      // With return=representation the row comes back; fall back to what we sent.
      return (
        row ?? {
          runId: run.runId,
          status: 'QUEUED',
          triggeredBy: run.triggeredBy,
          triggeredAt: new Date(Date.now() + this.clock.offsetMs),
          scopeId: run.scopeId,
          ours: true,
          updatedAt: null,
        }
      );
    });
  }

  findHookRuns(scopeId: string, triggeredSince: Date): Promise<Result<ActiveRun[]>> {
    // The CLI hook writes metadata { timeout_ms } only (lib/telemetry/auto-trigger.js enqueueAnalysis,
    // line 125); every run of ours carries metadata.source.
    const q = this.client
      .from(RUNS_TABLE)
      .select(ACTIVE_COLUMNS)
      .is('metadata->source', null)
      .gte('triggered_at', triggeredSince.toISOString())
      .or(scopeOrFilter(scopeId))
      .order('triggered_at', { ascending: false })
      .limit(50);
    return this.run(t('Could not check for runs of the CLI hook'), q, (r) =>
      (Array.isArray(r.data) ? r.data : []).map(parseActiveRun).filter((x): x is ActiveRun => x !== null && !x.ours),
    );
  }

  /**
   * CANCELLED with a finished_at that is never before the row's triggered_at or started_at: the
   * update is guarded on both (a PostgREST filter, exact to the microsecond), and rows the guard
   * refused (our clock estimate was behind theirs) are read and cancelled again with a later time.
   */
  async cancelRuns(
    runIds: readonly string[],
    reasonCode: string,
    onlyStatuses: readonly ('QUEUED' | 'RUNNING')[] = ['QUEUED', 'RUNNING'],
    options: CancelOptions = {},
  ): Promise<Result<string[]>> {
    const failure = t('Could not cancel the run');
    const cancelled: string[] = [];
    let pending = [...new Set(runIds)];
    let at = notBefore(Date.now() + this.clockOffsetMs(), options.notBefore ?? []);
    for (let round = 0; pending.length > 0 && round < 3; round++) {
      const iso = at.toISOString();
      // Two disjoint guarded updates side by side (one round trip): rows not yet started, and rows
      // started no later than `at`. (PostgREST 12 refuses an or=(started_at…) filter on an update
      // that returns only run_id: 42703.)
      const update = () =>
        this.client
          .from(RUNS_TABLE)
          .update({
            status: 'CANCELLED',
            finished_at: iso,
            reason_code: reasonCode,
            ...(options.message !== undefined ? { error_message: options.message } : {}),
          })
          .in('run_id', pending)
          .in('status', [...onlyStatuses])
          .lte('triggered_at', iso);
      const [notStarted, started] = await Promise.all([
        this.run(failure, update().is('started_at', null).select('run_id'), (r) => runIdsOf(r.data)),
        this.run(failure, update().lte('started_at', iso).select('run_id'), (r) => runIdsOf(r.data)),
      ]);
      const now: string[] = [];
      for (const r of [notStarted, started]) if (r.ok) now.push(...r.value);
      cancelled.push(...now);
      const failed = !notStarted.ok ? notStarted : !started.ok ? started : null;
      if (failed) return cancelled.length ? ok(cancelled) : failed;
      pending = pending.filter((id) => !now.includes(id));
      if (!pending.length) break;
      // Still cancellable but refused by the timestamp guard: take their own timestamps as the bound.
      const rows = await this.run(
        failure,
        this.client
          .from(RUNS_TABLE)
          .select('run_id,triggered_at,started_at')
          .in('run_id', pending)
          .in('status', [...onlyStatuses]),
        (r) => (Array.isArray(r.data) ? r.data.filter(isRecord) : []),
      );
      if (!rows.ok) return cancelled.length ? ok(cancelled) : rows;
      pending = rows.value.map((x) => cleanText(x.run_id, 64)).filter((x): x is string => x !== null);
      at = notBefore(Date.now() + this.clockOffsetMs(), [
        at,
        ...rows.value.flatMap((x) => [parseTimestamp(x.triggered_at), parseTimestamp(x.started_at)]),
      ]);
    }
    return ok(cancelled);
  }

  /**
   * Succeeded runs of one scope, newest finished first: served by idx_telemetry_runs_scope_status
   * (scope_type, scope_id, status, finished_at DESC). Only output_ref's bottlenecks and
   * traces_scanned are selected, not the whole document.
   */
  private succeededQuery(scope: RunScopeKey, limit: number, before: Date | null) {
    let q = this.client
      .from(RUNS_TABLE)
      .select(
        'run_id,finished_at,reason_code,bottlenecks:output_ref->bottlenecks,traces_scanned:output_ref->traces_scanned',
      )
      .eq('status', 'SUCCEEDED')
      .not('finished_at', 'is', null);
    // Global runs (scope_id null) compare with global runs of any scope_type (naming them keeps the index usable).
    q =
      scope.scopeId === null
        ? q.in('scope_type', ['workspace', 'user', 'global']).is('scope_id', null)
        : q.eq('scope_type', scope.scopeType ?? 'workspace').eq('scope_id', scope.scopeId);
    if (before) q = q.lt('finished_at', before.toISOString());
    return q.order('finished_at', { ascending: false }).order('run_id', { ascending: false }).limit(limit);
  }

  getPreviousSucceeded(scope: RunScopeKey, before: Date): Promise<Result<ComparableRun | null>> {
    return this.run(t('Could not load the previous run'), this.succeededQuery(scope, 1, before), (r) => {
      const rows = Array.isArray(r.data) ? r.data : [];
      return rows.length ? parseComparable(rows[0]) : null;
    });
  }

  listSucceededRuns(scope: RunScopeKey, limit: number): Promise<Result<ComparableRun[]>> {
    return this.run(
      t('Could not load the bottleneck trends'),
      this.succeededQuery(scope, Math.max(1, Math.min(limit, 100)), null),
      (r) => (Array.isArray(r.data) ? r.data : []).map(parseComparable).filter((x): x is ComparableRun => x !== null),
    );
  }

  // ---- lifecycle writes (executing a run), each guarded on the status it expects -------------

  /** QUEUED → RUNNING with started_at and the merged metadata. false: the run was not QUEUED any more. */
  claimRun(runId: string, startedAt: Date, metadata: Record<string, unknown>): Promise<Result<boolean>> {
    const q = this.client
      .from(RUNS_TABLE)
      .update({ status: 'RUNNING', started_at: startedAt.toISOString(), metadata })
      .eq('run_id', runId)
      .eq('status', 'QUEUED')
      .select('run_id');
    return this.run(t('Could not start the analysis run'), q, (r) => Array.isArray(r.data) && r.data.length === 1);
  }

  /** The finish row, only while the run is still RUNNING (a cancel wins). false: it was not. */
  finishRun(runId: string, fields: FinishFields): Promise<Result<boolean>> {
    const q = this.client
      .from(RUNS_TABLE)
      .update({ ...fields })
      .eq('run_id', runId)
      .eq('status', 'RUNNING')
      .select('run_id');
    return this.run(t("Could not record the run's result"), q, (r) => Array.isArray(r.data) && r.data.length === 1);
  }

  getRunStatus(runId: string): Promise<Result<string | null>> {
    const q = this.client.from(RUNS_TABLE).select('status').eq('run_id', runId).limit(1);
    return this.run(t("Could not read the run's status"), q, (r) =>
      Array.isArray(r.data) && isRecord(r.data[0]) ? cleanText(r.data[0].status, 40) : null,
    );
  }

  /**
   * RUNNING runs of these workspace scopes triggered before `triggeredBefore` (orphan candidates),
   * oldest first: with more than 50 candidates, the longest abandoned come back first.
   */
  findStaleRunning(scopeIds: readonly string[], triggeredBefore: Date): Promise<Result<RunningRun[]>> {
    if (scopeIds.length === 0) return Promise.resolve(ok([]));
    const q = this.client
      .from(RUNS_TABLE)
      .select('run_id,started_at,triggered_at,timeout_ms:metadata->timeout_ms')
      .eq('status', 'RUNNING')
      .eq('scope_type', 'workspace')
      .filter('scope_id', 'in', `(${scopeIds.map(quoteFilterValue).join(',')})`)
      .lt('triggered_at', triggeredBefore.toISOString())
      .order('triggered_at', { ascending: true })
      .limit(50);
    return this.run(t('Could not check for abandoned runs'), q, (r) =>
      (Array.isArray(r.data) ? r.data : [])
        .map((row: unknown): RunningRun | null => {
          if (!isRecord(row)) return null;
          const runId = cleanText(row.run_id, 64);
          const triggeredAt = parseTimestamp(row.triggered_at);
          return runId && triggeredAt
            ? { runId, triggeredAt, startedAt: parseTimestamp(row.started_at), timeoutMs: parseNumber(row.timeout_ms) }
            : null;
        })
        .filter((x): x is RunningRun => x !== null),
    );
  }

  /** The supabase-js client for the workspace's analyzer (it takes the client as its argument). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- untyped schema
  get supabase(): SupabaseClient<any, any, any> {
    return this.client;
  }

  readHeartbeat(): Promise<Result<HeartbeatObservation>> {
    const q = this.client.from(HEARTBEAT_TABLE).select(HEARTBEAT_COLUMNS.join(',')).eq('id', 1).limit(1);
    return this.run(t('Could not read the scheduler heartbeat'), q, (r): HeartbeatObservation => {
      const rows = Array.isArray(r.data) ? r.data : [];
      const hb = rows.length ? parseHeartbeat(rows[0]) : null;
      if (hb) return { kind: 'row', heartbeat: hb };
      // Zero rows: under RLS only `authenticated` and `service_role` may read the heartbeat, so for
      // any other key zero rows means "not allowed to see", not "scheduler down".
      return this.role === 'service_role' || this.role === 'authenticated'
        ? { kind: 'no-row' }
        : { kind: 'not-visible' };
    });
  }

  readEvidenceSpans(
    traceIds: readonly string[],
    column: EvidenceColumn,
    key: string,
    signal?: AbortSignal,
  ): Promise<Result<unknown[]>> {
    // Led by trace_id (idx_workflow_trace_log_trace_id): at most a few traces' spans are filtered by
    // the dimension column, which has no index of its own (gate_name, subagent_name).
    const ids = traceIds.filter(isUuid);
    const q = this.client
      .from(TRACE_TABLE)
      .select(EVIDENCE_COLUMNS.join(','))
      .filter('trace_id', 'in', `(${ids.map(quoteFilterValue).join(',')})`)
      .eq(column, key)
      .order('created_at', { ascending: false, nullsFirst: false })
      .order('id', { ascending: true })
      .limit(MAX_EVIDENCE_ROWS);
    return this.run(
      t('Could not load the evidence spans'),
      q,
      (r) => (Array.isArray(r.data) ? (r.data as unknown[]) : []),
      signal,
    );
  }

  readImprovementItem(id: string, signal?: AbortSignal): Promise<Result<ImprovementItem | null>> {
    if (!isUuid(id)) return Promise.resolve(ok(null));
    const q = this.client.from(ITEM_TABLE).select(ITEM_COLUMNS.join(',')).eq('id', id).limit(1);
    return this.run(
      t('Could not load the improvement item'),
      q,
      (r) => (Array.isArray(r.data) && r.data.length ? parseImprovementItem(r.data[0]) : null),
      signal,
    );
  }

  findDedupeItem(
    dimensionType: string,
    dimensionKey: string,
    before: Date | null,
    cooldownHours: number,
    signal?: AbortSignal,
  ): Promise<Result<ImprovementItem | null>> {
    // Exactly the analyzer's dedupe_key; or, for its own items, its description pattern (a substring
    // ILIKE, `_` a wildcard as in the analyzer), only for keys that cannot break the filter syntax.
    const tag = safeLikeTag(dimensionType, dimensionKey);
    const byKey = `payload->>dedupe_key.eq.${quoteFilterValue(dedupeKeyOf(dimensionType, dimensionKey))}`;
    const match = tag ? `${byKey},and(source_type.eq.${ANALYZER_SOURCE_TYPE},description.ilike.*${tag}*)` : byKey;
    let q = this.client.from(ITEM_TABLE).select(ITEM_COLUMNS.join(',')).or(match);
    if (before) {
      const cooldownStart = new Date(before.getTime() - cooldownHours * 3_600_000).toISOString();
      q = q
        .lt('created_at', before.toISOString())
        .or(`status.in.(${OPEN_ITEM_STATUSES.join(',')}),created_at.gte.${quoteFilterValue(cooldownStart)}`);
    } else q = q.in('status', [...OPEN_ITEM_STATUSES]);
    return this.run(
      t('Could not look for the improvement item'),
      q.order('created_at', { ascending: false }).limit(1),
      (r) => (Array.isArray(r.data) && r.data.length ? parseImprovementItem(r.data[0]) : null),
      signal,
    );
  }

  async probeCapabilities(): Promise<Capabilities> {
    const [runs, hb, write] = await Promise.all([
      this.run(t('Could not read runs'), this.client.from(RUNS_TABLE).select('run_id').limit(1), () => true),
      this.readHeartbeat(),
      this.probeWrite(),
    ]);
    return {
      role: this.role,
      readRuns: runs.ok ? { ok: true, detail: t('can read analysis runs') } : { ok: false, detail: runs.error.message },
      readHeartbeat: !hb.ok
        ? { ok: false, detail: hb.error.message }
        : hb.value.kind === 'row'
          ? { ok: true, detail: t('can read the scheduler heartbeat') }
          : hb.value.kind === 'no-row'
            ? { ok: true, detail: t('can read the scheduler heartbeat (no scheduler has written one yet)') }
            : {
                ok: false,
                detail: t(
                  'cannot see the scheduler heartbeat with this key (row-level security allows only authenticated or service-role keys)',
                ),
              },
      writeRuns: write,
    };
  }

  /**
   * Asks the database whether this key may insert runs without writing one: the probe row carries a
   * status the CHECK constraint rejects. PostgreSQL applies row-level security's WITH CHECK before
   * CHECK constraints, so a key without write access gets 42501 and one with access gets 23514.
   */
  private async probeWrite(): Promise<{ ok: boolean; detail: string }> {
    const probeId = globalThis.crypto.randomUUID();
    const r = await this.run(
      t('Could not check write access'),
      this.client.from(RUNS_TABLE).insert({ run_id: probeId, status: '__capability_probe__' }),
      () => true,
    );
    if (r.ok) {
      // A backend without the CHECK constraint accepted it: remove the probe row again.
      await this.run(
        t('Could not remove the probe row'),
        this.client.from(RUNS_TABLE).delete().eq('run_id', probeId),
        () => true,
      );
      return {
        ok: true,
        detail: t('can enqueue and cancel runs (warning: the status CHECK constraint seems to be missing)'),
      };
    }
    if (r.error.kind === 'constraint') return { ok: true, detail: t('can enqueue and cancel runs') };
    if (r.error.kind === 'permission' || r.error.kind === 'unauthorized')
      return { ok: false, detail: t('read-only: this key cannot enqueue or cancel runs (a service-role key can)') };
    return { ok: false, detail: r.error.message };
  }
}

function cancelledError(message: string): BackendError {
  return { kind: 'cancelled', message, status: 0, code: null, retryAfterMs: null };
}

/** Stands in for WebSocket so supabase-js can construct its (unused) realtime client. */
class NoRealtimeTransport {
  constructor() {
    throw new Error('EHG Telemetry does not use Supabase Realtime');
  }
}

function parseComparable(row: unknown): ComparableRun | null {
  if (!isRecord(row)) return null;
  const runId = cleanText(row.run_id, 64);
  if (!runId) return null;
  return comparableRun(
    runId,
    parseTimestamp(row.finished_at),
    { bottlenecks: row.bottlenecks, traces_scanned: row.traces_scanned },
    cleanText(row.reason_code, 80),
  );
}

function runIdsOf(data: unknown): string[] {
  return (Array.isArray(data) ? data : [])
    .map((x) => (isRecord(x) ? cleanText(x.run_id, 64) : null))
    .filter((x): x is string => x !== null);
}

function parseActiveRun(row: unknown): ActiveRun | null {
  if (!isRecord(row)) return null;
  const runId = cleanText(row.run_id, 64);
  const triggeredAt = parseTimestamp(row.triggered_at);
  if (!runId || !triggeredAt) return null;
  return {
    runId,
    status: cleanText(row.status, 40) ?? 'UNKNOWN',
    triggeredBy: cleanText(row.triggered_by, 40),
    triggeredAt,
    scopeId: cleanText(row.scope_id, 1000),
    ours: isRecord(row.source),
    updatedAt: parseTimestamp(row.updated_at),
  };
}
