// "What changed since the previous run" for the runs tree and the completion notification: the
// comparison of a finished run with the previous SUCCEEDED run of its scope, fetched with one
// request per run (the previous run's bottlenecks) and cached until the connection changes.
import * as vscode from 'vscode';
import type { BackendError } from '../data/backend';
import { RunSummary } from '../domain/run';
import { BottleneckChange, compareRuns, RunComparison, summaryParts } from '../domain/runComparison';
import { formatRatio } from '../domain/format';
import type { ConnectionManager } from '../platform/connection';
import type { RunsModel } from './runsModel';

type Entry = { key: string; comparison: RunComparison };

export class RunComparisons implements vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<string>();
  /** Fires a run id when its comparison became known (its row's description changes). */
  readonly onDidChange = this.emitter.event;
  private readonly requesting = new vscode.EventEmitter<string>();
  /** Fires a run id as its previous run is requested from the backend (at most once per run and connection). */
  readonly onDidRequest = this.requesting.event;
  private readonly cache = new Map<string, Entry>();
  private readonly pending = new Map<
    string,
    Promise<{ ok: true; comparison: RunComparison } | { ok: false; error: BackendError }>
  >();
  private readonly subscription: vscode.Disposable;
  /** Runs prefetched once (per connection), whatever the outcome: a failure is not retried on every refresh. */
  private readonly prefetched = new Set<string>();

  constructor(
    private readonly connection: ConnectionManager,
    private readonly model: RunsModel,
  ) {
    this.subscription = connection.onDidChangeBackend(() => {
      this.cache.clear();
      this.prefetched.clear();
    });
  }

  /** Only finished SUCCEEDED runs are compared. */
  static comparable(run: RunSummary): boolean {
    return run.status === 'SUCCEEDED' && run.finishedAt !== null;
  }

  cached(run: RunSummary): RunComparison | undefined {
    const e = this.cache.get(run.runId);
    return e && e.key === key(run) ? e.comparison : undefined;
  }

  /**
   * The newest finished run of a list is compared without waiting for it to be expanded, so the
   * row the user reads first says what changed ("2 new · 1 resolved"). Once per run and connection.
   */
  prefetchNewest(runs: readonly RunSummary[]): void {
    const run = runs.find((r) => RunComparisons.comparable(r));
    if (!run || this.cached(run)) return;
    const k = `${run.runId}|${key(run)}`;
    if (this.prefetched.has(k)) return;
    this.prefetched.add(k);
    void this.compare(run);
  }

  /** Compares the run (its findings must be loadable through the model) with its predecessor. */
  compare(run: RunSummary): Promise<{ ok: true; comparison: RunComparison } | { ok: false; error: BackendError }> {
    const hit = this.cached(run);
    if (hit) return Promise.resolve({ ok: true, comparison: hit });
    const k = `${run.runId}|${key(run)}`;
    let p = this.pending.get(k);
    if (!p) {
      p = this.load(run).finally(() => this.pending.delete(k));
      this.pending.set(k, p);
    }
    return p;
  }

  private async load(
    run: RunSummary,
  ): Promise<{ ok: true; comparison: RunComparison } | { ok: false; error: BackendError }> {
    const backend = this.connection.snapshot.backend;
    if (!backend || !RunComparisons.comparable(run))
      return {
        ok: false,
        error: { kind: 'unknown', message: vscode.l10n.t('Not connected.'), status: 0, code: null, retryAfterMs: null },
      };
    let current = this.model.bottlenecksOf(run);
    if (!current) {
      const o = await this.model.outcome(run);
      if (!o.ok) return o;
      current = this.model.bottlenecksOf(run) ?? [];
    }
    this.requesting.fire(run.runId);
    const prev = await backend.getPreviousSucceeded(
      { scopeType: run.scopeType, scopeId: run.scopeId },
      run.finishedAt!,
    );
    if (!prev.ok) return { ok: false, error: prev.error };
    const comparison = compareRuns(current, prev.value);
    // Read through a backend that has since been replaced: answered, but not kept for the new one.
    if (backend !== this.connection.snapshot.backend) return { ok: true, comparison };
    this.cache.set(run.runId, { key: key(run), comparison });
    this.emitter.fire(run.runId);
    return { ok: true, comparison };
  }

  dispose(): void {
    this.subscription.dispose();
    this.emitter.dispose();
    this.requesting.dispose();
  }
}

function key(run: RunSummary): string {
  return `${run.status}|${run.finishedAt?.getTime() ?? ''}|${run.findingsCount ?? ''}`;
}

// ---- Words (localizable) ----------------------------------------------------------------------

/** "2 new · 1 resolved"; empty when nothing changed or there was nothing to compare with. */
export function comparisonSummary(c: RunComparison | undefined): string {
  if (!c) return '';
  return summaryParts(c)
    .map(([n, kind]) => {
      switch (kind) {
        case 'new':
          return vscode.l10n.t('{0} new', n);
        case 'worse':
          return vscode.l10n.t('{0} worse', n);
        case 'better':
          return vscode.l10n.t('{0} better', n);
        case 'resolved':
          return vscode.l10n.t('{0} resolved', n);
        default:
          return '';
      }
    })
    .filter((s) => s)
    .join(' · ');
}

/** The mark next to a bottleneck of the expanded run: "worse (2.1× → 3.2×)". */
export function changeMark(c: BottleneckChange): string {
  switch (c.kind) {
    case 'new':
      return vscode.l10n.t('new');
    case 'worse':
      return vscode.l10n.t('worse ({0} → {1})', formatRatio(c.ratioThen), formatRatio(c.ratioNow));
    case 'better':
      return vscode.l10n.t('better ({0} → {1})', formatRatio(c.ratioThen), formatRatio(c.ratioNow));
    case 'unchanged':
      return vscode.l10n.t('unchanged ({0})', formatRatio(c.ratioNow ?? c.ratioThen));
    case 'resolved':
      return vscode.l10n.t('resolved (was {0})', formatRatio(c.ratioThen));
  }
}

/** A row for a bottleneck that disappeared: "gate:GATE_X". */
export function resolvedLabel(c: BottleneckChange): string {
  return `${c.dimensionType}:${c.dimensionKey}`;
}
