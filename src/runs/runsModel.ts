// The store between the data layer and the runs tree: the loaded pages, the last error, and a cache
// of findings fetched on expansion. Fires change events with what changed, so the tree can refresh
// single rows instead of everything.
import * as vscode from 'vscode';
import type { BackendError, RunScope } from '../data/backend';
import { Bottleneck, describeOutcome, isActive, RunOutcome, RunSummary } from '../domain/run';
import { parseBottleneckList } from '../domain/runComparison';
import type { ConnectionManager } from '../platform/connection';
import type { TickOutcome } from '../platform/refreshScheduler';
import type { FailureReporter } from '../platform/failures';
import { RunPages } from './runPages';

export type ScopeFilter = 'workspace' | 'all';

/** workspaceState key of the scope filter (This Workspace / All Scopes), kept per workspace. */
export const SCOPE_STATE_KEY = 'ehgTelemetry.scope';

export interface RunsChange {
  /** true when rows were added, removed or reordered (the whole list re-renders). */
  structural: boolean;
  changed: string[];
}

/** `all`: every bottleneck of output_ref (bounded), for the comparison with the previous run. */
type DetailEntry = { key: string; outcome: RunOutcome; all: Bottleneck[] };

export const ACTIVE_POLL_MS = 10_000;
export const IDLE_POLL_MS = 60_000;

export class RunsModel implements vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<RunsChange>();
  readonly onDidChange = this.emitter.event;
  runs: RunSummary[] = [];
  hasMore = false;
  error: BackendError | null = null;
  loading = false;
  loadedOnce = false;
  loadedAt: Date | null = null;
  skippedRows = 0;
  private readonly details = new Map<string, DetailEntry>();
  private readonly subscription: vscode.Disposable;
  /** How much of the list is loaded (Load More adds a page; see runPages.ts). */
  readonly pages: RunPages;

  constructor(
    private readonly connection: ConnectionManager,
    private readonly notifier: FailureReporter,
    private readonly scopeIds: () => string[],
    private readonly state: vscode.Memento,
  ) {
    this.scope = state.get<ScopeFilter>(SCOPE_STATE_KEY, 'workspace') === 'all' ? 'all' : 'workspace';
    this.pages = new RunPages(() => connection.snapshot.settings.pageSize);
    // Runs read through another backend (or none) are not this connection's: start again from page 1.
    this.subscription = connection.onDidChangeBackend(() => {
      this.pages.reset();
      this.clear();
    });
  }

  /** This Workspace or All Scopes: remembered for the workspace (setScope). */
  scope: ScopeFilter;

  get hasActiveRuns(): boolean {
    return this.runs.some((r) => isActive(r.status));
  }

  /** Switches the filter, remembers it for the workspace, and fires a structural change. */
  setScope(scope: ScopeFilter): Thenable<void> {
    if (this.scope === scope) return Promise.resolve();
    this.scope = scope;
    this.pages.reset();
    this.clear();
    return this.state.update(SCOPE_STATE_KEY, scope);
  }

  /** Forget everything (connection or scope changed). */
  clear(): void {
    this.runs = [];
    this.hasMore = false;
    this.error = null;
    this.loadedOnce = false;
    this.loadedAt = null;
    this.details.clear();
    this.emitter.fire({ structural: true, changed: [] });
  }

  private currentScope(): RunScope {
    return this.scope === 'all' ? { kind: 'all' } : { kind: 'workspace', scopeIds: this.scopeIds() };
  }

  /** Reloads every page loaded so far. Only the runs view's poller calls this (reads never overlap). */
  async load(): Promise<TickOutcome> {
    const snap = this.connection.snapshot;
    const backend = snap.backend;
    if (!backend) return { ok: true, nextDelayMs: IDLE_POLL_MS };
    const limit = this.pages.limit;
    this.loading = true;
    this.emitter.fire({ structural: false, changed: [] });
    const res = await backend.listRuns(this.currentScope(), 0, limit);
    this.loading = false;
    // The backend was replaced while the list was read: its answer is void (onBackend cleared the list).
    if (backend !== this.connection.snapshot.backend) return { ok: true, nextDelayMs: 0 };
    if (!res.ok) {
      this.error = res.error;
      this.notifier.failure('Loading runs', res.error);
      this.emitter.fire({ structural: !this.loadedOnce, changed: [] });
      return { ok: false, retryAfterMs: res.error.retryAfterMs ?? undefined };
    }
    this.notifier.success();
    this.applyPage(res.value.runs, res.value.hasMore);
    this.skippedRows = res.value.skippedRows;
    return { ok: true, nextDelayMs: this.hasActiveRuns ? ACTIVE_POLL_MS : IDLE_POLL_MS };
  }

  /** More runs exist than the list may hold (MAX_LISTED_RUNS): the tree says so instead of offering Load More. */
  get atListCap(): boolean {
    return this.pages.atCap(this.hasMore);
  }

  private applyPage(next: RunSummary[], hasMore: boolean): void {
    const prev = this.runs;
    const structural =
      !this.loadedOnce ||
      this.error !== null ||
      prev.length !== next.length ||
      prev.some((r, i) => r.runId !== next[i].runId) ||
      this.hasMore !== hasMore;
    const changed: string[] = [];
    if (!structural) {
      for (let i = 0; i < next.length; i++) if (!sameSummary(prev[i], next[i])) changed.push(next[i].runId);
    }
    for (const r of next) {
      const d = this.details.get(r.runId);
      if (d && d.key !== detailKey(r)) this.details.delete(r.runId);
    }
    this.runs = next;
    this.hasMore = hasMore;
    this.error = null;
    this.loadedOnce = true;
    this.loadedAt = new Date();
    this.emitter.fire({ structural, changed });
  }

  /** Merges fresher rows (e.g. from the run watcher) without a list reload. */
  mergeRuns(updated: RunSummary[]): void {
    const changed: string[] = [];
    this.runs = this.runs.map((r) => {
      const u = updated.find((x) => x.runId === r.runId);
      if (u && !sameSummary(r, u)) {
        changed.push(r.runId);
        if (this.details.get(r.runId)?.key !== detailKey(u)) this.details.delete(r.runId);
        return u;
      }
      return r;
    });
    if (changed.length) this.emitter.fire({ structural: false, changed });
  }

  find(runId: string): RunSummary | undefined {
    return this.runs.find((r) => r.runId === runId);
  }

  /** Findings for an expanded run: output_ref is fetched only here, once per status. */
  async outcome(run: RunSummary): Promise<{ ok: true; outcome: RunOutcome } | { ok: false; error: BackendError }> {
    if (isActive(run.status))
      return { ok: true, outcome: { kind: 'pending', status: run.status as 'QUEUED' | 'RUNNING' } };
    const cached = this.details.get(run.runId);
    if (cached && cached.key === detailKey(run)) return { ok: true, outcome: cached.outcome };
    const backend = this.connection.snapshot.backend;
    if (!backend)
      return {
        ok: false,
        error: { kind: 'unknown', message: vscode.l10n.t('Not connected.'), status: 0, code: null, retryAfterMs: null },
      };
    const res = await backend.getRunDetail(run.runId);
    if (!res.ok) return { ok: false, error: res.error };
    if (!res.value)
      return {
        ok: true,
        outcome: {
          kind: 'malformed',
          detail: vscode.l10n.t('the run is no longer visible (deleted, or hidden by row-level security)'),
        },
      };
    const outcome = describeOutcome(res.value);
    // Read through a backend that has since been replaced: answered, but not kept for the new one.
    if (backend === this.connection.snapshot.backend)
      this.details.set(run.runId, { key: detailKey(run), outcome, all: parseBottleneckList(res.value.outputRef) });
    return { ok: true, outcome };
  }

  /** Every bottleneck of a run whose findings were loaded (by outcome()), worst first; undefined if not loaded. */
  bottlenecksOf(run: RunSummary): Bottleneck[] | undefined {
    const d = this.details.get(run.runId);
    return d && d.key === detailKey(run) ? d.all : undefined;
  }

  dispose(): void {
    this.subscription.dispose();
    this.emitter.dispose();
  }
}

function detailKey(r: RunSummary): string {
  return `${r.status}|${r.finishedAt?.getTime() ?? ''}|${r.findingsCount ?? ''}`;
}

function sameSummary(a: RunSummary, b: RunSummary): boolean {
  return (
    a.runId === b.runId &&
    a.status === b.status &&
    a.rawStatus === b.rawStatus &&
    a.startedAt?.getTime() === b.startedAt?.getTime() &&
    a.finishedAt?.getTime() === b.finishedAt?.getTime() &&
    a.findingsCount === b.findingsCount &&
    a.topBottleneckCategory === b.topBottleneckCategory &&
    a.durationMs === b.durationMs &&
    a.reasonCode === b.reasonCode &&
    a.errorClass === b.errorClass
  );
}
