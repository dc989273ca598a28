// The interface the UI depends on. Implementations return failures as values (never pop-ups, never
// an empty list standing in for "couldn't load").
import type { HeartbeatObservation } from '../domain/heartbeat';
import type { RunDetailFields, RunSummary } from '../domain/run';
import type { ActiveRun, FreshRun, NewRunMetadata } from '../domain/sessionTrigger';
import type { KeyRole } from '../domain/credentials';
import type { ComparableRun } from '../domain/runComparison';
import type { FinishFields, RunningRun } from '../domain/analysisRun';
import type { EvidenceColumn } from '../domain/evidence';
import type { ImprovementItem } from '../domain/improvementItem';

export type BackendErrorKind =
  | 'unreachable'
  | 'timeout'
  | 'unauthorized'
  | 'permission'
  | 'not-found'
  | 'conflict'
  | 'constraint'
  | 'bad-request'
  | 'rate-limited'
  | 'server'
  | 'cancelled'
  | 'unknown';

export interface BackendError {
  kind: BackendErrorKind;
  /** Plain text for a person: what happened and how to fix it. Never contains the key. */
  message: string;
  /** HTTP status (0 when no response arrived). */
  status: number;
  /** PostgREST / PostgreSQL error code, when the server sent one. */
  code: string | null;
  retryAfterMs: number | null;
}

export type Result<T> = { ok: true; value: T } | { ok: false; error: BackendError };

/** 'workspace': runs of these scope ids (one per workspace folder); 'all': every scope, global included. */
export type RunScope = { kind: 'workspace'; scopeIds: readonly string[] } | { kind: 'all' };

/** The scope a run belongs to: a workspace/user scope id, or global (scope_id null). */
export interface RunScopeKey {
  scopeType: string | null;
  scopeId: string | null;
}

/**
 * The most runs the tree lists: Load More stops here. A refresh reloads every listed run in one
 * request with one look-ahead row, and PostgREST cuts any answer at its max-rows (1,000 on Supabase
 * unless a project lowers it); past that the look-ahead row would be lost and "more" would vanish.
 */
export const MAX_LISTED_RUNS = 500;

/** Rows a refresh asks for after `pages` pages of `pageSize` (at most MAX_LISTED_RUNS). */
export function listLimit(pageSize: number, pages: number): number {
  return Math.max(1, Math.min(Math.round(pageSize) * Math.max(1, pages), MAX_LISTED_RUNS));
}

export interface RunPage {
  runs: RunSummary[];
  hasMore: boolean;
  skippedRows: number;
}

export interface NewRun {
  runId: string;
  correlationId: string;
  scopeId: string;
  triggeredBy: 'SESSION_START' | 'MANUAL';
  metadata: NewRunMetadata;
}

export interface CancelOptions {
  /** error_message of the cancelled rows (e.g. which run won), plain text. */
  message?: string;
  /** The latest triggered_at / started_at the caller knows for these rows: saves a round trip. */
  notBefore?: readonly (Date | null | undefined)[];
}

export interface Capabilities {
  role: KeyRole;
  readRuns: { ok: boolean; detail: string };
  readHeartbeat: { ok: boolean; detail: string };
  writeRuns: { ok: boolean; detail: string };
}

export interface TelemetryBackend {
  readonly origin: string;
  readonly role: KeyRole;
  listRuns(scope: RunScope, offset: number, limit: number): Promise<Result<RunPage>>;
  getRunsById(runIds: readonly string[]): Promise<Result<RunSummary[]>>;
  getRunDetail(runId: string, signal?: AbortSignal): Promise<Result<RunDetailFields | null>>;
  getRunRow(runId: string): Promise<Result<Record<string, unknown> | null>>;
  findFreshRun(scopeId: string, finishedSince: Date): Promise<Result<FreshRun | null>>;
  findActiveRuns(scopeId: string, triggeredSince: Date): Promise<Result<ActiveRun[]>>;
  insertRun(run: NewRun): Promise<Result<ActiveRun>>;
  /**
   * Runs of the scope (or global) the CLI hook wrote (no metadata.source), in any status, triggered
   * since `triggeredSince`, newest first.
   */
  findHookRuns(scopeId: string, triggeredSince: Date): Promise<Result<ActiveRun[]>>;
  /**
   * Sets CANCELLED + finished_at on those of the runs that are still QUEUED/RUNNING. Returns the ids
   * changed. finished_at is never before a row's triggered_at or started_at (see CancelOptions).
   */
  cancelRuns(
    runIds: readonly string[],
    reasonCode: string,
    onlyStatuses?: readonly ('QUEUED' | 'RUNNING')[],
    options?: CancelOptions,
  ): Promise<Result<string[]>>;
  /** QUEUED → RUNNING (guarded on QUEUED). false: it was not QUEUED any more. */
  claimRun(runId: string, startedAt: Date, metadata: Record<string, unknown>): Promise<Result<boolean>>;
  /** The finish row, guarded on RUNNING (a cancel wins). false: it was not RUNNING. */
  finishRun(runId: string, fields: FinishFields): Promise<Result<boolean>>;
  getRunStatus(runId: string): Promise<Result<string | null>>;
  findStaleRunning(scopeIds: readonly string[], triggeredBefore: Date): Promise<Result<RunningRun[]>>;
  /** The SUCCEEDED run of the same scope that finished last before `before`, with its bottlenecks (null: none). */
  getPreviousSucceeded(scope: RunScopeKey, before: Date): Promise<Result<ComparableRun | null>>;
  /** The last `limit` SUCCEEDED runs of the scope with their bottlenecks, newest first. */
  listSucceededRuns(scope: RunScopeKey, limit: number): Promise<Result<ComparableRun[]>>;
  readHeartbeat(): Promise<Result<HeartbeatObservation>>;
  /**
   * The workflow_trace_log rows of these traces whose `column` is `key`, newest first, at most
   * MAX_EVIDENCE_ROWS (src/domain/evidence.ts): one request, led by the trace_id index. Untrusted rows,
   * for evidenceFromRows. Only a service-role key can read the table (others get zero rows): the
   * caller decides that from `role` before asking (planEvidence).
   */
  readEvidenceSpans(
    traceIds: readonly string[],
    column: EvidenceColumn,
    key: string,
    signal?: AbortSignal,
  ): Promise<Result<unknown[]>>;
  /** The protocol_improvement_queue item with this id (null: no row, or hidden from this key). */
  readImprovementItem(id: string, signal?: AbortSignal): Promise<Result<ImprovementItem | null>>;
  /**
   * The newest item created before `before` that the analyzer's dedupe would match for this
   * dimension (payload.dedupe_key exactly, or its own description pattern), open or inside the
   * cooldown before `before` (null: none). One request.
   */
  findDedupeItem(
    dimensionType: string,
    dimensionKey: string,
    before: Date | null,
    cooldownHours: number,
    signal?: AbortSignal,
  ): Promise<Result<ImprovementItem | null>>;
  probeCapabilities(): Promise<Capabilities>;
  /** Server clock minus local clock, from the last response's Date header (0 until known). */
  clockOffsetMs(): number;
  /** Aborts every request in flight; later calls fail fast with kind 'cancelled'. */
  dispose(): void;
}

export function ok<T>(value: T): Result<T> {
  return { ok: true, value };
}
