// Executing an analysis run: the finish row for each way a run can end, as the CLI hook's
// executeAnalysisAsync (EHG_Engineer lib/telemetry/auto-trigger.js) writes it, with two deliberate
// improvements (see README "Session start"):
//  - a result whose `errors` is non-empty with no traces scanned is FAILED with that error, not
//    SUCCEEDED + INSUFFICIENT_DATA (which would suppress re-analysis for a week);
//  - no run of ours is ever left RUNNING (orphans past their timeout are marked TIMED_OUT).
// Plain TypeScript: no `vscode`, no I/O. Everything here is computed from untrusted input (the
// analyzer is workspace code; its result crosses a process boundary).
import { MAX_ERROR_ENTRY_CHARS, MAX_STORED_ERRORS, valueText } from './analyzerErrors';
import { redact } from './credentials';
import { t } from './l10n';
import { cleanMultiline, cleanText, isRecord, parseNumber } from './text';

export const REASON_ORPHANED = 'ORPHANED_PAST_TIMEOUT';
export const REASON_RUNNER_LOST = 'RUNNER_EXITED';
export const ERROR_CLASS_TIMEOUT = 'TimeoutError';
export const DEFAULT_ANALYZER_PATH = 'lib/telemetry/bottleneck-analyzer.js';
/** After started_at + timeout_ms + this, no runner can still be working on a run (each enforces its timeout). */
export const ORPHAN_GRACE_MS = 5 * 60_000;
const MAX_BOTTLENECKS_STORED = 200;
const MAX_ERROR_CHARS = 2_000;

export type AnalysisExecutor = 'workspace' | 'external';

/** Who executed the run (stored as metadata.runner). */
export interface RunnerInfo {
  extension: 'ehg-telemetry';
  extension_version: string;
  window_id: string;
  /** Unique per extension activation (vscode.env.sessionId is a fixed placeholder in code-server). */
  activation_id?: string;
  /** Relative to the workspace folder, with forward slashes. */
  analyzer: string;
  pid?: number;
}

/** The columns a lifecycle update sets (never status guards: those are the data layer's). */
export interface FinishFields {
  status: 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT';
  finished_at: string;
  duration_ms: number;
  findings_count?: number;
  top_bottleneck_category?: string | null;
  reason_code?: string | null;
  output_ref?: {
    bottlenecks: unknown[];
    traces_scanned: number;
    dimensions_evaluated: number;
    items_created: number;
    /** The analyzer's skip counters (the hook drops them): why a bottleneck has no item. */
    items_skipped_rate_limit?: number;
    items_skipped_dedupe?: number;
    /** false when the run was analysed with auto-create off (no item was ever filed). */
    enable_auto_create?: boolean;
  } & Partial<StoredAnalyzerErrors>;
  error_class?: string | null;
  error_message?: string | null;
}

/** Masks what must never be stored: `password=…` (as the hook does), the keys in use, and JWT-shaped tokens. */
export function maskSecrets(text: string, secrets: readonly (string | null | undefined)[] = []): string {
  return redact(text.replace(/password=[^&\s]+/gi, 'password=***'), secrets);
}

/** What output_ref gets next to what the hook writes when the analyzer reported errors. */
export interface StoredAnalyzerErrors {
  errors: string[];
  /** Present only when more errors were reported than stored. */
  errors_total?: number;
}

/**
 * The analyzer's `errors` (which the hook drops), masked like error_message (passwords, the keys in
 * use, JWTs) and bounded in count and length, for output_ref. Null when it reported none. A value
 * that is not a list is kept as one entry: it is the analyzer's report, however odd.
 */
export function storeAnalyzerErrors(raw: unknown, secrets: readonly string[] = []): StoredAnalyzerErrors | null {
  if (raw === null || raw === undefined) return null;
  const list: readonly unknown[] = Array.isArray(raw) ? raw : [raw];
  const errors: string[] = [];
  let total = 0;
  for (let i = 0; i < list.length; i++) {
    if (errors.length >= MAX_STORED_ERRORS) {
      total += list.length - i; // counted, not converted: the list may be huge
      break;
    }
    const text = valueText(list[i]);
    if (text === null || text === '{}' || text === '[]') continue;
    // Masked before the cut (a secret cut in half would no longer match), on a bounded prefix.
    const clean = cleanText(maskSecrets(text.slice(0, MAX_ERROR_ENTRY_CHARS * 4), secrets), MAX_ERROR_ENTRY_CHARS);
    if (!clean) continue;
    errors.push(clean);
    total++;
  }
  if (errors.length === 0) return null;
  return total > errors.length ? { errors, errors_total: total } : { errors };
}

/**
 * The timestamp for a write to a run row, never before the row's own earlier timestamps, so that
 * triggered_at ≤ started_at ≤ finished_at holds for every row we write. `nowMs` is the server time as
 * far as it is known: the local clock plus an offset from the HTTP Date header, which has a resolution
 * of one second (cancelled rows were seen finishing up to 722 ms before they were triggered). The
 * row's timestamps come from PostgreSQL in microseconds but are held here in milliseconds (truncated),
 * so the result is at least 1 ms after each of them.
 */
export function notBefore(nowMs: number, earlier: readonly (Date | number | null | undefined)[]): Date {
  let t = nowMs;
  for (const e of earlier) {
    if (e === null || e === undefined) continue;
    const ms = typeof e === 'number' ? e : e.getTime();
    if (Number.isFinite(ms)) t = Math.max(t, ms + 1);
  }
  return new Date(t);
}

function durationSince(startedAtMs: number, nowMs: number): number {
  return Math.max(0, Math.min(2_147_483_647, Math.round(nowMs - startedAtMs)));
}

/**
 * The finish row for an analyzer result (`analyzeBottlenecks(...)`'s return value, untrusted).
 * A value that is not result-shaped is a FAILED run (`InvalidResultError`).
 */
export function finishFromResult(
  result: unknown,
  startedAtMs: number,
  nowMs: number,
  secrets: readonly string[] = [],
  options: { enableAutoCreate?: boolean } = {},
): FinishFields {
  const base = finishTimes(startedAtMs, nowMs);
  if (!isRecord(result) || !Array.isArray(result.bottlenecks)) {
    return {
      ...base,
      status: 'FAILED',
      error_class: 'InvalidResultError',
      error_message: 'The analyzer returned no result object with a bottlenecks list.',
    };
  }
  const traces = parseNumber(result.traces_scanned) ?? 0;
  const stored = storeAnalyzerErrors(result.errors, secrets);
  if (stored && traces === 0) {
    // Improvement over the hook: a read failure is a failure, not "insufficient data".
    const first = stored.errors[0];
    const cls = /^([a-z_]+):/i.exec(first)?.[1] ?? 'AnalyzerError';
    return {
      ...base,
      status: 'FAILED',
      error_class: cleanText(cls, 80) ?? 'AnalyzerError',
      error_message: limit(stored.errors.join('; ')),
    };
  }
  const bottlenecks = result.bottlenecks.slice(0, MAX_BOTTLENECKS_STORED);
  // Errors with traces read (e.g. create_failed for every improvement item the database refused) do
  // not fail the run: its findings are whole. They are kept next to them, so that the view says so.
  const first: unknown = bottlenecks[0];
  const top = isRecord(first) ? cleanText(first.dimension_type, 80) : null;
  return {
    ...base,
    status: 'SUCCEEDED',
    findings_count: result.bottlenecks.length,
    top_bottleneck_category: top ?? null,
    reason_code: traces === 0 ? 'INSUFFICIENT_DATA' : null,
    output_ref: {
      bottlenecks,
      traces_scanned: traces,
      dimensions_evaluated: parseNumber(result.dimensions_evaluated) ?? 0,
      items_created: parseNumber(result.items_created) ?? 0,
      ...skipCounters(result),
      ...(options.enableAutoCreate === false ? { enable_auto_create: false } : {}),
      ...stored,
    },
  };
}

/** The analyzer's items_skipped_* counters, when they are non-negative whole numbers (kept so the drill-down can say why an item is missing). */
function skipCounters(result: Record<string, unknown>): {
  items_skipped_rate_limit?: number;
  items_skipped_dedupe?: number;
} {
  const out: { items_skipped_rate_limit?: number; items_skipped_dedupe?: number } = {};
  for (const k of ['items_skipped_rate_limit', 'items_skipped_dedupe'] as const) {
    const n = parseNumber(result[k]);
    if (n !== null && Number.isInteger(n) && n >= 0 && n <= 1_000_000) out[k] = n;
  }
  return out;
}

export type RunFailure =
  | { kind: 'timeout'; timeoutMs: number }
  | { kind: 'error'; errorClass: string; message: string }
  | { kind: 'process-exited'; code: number | null; signal: string | null }
  | { kind: 'killed-by-watchdog'; timeoutMs: number };

export function finishFromFailure(
  f: RunFailure,
  startedAtMs: number,
  nowMs: number,
  secrets: readonly string[] = [],
): FinishFields {
  const base = finishTimes(startedAtMs, nowMs);
  switch (f.kind) {
    case 'timeout':
      return {
        ...base,
        status: 'TIMED_OUT',
        error_class: ERROR_CLASS_TIMEOUT,
        error_message: `TIMEOUT: the analysis did not finish within ${f.timeoutMs} ms`,
      };
    case 'killed-by-watchdog':
      return {
        ...base,
        status: 'TIMED_OUT',
        error_class: ERROR_CLASS_TIMEOUT,
        error_message: `TIMEOUT: the analysis process did not finish within ${f.timeoutMs} ms and was killed`,
      };
    case 'error':
      return {
        ...base,
        status: 'FAILED',
        error_class: cleanText(f.errorClass, 80) ?? 'Error',
        error_message: limit(maskSecrets(f.message, secrets)),
      };
    case 'process-exited':
      return {
        ...base,
        status: 'FAILED',
        error_class: 'AnalyzerProcessExited',
        reason_code: REASON_RUNNER_LOST,
        error_message: `The analysis process ended before the run finished (${f.signal ? `signal ${f.signal}` : `exit code ${f.code ?? 'unknown'}`}).`,
      };
  }
}

/** finished_at (never before started_at) and duration_ms of a finish row. */
function finishTimes(startedAtMs: number, nowMs: number): { finished_at: string; duration_ms: number } {
  const finished = notBefore(nowMs, [startedAtMs]).getTime();
  return { finished_at: new Date(finished).toISOString(), duration_ms: durationSince(startedAtMs, finished) };
}

function limit(s: string): string {
  const clean = cleanMultiline(s, MAX_ERROR_CHARS) ?? '';
  return clean;
}

/** A RUNNING run as the orphan check reads it. */
export interface RunningRun {
  runId: string;
  startedAt: Date | null;
  triggeredAt: Date;
  timeoutMs: number | null;
}

/**
 * Whether a RUNNING run can still be running anywhere: every runner (the hook, this extension's
 * child, its watchdog) enforces the run's timeout, so once started_at + timeout_ms + grace has
 * passed, nobody will write its finish row. Runs without a timeout use the hook's default (120 s).
 */
export function isOrphaned(run: RunningRun, nowMs: number, graceMs = ORPHAN_GRACE_MS): boolean {
  const start = (run.startedAt ?? run.triggeredAt).getTime();
  const timeout = run.timeoutMs !== null && run.timeoutMs > 0 ? run.timeoutMs : 120_000;
  return nowMs > start + timeout + graceMs;
}

export function orphanFinish(run: RunningRun, nowMs: number): FinishFields & { reason_code: string } {
  const start = (run.startedAt ?? run.triggeredAt).getTime();
  const finished = notBefore(nowMs, [run.triggeredAt, run.startedAt]).getTime();
  return {
    status: 'TIMED_OUT',
    finished_at: new Date(finished).toISOString(),
    duration_ms: durationSince(start, finished),
    error_class: ERROR_CLASS_TIMEOUT,
    reason_code: REASON_ORPHANED,
    error_message:
      'Still RUNNING long after its timeout: the process running it ended without finishing it. Marked by EHG Telemetry.',
  };
}

export type AnalyzerPathCheck = { ok: true; relative: string } | { ok: false; reason: string };

/**
 * The analyzer path setting, relative to the workspace folder. It must stay inside the folder
 * (no absolute paths, no `..`), so a setting cannot point the extension at code elsewhere.
 */
export function checkAnalyzerPath(setting: string | undefined | null): AnalyzerPathCheck {
  const raw = (setting ?? '').trim() || DEFAULT_ANALYZER_PATH;
  const rel = raw.replace(/\\/g, '/').replace(/^\.\//, '');
  if (rel.startsWith('/') || /^[a-z]:/i.test(rel))
    return {
      ok: false,
      reason: t(
        'ehgTelemetry.analysis.analyzerPath must be relative to the workspace folder (got {0})',
        JSON.stringify(raw.slice(0, 200)),
      ),
    };
  if (rel.split('/').some((p) => p === '..'))
    return {
      ok: false,
      reason: t('ehgTelemetry.analysis.analyzerPath must stay inside the workspace folder (no "..")'),
    };
  if (!/\.(m?js|cjs)$/.test(rel))
    return { ok: false, reason: t('ehgTelemetry.analysis.analyzerPath must name a .js, .mjs or .cjs file') };
  return { ok: true, relative: rel };
}
