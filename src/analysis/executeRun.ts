// Enqueue a run and execute it with the workspace's analyzer: find the module, start the child and
// wait for the module to load *before* inserting (no run is enqueued that nobody will execute), then
// enqueue (with the hook's checks and convergence), claim, and hand the run to the child.
// No `vscode` import: the session-start controller, the Trigger command and the integration tests
// share it.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { checkAnalyzerPath, RunnerInfo } from '../domain/analysisRun';
import { t } from '../domain/l10n';
import type { TelemetryBackend } from '../data/backend';
import { enqueueRun, EnqueueOutcome, EnqueueRequest } from '../data/enqueueRun';

/** For analysisRunner.ts, which loads this bundle lazily: the enqueue-only path (executor external). */
export { enqueueRun };
import { AnalysisProcess, LogFn, RunOutcome } from './analysisProcess';

export interface ExecutionContext {
  /** dist/analysisChild.js */
  childModule: string;
  /** Absolute path of the workspace folder. */
  folderPath: string;
  /** ehgTelemetry.analysis.analyzerPath (relative to the folder). */
  analyzerPath: string;
  enableAutoCreate: boolean;
  requestTimeoutMs: number;
  connection: { url: string; origin: string; key: string };
  runner: { extensionVersion: string; windowId: string; activationId?: string };
  clientInfo: string;
  log: LogFn;
  statusPollMs?: number;
  loadTimeoutMs?: number;
}

export interface Execution {
  runId: string;
  process: AnalysisProcess;
  done: Promise<RunOutcome>;
}

export type ExecuteOutcome = { outcome: EnqueueOutcome; execution: Execution | null };

/** Finds the analyzer inside the folder (symlinks resolved, so it cannot point elsewhere). */
export function locateAnalyzer(
  folderPath: string,
  setting: string,
): { ok: true; absolute: string; relative: string } | { ok: false; reason: string } {
  const check = checkAnalyzerPath(setting);
  if (!check.ok) return check;
  let root: string;
  let abs: string;
  try {
    root = fs.realpathSync(folderPath);
  } catch {
    return { ok: false, reason: t('the folder {0} cannot be read', folderPath) };
  }
  try {
    abs = fs.realpathSync(path.join(root, check.relative));
  } catch {
    return {
      ok: false,
      reason: t('this folder is not an EHG_Engineer checkout: {0} was not found', check.relative),
    };
  }
  const rel = path.relative(root, abs);
  if (rel.startsWith('..') || path.isAbsolute(rel))
    return { ok: false, reason: t('{0} resolves outside the workspace folder', check.relative) };
  if (!fs.statSync(abs).isFile()) return { ok: false, reason: t('{0} is not a file', check.relative) };
  return { ok: true, absolute: abs, relative: check.relative };
}

export async function enqueueAndExecute(
  backend: TelemetryBackend,
  req: Omit<EnqueueRequest, 'execute'>,
  ctx: ExecutionContext,
): Promise<ExecuteOutcome> {
  let proc: AnalysisProcess | null = null;
  let outcome: EnqueueOutcome;
  try {
    outcome = await enqueueRun(backend, {
      ...req,
      execute: {
        prepare: async () => {
          const where = locateAnalyzer(ctx.folderPath, ctx.analyzerPath);
          if (!where.ok) return where;
          const started = await AnalysisProcess.start({
            childModule: ctx.childModule,
            analyzerPath: where.absolute,
            cwd: ctx.folderPath,
            log: ctx.log,
            loadTimeoutMs: ctx.loadTimeoutMs,
          });
          if (!started.ok) return started;
          proc = started.process;
          const runner: RunnerInfo = {
            extension: 'ehg-telemetry',
            extension_version: ctx.runner.extensionVersion,
            window_id: ctx.runner.windowId,
            activation_id: ctx.runner.activationId,
            analyzer: where.relative,
            pid: started.process.pid,
          };
          return { ok: true, runner };
        },
      },
    });
  } catch (e) {
    // enqueueRun returns failures as values; should it throw anyway, no child is left waiting.
    (proc as AnalysisProcess | null)?.discard();
    throw e;
  }
  const p = proc as AnalysisProcess | null;
  if (outcome.kind !== 'enqueued' || !outcome.claim || !p) {
    p?.discard();
    return { outcome, execution: null };
  }
  const timeoutMs = req.metadata.timeout_ms;
  const done = p.run(
    {
      url: ctx.connection.url,
      origin: ctx.connection.origin,
      key: ctx.connection.key,
      runId: outcome.runId,
      startedAtMs: outcome.claim.startedAt.getTime(),
      // Now, on the server clock: the claim's started_at plus the time since (the hook hold, if any).
      analysisStartMs: outcome.claim.startedAt.getTime() + (performance.now() - outcome.claim.claimedAtPerf),
      timeoutMs,
      enableAutoCreate: ctx.enableAutoCreate,
      requestTimeoutMs: Math.max(ctx.requestTimeoutMs, 30_000),
      statusPollMs: ctx.statusPollMs ?? 1_000,
      clientInfo: ctx.clientInfo,
    },
    backend,
  );
  return { outcome, execution: { runId: outcome.runId, process: p, done } };
}
