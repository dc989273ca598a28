// Executes the runs this window triggers with the workspace's own analyzer (see
// src/analysis/executeRun.ts and analysisProcess.ts for the process and who writes which row).
// Here: the VS Code side — workspace trust, the folder's settings, the log channel, the runs this
// window executes (ui/analysisStatus.ts shows them in the status bar), Cancel Run killing our child first,
// and a deactivation that never waits for an analysis (children are detached and finish their runs
// themselves) but does, briefly, for a run claimed and not yet started (held for the CLI hook): that
// one is cancelled (WINDOW_CLOSED) rather than left RUNNING with no owner.
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { TelemetryBackend } from '../data/backend';
import type { EnqueueRequest } from '../data/enqueueRun';
import type { ExecuteOutcome, Execution } from '../analysis/executeRun';
import type { ConnectionManager } from '../platform/connection';
import type { Log } from '../platform/log';
import type { FolderSettings } from '../platform/settings';
import { windowIdFor } from '../domain/sessionTrigger';

export interface ExecutionRecord {
  runId: string;
  folder: string;
  startMs: number;
  loadMs: number;
  rssAtLoadBytes: number;
  end?: string;
  status?: string | null;
  finishedMs?: number;
}

export class AnalysisRunner implements vscode.Disposable {
  private readonly running = new Map<string, Execution>();
  private readonly runningEmitter = new vscode.EventEmitter<string[]>();
  /** The runs this window executes changed (one started or ended): their ids. */
  readonly onDidChangeRunning = this.runningEmitter.event;
  private readonly emitter = new vscode.EventEmitter<void>();
  readonly onDidChange = this.emitter.event;
  private readonly ended = new vscode.EventEmitter<string>();
  /** A run this window executed has ended (its analysis process finished, failed or was cancelled). */
  readonly onDidEndRun = this.ended.event;
  /** Folders (uri) where no analyzer can run, with the reason: shown once in the view. */
  readonly noAnalyzer = new Map<string, string>();
  /** For tests and the closing figures. */
  readonly history: ExecutionRecord[] = [];
  private disposed = false;
  /** Aborted when the window closes or reloads: enqueues in flight stop and start nothing. */
  private readonly closing = new AbortController();
  /** Enqueues in flight (with their claims, holds and cancel writes), awaited briefly on close. */
  private readonly inFlight = new Set<Promise<unknown>>();
  private closed: Promise<void> | null = null;
  private readonly activationId = globalThis.crypto.randomUUID();
  /** This window in metadata.source / metadata.runner: vscode.env.sessionId unless it is a placeholder (code-server). */
  readonly windowId = windowIdFor(vscode.env.sessionId, this.activationId);

  constructor(
    private readonly connection: ConnectionManager,
    private readonly log: Log,
    private readonly extensionPath: string,
    private readonly extensionVersion: string,
  ) {}

  get activeRunIds(): string[] {
    return [...this.running.keys()];
  }
  owns(runId: string): boolean {
    return this.running.has(runId);
  }

  /**
   * Enqueue with the hook's checks, executing the run here when the folder's executor is
   * "workspace" (the default); "external" only enqueues. `fs`: the folder's settings, as startRun read them.
   */
  async enqueue(
    folder: vscode.WorkspaceFolder,
    backend: TelemetryBackend,
    req: Omit<EnqueueRequest, 'execute'>,
    fs: Pick<FolderSettings, 'executor' | 'analyzerPath' | 'autoCreate'>,
  ): Promise<ExecuteOutcome> {
    const { enqueueRun, enqueueAndExecute } = loadExecuteRun();
    if (fs.executor === 'external') {
      return { outcome: await enqueueRun(backend, req), execution: null };
    }
    const creds = this.connection.credentialsForAnalysis();
    if (!vscode.workspace.isTrusted || !creds || folder.uri.scheme !== 'file') {
      const reason = !vscode.workspace.isTrusted
        ? vscode.l10n.t('the workspace is not trusted')
        : folder.uri.scheme !== 'file'
          ? vscode.l10n.t("the folder is not on this machine's file system")
          : vscode.l10n.t('no connection');
      return { outcome: { kind: 'no-analyzer', reason }, execution: null };
    }
    if (this.closing.signal.aborted)
      return { outcome: { kind: 'abandoned', runId: null, cancelled: false }, execution: null };
    const pending = enqueueAndExecute(
      backend,
      { ...req, signal: this.closing.signal },
      {
        childModule: path.join(this.extensionPath, 'dist', 'analysisChild.js'),
        folderPath: folder.uri.fsPath,
        analyzerPath: fs.analyzerPath,
        enableAutoCreate: fs.autoCreate,
        requestTimeoutMs: this.connection.snapshot.settings.requestTimeoutMs,
        connection: creds,
        runner: {
          extensionVersion: this.extensionVersion,
          windowId: this.windowId,
          activationId: this.activationId,
        },
        clientInfo: `ehg-telemetry-vscode/${this.extensionVersion} analysis`,
        log: (level, line) =>
          level === 'error' ? this.log.error(line) : level === 'warn' ? this.log.warn(line) : this.log.info(line),
      },
    );
    this.inFlight.add(pending);
    let result: ExecuteOutcome;
    try {
      result = await pending;
    } finally {
      this.inFlight.delete(pending);
    }
    if (result.outcome.kind === 'abandoned' && result.outcome.runId) {
      const o = result.outcome;
      try {
        this.log.info(
          o.cancelled
            ? `Run ${o.runId} not started: this window is closing; cancelled (reason_code=WINDOW_CLOSED)`
            : `Run ${o.runId} not started: this window is closing; cancelling it failed (${o.error?.message ?? 'it was no longer RUNNING'})`,
        );
      } catch {
        // The log channel may already be disposed (it goes first when the window closes).
      }
    }
    const key = folder.uri.toString();
    if (result.outcome.kind === 'no-analyzer') {
      if (this.noAnalyzer.get(key) !== result.outcome.reason) {
        this.noAnalyzer.set(key, result.outcome.reason);
        this.emitter.fire();
      }
    } else if (this.noAnalyzer.delete(key)) {
      this.emitter.fire();
    }
    if (result.execution) {
      // Started just as the window closed (no hold left to abort): it runs on its own, as every child does then.
      if (this.disposed) result.execution.process.detach();
      else this.track(folder, result.execution);
    }
    return result;
  }

  private track(folder: vscode.WorkspaceFolder, e: Execution): void {
    const rec: ExecutionRecord = {
      runId: e.runId,
      folder: folder.uri.fsPath,
      startMs: Date.now(),
      loadMs: e.process.loadMs,
      rssAtLoadBytes: e.process.rssAtLoad,
    };
    this.history.push(rec);
    if (this.history.length > 50) this.history.shift();
    this.running.set(e.runId, e);
    this.updateStatus();
    void e.done.then(
      (end) => {
        rec.end = end.end;
        rec.status = end.status;
        rec.finishedMs = Date.now();
        const mem = end.rssBytes ? `, child ${(end.rssBytes / 1048576).toFixed(1)} MB resident at the end` : '';
        if (end.end !== 'detached')
          this.log.info(
            `Analysis run ${e.runId} ended: ${end.status ?? 'unknown'} (${describeEnd(end.end)}) after ${Date.now() - rec.startMs} ms${mem}`,
          );
        this.running.delete(e.runId);
        this.updateStatus();
        if (!this.disposed) this.ended.fire(e.runId);
      },
      (err) => {
        this.log.error(`Analysis run ${e.runId}: watching the child failed`, err);
        this.running.delete(e.runId);
        this.updateStatus();
      },
    );
  }

  /** Cancel Run on a run this window executes: the child is killed before the row is cancelled. */
  async cancel(runId: string): Promise<boolean> {
    const e = this.running.get(runId);
    if (!e) return false;
    this.log.info(`Cancelling run ${runId}: stopping its analysis process ${e.process.pid ?? ''}`);
    await e.process.cancel();
    return true;
  }

  private updateStatus(): void {
    if (this.disposed) return;
    this.runningEmitter.fire([...this.running.keys()]);
  }

  /**
   * The window is closing or reloading (deactivate(), then dispose()): enqueues in flight are aborted
   * (a held run stops waiting and is cancelled, its prepared child discarded), and this resolves once
   * they have settled, or after CLOSE_WAIT_MS at most. Never rejects; the same promise every call.
   */
  close(): Promise<void> {
    if (this.closed) return this.closed;
    this.closing.abort();
    if (this.inFlight.size === 0) return (this.closed = Promise.resolve());
    const settled = Promise.allSettled([...this.inFlight]).then(() => undefined);
    // The cancel write goes through the connection's backend: it stays open until then (bounded).
    this.connection.keepBackendUntil(settled, CLOSE_WAIT_MS);
    return (this.closed = boundedWait(settled, CLOSE_WAIT_MS));
  }

  /** Never waits: each child keeps running detached and writes its own finish row. */
  dispose(): void {
    void this.close();
    this.disposed = true;
    for (const e of this.running.values()) e.process.detach();
    this.running.clear();
    this.runningEmitter.dispose();
    this.emitter.dispose();
    this.ended.dispose();
  }
}

/** How long closing waits for a held run's cancel (VS Code allows deactivate 5 s in all). */
export const CLOSE_WAIT_MS = 2_000;

function boundedWait(p: Promise<void>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    void p.then(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

function describeEnd(end: string): string {
  switch (end) {
    case 'child-finished':
      return 'recorded by the analysis process';
    case 'child-stopped':
      return 'the run was cancelled or finished elsewhere; the analysis process stopped';
    case 'host-finished':
      return 'the analysis process ended without recording it; recorded by this window';
    case 'cancelled':
      return 'cancelled from this window';
    default:
      return end;
  }
}

/**
 * Enqueueing and executing runs (the enqueue protocol, the analysis child's host side) is a bundle of
 * its own (dist/executeRun.js, esbuild.js), loaded with the first run, after activation.
 */
function loadExecuteRun(): typeof import('../analysis/executeRun') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('../analysis/executeRun') as typeof import('../analysis/executeRun');
}
