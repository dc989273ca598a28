// Backend-side figures, measured against the local stack (real PostgreSQL 18 + real PostgREST 12.0.2):
//   - scale: the SQL PostgREST itself runs for the extension's own requests, as PostgreSQL's
//     auto_explain logged it (ANALYZE, BUFFERS) inside PostgREST's transaction as the request's role;
//     "All Scopes" also with the index the README recommends;
//   - bytes per tree refresh (list with the extension's columns vs select=*);
//   - session start: sequential round trips up to the inserted row, and its wall time against one
//     plain request.
import { createClient } from '@supabase/supabase-js';
import * as fs from 'node:fs';
import { Client } from 'pg';
import { enqueueRun } from '../../src/data/enqueueRun';
import { RUNS_TABLE, scopeOrFilter, SupabaseBackend } from '../../src/data/supabaseBackend';
import { generateRuns, scopeIdFor } from '../../devkit/stack/datagen';
import type { Stack } from '../../devkit/stack';
import { RECOMMENDED_INDEX_SQL, RECOMMENDED_SCOPE_INDEX_SQL } from '../../devkit/recommendedIndexes';
import { log, median, round, sleep } from './util';

// ---- what PostgREST runs, from the database's own log -----------------------------------------

/**
 * The bench stack runs PostgreSQL with auto_explain loaded into PostgREST's sessions only (role
 * `authenticator`, see devkit/stack/postgres.ts) and keeps its server log. While explaining is on,
 * every statement PostgREST executes is logged with EXPLAIN (ANALYZE, BUFFERS) as it ran: in
 * PostgREST's own transaction, as the request's role (SET LOCAL ROLE from the JWT), with its own SQL
 * and parameters. Nothing is replayed or rebuilt here.
 */
async function setExplain(databaseUrl: string, on: boolean): Promise<void> {
  const c = new Client({ connectionString: databaseUrl });
  await c.connect();
  try {
    await c.query(`LOAD 'auto_explain'`);
    await c.query(`ALTER SYSTEM SET auto_explain.log_min_duration = ${on ? 0 : -1}`);
    await c.query('SELECT pg_reload_conf()');
  } finally {
    await c.end();
  }
  // Backends apply a reload before their next command; give the signal time to arrive.
  await sleep(300);
}

interface LoggedPlan {
  durationMs: number;
  queryText: string;
  plan: PlanNode;
}

/** The auto_explain entries of PostgreSQL's server log (prefix `%m [%p] `, JSON plans) from a byte offset on. */
function readLoggedPlans(file: string, fromByte: number): LoggedPlan[] {
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    const buf = Buffer.alloc(Math.max(0, size - fromByte));
    fs.readSync(fd, buf, 0, buf.length, fromByte);
    const out: LoggedPlan[] = [];
    const entries = buf.toString('utf8').split(/^(?=\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ \S+ \[\d+\] )/m);
    for (const e of entries) {
      const m = /\] LOG: {2}duration: ([\d.]+) ms {2}plan:\s*([\s\S]*)$/.exec(e);
      if (!m) continue;
      try {
        const j = JSON.parse(m[2]) as { 'Query Text': string; Plan: PlanNode };
        out.push({ durationMs: Number(m[1]), queryText: j['Query Text'], plan: j.Plan });
      } catch {
        /* an entry still being written */
      }
    }
    return out;
  } finally {
    fs.closeSync(fd);
  }
}

function logSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}

/** Runs `call` `reps` times with auto_explain on and returns the plans PostgREST's statements on `table` got. */
async function capturePlans(
  stack: Stack,
  table: string,
  call: () => Promise<unknown>,
  reps: number,
  pick: (sql: string) => boolean = () => true,
): Promise<LoggedPlan[]> {
  const file = stack.explainLogFile;
  if (!file) throw new Error('the bench stack must be started with explainLog: true');
  const from = logSize(file);
  await setExplain(stack.databaseUrl, true);
  try {
    for (let i = 0; i < reps; i++) await call();
  } finally {
    await setExplain(stack.databaseUrl, false);
  }
  const onTable = (p: LoggedPlan) =>
    p.queryText.includes(`"public"."${table}"`) && /^\s*(WITH|SELECT)/i.test(p.queryText) && pick(p.queryText);
  const deadline = Date.now() + 5_000;
  let plans = readLoggedPlans(file, from).filter(onTable);
  while (plans.length < reps && Date.now() < deadline) {
    await sleep(100); // the logging collector writes asynchronously
    plans = readLoggedPlans(file, from).filter(onTable);
  }
  if (plans.length < reps)
    throw new Error(`auto_explain logged ${plans.length} of ${reps} statements on ${table} (log ${file})`);
  return plans.slice(-reps);
}

export interface PlanFigures {
  /** execution time as PostgreSQL logged it for PostgREST's statement, median of the repetitions (ms) */
  ms: number;
  usesIndex: boolean;
  seqScans: string[];
  indexes: string[];
  sharedHit: number;
  sharedRead: number;
  /** One line per plan node, indented: what a person reads to see the plan. */
  plan: string[];
  sql: string;
}

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
  'Shared Hit Blocks'?: number;
  'Shared Read Blocks'?: number;
  'Actual Rows'?: number;
  'Actual Total Time'?: number;
}

function walk(n: PlanNode, f: (n: PlanNode, depth: number) => void, depth = 0): void {
  f(n, depth);
  for (const c of n.Plans ?? []) walk(c, f, depth + 1);
}

function planFigures(plans: LoggedPlan[], table: string): PlanFigures {
  const last = plans[plans.length - 1];
  const seqScans: string[] = [];
  const indexes = new Set<string>();
  const lines: string[] = [];
  let touches = false;
  walk(last.plan, (n, depth) => {
    if (n['Relation Name'] === table) touches = true;
    if (n['Node Type'] === 'Seq Scan' && n['Relation Name']) seqScans.push(n['Relation Name']);
    if (n['Index Name']) indexes.add(n['Index Name']);
    lines.push(
      `${'  '.repeat(depth)}${n['Node Type']}${n['Index Name'] ? ` using ${n['Index Name']}` : ''}${n['Relation Name'] ? ` on ${n['Relation Name']}` : ''} (rows ${n['Actual Rows'] ?? '?'})`,
    );
  });
  return {
    ms: round(median(plans.map((p) => p.durationMs)), 3),
    usesIndex: touches && seqScans.length === 0 && indexes.size > 0,
    seqScans,
    indexes: [...indexes],
    sharedHit: last.plan['Shared Hit Blocks'] ?? 0,
    sharedRead: last.plan['Shared Read Blocks'] ?? 0,
    plan: lines,
    sql: last.queryText,
  };
}

// ---- the measured requests -------------------------------------------------------------------

export const QUERY_NAMES = ['list_workspace', 'list_heads', 'staleness', 'dedup', 'heartbeat'] as const;
export type QueryName =
  (typeof QUERY_NAMES)[number] | 'list_all_scopes' | 'list_all_scopes_with_index' | 'naive_list_select_star';

/** One workspace with a history far longer than the generated average (about 1,000 runs per scope at 1M rows). */
export const BUSY_SCOPE_RUNS = 20_000;
const BUSY_SCOPE = scopeIdFor(0, '/home/dev/projects/busy-');

export type MeasuredQuery = PlanFigures & { responseBytes: number; rowsReturned: number; gatewayMs: number };

export interface ScaleResult {
  rows: number;
  generateMs: number;
  /** Runs in the workspace scope the list is measured on (all of them are read and sorted). */
  workspaceScopeRuns: number;
  queries: Record<QueryName, MeasuredQuery>;
  enqueue: EnqueueFigures;
  /** At the largest size only: the list of a workspace with BUSY_SCOPE_RUNS runs, without and with the scope index. */
  busy?: { scopeRuns: number; list: MeasuredQuery; listWithIndex: MeasuredQuery };
}

export interface EnqueueFigures {
  reps: number;
  /** Sequential round trips from the start up to the insert's response (median). */
  roundTripsToInsert: number;
  /** Requests up to and including the insert. */
  requestsToInsert: number;
  msToInsert: number;
  msTotal: number;
  plainRequestMs: number;
  outcomes: Record<string, number>;
}

export function makeBackend(stack: Stack, baseFetch?: typeof fetch): SupabaseBackend {
  return new SupabaseBackend({
    url: stack.url,
    origin: new URL(stack.url).origin,
    key: stack.keys.serviceRole,
    timeoutMs: 30_000,
    clientInfo: 'ehg-telemetry-bench',
    baseFetch,
  });
}

const WORKSPACE_SCOPE = scopeIdFor(7);

class NeverSocket {
  constructor() {
    throw new Error('the benchmark does not use realtime');
  }
}

/** The rows a backend call returned, counted by `count`; a failed call fails the bench. */
async function rows(
  p: Promise<{ ok: boolean; error?: unknown; value?: unknown }>,
  count: (v: never) => number,
): Promise<number> {
  const r = await p;
  if (!r.ok) throw new Error(`backend call failed: ${JSON.stringify(r.error)}`);
  return count(r.value as never);
}
const page = (v: { runs: unknown[] }) => v.runs.length;

/** Runs `fn` with the index `createIndexSql` creates (analysed), then drops that index again. */
async function withIndex<T>(stack: Stack, createIndexSql: string, fn: () => Promise<T>): Promise<T> {
  const name = /^CREATE INDEX (\w+) /.exec(createIndexSql)?.[1];
  if (!name) throw new Error(`not a CREATE INDEX statement: ${createIndexSql}`);
  await stack.query(createIndexSql);
  await stack.query('ANALYZE public.telemetry_analysis_runs');
  try {
    return await fn();
  } finally {
    await stack.query(`DROP INDEX IF EXISTS public.${name}`);
  }
}

/** Runs one backend call through the edge and PostgREST, and reads how PostgreSQL executed PostgREST's SQL. */
export async function measure(
  stack: Stack,
  table: string,
  call: () => Promise<number>,
  reps: number,
  which?: { sql: (sql: string) => boolean; query: (query: string) => boolean },
) {
  stack.gateway.clearLog();
  const rowsReturned = await call();
  const entry = stack.gateway.requestLog.find((e) => e.path.endsWith(`/${table}`) && (which?.query(e.query) ?? true));
  if (!entry) throw new Error(`no edge log entry for ${table}`);
  if (entry.status >= 400) throw new Error(`${table} request failed with ${entry.status}`);
  const plans = await capturePlans(stack, table, call, reps, which?.sql);
  return {
    ...planFigures(plans, table),
    responseBytes: entry.responseBytes,
    rowsReturned,
    gatewayMs: round(entry.durationMs, 2),
    query: entry.query,
  };
}

export async function measureQueries(stack: Stack, reps = 5): Promise<ScaleResult['queries']> {
  const backend = makeBackend(stack);
  const now = () => Date.now() + backend.clockOffsetMs();
  // supabase-js wants a WebSocket class on Node 20 even when realtime is never used: give it one that is never constructed.
  const client = createClient(stack.url, stack.keys.serviceRole, {
    auth: { persistSession: false, autoRefreshToken: false },
    realtime: {
      transport: NeverSocket as unknown as NonNullable<
        NonNullable<Parameters<typeof createClient>[2]>['realtime']
      >['transport'],
    },
  });
  const out: Partial<ScaleResult['queries']> = {};
  try {
    // A tree refresh is the list query (plain columns), plus, for runs not seen in their current
    // status, one request for their JSON heads by run_id. The backend keeps the heads it read, so a
    // refresh with nothing new is the list query alone; the heads request is measured on a new backend.
    const workspace = { kind: 'workspace', scopeIds: [WORKSPACE_SCOPE] } as const;
    out.list_workspace = await listWorkspace(stack, WORKSPACE_SCOPE, reps);
    out.list_heads = await measure(
      stack,
      RUNS_TABLE,
      async () => {
        const cold = makeBackend(stack);
        try {
          return await rows(cold.listRuns(workspace, 0, 20), page);
        } finally {
          cold.dispose();
        }
      },
      reps,
      { sql: (q) => q.includes('"run_id" = ANY'), query: (q) => q.includes('run_id=in.') },
    );
    out.staleness = await measure(
      stack,
      RUNS_TABLE,
      () => rows(backend.findFreshRun(WORKSPACE_SCOPE, new Date(now() - 7 * 86_400_000)), (v: unknown) => (v ? 1 : 0)),
      reps,
    );
    out.dedup = await measure(
      stack,
      RUNS_TABLE,
      () => rows(backend.findActiveRuns(WORKSPACE_SCOPE, new Date(now() - 10 * 60_000)), (v: unknown[]) => v.length),
      reps,
    );
    out.heartbeat = await measure(
      stack,
      'eva_scheduler_heartbeat',
      () => rows(backend.readHeartbeat(), (v: { kind: string }) => (v.kind === 'row' ? 1 : 0)),
      reps,
    );
    out.list_all_scopes = await measure(
      stack,
      RUNS_TABLE,
      () => rows(backend.listRuns({ kind: 'all' }, 0, 20), page),
      reps,
    );
    // The same "All Scopes" request with the index the README recommends for large tables, then without it again.
    out.list_all_scopes_with_index = await withIndex(stack, RECOMMENDED_INDEX_SQL, () =>
      measure(stack, RUNS_TABLE, () => rows(backend.listRuns({ kind: 'all' }, 0, 20), page), reps),
    );
    // The naive version of the same list: every column (output_ref, metadata, …), same filter/order/page.
    out.naive_list_select_star = await measure(
      stack,
      RUNS_TABLE,
      async () => {
        const r = await client
          .from(RUNS_TABLE)
          .select('*')
          .or(scopeOrFilter([WORKSPACE_SCOPE]))
          .order('triggered_at', { ascending: false })
          .order('run_id', { ascending: false })
          .range(0, 20);
        if (r.error) throw new Error(r.error.message);
        return r.data.length;
      },
      reps,
    );
  } finally {
    backend.dispose();
  }
  return out as ScaleResult['queries'];
}

/** enqueueRun (the code the session-start controller runs) on brand-new scopes, timing each request. */
export async function measureEnqueue(stack: Stack, label: string, reps = 10): Promise<EnqueueFigures> {
  let spans: Array<{ method: string; start: number; end: number }> = [];
  const timed: typeof fetch = async (input, init) => {
    const span = { method: (init?.method ?? 'GET').toUpperCase(), start: performance.now(), end: 0 };
    spans.push(span);
    try {
      const res = await fetch(input, init);
      const body = await res.arrayBuffer(); // the round trip ends when the body is in
      span.end = performance.now();
      return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
    } catch (e) {
      span.end = performance.now();
      throw e;
    }
  };
  const backend = makeBackend(stack, timed);
  const rts: number[] = [];
  const nReq: number[] = [];
  const toInsert: number[] = [];
  const total: number[] = [];
  const plain: number[] = [];
  const outcomes: Record<string, number> = {};
  try {
    await backend.readHeartbeat(); // connection warm-up, Date-header clock offset
    for (let i = 0; i < reps; i++) {
      spans = [];
      const t = performance.now();
      const outcome = await enqueueRun(backend, {
        scopeId: `/home/dev/bench/${label}/enqueue-${i}-${Date.now()}`,
        triggeredBy: 'SESSION_START',
        mode: 'whenStale',
        // The generated data has fresh global runs, which would (correctly) skip the insert; a 1 ms
        // window keeps the staleness query in the flow, unchanged in shape, and lets the insert happen.
        stalenessMs: 1,
        dedupMs: 10 * 60_000,
        metadata: {
          timeout_ms: 120_000,
          source: {
            extension: 'ehg-telemetry',
            extension_version: 'bench',
            vscode_version: 'bench',
            window_id: 'bench',
            app_host: 'bench',
          },
        },
      });
      total.push(performance.now() - t);
      outcomes[outcome.kind] = (outcomes[outcome.kind] ?? 0) + 1;
      const insertIdx = spans.findIndex((s) => s.method === 'POST');
      if (insertIdx < 0) continue;
      const upTo = spans.slice(0, insertIdx + 1);
      rts.push(sequentialDepth(upTo));
      nReq.push(upTo.length);
      toInsert.push(spans[insertIdx].end - t);
      // one plain request on the same backend and connection, right after
      const p0 = performance.now();
      await backend.readHeartbeat();
      plain.push(performance.now() - p0);
    }
  } finally {
    backend.dispose();
  }
  return {
    reps,
    roundTripsToInsert: median(rts),
    requestsToInsert: median(nReq),
    msToInsert: round(median(toInsert), 2),
    msTotal: round(median(total), 2),
    plainRequestMs: round(median(plain), 2),
    outcomes,
  };
}

/** Longest chain of requests where each starts only after the previous one has ended. */
export function sequentialDepth(spans: Array<{ start: number; end: number }>): number {
  const depth: number[] = [];
  spans.forEach((s, i) => {
    let d = 1;
    for (let j = 0; j < i; j++) if (spans[j].end <= s.start) d = Math.max(d, depth[j] + 1);
    depth.push(d);
  });
  return depth.length ? Math.max(...depth) : 0;
}

function listWorkspace(stack: Stack, scopeId: string, reps = 5): Promise<MeasuredQuery> {
  const backend = makeBackend(stack);
  const workspace = { kind: 'workspace', scopeIds: [scopeId] } as const;
  return measure(stack, RUNS_TABLE, () => rows(backend.listRuns(workspace, 0, 20), page), reps, {
    sql: (q) => /ORDER BY/i.test(q),
    query: (q) => q.includes('order='),
  }).finally(() => backend.dispose());
}

async function scopeRuns(stack: Stack, scopeId: string): Promise<number> {
  const [{ n }] = await stack.query<{ n: string }>(
    `select count(*)::bigint as n from public.telemetry_analysis_runs where scope_type = 'workspace' and scope_id = $1`,
    [scopeId],
  );
  return Number(n);
}

/**
 * Adds one workspace with BUSY_SCOPE_RUNS runs and measures its list with the contract's indexes and
 * with RECOMMENDED_SCOPE_INDEX_SQL (created, then dropped again).
 */
async function measureBusyScope(stack: Stack): Promise<NonNullable<ScaleResult['busy']>> {
  log(`scale: adding one workspace with ${BUSY_SCOPE_RUNS.toLocaleString('en')} runs`);
  await generateRuns(stack.databaseUrl, {
    rows: BUSY_SCOPE_RUNS,
    scopes: 1,
    globalShare: 0,
    scopePrefix: '/home/dev/projects/busy-',
    seed: 4242,
  });
  await stack.query('VACUUM ANALYZE public.telemetry_analysis_runs');
  const list = await listWorkspace(stack, BUSY_SCOPE);
  const listWithIndex = await withIndex(stack, RECOMMENDED_SCOPE_INDEX_SQL, () => listWorkspace(stack, BUSY_SCOPE));
  return { scopeRuns: await scopeRuns(stack, BUSY_SCOPE), list, listWithIndex };
}

/** Grows the runs table to `target` rows (1,000 scopes) and measures everything at that size; `busy` adds the busy workspace after. */
export async function measureAtScale(
  stack: Stack,
  currentRows: number,
  target: number,
  busy = false,
): Promise<ScaleResult> {
  const add = target - currentRows;
  let generateMs = 0;
  if (add > 0) {
    log(`scale: generating ${add.toLocaleString('en')} rows (table → ${target.toLocaleString('en')})`);
    const g = await generateRuns(stack.databaseUrl, {
      rows: add,
      scopes: 1000,
      seed: 1000 + (target % 997) + (currentRows % 991),
    });
    generateMs = g.ms;
    await stack.query('VACUUM ANALYZE public.telemetry_analysis_runs');
    log(`scale: ${g.rows.toLocaleString('en')} rows in ${g.ms} ms`);
  }
  const [{ n }] = await stack.query<{ n: string }>('select count(*)::bigint as n from public.telemetry_analysis_runs');
  const queries = await measureQueries(stack);
  const enqueue = await measureEnqueue(stack, `rows-${target}`);
  const workspaceScopeRuns = await scopeRuns(stack, WORKSPACE_SCOPE);
  return {
    rows: Number(n),
    generateMs,
    workspaceScopeRuns,
    queries,
    enqueue,
    busy: busy ? await measureBusyScope(stack) : undefined,
  };
}
