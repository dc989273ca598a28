// Bottleneck trends: the ratio of each bottleneck across the last N SUCCEEDED runs of a scope, and
// one run's observed p50 against its baseline. Pure data for the trends webview (which draws it
// and shows the same data as tables).
import { bottleneckId, ComparableRun } from './runComparison';

export interface TrendRun {
  runId: string;
  finishedAt: string | null;
}
export interface TrendSeries {
  id: string;
  dimensionType: string;
  dimensionKey: string;
  /** One entry per run (oldest first); null where the bottleneck was not found in that run. */
  ratios: Array<number | null>;
  /** The newest non-null ratio, for ordering. */
  latest: number | null;
}
export interface RunBars {
  runId: string;
  finishedAt: string | null;
  bars: Array<{
    dimensionType: string;
    dimensionKey: string;
    observedP50Ms: number | null;
    baselineP50Ms: number | null;
    ratio: number | null;
  }>;
}
export interface TrendsData {
  scopeLabel: string;
  runs: TrendRun[];
  series: TrendSeries[];
  /** Series left out of the chart and the table (more than MAX_SERIES bottlenecks). */
  omittedSeries: number;
  /** Per run (same order as runs): observed p50 vs baseline per bottleneck. */
  perRun: RunBars[];
}

export const MAX_SERIES = 12;
export const MAX_BARS = 12;

/** `runs` newest first (as queried); the result is oldest first, as a chart reads. */
export function buildTrends(scopeLabel: string, runsNewestFirst: readonly ComparableRun[]): TrendsData {
  const runs = [...runsNewestFirst].reverse();
  const byId = new Map<string, TrendSeries>();
  runs.forEach((run, i) => {
    for (const b of run.bottlenecks) {
      const id = bottleneckId(b);
      let s = byId.get(id);
      if (!s) {
        s = {
          id,
          dimensionType: b.dimensionType,
          dimensionKey: b.dimensionKey,
          ratios: runs.map(() => null),
          latest: null,
        };
        byId.set(id, s);
      }
      if (s.ratios[i] === null && b.ratio !== null && Number.isFinite(b.ratio)) s.ratios[i] = b.ratio;
    }
  });
  for (const s of byId.values()) s.latest = [...s.ratios].reverse().find((r) => r !== null) ?? null;
  const lastIndex = (s: TrendSeries) => s.ratios.reduce<number>((acc, r, i) => (r !== null ? i : acc), -1);
  // Present in the newest runs first, then by ratio, then by name (stable for equal data).
  const all = [...byId.values()].sort(
    (a, b) =>
      lastIndex(b) - lastIndex(a) || (b.latest ?? -1) - (a.latest ?? -1) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
  return {
    scopeLabel,
    runs: runs.map((r) => ({ runId: r.runId, finishedAt: r.finishedAt ? r.finishedAt.toISOString() : null })),
    series: all.slice(0, MAX_SERIES),
    omittedSeries: Math.max(0, all.length - MAX_SERIES),
    perRun: runs.map((r) => ({
      runId: r.runId,
      finishedAt: r.finishedAt ? r.finishedAt.toISOString() : null,
      bars: r.bottlenecks.slice(0, MAX_BARS).map((b) => ({
        dimensionType: b.dimensionType,
        dimensionKey: b.dimensionKey,
        observedP50Ms: b.observedP50Ms,
        baselineP50Ms: b.baselineP50Ms,
        ratio: b.ratio,
      })),
    })),
  };
}
