// Messages between the extension host and the analysis child process (JSON over the IPC channel).
// The key travels only in RunMessage, over IPC: never argv, never the child's environment.
import type { FinishFields } from '../domain/analysisRun';

export interface LoadMessage {
  type: 'load';
  analyzerPath: string;
}
export interface RunMessage {
  type: 'run';
  url: string;
  origin: string;
  key: string;
  runId: string;
  /**
   * The run's started_at as written by the claim (the server's clock): duration_ms is counted from it,
   * so finished_at - started_at = duration_ms, as upstream lib/telemetry/auto-trigger.js
   * executeAnalysisAsync writes it (durationMs = Date.now() - startedAt).
   */
  startedAtMs: number;
  /**
   * The server's clock when the analysis starts: startedAtMs, or a few seconds later for a
   * SESSION_START run held for the CLI hook (HOOK_HOLD_MS). finished_at = this + elapsed.
   */
  analysisStartMs: number;
  timeoutMs: number;
  enableAutoCreate: boolean;
  requestTimeoutMs: number;
  /** How often the child re-reads its run's status (a cancel elsewhere stops it). */
  statusPollMs: number;
  clientInfo: string;
}
export interface AbortMessage {
  type: 'abort';
}
export type HostMessage = LoadMessage | RunMessage | AbortMessage;

export type ChildMessage =
  | { type: 'loaded'; loadMs: number; rssBytes: number }
  | { type: 'load-failed'; message: string }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; text: string }
  /** written: the guarded update changed the row (false: it was no longer RUNNING). */
  | {
      type: 'finished';
      status: FinishFields['status'];
      written: boolean;
      writeError?: string;
      rssBytes: number;
      durationMs: number;
    }
  | { type: 'stopped'; status: string | null };

/** The child kills itself (a detached shell, see analysisChild.ts) this long after its timeout, should its event loop be blocked. */
export const BACKSTOP_SLACK_MS = 30_000;
