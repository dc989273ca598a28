// Backend-side figures, measured against the local stack (real PostgreSQL + the PostgREST stand-in):
//   - scale: the SQL the gateway generates for the extension's own PostgREST requests (captured from
//     the wire between gateway and PostgreSQL, never hand-written), replayed with
//     EXPLAIN (ANALYZE, BUFFERS) in the same transaction set-up (role, request settings);
//   - bytes per tree refresh (list with the extension's columns vs select=*);
//   - session start: sequential round trips up to the inserted row, and its wall time against one
//     plain request.
import { createClient } from '@supabase/supabase-js';
import { Client } from 'pg';
import { enqueueRun } from '../../src/data/enqueueRun';
import { RUNS_TABLE, scopeOrFilter, SupabaseBackend } from '../../src/data/supabaseBackend';
import { generateRuns, scopeIdFor } from '../../test/stack/datagen';
import type { Stack } from '../../test/stack';
import { log, median, round } from './util';

// ---- capturing the gateway's SQL -------------------------------------------------------------

interface Captured { text: string; values: unknown[] }
let capture: Captured[] | null = null;
let patched = false;

/**
 * Records every statement any pg client of this process sends while `capture` is set. The gateway
 * runs in this process (startStack), so this is exactly what it sends to PostgreSQL for a request.
 */
function patchPg(): void {
  if (patched) return;
  patched = true;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const pg = require('pg') as { Client: { prototype: { query: (...a: unknown[]) => unknown } } };
  const orig = pg.Client.prototype.query;
  pg.Client.prototype.query = function (this: unknown, ...args: unknown[]) {
    if (capture) {
      const [q, v] = args;
      const text = typeof q === 'string' ? q : (q as { text?: string })?.text;
      const values = Array.isArray(v) ? v : ((q as { values?: unknown[] })?.values ?? []);
      if (typeof text === 'string') capture.push({ text, values: [...values] });
    }
    return orig.apply(this, args);
  };
}

async function captureSql<T>(fn: () => Promise<T>): Promise<{ result: T; statements: Captured[] }> {
  patchPg();
  capture = [];
  try {
    const result = await fn();
    return { result, statements: capture };
  } finally {
    capture = null;
  }
}

// ---- EXPLAIN ---------------------------------------------------------------------------------

export interface PlanFigures {
  /** planning + execution, median of the repetitions (ms) */
  ms: number;
  planningMs: number;
  executionMs: number;
  usesIndex: boolean;
  seqScans: string[];
  indexes: string[];
  sharedHit: number;
  sharedRead: number;
  rows: number;
  sql: string;
}

interface PlanNode { 'Node Type': string; 'Relation Name'?: string; 'Index Name'?: string; Plans?: PlanNode[]; 'Shared Hit Blocks'?: number; 'Shared Read Blocks'?: number; 'Actual Rows'?: number }

function walk(n: PlanNode, f: (n: PlanNode) => void): void {
  f(n);
  for (const c of n.Plans ?? []) walk(c, f);
}

/** Replays one captured request: its transaction prelude, then EXPLAIN of the main statement. */
async function explain(databaseUrl: string, statements: Captured[], table: string, reps: number): Promise<PlanFigures> {
  const main = statements.find((s) => s.text.includes(`public."${table}"`) && /^\s*(SELECT|WITH)/i.test(s.text));
  if (!main) throw new Error(`no statement on ${table} was captured (got: ${statements.map((s) => s.text.slice(0, 60)).join(' | ')})`);
  const prelude = statements.slice(0, statements.indexOf(main)).filter((s) => !/^\s*(COMMIT|ROLLBACK)/i.test(s.text));
  const c = new Client({ connectionString: databaseUrl });
  await c.connect();
  const runs: Array<{ plan: PlanNode; planning: number; execution: number }> = [];
  let rowsReturned = 0;
  try {
    for (const s of prelude) await c.query(s.text, s.values);
    const plain = await c.query(main.text, main.values);
    rowsReturned = Number((plain.rows[0] as { n?: unknown })?.n ?? 0);
    await c.query('ROLLBACK');
    for (let i = 0; i < reps; i++) {
      for (const s of prelude) await c.query(s.text, s.values);
      const r = await c.query(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${main.text}`, main.values);
      await c.query('ROLLBACK');
      const j = (r.rows[0] as Record<string, unknown>)['QUERY PLAN'] as Array<{ Plan: PlanNode; 'Planning Time': number; 'Execution Time': number }>;
      runs.push({ plan: j[0].Plan, planning: j[0]['Planning Time'], execution: j[0]['Execution Time'] });
    }
  } finally {
    await c.query('ROLLBACK').catch(() => undefined);
    await c.end();
  }
  const last = runs[runs.length - 1];
  const seqScans: string[] = [];
  const indexes = new Set<string>();
  let touches = false;
  walk(last.plan, (n) => {
    if (n['Relation Name'] === table) touches = true;
    if (n['Node Type'] === 'Seq Scan' && n['Relation Name']) seqScans.push(n['Relation Name']);
    if (n['Index Name']) indexes.add(n['Index Name']);
  });
  return {
    ms: round(median(runs.map((r) => r.planning + r.execution)), 3),
    planningMs: round(median(runs.map((r) => r.planning)), 3),
    executionMs: round(median(runs.map((r) => r.execution)), 3),
    usesIndex: touches && seqScans.length === 0 && indexes.size > 0,
    seqScans,
    indexes: [...indexes],
    sharedHit: last.plan['Shared Hit Blocks'] ?? 0,
    sharedRead: last.plan['Shared Read Blocks'] ?? 0,
    rows: rowsReturned,
    sql: main.text,
  };
}

// ---- the measured requests -------------------------------------------------------------------

export const QUERY_NAMES = ['list_workspace', 'staleness', 'dedup', 'heartbeat'] as const;
export type QueryName = (typeof QUERY_NAMES)[number] | 'list_all_scopes' | 'naive_list_select_star';

export interface ScaleResult {
  rows: number;
  generateMs: number;
  queries: Record<QueryName, PlanFigures & { responseBytes: number; rowsReturned: number; gatewayMs: number }>;
  enqueue: EnqueueFigures;
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
  return new SupabaseBackend({ url: stack.url, origin: new URL(stack.url).origin, key: stack.keys.serviceRole, timeoutMs: 30_000, clientInfo: 'ehg-telemetry-bench', baseFetch });
}

const WORKSPACE_SCOPE = scopeIdFor(7);

class NeverSocket {
  constructor() { throw new Error('the benchmark does not use realtime'); }
}

/** Runs one backend call against the gateway, captures its SQL and log entry, and EXPLAINs it. */
async function measure(stack: Stack, table: string, call: () => Promise<unknown>, reps: number) {
  stack.gateway.clearLog();
  const { result, statements } = await captureSql(call);
  const entry = stack.gateway.requestLog.find((e) => e.path.endsWith(`/${table}`));
  if (!entry) throw new Error(`no gateway log entry for ${table}`);
  if (entry.status >= 400) throw new Error(`${table} request failed with ${entry.status}: ${JSON.stringify(result)}`);
  const plan = await explain(stack.databaseUrl, statements, table, reps);
  return { ...plan, responseBytes: entry.responseBytes, rowsReturned: plan.rows, gatewayMs: round(entry.durationMs, 2), query: entry.query };
}

export async function measureQueries(stack: Stack, reps = 5): Promise<ScaleResult['queries']> {
  const backend = makeBackend(stack);
  const now = () => Date.now() + backend.clockOffsetMs();
  // supabase-js wants a WebSocket class on Node 20 even when realtime is never used: give it one that is never constructed.
  const client = createClient(stack.url, stack.keys.serviceRole, {
    auth: { persistSession: false, autoRefreshToken: false },
    realtime: { transport: NeverSocket as unknown as NonNullable<NonNullable<Parameters<typeof createClient>[2]>['realtime']>['transport'] },
  });
  const out: Partial<ScaleResult['queries']> = {};
  try {
    const expectOk = async (p: Promise<{ ok: boolean; error?: unknown }>) => {
      const r = await p;
      if (!r.ok) throw new Error(`backend call failed: ${JSON.stringify(r.error)}`);
      return r;
    };
    out.list_workspace = await measure(stack, RUNS_TABLE, () => expectOk(backend.listRuns({ kind: 'workspace', scopeIds: [WORKSPACE_SCOPE] }, 0, 20)), reps);
    out.staleness = await measure(stack, RUNS_TABLE, () => expectOk(backend.findFreshRun(WORKSPACE_SCOPE, new Date(now() - 7 * 86_400_000))), reps);
    out.dedup = await measure(stack, RUNS_TABLE, () => expectOk(backend.findActiveRuns(WORKSPACE_SCOPE, new Date(now() - 10 * 60_000))), reps);
    out.heartbeat = await measure(stack, 'eva_scheduler_heartbeat', () => expectOk(backend.readHeartbeat()), reps);
    out.list_all_scopes = await measure(stack, RUNS_TABLE, () => expectOk(backend.listRuns({ kind: 'all' }, 0, 20)), reps);
    // The naive version of the same list: every column (output_ref, metadata, …), same filter/order/page.
    out.naive_list_select_star = await measure(stack, RUNS_TABLE, async () => {
      const r = await client.from(RUNS_TABLE).select('*').or(scopeOrFilter([WORKSPACE_SCOPE]))
        .order('triggered_at', { ascending: false }).order('run_id', { ascending: false }).range(0, 20);
      if (r.error) throw new Error(r.error.message);
      return r;
    }, reps);
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
        metadata: { timeout_ms: 120_000, source: { extension: 'ehg-telemetry', extension_version: 'bench', vscode_version: 'bench', window_id: 'bench', app_host: 'bench' } },
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

/** Grows the runs table to `target` rows (1,000 scopes) and measures everything at that size. */
export async function measureAtScale(stack: Stack, currentRows: number, target: number): Promise<ScaleResult> {
  const add = target - currentRows;
  let generateMs = 0;
  if (add > 0) {
    log(`scale: generating ${add.toLocaleString('en')} rows (table → ${target.toLocaleString('en')})`);
    const g = await generateRuns(stack.databaseUrl, { rows: add, scopes: 1000, seed: 1000 + target % 997 + currentRows % 991 });
    generateMs = g.ms;
    await stack.query('VACUUM ANALYZE public.telemetry_analysis_runs');
    log(`scale: ${g.rows.toLocaleString('en')} rows in ${g.ms} ms`);
  }
  const [{ n }] = await stack.query<{ n: string }>('select count(*)::bigint as n from public.telemetry_analysis_runs');
  const queries = await measureQueries(stack);
  const enqueue = await measureEnqueue(stack, `rows-${target}`);
  return { rows: Number(n), generateMs, queries, enqueue };
}
