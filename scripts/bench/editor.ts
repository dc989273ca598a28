// Figures that need a real VS Code: code-server 4.100.3 (= VS Code 1.100.3) driven by Chromium
// through playwright-core, the packaged VSIX installed as a user installs it, next to a minimal
// hello-world extension (test/bench-fixtures/hello-world) in the same window.
//   - activation times as VS Code reports them (Developer: Show Running Extensions), over several
//     window loads, and proof that no request starts before activate() returns;
//   - session start as seen by the gateway (round trips from activation to the inserted row);
//   - requests while idle in four conditions, driven through the page, against a naive poller.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium } from '../../devkit/chromium';
import { CodeServer, REPO_ROOT, startCodeServer } from '../../devkit/codeServer';
import { runFromPalette, showContainer, openWorkbench } from '../../devkit/workbench';
import type { RequestLogEntry, Stack } from '../../devkit/stack';
import { SupabaseBackend } from '../../src/data/supabaseBackend';
import { sequentialDepth } from './db';
import { log, median, onCleanup, round, sleep, tempDir } from './util';

export const EXT_ID = 'ehg-engineer.ehg-telemetry';
export const HELLO_ID = 'ehg-bench.bench-hello-world';
/** The simulator's BASE interval; adaptive and idle (the upstream default) it writes every 3 × base = 6 s. */
export const SCHEDULER_INTERVAL_MS = 2_000;
/** Production default poll interval of the EVA scheduler (shared/notes/domain.md): the time scale. */
export const REAL_SCHEDULER_INTERVAL_MS = 60_000;
const NAIVE_REAL_MS = 10_000;
export const NAIVE_SCALED_MS = Math.round((NAIVE_REAL_MS * SCHEDULER_INTERVAL_MS) / REAL_SCHEDULER_INTERVAL_MS);

export async function launchBrowser(): Promise<Browser> {
  const browser = await launchChromium();
  onCleanup('browser', () => browser.close());
  return browser;
}

/** Packages a fixture extension folder into a VSIX with vsce (in a temp copy). */
export function packageFixture(name: string, outDir: string): string {
  const src = path.join(REPO_ROOT, 'test', 'bench-fixtures', name);
  const copy = path.join(outDir, `src-${name}`);
  fs.cpSync(src, copy, { recursive: true });
  const vsix = path.join(outDir, `${name}.vsix`);
  const vsce = path.join(REPO_ROOT, 'node_modules', '.bin', 'vsce');
  const r = spawnSync(
    vsce,
    ['package', '--no-dependencies', '--allow-missing-repository', '--skip-license', '-o', vsix],
    { cwd: copy, encoding: 'utf8' },
  );
  if (r.status !== 0 || !fs.existsSync(vsix)) throw new Error(`vsce package ${name} failed: ${r.stdout}${r.stderr}`);
  return vsix;
}

/**
 * A workspace folder with a .env for the stack. `analyzer`: it is the fixture EHG checkout
 * (test/fixtures/ehg-workspace, with the stand-in analyzer), so that session start enqueues and runs
 * as in the real repository; without one it stops at `skipped_no_analyzer` before the insert.
 */
export function makeWorkspace(root: string, name: string, stack: Stack, opts: { analyzer?: boolean } = {}): string {
  const dir = path.join(root, name);
  fs.mkdirSync(dir, { recursive: true });
  if (opts.analyzer) fs.cpSync(path.join(REPO_ROOT, 'test', 'fixtures', 'ehg-workspace'), dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'README.md'), `# ${name}\n\nBenchmark workspace.\n`);
  fs.writeFileSync(
    path.join(dir, '.env'),
    `SUPABASE_URL=${stack.url}\nSUPABASE_SERVICE_ROLE_KEY=${stack.keys.serviceRole}\n`,
  );
  return fs.realpathSync(dir);
}

// ---- request classification ------------------------------------------------------------------

export type Kind = 'heartbeat' | 'list' | 'watch' | 'staleness' | 'dedup' | 'insert' | 'cancel' | 'other';

export function kindOf(e: RequestLogEntry): Kind {
  if (e.path.endsWith('/eva_scheduler_heartbeat')) return 'heartbeat';
  if (!e.path.endsWith('/telemetry_analysis_runs')) return 'other';
  if (e.method === 'POST') return 'insert';
  if (e.method === 'PATCH') return 'cancel';
  const q = decodeURIComponent(e.query);
  if (/order=triggered_at\.desc/.test(q)) return 'list';
  if (/order=finished_at\.desc/.test(q)) return 'staleness';
  if (/status=in\.\(QUEUED,RUNNING\)/.test(q) && /order=triggered_at\.asc/.test(q)) return 'dedup';
  if (/run_id=in\./.test(q)) return 'watch';
  return 'other';
}

function countKinds(entries: RequestLogEntry[]): Record<Kind | 'total', number> {
  const c: Record<string, number> = {
    total: entries.length,
    heartbeat: 0,
    list: 0,
    watch: 0,
    staleness: 0,
    dedup: 0,
    insert: 0,
    cancel: 0,
    other: 0,
  };
  for (const e of entries) c[kindOf(e)]++;
  return c;
}

const atMs = (e: RequestLogEntry) => Date.parse(e.at);

/** An error's first line: what the bench reports, never a stack. */
export function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0].slice(0, 300);
}

// ---- activation --------------------------------------------------------------------------------

interface ActivationSample {
  ours: number;
  hello: number;
}

async function readRunningExtensions(page: Page): Promise<ActivationSample> {
  await runFromPalette(page, 'Developer: Show Running Extensions');
  const deadline = Date.now() + 60_000;
  let last: string[] = [];
  for (;;) {
    last = await page
      .locator('.runtime-extensions-editor .monaco-list-row')
      .evaluateAll((els) => els.map((e) => (e as { innerText: string }).innerText));
    const find = (name: string) => {
      const row = last.find((t) => t.split('\n')[0].trim() === name);
      const m = row ? /Activation: (\d+)ms/.exec(row) : null;
      return m ? Number(m[1]) : null;
    };
    const ours = find('EHG Telemetry');
    const hello = find('Bench Hello World');
    if (ours !== null && hello !== null) return { ours, hello };
    if (Date.now() > deadline)
      throw new Error(`Running Extensions did not show both activation times; rows: ${JSON.stringify(last)}`);
    await sleep(500);
  }
}

/** `ExtensionService#_callActivateOptional <id>` trace lines of every extension host, in order. */
function activateCalls(userDataDir: string, id: string): number[] {
  const logs = path.join(userDataDir, 'logs');
  const out: number[] = [];
  const visit = (dir: string) => {
    for (const f of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, f.name);
      if (f.isDirectory()) visit(p);
      else if (f.name === 'remoteexthost.log') {
        for (const line of fs.readFileSync(p, 'utf8').split('\n')) {
          const m =
            /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d\.\d{3}) \[trace\] ExtensionService#_callActivateOptional (\S+)\s*$/.exec(
              line,
            );
          if (m && m[3] === id) out.push(new Date(`${m[1]}T${m[2]}`).getTime()); // local time, as the log writes it
        }
      }
    }
  };
  if (fs.existsSync(logs)) visit(logs);
  return out.sort((a, b) => a - b);
}

/** The extension host's own spans for one extension (ms, from its performance marks). */
interface Span {
  load: number;
  activate: number;
}
interface MarkSpans {
  ours: Span;
  hello: Span;
}

const fmtSpan = (s: Span) => `${s.load + s.activate} ms (load ${s.load} + activate ${s.activate})`;

/** Waits for the window probe's marks line of the extension host started after `since` (one per host, written once both spans exist). */
async function waitMarks(probeLog: string, since: number): Promise<MarkSpans> {
  const deadline = Date.now() + 40_000;
  for (;;) {
    const l = readProbeLog(probeLog).find((x) => x.event === 'marks' && x.at >= since);
    if (l) {
      const get = (id: string): Span => {
        const x = l.marks?.[id];
        if (typeof x?.load !== 'number' || typeof x.activate !== 'number')
          throw new Error(`the extension host set no activation marks for ${id}: ${JSON.stringify(l.marks)}`);
        return { load: x.load, activate: x.activate };
      };
      return { ours: get(EXT_ID), hello: get(HELLO_ID) };
    }
    if (Date.now() > deadline) throw new Error(`the window probe wrote no marks for this load in 40 s (${probeLog})`);
    await sleep(250);
  }
}

/** Attempts per activation load: a load whose figures did not all appear is loaded again, at most this often. */
export const LOAD_ATTEMPTS = 3;

export interface ActivationFigures {
  loads: number;
  oursMs: number[];
  helloMs: number[];
  oursMedianMs: number;
  helloMedianMs: number;
  ratio: number;
  /** Per load: first request at the gateway minus the latest possible end of activate() (ms; > 0 = after). */
  firstRequestMarginsMs: number[];
  requestsBeforeActivateReturned: number;
  /**
   * Per load, from the extension host's marks (window probe): the require of the main file plus
   * activate() until its promise resolved, i.e. until the extension is wired and active. No code of
   * an extension loaded before it is inside (unlike the Running Extensions figure), but for ours,
   * whose promise resolves a tick later, whatever the host ran in between is.
   */
  readyOursMs: number[];
  readyHelloMs: number[];
  readyOursMedianMs: number;
  readyHelloMedianMs: number;
  /** The require of the main file alone (median). */
  loadOursMedianMs: number;
  loadHelloMedianMs: number;
  /** Attempts that did not give their figures and were loaded again (a busy machine). */
  retried: Array<{ load: number; attempt: number; reason: string }>;
  /** Loads that gave no figures in LOAD_ATTEMPTS attempts (left out of the medians). */
  failedLoads: Array<{ load: number; reason: string }>;
  /** Figures of the editor section (activation, session start, idle) that could not be had, and why. */
  missing: string[];
}

export interface SessionStartEditorFigures {
  roundTripsToInsert: number;
  requestsToInsert: number;
  msActivationToInsert: number;
  chain: Array<{ kind: Kind; at: string; durationMs: number }>;
}

export interface IdleCondition {
  name: string;
  windowMs: number;
  focused: boolean | null;
  viewVisible: boolean;
  ours: Record<Kind | 'total', number>;
  naiveScaled: number;
  naiveRealtime: number;
  /**
   * Heartbeat writes of the (adaptive) scheduler simulator whose read could fall in the window:
   * last_poll_at in [from − settle, to − settle], watched in the database during the window.
   */
  schedulerPolls: number;
  gapsMs?: { heartbeat: number[]; list: number[] };
}

export interface EditorFigures {
  activation: ActivationFigures;
  sessionStart: SessionStartEditorFigures;
  idle: IdleCondition[];
  focusMethod: string;
}

/** One code-server with the VSIX, hello-world and the focus probe; the page loaded `loads` times. */
export async function editorSession(
  stack: Stack,
  browser: Browser,
  opts: {
    loads: number;
    /** false: only the activation loads and session start, no idle windows. */
    idle?: boolean;
    windows: { visible: number; hidden: number; unfocused: number; erroring: number };
  },
): Promise<EditorFigures> {
  const root = tempDir('ehg-bench-editor-');
  log(`editor session in ${root}`);
  const vsixHello = packageFixture('hello-world', root);
  const vsixProbe = packageFixture('window-probe', root);
  const probeLog = path.join(root, 'window-probe.jsonl');
  const workspace = makeWorkspace(root, 'bench-workspace', stack, { analyzer: true });
  const server: CodeServer = await startCodeServer({
    vsix: [path.join(REPO_ROOT, 'ehg-telemetry.vsix'), vsixHello, vsixProbe],
    env: { LOG_LEVEL: 'trace', EHG_BENCH_PROBE_LOG: probeLog, EHG_BENCH_MARK_IDS: `${EXT_ID},${HELLO_ID}` },
    logFile: path.join(root, 'code-server.log'),
    log: (l) => log(`[code-server] ${l}`),
  });
  const stopServer = onCleanup('code-server (editor)', () => server.stop());
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const closeContext = onCleanup('browser context (editor)', () => context.close());
  const page = await context.newPage();
  try {
    // 1. Activation, `loads` times (the first load is the workspace's first open: SESSION_START).
    // Each page load is a new extension host. On a busy machine a load's row may not show (e.g.
    // hello-world not yet in Running Extensions after 60 s): that load is loaded again, at most
    // LOAD_ATTEMPTS times, and the retry is reported. Hosts are paired with their activate() trace
    // and probe marks by the time their page load started, so a failed attempt shifts nothing.
    stack.gateway.clearLog();
    const hosts: Array<{ startedAt: number; load: number; sample?: ActivationSample; marks?: MarkSpans }> = [];
    const retried: ActivationFigures['retried'] = [];
    const failedLoads: ActivationFigures['failedLoads'] = [];
    for (let i = 0; i < opts.loads; i++) {
      for (let attempt = 1; ; attempt++) {
        const host: (typeof hosts)[number] = { startedAt: Date.now(), load: i + 1 };
        hosts.push(host);
        try {
          if (hosts.length === 1) await openWorkbench(page, server.workbenchUrl(workspace));
          else {
            await page.reload({ waitUntil: 'domcontentloaded' });
            await openWorkbench(page, page.url());
          }
          const s = await readRunningExtensions(page);
          const m = await waitMarks(probeLog, host.startedAt);
          host.sample = s;
          host.marks = m;
          log(
            `activation load ${i + 1}/${opts.loads}${attempt > 1 ? ` (attempt ${attempt})` : ''}: Running Extensions: EHG Telemetry ${s.ours} ms, hello-world ${s.hello} ms; ` +
              `own code: EHG Telemetry ${fmtSpan(m.ours)}, hello-world ${fmtSpan(m.hello)}`,
          );
          break;
        } catch (e) {
          const reason = firstLine(e);
          if (attempt >= LOAD_ATTEMPTS) {
            failedLoads.push({ load: i + 1, reason });
            log(`activation load ${i + 1}/${opts.loads}: no figures after ${attempt} attempts (${reason}); left out`);
            break;
          }
          retried.push({ load: i + 1, attempt, reason });
          log(`activation load ${i + 1}/${opts.loads}, attempt ${attempt}: ${reason}; loading again`);
        } finally {
          await sleep(2_000);
        }
      }
    }
    // Each host's activate() call: the first traced after its page load started (local time, as logged).
    const calls = activateCalls(server.userDataDir, EXT_ID);
    const callOf = (k: number) =>
      calls.find((t) => t >= hosts[k].startedAt && t < (hosts[k + 1]?.startedAt ?? Infinity));
    const missing: string[] = [];
    const all = [...stack.gateway.requestLog].filter((e) => e.role === 'service_role');
    const margins: number[] = [];
    let before = 0;
    hosts.forEach((h, k) => {
      if (!h.sample) return;
      const t = callOf(k);
      if (t === undefined) {
        missing.push(
          `load ${h.load}: no ExtensionService#_callActivateOptional trace for its host, so no request margin`,
        );
        return;
      }
      const end = t + h.sample.ours; // latest possible end: code loading happens before this call
      const next = hosts[k + 1] ? (callOf(k + 1) ?? hosts[k + 1].startedAt) : Infinity;
      const mine = all.filter((e) => atMs(e) >= t && atMs(e) < next);
      before += mine.filter((e) => atMs(e) < end).length;
      if (mine.length) margins.push(atMs(mine[0]) - end);
    });
    const done = hosts.filter((h) => h.sample && h.marks);
    if (!done.length)
      missing.push(
        `every activation figure: no load gave its figures (${failedLoads.map((f) => f.reason).join('; ')})`,
      );
    const ours = done.map((h) => h.sample!.ours);
    const hello = done.map((h) => h.sample!.hello);
    const readyOurs = done.map((h) => h.marks!.ours.load + h.marks!.ours.activate);
    const readyHello = done.map((h) => h.marks!.hello.load + h.marks!.hello.activate);
    const activation: ActivationFigures = {
      loads: done.length,
      oursMs: ours,
      helloMs: hello,
      oursMedianMs: median(ours),
      helloMedianMs: median(hello),
      ratio: round(median(ours) / median(hello), 2),
      firstRequestMarginsMs: margins,
      requestsBeforeActivateReturned: before,
      readyOursMs: readyOurs,
      readyHelloMs: readyHello,
      readyOursMedianMs: median(readyOurs),
      readyHelloMedianMs: median(readyHello),
      loadOursMedianMs: median(done.map((h) => h.marks!.ours.load)),
      loadHelloMedianMs: median(done.map((h) => h.marks!.hello.load)),
      retried,
      failedLoads,
      missing,
    };

    // 2. Session start on the first load (the workspace's first open, whether or not its
    // activation row showed): the gateway's view of the chain up to the insert.
    const firstCall = callOf(0);
    const secondStart = hosts[1] ? (callOf(1) ?? hosts[1].startedAt) : Infinity;
    const firstLoad = firstCall === undefined ? [] : all.filter((e) => atMs(e) >= firstCall && atMs(e) < secondStart);
    const ssKinds: Kind[] = ['staleness', 'dedup', 'insert'];
    const ss = firstLoad.filter((e) => ssKinds.includes(kindOf(e)));
    const insertIdx = ss.findIndex((e) => kindOf(e) === 'insert');
    const chain = insertIdx >= 0 ? ss.slice(0, insertIdx + 1) : [];
    if (!chain.length) {
      const why =
        firstCall === undefined
          ? 'no activate() trace for the first load'
          : `no insert in the first load's requests (first load: ${JSON.stringify(countKinds(firstLoad))}; all: ${JSON.stringify(countKinds(all))})`;
      missing.push(`session start in the editor: ${why}`);
      log(`session start: ${why}`);
    }
    // Activation's end on the first load: its Running Extensions figure, when that load gave one.
    const actEnd = firstCall !== undefined && hosts[0].sample ? firstCall + hosts[0].sample.ours : NaN;
    if (chain.length && Number.isNaN(actEnd))
      missing.push('session start, ms from activation to the insert: the first load gave no activation time');
    const sessionStart: SessionStartEditorFigures = {
      roundTripsToInsert: chain.length
        ? sequentialDepth(chain.map((e) => ({ start: atMs(e), end: atMs(e) + e.durationMs })))
        : NaN,
      requestsToInsert: chain.length,
      msActivationToInsert: chain.length
        ? round(atMs(chain[chain.length - 1]) + chain[chain.length - 1].durationMs - actEnd, 1)
        : NaN,
      chain: chain.map((e) => ({ kind: kindOf(e), at: e.at, durationMs: round(e.durationMs, 2) })),
    };

    // 3. Requests while idle.
    const { idle, focusMethod } =
      opts.idle === false
        ? { idle: [], focusMethod: 'none (idle windows skipped)' }
        : await idleConditions(stack, context, page, probeLog, workspace, opts.windows).catch((e: unknown) => {
            missing.push(`requests while idle (every window): ${firstLine(e)}`);
            return { idle: [] as IdleCondition[], focusMethod: 'none (idle windows failed)' };
          });
    await page.screenshot({ path: path.join(root, 'last.png') }).catch(() => undefined);
    return { activation, sessionStart, idle, focusMethod };
  } finally {
    await closeContext();
    await stopServer();
  }
}

// ---- idle ------------------------------------------------------------------------------------

/** One line of the window probe's log (test/bench-fixtures/window-probe). */
interface ProbeLine {
  at: number;
  event: string;
  focused: boolean;
  /** `marks` lines: each watched extension's spans. */
  marks?: Record<string, Partial<Span>>;
}

function readProbeLog(probeLog: string): ProbeLine[] {
  return fs.existsSync(probeLog)
    ? fs
        .readFileSync(probeLog, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as ProbeLine)
    : [];
}

function probeState(probeLog: string): {
  activations: number;
  focused: boolean | null;
  lines: Array<{ at: number; event: string; focused: boolean }>;
} {
  const lines = readProbeLog(probeLog);
  const lastAct = lines.map((l) => l.event).lastIndexOf('activate');
  const mine = lastAct >= 0 ? lines.slice(lastAct) : [];
  return {
    activations: lines.filter((l) => l.event === 'activate').length,
    focused: mine.length ? mine[mine.length - 1].focused : null,
    lines: mine,
  };
}

async function waitFocus(probeLog: string, want: boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (probeState(probeLog).focused === want) return true;
    await sleep(200);
  }
  return probeState(probeLog).focused === want;
}

/** The extension reads the heartbeat this long after an expected write (HEARTBEAT_TIMING.settleMs; the bench keeps the 30 s grace). */
const HEARTBEAT_SETTLE_MS = 2_000;

/**
 * The scheduler's real writes (distinct last_poll_at), read straight from PostgreSQL every 200 ms
 * (not through the gateway, so not in its request log). With adaptive polling the writes come every
 * 3 × base while idle, so counting them beats dividing the window by an interval.
 */
function watchHeartbeatWrites(stack: Stack): { stop: () => Promise<number[]> } {
  const seen: number[] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const r = await stack
        .query<{ last_poll_at: Date | null }>('select last_poll_at from public.eva_scheduler_heartbeat where id = 1')
        .catch(() => []);
      const t = r[0]?.last_poll_at?.getTime();
      if (t !== undefined && seen[seen.length - 1] !== t) seen.push(t);
      await sleep(200);
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await loop;
      return seen;
    },
  };
}

/** A naive poller: the same two queries (heartbeat, runs list) on a fixed interval, with its own key role. */
function naivePoller(stack: Stack, key: string, scopeId: string, intervalMs: number): { stop: () => Promise<void> } {
  // Its own key, so its requests carry another role in the gateway log.
  const b = new SupabaseBackend({
    url: stack.url,
    origin: new URL(stack.url).origin,
    key,
    timeoutMs: 10_000,
    clientInfo: 'naive-poller',
  });
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const t = Date.now();
      await Promise.all([b.readHeartbeat(), b.listRuns({ kind: 'workspace', scopeIds: [scopeId] }, 0, 20)]);
      const wait = intervalMs - (Date.now() - t);
      if (wait > 0) await sleep(wait);
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await loop;
      b.dispose();
    },
  };
}

async function idleConditions(
  stack: Stack,
  context: BrowserContext,
  page: Page,
  probeLog: string,
  workspace: string,
  windows: { visible: number; hidden: number; unfocused: number; erroring: number },
): Promise<{ idle: IdleCondition[]; focusMethod: string }> {
  const out: IdleCondition[] = [];
  await showContainer(page, 'EHG Telemetry');
  await sleep(6_000);
  // Naive baselines in the same run: scaled (10 s × 2 s / 60 s) with the `authenticated` key, and
  // real-time 10 s with the `anon` key; their role tells their requests apart in the gateway log.
  const naiveScaled = naivePoller(stack, stack.keys.authenticated, workspace, NAIVE_SCALED_MS);
  const naiveReal = naivePoller(stack, stack.keys.anon, workspace, NAIVE_REAL_MS);
  const stopNaive = onCleanup('naive pollers', async () => {
    await naiveScaled.stop();
    await naiveReal.stop();
  });
  let focusMethod = 'none needed';
  let other: Page | null = null;
  // A request answered by an injected fault is logged before authentication (role null), so while the
  // backend is erroring the fault's matcher records each request with the role of its key instead.
  const faulted: RequestLogEntry[] = [];
  const roleOf = (h: Record<string, string | string[] | undefined>): string | null => {
    const token = String(h.authorization ?? '').replace(/^Bearer\s+/i, '') || String(h.apikey ?? '');
    return token === stack.keys.serviceRole
      ? 'service_role'
      : token === stack.keys.authenticated
        ? 'authenticated'
        : token === stack.keys.anon
          ? 'anon'
          : null;
  };
  const measureWindow = async (
    name: string,
    ms: number,
    viewVisible: boolean,
    gaps = false,
  ): Promise<IdleCondition> => {
    const focused = probeState(probeLog).focused;
    const from = Date.now();
    log(`idle: "${name}" for ${ms / 1000} s (ext host sees focused=${focused})`);
    const writes = watchHeartbeatWrites(stack);
    await sleep(ms);
    const to = Date.now();
    const writeTimes = await writes.stop();
    const source = gaps ? faulted : stack.gateway.requestLog;
    const inWin = source.filter((e) => atMs(e) >= from && atMs(e) < to);
    const oursEntries = inWin.filter((e) => e.role === 'service_role');
    const c: IdleCondition = {
      name,
      windowMs: to - from,
      focused,
      viewVisible,
      ours: countKinds(oursEntries),
      naiveScaled: inWin.filter((e) => e.role === 'authenticated').length,
      naiveRealtime: inWin.filter((e) => e.role === 'anon').length,
      schedulerPolls: writeTimes.filter((t) => t >= from - HEARTBEAT_SETTLE_MS && t < to - HEARTBEAT_SETTLE_MS).length,
    };
    if (gaps) {
      const g = (k: Kind) => {
        const ts = oursEntries.filter((e) => kindOf(e) === k).map(atMs);
        return ts.slice(1).map((t, i) => t - ts[i]);
      };
      c.gapsMs = { heartbeat: g('heartbeat'), list: g('list') };
    }
    log(
      `idle: "${name}": ours ${JSON.stringify(c.ours)}; naive scaled ${c.naiveScaled}, naive real-time ${c.naiveRealtime}`,
    );
    return c;
  };
  try {
    out.push(await measureWindow('view visible, focused', windows.visible, true));

    await showContainer(page, 'Explorer');
    await sleep(2_000);
    out.push(await measureWindow('view hidden (Explorer), focused', windows.hidden, false));

    await showContainer(page, 'EHG Telemetry');
    await sleep(4_000);
    // Unfocus: first the real thing (another page in front, Chromium's headless focus emulation off);
    // if the extension host does not see it, fall back to a blur the workbench itself listens to.
    const cdp = await context.newCDPSession(page);
    await cdp.send('Emulation.setFocusEmulationEnabled', { enabled: false }).catch(() => undefined);
    other = await context.newPage();
    await other.goto('about:blank');
    await other.bringToFront();
    if (await waitFocus(probeLog, false, 5_000))
      focusMethod = 'another page brought to front (CDP focus emulation off)';
    else {
      await page.evaluate(() => {
        const d = (globalThis as unknown as { document: { hasFocus: () => boolean } }).document;
        Object.defineProperty(d, 'hasFocus', { value: () => false, configurable: true });
        (globalThis as unknown as { dispatchEvent: (e: unknown) => void }).dispatchEvent(
          new (globalThis as unknown as { FocusEvent: new (t: string) => unknown }).FocusEvent('blur'),
        );
      });
      focusMethod = (await waitFocus(probeLog, false, 5_000))
        ? 'window blur event + document.hasFocus() = false in the page (headless Chromium has no OS focus)'
        : 'FAILED: the extension host never saw the window unfocused';
    }
    log(`idle: unfocus method: ${focusMethod}`);
    await sleep(1_000);
    out.push(await measureWindow('window unfocused (view visible)', windows.unfocused, true));

    // Back in focus, then the backend fails every request (503).
    await other.close();
    other = null;
    await page.bringToFront();
    await page.evaluate(() => {
      const d = (globalThis as unknown as { document: { hasFocus?: unknown } }).document;
      delete d.hasFocus; // restores Document.prototype.hasFocus when it was overridden
      (globalThis as unknown as { dispatchEvent: (e: unknown) => void }).dispatchEvent(
        new (globalThis as unknown as { FocusEvent: new (t: string) => unknown }).FocusEvent('focus'),
      );
    });
    await cdp.send('Emulation.setFocusEmulationEnabled', { enabled: true }).catch(() => undefined);
    const refocused = await waitFocus(probeLog, true, 5_000);
    if (!refocused) log('idle: WARNING the extension host did not see the window focused again');
    await sleep(3_000);
    stack.gateway.setFault({
      status: 503,
      body: { code: 'PGRST001', message: 'Database client error. Retrying the connection.' },
      match: (r) => {
        faulted.push({
          at: new Date().toISOString(),
          method: r.method,
          path: r.path,
          query: r.query,
          status: 503,
          role: roleOf(r.headers),
          durationMs: 0,
          responseBytes: 0,
        });
        return r.table !== null;
      },
    });
    try {
      out.push(await measureWindow('backend erroring (503), focused, view visible', windows.erroring, true, true));
    } finally {
      stack.gateway.setFault(null);
    }
  } finally {
    if (other) await other.close().catch(() => undefined);
    await stopNaive();
  }
  return { idle: out, focusMethod };
}
