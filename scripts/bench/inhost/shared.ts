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
}
