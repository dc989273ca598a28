// Shared by the benchmark runner and its in-host module (no `vscode` import).
export const INHOST_CONFIG_ENV = 'EHG_BENCH_INHOST_CONFIG';

export interface InHostConfig {
  resultsFile: string;
  extensionId: string;
  cycles: number;
  warmup: number;
  /** V8 heap snapshots (after GC) written into this folder at these measured cycles (0 = the start). */
  heapSnapshots?: { dir: string; atCycles: number[] };
  /** After the run: wait this long with no request (longer than the server's keep-alive), GC, read the heap. */
  idleWaitMs?: number;
  /**
   * The long curve: `cycles` data-layer refresh cycles (list + heartbeat read) on a backend built from
   * the extension's own dist/supabaseBackend.js, heap after GC every `every` cycles; once with the
   * extension's fetch (one keep-alive pool per backend) and once naive (the host's global fetch, which
   * VS Code wraps in a new undici Agent per call), in the same host. The local stack's test key only.
   */
  curve?: { cycles: number; every: number; url: string; key: string; scopeId: string };
}

export interface HeapCurve {
  points: Array<{ cycle: number; mb: number }>;
  /** Least-squares slope over the last 80 % of the cycles, KB per 1,000 cycles. */
  slopeKbPer1000: number;
  cycleMsMedian: number;
}

export interface InHostResults {
  done: boolean;
  error?: string;
  wasActiveBeforeProbe?: boolean;
  /** Date.now() right after `await extension.activate()` resolved. */
  activatedAt?: number;
  /** The extension's own request counter (all its backends) at that moment. */
  requestsAtActivate?: number;
  cycles?: number;
  cycleMsMedian?: number;
  heapBeforeMb?: number;
  heapAfterMb?: number;
  gcExposed?: boolean;
  resourcesBefore?: Record<string, number>;
  resourcesAfter?: Record<string, number>;
  requestsDuringCycles?: number;
  heartbeatReadsDuringCycles?: number;
  treeRows?: number;
  /** Heap after GC at points of the run (MB). */
  heapCurveMb?: Array<{ cycle: number; mb: number }>;
  /** Heap growth over cycles/2 calls of each refresh alone (MB). */
  heapGrowthRunsOnlyMb?: number;
  heapGrowthHeartbeatOnlyMb?: number;
  /** Snapshot file by measured cycle. */
  heapSnapshotFiles?: Record<number, string>;
  /** Heap after GC once idleWaitMs passed without a request after the run (idle sockets closed). */
  heapAfterIdleMb?: number;
  idleWaitMs?: number;
  curvePooled?: HeapCurve;
  curveNaive?: HeapCurve;
}

/** Least-squares slope of the points at or past `fromCycle`, in KB per 1,000 cycles. */
export function slopeKbPer1000(points: ReadonlyArray<{ cycle: number; mb: number }>, fromCycle: number): number {
  const pts = points.filter((p) => p.cycle >= fromCycle);
  if (pts.length < 2) return NaN;
  const mx = pts.reduce((a, p) => a + p.cycle, 0) / pts.length;
  const my = pts.reduce((a, p) => a + p.mb, 0) / pts.length;
  let num = 0,
    den = 0;
  for (const p of pts) {
    num += (p.cycle - mx) * (p.mb - my);
    den += (p.cycle - mx) ** 2;
  }
  return den ? (num / den) * 1024 * 1000 : NaN;
}
