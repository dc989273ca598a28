// The one way a run is started, by session start or by Trigger Analysis Run: the gate, the folder's
// settings (read once), the executor (this window's analysis process or an external worker), the
// enqueue, and the record of the run as this window's. Returns a typed outcome; startWording.ts
// words it, for both callers, in one place.
import * as vscode from 'vscode';
import type { TelemetryBackend } from '../data/backend';
import type { EnqueueOutcome } from '../data/enqueueRun';
import type { Execution } from '../analysis/executeRun';
import { gateSessionTrigger, NewRunMetadata, TriggerDecisionCode } from '../domain/sessionTrigger';
import type { ConnectionManager, ConnectionState } from '../platform/connection';
import { folderSettings, FolderSettings } from '../platform/settings';
import type { AnalysisRunner } from './analysisRunner';
import type { StartedRuns } from './startedRuns';

export type StartTrigger = 'SESSION_START' | 'MANUAL';

export interface StartRunParts {
  connection: ConnectionManager;
  analysis: Pick<AnalysisRunner, 'enqueue' | 'windowId'>;
  started: Pick<StartedRuns, 'add'>;
  extensionVersion: string;
}

export interface StartRunRequest {
  trigger: StartTrigger;
  /** The folder, or (Trigger) how to choose one: asked only once the gate has passed. */
  folder: vscode.WorkspaceFolder | (() => Thenable<vscode.WorkspaceFolder | undefined>);
  /** Session start: after the gate, before the enqueue (marks the folder in flight, sweeps orphans). */
  beforeEnqueue?: (backend: TelemetryBackend, scopeId: string) => Promise<void>;
  /** Session start: the answer came through a backend since replaced (or the window closed): the run is not recorded. */
  superseded?: (backend: TelemetryBackend) => boolean;
  /** Trigger: wraps the enqueue (its progress); undefined when the user stopped waiting (the run goes on). */
  during?: <T>(enqueue: () => Promise<T>) => PromiseLike<T | undefined>;
}

/** The run was not attempted. */
export type StartRefusal =
  /** Trigger: the gate said no. */
  | { kind: 'refused'; why: 'untrusted' | 'read-only' | 'no-folder' }
  | { kind: 'refused'; why: 'not-connected'; state: ConnectionState }
  /** Session start: the gate said no (logged as a decision line). */
  | { kind: 'skipped'; scopeId: string; code: TriggerDecisionCode; reason: string }
  /** Trigger: the folder pick was dismissed, or the wait cancelled (a run then goes on, recorded as ours). */
  | { kind: 'dismissed' };

/** The run was attempted: what the enqueue said, for which folder, through which backend. */
export type StartAttempt = EnqueueOutcome & {
  folder: vscode.WorkspaceFolder;
  scopeId: string;
  backend: TelemetryBackend;
  /** This window's analysis process, when it executes the run. */
  execution: Execution | null;
  startedAt: number;
};

export type StartOutcome = StartRefusal | StartAttempt;

export async function startRun(parts: StartRunParts, req: StartRunRequest): Promise<StartOutcome> {
  const startedAt = Date.now();
  const single = typeof req.folder === 'function' ? undefined : req.folder;
  const pre = manualGate(parts.connection, req.trigger, single);
  if (pre) return pre;
  const folder = typeof req.folder === 'function' ? await req.folder() : req.folder;
  if (!folder) return { kind: 'dismissed' };
  const settings = folderSettings(folder);
  const snap = parts.connection.snapshot;
  if (req.trigger === 'SESSION_START') {
    const gate = gateSessionTrigger({
      mode: settings.autoTrigger,
      trusted: vscode.workspace.isTrusted,
      configured: snap.backend !== null,
      disabledByEnv: snap.autoDisabledFolders.has(folder.uri.toString()),
      canWrite: snap.canWrite,
    });
    if (gate.kind === 'skip')
      return { kind: 'skipped', scopeId: settings.scopeId, code: gate.code, reason: gate.reason };
  }
  const backend = snap.backend!;
  const attempt = async (): Promise<StartAttempt> => {
    await req.beforeEnqueue?.(backend, settings.scopeId);
    const { outcome, execution } = await enqueue(parts, req.trigger, folder, backend, settings);
    if (outcome.kind === 'enqueued' && !req.superseded?.(backend))
      parts.started.add({ runId: outcome.runId, by: req.trigger === 'MANUAL' ? 'user' : 'session' });
    return { ...outcome, folder, scopeId: settings.scopeId, backend, execution, startedAt };
  };
  if (!req.during) return attempt();
  return (await req.during(attempt)) ?? { kind: 'dismissed' };
}

/** Trigger's gate, before a folder is chosen: trust, a connection, a key that can write, a folder. */
function manualGate(
  connection: ConnectionManager,
  trigger: StartTrigger,
  folder: vscode.WorkspaceFolder | undefined,
): StartRefusal | undefined {
  if (trigger !== 'MANUAL') return undefined;
  if (!vscode.workspace.isTrusted) return { kind: 'refused', why: 'untrusted' };
  const snap = connection.snapshot;
  if (!snap.backend) return { kind: 'refused', why: 'not-connected', state: snap.state };
  if (snap.canWrite === false) return { kind: 'refused', why: 'read-only' };
  if (!folder && (vscode.workspace.workspaceFolders ?? []).length === 0) return { kind: 'refused', why: 'no-folder' };
  return undefined;
}

function enqueue(
  parts: StartRunParts,
  trigger: StartTrigger,
  folder: vscode.WorkspaceFolder,
  backend: TelemetryBackend,
  settings: FolderSettings,
) {
  const s = parts.connection.snapshot.settings;
  return parts.analysis.enqueue(
    folder,
    backend,
    {
      scopeId: settings.scopeId,
      triggeredBy: trigger,
      mode: trigger === 'MANUAL' || settings.autoTrigger === 'always' ? 'always' : 'whenStale',
      stalenessMs: s.stalenessMs,
      dedupMs: s.dedupMs,
      metadata: runMetadata(s.runTimeoutMs, parts.extensionVersion, parts.analysis.windowId),
    },
    settings,
  );
}

/** metadata for runs this extension enqueues: the timeout plus where the run came from. */
export function runMetadata(timeoutMs: number, extensionVersion: string, windowId: string): NewRunMetadata {
  return {
    timeout_ms: timeoutMs,
    source: {
      extension: 'ehg-telemetry',
      extension_version: extensionVersion,
      vscode_version: vscode.version,
      window_id: windowId,
      app_host: vscode.env.appHost,
    },
  };
}
