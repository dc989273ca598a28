// Loaded by VS Code's extension host as `extensionTestsPath` (the @vscode/test-electron contract:
// `run()` is called inside the host). Activates the development copy of EHG Telemetry itself (its
// manifest has no activation event, so nothing activated it earlier), counts the extension's
// requests at the moment activate() resolves, then runs refresh cycles through the testing API and
// compares heap and active handles before and after. Results go to the JSON file of the config.
import * as fs from 'fs';
import * as v8 from 'v8';
import * as vm from 'vm';
import * as vscode from 'vscode';
import * as path from 'path';
import { sleep, waitFor } from '../../../devkit/wait';
import { HeapCurve, INHOST_CONFIG_ENV, InHostConfig, InHostResults, slopeKbPer1000 } from './shared';

interface Testing {
  settle(): Promise<void>;
  requests(): number;
  heartbeatReads(): number;
  refreshRuns(): Promise<void>;
  refreshHeartbeat(): Promise<void>;
  runsTree(): Promise<unknown[]>;
}

function resources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) counts[r] = (counts[r] ?? 0) + 1;
  return counts;
}

function exposeGc(): (() => void) | null {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) return g;
  try {
    v8.setFlagsFromString('--expose-gc');
    return vm.runInNewContext('gc') as () => void;
  } catch {
    return null;
  }
}

async function fullGc(gc: (() => void) | null): Promise<void> {
  if (!gc) return;
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((r) => setImmediate(r));
  }
}

// A snapshot is written after the heap figure of that point was read, so it does not change that
// figure (writing one forces a full GC itself); the runner splits the growth by owner from them.
function snapshot(cfg: InHostConfig, res: InHostResults, cycle: number): void {
  if (!cfg.heapSnapshots?.atCycles.includes(cycle)) return;
  (res.heapSnapshotFiles ??= {})[cycle] = v8.writeHeapSnapshot(`${cfg.heapSnapshots.dir}/cycle-${cycle}.heapsnapshot`);
}

interface CurveBackend {
  listRuns(scope: { kind: 'workspace'; scopeIds: string[] }, offset: number, limit: number): Promise<{ ok: boolean }>;
  readHeartbeat(): Promise<{ ok: boolean }>;
  dispose(): void;
}

/** The heap along `cycles` data-layer cycles of one backend (see InHostConfig.curve). */
async function heapCurve(
  backend: CurveBackend,
  c: NonNullable<InHostConfig['curve']>,
  gc: (() => void) | null,
): Promise<HeapCurve> {
  const heap = async () => {
    await fullGc(gc);
    return process.memoryUsage().heapUsed / 1048576;
  };
  // Warm-up (JIT, first connections) is not part of the curve.
  for (let i = 0; i < 50; i++) await backend.listRuns({ kind: 'workspace', scopeIds: [c.scopeId] }, 0, 20);
  const points = [{ cycle: 0, mb: await heap() }];
  const durations: number[] = [];
  for (let i = 1; i <= c.cycles; i++) {
    const t0 = performance.now();
    const [a, b] = [
      await backend.listRuns({ kind: 'workspace', scopeIds: [c.scopeId] }, 0, 20),
      await backend.readHeartbeat(),
    ];
    if (!a.ok || !b.ok) throw new Error(`curve cycle ${i} failed`);
    durations.push(performance.now() - t0);
    if (i % c.every === 0) points.push({ cycle: i, mb: await heap() });
  }
  durations.sort((x, y) => x - y);
  return {
    points,
    slopeKbPer1000: slopeKbPer1000(points, c.cycles * 0.2),
    cycleMsMedian: durations[Math.floor(durations.length / 2)],
  };
}

export async function run(): Promise<void> {
  const cfgFile = process.env[INHOST_CONFIG_ENV];
  if (!cfgFile) throw new Error(`${INHOST_CONFIG_ENV} is not set`);
  const cfg = JSON.parse(fs.readFileSync(cfgFile, 'utf8')) as InHostConfig;
  const res: InHostResults = { done: false };
  const write = () => fs.writeFileSync(cfg.resultsFile, JSON.stringify(res, null, 2));
  try {
    const ext = vscode.extensions.getExtension<{ testing?: Testing }>(cfg.extensionId);
    if (!ext) throw new Error(`${cfg.extensionId} is not loaded`);
    res.wasActiveBeforeProbe = ext.isActive;
    const api = ext.isActive ? ext.exports : await ext.activate();
    // Synchronously after activate() resolved: no timer or I/O callback has run in between.
    res.requestsAtActivate = api.testing?.requests();
    res.activatedAt = Date.now();
    const t = api.testing;
    if (!t)
      throw new Error('activate() returned no testing API (is this the test build, dist-test/? npm run build:test)');
    write();
    await t.settle();
    await waitFor(async () => (await t.runsTree()).length > 0, {
      message: 'rows in the runs tree',
      timeoutMs: 30_000,
      intervalMs: 500,
    }).catch(() => undefined); // treeRows below records what there was
    res.treeRows = (await t.runsTree()).length;
    for (let i = 0; i < cfg.warmup; i++) {
      await t.refreshRuns();
      await t.refreshHeartbeat();
    }
    const gc = exposeGc();
    res.gcExposed = gc !== null;
    await fullGc(gc);
    res.resourcesBefore = resources();
    const heapBefore = process.memoryUsage().heapUsed;
    snapshot(cfg, res, 0);
    const req0 = t.requests();
    const hb0 = t.heartbeatReads();
    const durations: number[] = [];
    const heapAt = async () => {
      await fullGc(gc);
      return process.memoryUsage().heapUsed / 1048576;
    };
    res.heapCurveMb = [{ cycle: 0, mb: heapBefore / 1048576 }];
    const every = Math.max(1, Math.floor(cfg.cycles / 4));
    for (let i = 0; i < cfg.cycles; i++) {
      const c0 = performance.now();
      await t.refreshRuns();
      await t.refreshHeartbeat();
      durations.push(performance.now() - c0);
      if ((i + 1) % every === 0 && i + 1 < cfg.cycles) res.heapCurveMb.push({ cycle: i + 1, mb: await heapAt() });
      if (i + 1 < cfg.cycles) snapshot(cfg, res, i + 1);
    }
    res.requestsDuringCycles = t.requests() - req0;
    res.heartbeatReadsDuringCycles = t.heartbeatReads() - hb0;
    await sleep(1_000); // let sockets/timers of the last cycle settle like the first ones had
    await fullGc(gc);
    const heapAfter = process.memoryUsage().heapUsed;
    res.resourcesAfter = resources();
    res.heapBeforeMb = heapBefore / 1048576;
    res.heapAfterMb = heapAfter / 1048576;
    res.heapCurveMb.push({ cycle: cfg.cycles, mb: heapAfter / 1048576 });
    snapshot(cfg, res, cfg.cycles);
    res.cycles = cfg.cycles;
    // The same heap once every connection of the run has been idle longer than the keep-alive: what
    // is still there is not held by an idle socket (reported next to the figure, not instead of it).
    if (cfg.idleWaitMs) {
      await sleep(cfg.idleWaitMs);
      res.idleWaitMs = cfg.idleWaitMs;
      res.heapAfterIdleMb = await heapAt();
    }
    // Diagnosis: the same number of cycles of each refresh alone (from an idle start when idleWaitMs is set).
    const alone = async (f: () => Promise<void>) => {
      const b = await heapAt();
      for (let i = 0; i < cfg.cycles / 2; i++) await f();
      return (await heapAt()) - b;
    };
    res.heapGrowthRunsOnlyMb = await alone(() => t.refreshRuns());
    // Each starts once the previous one's connections have idled out, like the first one.
    if (cfg.idleWaitMs) await sleep(cfg.idleWaitMs);
    res.heapGrowthHeartbeatOnlyMb = await alone(() => t.refreshHeartbeat());
    durations.sort((a, b) => a - b);
    res.cycleMsMedian = durations[Math.floor(durations.length / 2)];
    if (cfg.curve) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const mod = require(path.join(ext.extensionPath, 'dist', 'supabaseBackend.js')) as {
        SupabaseBackend: new (o: Record<string, unknown>) => CurveBackend;
      };
      const c = cfg.curve;
      const opts = { url: c.url, origin: new URL(c.url).origin, key: c.key, timeoutMs: 10_000, clientInfo: 'bench' };
      for (const [name, extra] of [
        ['curvePooled', { pool: 'own' }],
        ['curveNaive', { baseFetch: globalThis.fetch }],
      ] as const) {
        if (cfg.idleWaitMs) await sleep(cfg.idleWaitMs);
        const b = new mod.SupabaseBackend({ ...opts, ...extra });
        try {
          res[name] = await heapCurve(b, c, gc);
        } finally {
          b.dispose();
        }
        write();
      }
    }
  } catch (e) {
    res.error = e instanceof Error ? (e.stack ?? e.message) : String(e);
  }
  res.done = true;
  write();
}
