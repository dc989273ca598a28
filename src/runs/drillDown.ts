// A bottleneck's drill-down: its evidence spans and its improvement item (or why it has none). One
// per window. Answers are cached per run id and bottleneck until the backend changes or clear() is
// called; concurrent callers share one request; a failed or cancelled answer is not cached (asking
// again retries). Nothing here rejects: failures are answers with a message.
import type * as vscode from 'vscode';
import type { BackendError, Result, TelemetryBackend } from '../data/backend';
import { evidenceFromRows, EvidenceAnswer, isUuid, planEvidence } from '../domain/evidence';
import {
  canReadItems,
  decidedByRun,
  DEFAULT_COOLDOWN_HOURS,
  ItemAnswer,
  itemAnswer,
  resolveNoItem,
  runItemFacts,
  wouldDeduplicate,
} from '../domain/improvementItem';
import type { Bottleneck, RunDetailFields, RunOutcome, RunSummary } from '../domain/run';
import type { ConnectionManager } from '../platform/connection';
import { t } from '../domain/l10n';
import { cleanText } from '../domain/text';

/** What the drill-down needs of the connection (a ConnectionManager). */
export type DrillDownConnection = Pick<ConnectionManager, 'snapshot' | 'onDidChangeBackend'>;

type Answer = EvidenceAnswer | ItemAnswer;
/** Answers kept at most (runs' output_refs: a tenth of that). */
const MAX_CACHED = 500;
type RunDetail = Result<RunDetailFields | null>;

export class DrillDown implements vscode.Disposable {
  private readonly cache = new Map<string, { backend: TelemetryBackend; answer: Promise<Answer> }>();
  /** The run's output_ref, read once per run for all its bottlenecks' items (failures not kept). */
  private readonly runs = new Map<string, { backend: TelemetryBackend; detail: Promise<RunDetail> }>();
  /** Aborts every shared request when the cache is dropped. */
  private generation = new AbortController();
  private readonly subscription: vscode.Disposable;
  private disposed = false;
  private readonly clearListeners = new Set<() => void>();

  constructor(private readonly connection: DrillDownConnection) {
    this.subscription = connection.onDidChangeBackend(() => this.clear());
  }

  /** One request per (run, bottleneck), cached per run id; concurrent calls share it. Never rejects. */
  evidence(run: RunSummary, b: Bottleneck, signal?: AbortSignal): Promise<EvidenceAnswer> {
    return this.cached(`evidence|${run.runId}|${dimension(b)}`, signal, (backend, shared) =>
      readEvidence(backend, b, shared),
    ) as Promise<EvidenceAnswer>;
  }

  /** At most two requests (the run's output_ref is read once for all its bottlenecks); cached likewise. Never rejects. */
  item(run: RunSummary, b: Bottleneck, outcome: RunOutcome, signal?: AbortSignal): Promise<ItemAnswer> {
    // `outcome` holds the analyzer's errors grouped without their dimension keys, so which bottleneck
    // was refused (and the skip counters) is read from the run's own output_ref.
    void outcome;
    return this.cached(`item|${run.runId}|${dimension(b)}`, signal, (backend, shared) =>
      readItem(backend, run, b, shared, () => this.runDetail(backend, run.runId, shared)),
    ) as Promise<ItemAnswer>;
  }

  /**
   * Reads an item by id (Show Improvement Item on an item row). `fresh`: asks again rather than answer
   * from the cache (an item opened on purpose shows its status now). Never rejects.
   */
  itemById(id: string, signal?: AbortSignal, options: { fresh?: boolean } = {}): Promise<ItemAnswer> {
    if (options.fresh) this.cache.delete(`id|${id}`);
    return this.cached(`id|${id}`, signal, (backend, shared) =>
      readItemById(backend, id, shared),
    ) as Promise<ItemAnswer>;
  }

  /** Drops the cache (refresh, new backend) and abandons requests in flight; expanded rows then read again. */
  clear(): void {
    this.cache.clear();
    this.runs.clear();
    this.generation.abort();
    this.generation = new AbortController();
    if (!this.disposed) for (const l of [...this.clearListeners]) l();
  }

  /** Called after every clear(), so a view can redraw what it showed from the dropped answers. */
  onDidClear(listener: () => void): vscode.Disposable {
    this.clearListeners.add(listener);
    return { dispose: () => this.clearListeners.delete(listener) };
  }

  dispose(): void {
    this.disposed = true;
    this.clear();
    this.clearListeners.clear();
    this.subscription.dispose();
  }

  private runDetail(backend: TelemetryBackend, runId: string, signal: AbortSignal): Promise<RunDetail> {
    const known = this.runs.get(runId);
    if (known && known.backend === backend) return known.detail;
    const made = { backend, detail: backend.getRunDetail(runId, signal) };
    this.runs.set(runId, made);
    for (const old of this.runs.keys()) {
      if (this.runs.size <= MAX_CACHED / 10) break;
      this.runs.delete(old);
    }
    void made.detail.then((r) => {
      if (!r.ok && this.runs.get(runId) === made) this.runs.delete(runId);
    });
    return made.detail;
  }

  private cached(
    key: string,
    signal: AbortSignal | undefined,
    read: (backend: TelemetryBackend, shared: AbortSignal) => Promise<Answer>,
  ): Promise<Answer> {
    const backend = this.connection.snapshot.backend;
    if (this.disposed || !backend)
      return Promise.resolve({ kind: 'error', message: t('Not connected. Configure the connection and try again.') });
    let entry = this.cache.get(key);
    if (!entry || entry.backend !== backend) {
      const answer = read(backend, this.generation.signal).catch((e: unknown): Answer => ({
        kind: 'error',
        message: t('Could not load the drill-down: {0}', String(e)),
      }));
      const made = { backend, answer };
      entry = made;
      this.cache.set(key, made);
      // Bounded: the oldest answers go first (a window expands a few bottlenecks, not thousands).
      for (const old of this.cache.keys()) {
        if (this.cache.size <= MAX_CACHED) break;
        this.cache.delete(old);
      }
      // A failure is not kept: the next expand asks again.
      void answer.then((a) => {
        if (a.kind === 'error' && this.cache.get(key) === made) this.cache.delete(key);
      });
    }
    return withSignal(entry.answer, signal);
  }
}

function dimension(b: Bottleneck): string {
  return `${b.dimensionType}:${b.dimensionKey}`;
}

/** The shared answer, or a cancelled one as soon as this caller's signal aborts (the request goes on for others). */
function withSignal(answer: Promise<Answer>, signal: AbortSignal | undefined): Promise<Answer> {
  if (!signal) return answer;
  const stopped = (): Answer => ({
    kind: 'error',
    message:
      (signal.reason as { name?: unknown } | undefined)?.name === 'TimeoutError'
        ? t('The request took too long and was stopped. Run Refresh to try again.')
        : t('The request was cancelled.'),
  });
  if (signal.aborted) return Promise.resolve(stopped());
  return new Promise((resolve) => {
    const onAbort = () => resolve(stopped());
    signal.addEventListener('abort', onAbort, { once: true });
    void answer.then((a) => {
      signal.removeEventListener('abort', onAbort);
      resolve(a);
    });
  });
}

function failed(error: BackendError): { kind: 'error'; message: string } {
  return { kind: 'error', message: error.message };
}

async function readEvidence(backend: TelemetryBackend, b: Bottleneck, signal: AbortSignal): Promise<EvidenceAnswer> {
  const plan = planEvidence(b, backend.role);
  if (plan.kind === 'answer') return plan.answer;
  const rows = await backend.readEvidenceSpans(plan.traceIds, plan.column, plan.key, signal);
  return rows.ok ? evidenceFromRows(plan.traceIds, rows.value, backend.role) : failed(rows.error);
}

async function readItemById(backend: TelemetryBackend, id: string, signal: AbortSignal): Promise<ItemAnswer> {
  if (!canReadItems(backend.role)) return { kind: 'needs-key', role: backend.role };
  // Not "gone": an id that is no item id was never an item (hostile or broken output_ref).
  if (!isUuid(id))
    return {
      kind: 'error',
      message: t('the run recorded an improvement_id that is not an item id ({0})', cleanText(id, 40) ?? '""'),
    };
  const row = await backend.readImprovementItem(id, signal);
  return row.ok ? itemAnswer(id, row.value) : failed(row.error);
}

/**
 * improvement_id set: the item (one request). Null: the run's output_ref says whether the insert was
 * refused, auto-create was off or the item limit was reached (one request, shared by the run's
 * bottlenecks), else the item the analyzer's dedupe would have matched when the run started (a second
 * request; needs a key that can read the queue).
 */
async function readItem(
  backend: TelemetryBackend,
  run: RunSummary,
  b: Bottleneck,
  signal: AbortSignal,
  runDetail: () => Promise<RunDetail>,
): Promise<ItemAnswer> {
  if (b.improvementId !== null) return readItemById(backend, b.improvementId, signal);
  const detail = await runDetail();
  if (!detail.ok) return failed(detail.error);
  const facts = runItemFacts(detail.value?.outputRef, b);
  if (decidedByRun(facts)) return resolveNoItem(facts, null);
  if (!canReadItems(backend.role)) return { kind: 'needs-key', role: backend.role };
  const started = run.startedAt ?? run.triggeredAt;
  const found = await backend.findDedupeItem(b.dimensionType, b.dimensionKey, started, DEFAULT_COOLDOWN_HOURS, signal);
  if (!found.ok) return failed(found.error);
  // The server applied the same rule; checked again here because the row is untrusted.
  const item = found.value && wouldDeduplicate(found.value, started) ? found.value : null;
  return resolveNoItem(facts, item);
}
