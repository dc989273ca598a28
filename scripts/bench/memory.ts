// Extension-host memory over refresh cycles, and the request count at the moment activate() resolves,
// measured inside the host by scripts/bench/inhost/memory.ts. The extension is a development copy of
// the test build (dist-test/dist/*.js: the packaged code plus the test hooks the probe reads) with the
// packaged manifest, except `activationEvents` emptied so that the in-host probe, not
// onStartupFinished, triggers activation and can observe the instant it returns).
import * as fs from 'fs';
import * as path from 'path';
import type { Browser } from 'playwright-core';
import { REPO_ROOT, startCodeServer } from '../../devkit/codeServer';
import { openWorkbench } from '../../devkit/workbench';
import type { Stack } from '../../devkit/stack';
import { EXT_ID, makeWorkspace } from './editor';
import { INHOST_CONFIG_ENV, InHostConfig, InHostResults } from './inhost/shared';
import { log, onCleanup, round, sleep, tempDir } from './util';

/** What the reachable heap of a snapshot is held by (MB of self size, V8's own accounting). */
export interface HeapOwners {
  totalMb: number;
  /** undici Agent/Pool/Client objects, the sockets a Client owns, and what only they keep alive. */
  undiciConnectionsMb: number;
  undiciAgents: number;
  undiciSockets: number;
  /** V8's compiled code and its metadata (snapshot type "code"), not held through the pools. */
  v8CodeMb: number;
  restMb: number;
}

export interface MemoryFigures extends InHostResults {
  heapGrowthMb: number;
  /** By owner, from the heap snapshots at cycle 0 and at the end. */
  heapOwnersBefore?: HeapOwners;
  heapOwnersAfter?: HeapOwners;
  firstRequestAfterActivateMs: number | null;
  gatewayRequestsBeforeActivate: number;
}

export async function memorySession(
  stack: Stack,
  browser: Browser,
  cycles: number,
  curveCycles = 0,
): Promise<MemoryFigures> {
  const root = tempDir('ehg-bench-inhost-');
  const dev = path.join(root, 'ehg-telemetry-dev');
  fs.mkdirSync(path.join(dev, 'dist'), { recursive: true });
  const manifest = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as Record<string, unknown>;
  manifest.activationEvents = [];
  fs.writeFileSync(path.join(dev, 'package.json'), JSON.stringify(manifest, null, 2));
  // Every bundle of the test build (npm run build:test; the probe reads its test API): the data layer
  // (dist/supabaseBackend.js) is loaded lazily by dist/extension.js.
  const testDist = path.join(REPO_ROOT, 'dist-test', 'dist');
  for (const f of fs.readdirSync(testDist))
    if (f.endsWith('.js')) fs.copyFileSync(path.join(testDist, f), path.join(dev, 'dist', f));
  fs.cpSync(path.join(REPO_ROOT, 'media'), path.join(dev, 'media'), { recursive: true });
  const workspace = makeWorkspace(root, 'inhost-workspace', stack);
  const resultsFile = path.join(root, 'results.json');
  const configFile = path.join(root, 'config.json');
  const cfg: InHostConfig = { resultsFile, extensionId: EXT_ID, cycles, warmup: 50 };
  // Heap snapshots at the start and the end of the run split the growth by owner (below).
  // EHG_BENCH_HEAP_SNAPSHOTS=<folder> keeps them (diagnosis), EHG_BENCH_HEAP_SNAPSHOT_CYCLES=0,250,…
  // adds points in between.
  const snapDir = path.resolve(process.env.EHG_BENCH_HEAP_SNAPSHOTS ?? path.join(root, 'heap'));
  fs.mkdirSync(snapDir, { recursive: true });
  const atCycles = (process.env.EHG_BENCH_HEAP_SNAPSHOT_CYCLES ?? '').split(',').filter(Boolean).map(Number);
  cfg.heapSnapshots = { dir: snapDir, atCycles: [...new Set([0, ...atCycles, cycles])] };
  // Longer than the gateway's keep-alive (5 s; undici's client side closes after 5 s - 2 s).
  cfg.idleWaitMs = 6_000;
  if (curveCycles > 0)
    cfg.curve = {
      cycles: curveCycles,
      every: Math.max(1, Math.floor(curveCycles / 50)),
      url: stack.url,
      key: stack.keys.serviceRole,
      scopeId: workspace,
    };
  fs.writeFileSync(configFile, JSON.stringify(cfg));
  const entry = path.join(REPO_ROOT, 'out', 'scripts', 'bench', 'inhost', 'memory.js');
  if (!fs.existsSync(entry)) throw new Error(`${entry} is missing (run \`npm run compile\`)`);
  // Diagnosis: EHG_BENCH_MEMORY_USER_SETTINGS='{"http.systemCertificates":false}' runs the host with
  // other VS Code user settings (e.g. to confirm what the fetch patch costs); such a run is not the figure.
  const userSettings = process.env.EHG_BENCH_MEMORY_USER_SETTINGS
    ? (JSON.parse(process.env.EHG_BENCH_MEMORY_USER_SETTINGS) as Record<string, unknown>)
    : undefined;
  if (userSettings) log(`memory: DIAGNOSIS run with user settings ${JSON.stringify(userSettings)}`);
  const server = await startCodeServer({
    env: { [INHOST_CONFIG_ENV]: configFile },
    logFile: path.join(root, 'code-server.log'),
    userSettings,
  });
  const stopServer = onCleanup('code-server (in-host)', () => server.stop());
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const closeContext = onCleanup('browser context (in-host)', () => context.close());
  try {
    const page = await context.newPage();
    stack.gateway.clearLog();
    await openWorkbench(
      page,
      server.workbenchUrl(workspace, { extensionDevelopmentPath: dev, extensionTestsPath: entry }),
    );
    log(`memory: workbench up; in-host probe running ${cycles} refresh cycles`);
    // Two long curves (pooled and naive) at up to ~150 ms a cycle on a busy machine, on top of the rest.
    const deadline = Date.now() + 8 * 60_000 + curveCycles * 2 * 150;
    let res: InHostResults | undefined;
    for (;;) {
      try {
        res = JSON.parse(fs.readFileSync(resultsFile, 'utf8')) as InHostResults;
      } catch {
        /* not yet */
      }
      if (res?.done) break;
      if (server.exited()) throw new Error(`code-server exited:\n${server.output().slice(-2000)}`);
      if (Date.now() > deadline)
        throw new Error(`the in-host probe did not finish in time (last: ${JSON.stringify(res)})`);
      await sleep(500);
    }
    if (res.error) throw new Error(`in-host probe failed: ${res.error}`);
    const files = res.heapSnapshotFiles ?? {};
    const owners = (cycle: number) => (files[cycle] ? heapOwners(files[cycle]) : undefined);
    const heapOwnersBefore = owners(0);
    const heapOwnersAfter = owners(cycles);
    const ours = stack.gateway.requestLog.filter((e) => e.role === 'service_role').map((e) => Date.parse(e.at));
    const act = res.activatedAt ?? NaN;
    return {
      ...res,
      heapGrowthMb: round((res.heapAfterMb ?? NaN) - (res.heapBeforeMb ?? NaN), 2),
      heapOwnersBefore,
      heapOwnersAfter,
      firstRequestAfterActivateMs: ours.length ? ours[0] - act : null,
      gatewayRequestsBeforeActivate: ours.filter((t) => t < act).length,
    };
  } finally {
    await closeContext();
    await stopServer();
  }
}

/**
 * Splits the reachable heap of a V8 heap snapshot: what is held by undici connection pools (Agent,
 * Pool and Client objects, and the net.Socket a Client owns: everything reachable from the GC roots
 * only through them), and the rest. In the extension host, VS Code's fetch patch (@vscode/proxy-agent
 * 0.32 in VS Code 1.100) wraps every `fetch` in a new undici Agent, whose idle keep-alive socket keeps
 * that Agent, its Pool/Client and their buffers alive until the keep-alive runs out. The data layer no
 * longer calls the global fetch (src/data/pooledFetch.ts: node http/https, one pool per backend), so
 * after the change these figures count only other callers' agents (the naive curve uses the global fetch).
 */
export function heapOwners(file: string): HeapOwners {
  const snap = JSON.parse(fs.readFileSync(file, 'utf8')) as {
    snapshot: {
      meta: { node_fields: string[]; node_types: [string[]]; edge_fields: string[]; edge_types: [string[]] };
    };
    nodes: number[];
    edges: number[];
    strings: string[];
  };
  const { meta } = snap.snapshot;
  const NF = meta.node_fields.length,
    EF = meta.edge_fields.length;
  const nType = meta.node_fields.indexOf('type'),
    nName = meta.node_fields.indexOf('name'),
    nSize = meta.node_fields.indexOf('self_size'),
    nEdges = meta.node_fields.indexOf('edge_count');
  const eType = meta.edge_fields.indexOf('type'),
    eName = meta.edge_fields.indexOf('name_or_index'),
    eTo = meta.edge_fields.indexOf('to_node');
  const objectType = meta.node_types[0].indexOf('object');
  const weak = meta.edge_types[0].indexOf('weak'),
    property = meta.edge_types[0].indexOf('property');
  const { nodes, edges, strings } = snap;
  const n = nodes.length / NF;
  const first = new Uint32Array(n + 1);
  for (let i = 0, e = 0; i < n; i++) {
    first[i] = e;
    e += nodes[i * NF + nEdges] * EF;
    first[i + 1] = e;
  }
  const ctor = (i: number) => (nodes[i * NF + nType] === objectType ? strings[nodes[i * NF + nName]] : '');
  const hasProperty = (i: number, name: string, to?: (j: number) => boolean) => {
    for (let e = first[i]; e < first[i + 1]; e += EF) {
      if (edges[e + eType] === property && strings[edges[e + eName]] === name && (!to || to(edges[e + eTo] / NF)))
        return true;
    }
    return false;
  };
  // undici dispatchers (not http.Agent or prototypes): their DispatcherBase sets Symbol.for('nodejs.stream.destroyed').
  const owner = new Uint8Array(n);
  let undiciAgents = 0,
    undiciSockets = 0;
  for (let i = 0; i < n; i++) {
    const c = ctor(i);
    if ((c === 'Agent' || c === 'Pool' || c === 'Client') && hasProperty(i, '<symbol nodejs.stream.destroyed>')) {
      owner[i] = 1;
      if (c === 'Agent') undiciAgents++;
    }
  }
  for (let i = 0; i < n; i++) {
    if (ctor(i) === 'Socket' && hasProperty(i, '<symbol client>', (j) => owner[j] === 1 && ctor(j) === 'Client')) {
      owner[i] = 1;
      undiciSockets++;
    }
  }
  // ... and the TCP handle of such a socket (with its native wrapper), which is what the GC roots hold.
  for (let i = 0; i < n; i++) {
    if (ctor(i) === 'TCP' && hasProperty(i, '<symbol owner_symbol>', (j) => owner[j] === 1 && ctor(j) === 'Socket'))
      owner[i] = 1;
  }
  for (let i = 0; i < n; i++) {
    if (strings[nodes[i * NF + nName]] !== 'Node / TCPSocketWrap') continue;
    for (let e = first[i]; e < first[i + 1]; e += EF)
      if (owner[edges[e + eTo] / NF] && ctor(edges[e + eTo] / NF) === 'TCP') {
        owner[i] = 1;
        break;
      }
  }
  // Reachable from the root (node 0) along strong edges, with and without passing through an owner.
  const reach = (stopAtOwners: boolean) => {
    const seen = new Uint8Array(n),
      queue = new Uint32Array(n);
    let head = 0,
      tail = 0;
    seen[0] = 1;
    queue[tail++] = 0;
    while (head < tail) {
      const i = queue[head++];
      if (stopAtOwners && owner[i]) continue;
      for (let e = first[i]; e < first[i + 1]; e += EF) {
        if (edges[e + eType] === weak) continue;
        const to = edges[e + eTo] / NF;
        if (!seen[to]) {
          seen[to] = 1;
          queue[tail++] = to;
        }
      }
    }
    return seen;
  };
  const all = reach(false),
    notViaOwners = reach(true);
  const codeType = meta.node_types[0].indexOf('code');
  let total = 0,
    held = 0,
    code = 0;
  for (let i = 0; i < n; i++) {
    if (!all[i]) continue;
    const size = nodes[i * NF + nSize];
    total += size;
    if (owner[i] || !notViaOwners[i]) held += size;
    else if (nodes[i * NF + nType] === codeType) code += size;
  }
  const mb = (b: number) => b / 1048576;
  return {
    totalMb: mb(total),
    undiciConnectionsMb: mb(held),
    undiciAgents,
    undiciSockets,
    v8CodeMb: mb(code),
    restMb: mb(total - held - code),
  };
}
