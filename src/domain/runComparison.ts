// What changed since the previous run: each bottleneck of a finished run marked new / worse /
// better / unchanged against the previous SUCCEEDED run of the same scope, plus those that
// disappeared (resolved). Pure: no vscode, no I/O; the UI words it.
import { Bottleneck, compareBottlenecks, parseBottleneck, REASON_INSUFFICIENT_DATA } from './run';
import { isRecord, parseNumber } from './text';

export type ChangeKind = 'new' | 'worse' | 'better' | 'unchanged' | 'resolved';

export interface BottleneckChange {
  kind: ChangeKind;
  dimensionType: string;
  dimensionKey: string;
  /** Ratio in the previous run (null for new ones, or when that run did not record it). */
  ratioThen: number | null;
  /** Ratio in this run (null for resolved ones, or when not recorded). */
  ratioNow: number | null;
}

/** The bottlenecks of one SUCCEEDED run, as far as they are needed for a comparison. */
export interface ComparableRun {
  runId: string;
  finishedAt: Date | null;
  bottlenecks: Bottleneck[];
  /** INSUFFICIENT_DATA (or nothing scanned): the run measured nothing, so "new" means little. */
  insufficientData: boolean;
}

export type RunComparison =
  | { kind: 'first' }
  | {
      kind: 'compared';
      previousRunId: string;
      previousFinishedAt: Date | null;
      /** The previous run measured nothing (INSUFFICIENT_DATA): its "new" marks are only relative to nothing. */
      previousInsufficientData: boolean;
      /** This run's bottlenecks in its own order (worst first), then the resolved ones (worst then first). */
      changes: BottleneckChange[];
      counts: Record<ChangeKind, number>;
    };

/** Upper bound on bottlenecks read from untrusted output_ref for a comparison or a trend. */
export const MAX_COMPARED_BOTTLENECKS = 200;
const MAX_SCANNED = 1000;

/**
 * Every bottleneck of an output_ref, worst first, at most `max`, one per (type, key): a hostile
 * row that repeats a key keeps its worst entry. Anything unreadable gives an empty list.
 */
export function parseBottleneckList(outputRef: unknown, max = MAX_COMPARED_BOTTLENECKS): Bottleneck[] {
  const raw = isRecord(outputRef) ? outputRef.bottlenecks : Array.isArray(outputRef) ? outputRef : null;
  if (!Array.isArray(raw)) return [];
  const parsed = raw
    .slice(0, MAX_SCANNED)
    .map(parseBottleneck)
    .filter((b): b is Bottleneck => b !== null)
    .sort(compareBottlenecks);
  const seen = new Set<string>();
  const out: Bottleneck[] = [];
  for (const b of parsed) {
    const k = bottleneckId(b);
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(b);
    if (out.length >= max) break;
  }
  return out;
}

/** Builds a ComparableRun from the fields of a SUCCEEDED row (output_ref, or just its bottlenecks list). */
export function comparableRun(
  runId: string,
  finishedAt: Date | null,
  outputRefOrList: unknown,
  reasonCode: string | null,
): ComparableRun {
  const traces = isRecord(outputRefOrList) ? parseNumber(outputRefOrList.traces_scanned) : null;
  return {
    runId,
    finishedAt,
    bottlenecks: parseBottleneckList(outputRefOrList),
    insufficientData: reasonCode === REASON_INSUFFICIENT_DATA || traces === 0,
  };
}

/** Identity of a bottleneck across runs. A NUL separator cannot occur in cleaned text. */
export function bottleneckId(b: { dimensionType: string; dimensionKey: string }): string {
  return `${b.dimensionType}\u0000${b.dimensionKey}`;
}

/**
 * Ratios are compared at the precision they are shown with (one decimal, as "3.2×"), so that a mark
 * never says "worse 3.2× → 3.2×". Unknown ratios on either side count as unchanged.
 */
export function ratioChange(then: number | null, now: number | null): 'worse' | 'better' | 'unchanged' {
  if (then === null || now === null || !Number.isFinite(then) || !Number.isFinite(now)) return 'unchanged';
  const a = Math.round(then * 10);
  const b = Math.round(now * 10);
  return b > a ? 'worse' : b < a ? 'better' : 'unchanged';
}

/** Compares a run's bottlenecks with those of the previous SUCCEEDED run of its scope (null: there is none). */
export function compareRuns(current: readonly Bottleneck[], previous: ComparableRun | null): RunComparison {
  if (!previous) return { kind: 'first' };
  const before = new Map<string, Bottleneck>();
  for (const b of previous.bottlenecks) if (!before.has(bottleneckId(b))) before.set(bottleneckId(b), b);
  const counts: Record<ChangeKind, number> = { new: 0, worse: 0, better: 0, unchanged: 0, resolved: 0 };
  const changes: BottleneckChange[] = [];
  const present = new Set<string>();
  for (const b of current) {
    const id = bottleneckId(b);
    if (present.has(id)) continue;
    present.add(id);
    const then = before.get(id);
    const kind: ChangeKind = then ? ratioChange(then.ratio, b.ratio) : 'new';
    counts[kind]++;
    changes.push({
      kind,
      dimensionType: b.dimensionType,
      dimensionKey: b.dimensionKey,
      ratioThen: then ? then.ratio : null,
      ratioNow: b.ratio,
    });
  }
  for (const [id, b] of before) {
    if (present.has(id)) continue;
    counts.resolved++;
    changes.push({
      kind: 'resolved',
      dimensionType: b.dimensionType,
      dimensionKey: b.dimensionKey,
      ratioThen: b.ratio,
      ratioNow: null,
    });
  }
  return {
    kind: 'compared',
    previousRunId: previous.runId,
    previousFinishedAt: previous.finishedAt,
    previousInsufficientData: previous.insufficientData,
    changes,
    counts,
  };
}

/** Among candidate runs (any status, any order), the SUCCEEDED one that finished last before `run` in the same scope. */
export function pickPreviousSucceeded<
  T extends {
    runId: string;
    status: string;
    scopeType: string | null;
    scopeId: string | null;
    finishedAt: Date | null;
  },
>(run: Pick<T, 'runId' | 'scopeType' | 'scopeId' | 'finishedAt'>, candidates: readonly T[]): T | null {
  if (!run.finishedAt) return null;
  const end = run.finishedAt.getTime();
  let best: T | null = null;
  for (const c of candidates) {
    if (c.runId === run.runId || c.status !== 'SUCCEEDED' || !c.finishedAt || !sameScope(c, run)) continue;
    const t = c.finishedAt.getTime();
    if (t >= end) continue;
    if (!best || t > best.finishedAt!.getTime()) best = c;
  }
  return best;
}

/** Global runs (scope_id null) compare with global runs; others with the same scope type and id. */
export function sameScope(
  a: { scopeType: string | null; scopeId: string | null },
  b: { scopeType: string | null; scopeId: string | null },
): boolean {
  if (a.scopeId === null || b.scopeId === null) return a.scopeId === null && b.scopeId === null;
  return a.scopeId === b.scopeId && (a.scopeType ?? 'workspace') === (b.scopeType ?? 'workspace');
}

/** The kinds worth a word in a row's description, in reading order ("2 new · 1 worse · 1 resolved"). */
export const SUMMARY_ORDER: readonly ChangeKind[] = ['new', 'worse', 'better', 'resolved'];

/** Parts of the short summary as [count, kind]; empty when nothing changed (or there is nothing to compare with). */
export function summaryParts(c: RunComparison): Array<[number, ChangeKind]> {
  if (c.kind !== 'compared') return [];
  return SUMMARY_ORDER.filter((k) => c.counts[k] > 0).map((k) => [c.counts[k], k]);
}

/** The new bottlenecks, worst first, for the completion notification. */
export function newBottlenecks(c: RunComparison): BottleneckChange[] {
  return c.kind === 'compared' ? c.changes.filter((x) => x.kind === 'new') : [];
}
