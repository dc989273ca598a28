// The analysis child process (bundled as dist/analysisChild.js; started by analysisProcess.ts with
// child_process.fork). It loads the workspace's own analyzer (ESM, resolving its imports from the
// workspace), calls analyzeBottlenecks(supabase, { runId, enableAutoCreate }) as the CLI hook does,
// and owns the run's lifecycle writes from then on, so the run ends with a finished row even when
// the window that started it closes or reloads: it is detached from the extension host and keeps
// going when the IPC channel drops. It enforces the run's timeout itself, stops at once (writing
// nothing more) when the run stops being RUNNING (a cancel), and turns the analyzer's throw,
// process.exit() or an uncaught error into a FAILED row. Cases it cannot handle itself (it is
// killed, or its event loop is blocked) are finished by the host (analysisProcess.ts) or, if the
// host is gone too, by the next window's orphan check (domain/analysisRun.ts isOrphaned).
import { spawn } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { finishFromFailure, finishFromResult, FinishFields, maskSecrets } from '../domain/analysisRun';
import { analyzerErrorsOf } from '../domain/analyzerErrors';
import { analyzerErrorLines } from '../domain/runFormat';
import { finishRunWithRetry } from '../data/lifecycleWrites';
import { SupabaseBackend } from '../data/supabaseBackend';
import { BACKSTOP_SLACK_MS, type ChildMessage, type HostMessage, type RunMessage } from './protocol';

type Analyze = (supabase: unknown, opts: { runId: string; enableAutoCreate: boolean }) => Promise<unknown>;

const realExit = process.exit.bind(process);
let secrets: string[] = [];
let analyze: Analyze | null = null;
let connected = true;

function send(m: ChildMessage): void {
  if (!connected || !process.send) return;
  try {
    // With a callback, a channel closed in the meantime reports here instead of as an 'error' event.
    process.send(m, undefined, undefined, (err) => {
      if (err) connected = false;
    });
  } catch {
    connected = false;
  }
}

// The window may close while we run: a broken pipe or channel must not crash us.
process.stdout.on('error', () => undefined);
process.stderr.on('error', () => undefined);
let started = false;
process.on('disconnect', () => {
  connected = false;
  // Loaded but never told to run: the host went away before enqueueing, so there is nothing to do.
  if (!started) realExit(0);
});

// The analyzer logs with console.*: forward it to the host's log channel, keys masked.
const forward =
  (level: 'info' | 'warn' | 'error') =>
  (...args: unknown[]) => {
    const text = args
      .map((a) => (typeof a === 'string' ? a : a instanceof Error ? (a.stack ?? a.message) : safeJson(a)))
      .join(' ');
    send({ type: 'log', level, text: maskSecrets(text, secrets).slice(0, 10_000) });
  };
console.log = forward('info');
console.info = forward('info');
console.debug = forward('info');
console.warn = forward('warn');
console.error = forward('error');

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

// eslint-disable-next-line @typescript-eslint/no-implied-eval -- a real import() even when this file is compiled to CommonJS (tsc turns import() into require(), which cannot load ESM)
const dynamicImport = new Function('u', 'return import(u)') as (u: string) => Promise<Record<string, unknown>>;

async function load(analyzerPath: string): Promise<void> {
  const t0 = Date.now();
  try {
    const mod = await dynamicImport(pathToFileURL(analyzerPath).href);
    const fn = mod.analyzeBottlenecks ?? (mod.default as Record<string, unknown> | undefined)?.analyzeBottlenecks;
    if (typeof fn !== 'function') throw new Error('the module does not export a function analyzeBottlenecks');
    analyze = fn as Analyze;
    send({ type: 'loaded', loadMs: Date.now() - t0, rssBytes: process.memoryUsage().rss });
    // Loaded but never told to run (the host is stuck or gone): do not linger.
    setTimeout(() => {
      if (!started) realExit(0);
    }, 120_000).unref();
  } catch (e) {
    send({
      type: 'load-failed',
      message: maskSecrets(e instanceof Error ? `${e.name}: ${e.message}` : String(e)).slice(0, 2_000),
    });
    setTimeout(() => realExit(2), 50);
  }
}

/**
 * A blocked event loop (an analyzer stuck in a synchronous loop) cannot run our own timer, and the
 * window that would kill us (analysisProcess.ts) may be gone. So a detached shell kills this process
 * once the timeout plus the host's slack and a margin has passed; stopped when we end normally.
 * (Not on Windows: no POSIX shell; there the host's watchdog and the orphan check remain.)
 */
function startBackstop(ms: number): () => void {
  if (process.platform === 'win32') return () => undefined;
  try {
    const s = spawn('sh', ['-c', `sleep ${Math.ceil(ms / 1000)}; kill -KILL ${process.pid} 2>/dev/null`], {
      detached: true,
      stdio: 'ignore',
    });
    s.on('error', () => undefined);
    s.unref();
    return () => {
      try {
        if (s.pid) process.kill(s.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    };
  } catch {
    return () => undefined;
  }
}

/** What the steps of one run share. */
interface RunContext {
  m: RunMessage;
  backend: SupabaseBackend;
  stopBackstop: () => void;
  /** The run's started_at (server frame). */
  t0: number;
  /** Now in the server's frame. */
  now: () => number;
}

/** The run's one ending: the finished row written once (finish or fail), or a stop seen by the status poll. */
interface RunEnding {
  settled: boolean;
  /** Clears the run's own timeout and status poll (set once they run). */
  stopWatching: () => void;
  finish: (fields: FinishFields) => Promise<void>;
  fail: (errorClass: string, message: string) => Promise<void>;
}

async function run(m: RunMessage): Promise<void> {
  started = true;
  const stopBackstop = startBackstop(m.timeoutMs + BACKSTOP_SLACK_MS);
  secrets = [m.key];
  const backend = new SupabaseBackend({
    url: m.url,
    origin: m.origin,
    key: m.key,
    timeoutMs: m.requestTimeoutMs,
    clientInfo: m.clientInfo,
  });
  // Times are written in the server's frame (started_at came from the claim): elapsed local time
  // added to the analysis' start (after any hook hold), so finished_at is never before started_at
  // whatever the two clocks say, and duration_ms = finished_at - started_at (the row's own times).
  const t0 = m.startedAtMs;
  const localT0 = Date.now();
  const now = () => Math.max(t0, m.analysisStartMs) + (Date.now() - localT0);
  const ctx: RunContext = { m, backend, stopBackstop, t0, now };

  const ending = runEnding(ctx);
  watchTimeoutAndCancel(ctx, ending);
  trapEscapes(ending.fail);

  try {
    const result = await analyze!(backend.supabase, { runId: m.runId, enableAutoCreate: m.enableAutoCreate });
    await ending.finish(finishFromResult(result, t0, now(), secrets, { enableAutoCreate: m.enableAutoCreate }));
  } catch (e) {
    const cls = e instanceof Error ? e.constructor.name : 'Error';
    await ending.fail(cls, e instanceof Error ? e.message : String(e));
  }
}

/** Writes the finished row once (with a retry), tells the host, and exits; later endings do nothing. */
function runEnding({ m, backend, stopBackstop, t0, now }: RunContext): RunEnding {
  const ending: RunEnding = {
    settled: false,
    stopWatching: () => undefined,
    finish: async (fields) => {
      if (ending.settled) return;
      ending.settled = true;
      ending.stopWatching();
      // What the analyzer reported next to its findings (e.g. refused improvement items): in the log too.
      const reported = analyzerErrorLines(analyzerErrorsOf(fields.output_ref).groups);
      if (reported.length)
        send({ type: 'log', level: 'warn', text: `the analyzer reported errors: ${reported.join('; ')}` });
      const r = await finishRunWithRetry(backend, m.runId, fields);
      send({
        type: 'finished',
        status: fields.status,
        written: r.ok && r.value,
        writeError: r.ok ? undefined : r.error.message,
        rssBytes: process.memoryUsage().rss,
        durationMs: fields.duration_ms,
      });
      stopBackstop();
      setTimeout(() => realExit(0), 50);
    },
    fail: (errorClass, message) =>
      ending.finish(finishFromFailure({ kind: 'error', errorClass, message }, t0, now(), secrets)),
  };
  return ending;
}

/**
 * Our own timeout (the hook's Promise.race, but cleared and followed by exiting), and the status poll:
 * a cancel (from any window or the CLI) wins: stop at once and write nothing more.
 */
function watchTimeoutAndCancel({ m, backend, stopBackstop, t0, now }: RunContext, ending: RunEnding): void {
  const timer = setTimeout(
    () => void ending.finish(finishFromFailure({ kind: 'timeout', timeoutMs: m.timeoutMs }, t0, now())),
    m.timeoutMs,
  );
  const poll = setInterval(() => {
    void backend.getRunStatus(m.runId).then((s) => {
      if (ending.settled || !s.ok || s.value === 'RUNNING') return;
      ending.settled = true;
      send({ type: 'stopped', status: s.value });
      stopBackstop();
      realExit(0);
    });
  }, m.statusPollMs);
  ending.stopWatching = () => {
    clearTimeout(timer);
    clearInterval(poll);
  };
}

/** The analyzer's escapes end the run FAILED: an uncaught error, an unhandled rejection, process.exit(). */
function trapEscapes(fail: RunEnding['fail']): void {
  process.on('uncaughtException', (e) => {
    // The window went away under us: a broken pipe is not the analyzer's failure.
    if (
      (e as NodeJS.ErrnoException)?.code === 'EPIPE' ||
      (e as NodeJS.ErrnoException)?.code === 'ERR_IPC_CHANNEL_CLOSED'
    )
      return;
    void fail(e?.constructor?.name ?? 'Error', e instanceof Error ? e.message : String(e));
  });
  process.on(
    'unhandledRejection',
    (e) =>
      void fail(
        e instanceof Error ? e.constructor.name : 'UnhandledRejection',
        e instanceof Error ? e.message : String(e),
      ),
  );
  // The analyzer is workspace code: process.exit() from it must not leave the run RUNNING.
  const exitFromAnalyzer = (code?: number | string | null): never => {
    void fail('AnalyzerExitError', `the analyzer called process.exit(${code ?? ''})`);
    throw new Error('process.exit() is not allowed inside the analysis');
  };
  process.exit = exitFromAnalyzer;
}

process.on('message', (raw: unknown) => {
  const m = raw as HostMessage;
  if (m?.type === 'load') void load(m.analyzerPath);
  else if (m?.type === 'run' && analyze) void run(m);
  else if (m?.type === 'abort') realExit(0);
});
// Never outlive a host that never says anything (e.g. it died while we were loading).
const idle = setTimeout(() => realExit(0), 60_000);
process.on('message', () => clearTimeout(idle));
