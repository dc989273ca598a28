// Host side of one analysis: fork the child (analysisChild.ts), wait for the workspace's analyzer to
// load, hand it the run, and watch it. No `vscode` import, so the integration tests drive exactly
// this code.
//
// Who writes the finish row:
//  - the child, in every case it can see (result, throw, read error, its own timeout, the
//    analyzer's process.exit(), an uncaught error); it is detached and outlives the window;
//  - this host, when the child dies without having written it (crash, kill, out of memory): a
//    FAILED row; and when the child overruns its timeout by WATCHDOG_SLACK_MS (a blocked event
//    loop cannot run its own timer): the child is killed and the run is TIMED_OUT;
//  - Cancel Run: the child is killed first, then the run is set CANCELLED by the command;
//  - nobody, when the host dies while the child is blocked: the next window's orphan check marks
//    it TIMED_OUT once started_at + timeout_ms + grace has passed (ui/orphanSweep.ts).
// Every update is guarded on status = RUNNING, so whoever is second writes nothing.
import { ChildProcess, fork } from 'node:child_process';
import { finishFromFailure, RunFailure } from '../domain/analysisRun';
import type { TelemetryBackend } from '../data/backend';
import { finishRunWithRetry } from '../data/lifecycleWrites';
import type { ChildMessage, HostMessage, RunMessage } from './protocol';
import { t } from '../domain/l10n';

export const LOAD_TIMEOUT_MS = 20_000;
export const WATCHDOG_SLACK_MS = 15_000;

export type LogFn = (level: 'info' | 'warn' | 'error', line: string) => void;

export interface StartOptions {
  /** dist/analysisChild.js (or the compiled out/ file in tests). */
  childModule: string;
  /** Absolute path of the analyzer module (already checked to be inside the folder). */
  analyzerPath: string;
  /** The workspace folder: the child's working directory. */
  cwd: string;
  log: LogFn;
  loadTimeoutMs?: number;
  /** Defaults to process.execPath with ELECTRON_RUN_AS_NODE=1 (desktop VS Code's Electron runs as Node). */
  execPath?: string;
}

export interface RunOutcome {
  /** Who ended the run, and how. */
  end: 'child-finished' | 'child-stopped' | 'host-finished' | 'cancelled' | 'detached';
  status: string | null;
  written: boolean;
  rssBytes?: number;
}

export type StartResult = { ok: true; process: AnalysisProcess } | { ok: false; reason: string };

export class AnalysisProcess {
  readonly loadMs: number;
  readonly rssAtLoad: number;
  private exitInfo: { code: number | null; signal: string | null } | null = null;
  private readonly exited: Promise<void>;
  private finalMessage: ChildMessage | null = null;
  private detachedFromHost = false;
  private cancelled = false;

  private constructor(
    private readonly child: ChildProcess,
    private readonly log: LogFn,
    loaded: { loadMs: number; rssBytes: number },
  ) {
    this.loadMs = loaded.loadMs;
    this.rssAtLoad = loaded.rssBytes;
    this.exited = new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      child.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        resolve();
      });
    });
    child.on('message', (m: ChildMessage) => {
      if (m?.type === 'log') log(m.level, `[analyzer] ${m.text}`);
      else if (m?.type === 'finished' || m?.type === 'stopped') this.finalMessage = m;
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Forks the child and waits until the analyzer module has loaded (or failed to). Never throws. */
  static start(o: StartOptions): Promise<StartResult> {
    return new Promise<StartResult>((resolve) => {
      let child: ChildProcess;
      const t0 = Date.now();
      try {
        child = fork(o.childModule, [], {
          execPath: o.execPath ?? process.execPath,
          cwd: o.cwd,
          env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
          // Its own process group: a window that closes does not take the run down with it.
          detached: true,
          stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
          serialization: 'json',
        });
      } catch (e) {
        resolve({
          ok: false,
          reason: t('Node could not be started for the analyzer: {0}', e instanceof Error ? e.message : String(e)),
        });
        return;
      }
      pipeLines(child, o.log);
      let done = false;
      const settle = (r: StartResult) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        child.removeListener('message', onMessage);
        if (!r.ok) kill(child);
        resolve(r);
      };
      const timer = setTimeout(
        () =>
          settle({
            ok: false,
            reason: t('the analyzer did not load within {0} s', (o.loadTimeoutMs ?? LOAD_TIMEOUT_MS) / 1000),
          }),
        o.loadTimeoutMs ?? LOAD_TIMEOUT_MS,
      );
      const onMessage = (m: ChildMessage) => {
        if (m?.type === 'loaded') {
          o.log(
            'info',
            `Analysis process ${child.pid} started; analyzer loaded in ${Date.now() - t0} ms (import ${m.loadMs} ms), ${(m.rssBytes / 1048576).toFixed(1)} MB resident`,
          );
          settle({
            ok: true,
            process: new AnalysisProcess(child, o.log, { loadMs: Date.now() - t0, rssBytes: m.rssBytes }),
          });
        } else if (m?.type === 'load-failed') {
          settle({ ok: false, reason: t('the analyzer module failed to load: {0}', m.message) });
        }
      };
      child.on('message', onMessage);
      child.once('error', (e) =>
        settle({ ok: false, reason: t('Node could not be started for the analyzer: {0}', e.message) }),
      );
      child.once('exit', (code, signal) =>
        settle({
          ok: false,
          reason: signal
            ? t('the analysis process exited while loading (signal {0})', signal)
            : t('the analysis process exited while loading (code {0})', String(code)),
        }),
      );
      send(child, { type: 'load', analyzerPath: o.analyzerPath });
    });
  }

  /** Not needed after all (no run was enqueued): the child exits. */
  discard(): void {
    send(this.child, { type: 'abort' });
    setTimeout(() => kill(this.child), 2_000).unref();
  }

  /**
   * Hands the run to the child and resolves when the run has ended (or the host detached).
   * `backend` is used only for the host's own writes (child died, watchdog).
   */
  run(msg: Omit<RunMessage, 'type'>, backend: TelemetryBackend): Promise<RunOutcome> {
    send(this.child, { type: 'run', ...msg });
    const localT0 = Date.now();
    const watchdog = setTimeout(() => {
      this.log(
        'warn',
        `Analysis run ${msg.runId}: the analysis process overran its timeout by ${WATCHDOG_SLACK_MS / 1000} s and is killed`,
      );
      this.watchdogFired = true;
      kill(this.child);
    }, msg.timeoutMs + WATCHDOG_SLACK_MS);
    return this.exited.then(async (): Promise<RunOutcome> => {
      clearTimeout(watchdog);
      const m = this.finalMessage;
      if (this.detachedFromHost) return { end: 'detached', status: null, written: false };
      if (this.cancelled) return { end: 'cancelled', status: 'CANCELLED', written: false };
      if (m?.type === 'finished')
        return { end: 'child-finished', status: m.status, written: m.written, rssBytes: m.rssBytes };
      if (m?.type === 'stopped') return { end: 'child-stopped', status: m.status, written: false };
      const failure: RunFailure = this.watchdogFired
        ? { kind: 'killed-by-watchdog', timeoutMs: msg.timeoutMs }
        : { kind: 'process-exited', code: this.exitInfo?.code ?? null, signal: this.exitInfo?.signal ?? null };
      const at = Math.max(msg.startedAtMs, msg.analysisStartMs) + (Date.now() - localT0);
      const fields = finishFromFailure(failure, msg.startedAtMs, at);
      const r = await finishRunWithRetry(backend, msg.runId, fields);
      if (!r.ok) this.log('warn', `Analysis run ${msg.runId}: could not record ${fields.status}: ${r.error.message}`);
      return { end: 'host-finished', status: fields.status, written: r.ok && r.value };
    });
  }
  private watchdogFired = false;

  /** Cancel Run on a run this window executes: kill the child first (the command then writes CANCELLED). */
  async cancel(): Promise<void> {
    this.cancelled = true;
    kill(this.child);
    await Promise.race([this.exited, new Promise((r) => setTimeout(r, 3_000))]);
  }

  /** Deactivation: never wait. The child keeps running on its own and writes its finish row. */
  detach(): void {
    this.detachedFromHost = true;
    try {
      this.child.stdout?.destroy();
      this.child.stderr?.destroy();
      if (this.child.connected) this.child.disconnect();
    } catch {
      // already gone
    }
    this.child.unref();
  }
}

function send(child: ChildProcess, m: HostMessage): void {
  try {
    if (child.connected) child.send(m);
  } catch {
    // the exit handler reports it
  }
}

function kill(child: ChildProcess): void {
  try {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  } catch {
    // already gone
  }
}

/** The child's raw stdout/stderr (anything not sent through console.*) goes to the log, line by line. */
function pipeLines(child: ChildProcess, log: LogFn): void {
  for (const [stream, level] of [
    [child.stdout, 'info'],
    [child.stderr, 'warn'],
  ] as const) {
    if (!stream) continue;
    let buf = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      buf += chunk;
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (line.trim()) log(level, `[analyzer] ${line.slice(0, 10_000)}`);
      }
      if (buf.length > 100_000) buf = '';
    });
    stream.on('error', () => undefined);
  }
}
