// The backends and the in-host lanes of the e2e stage. Each lane has its own local stack (the scheduler
// simulator and the gateway are per stack, and suites drive both) and runs its groups one after the
// other; the lanes run side by side, sharing the one Chromium. A group is one code-server window that
// loads the test build with the in-host mocha suite once per phase (a reload between phases) and
// writes each phase's results to a file; this module hands them, per phase, to the outer mocha
// (inhost.e2e.ts), which reports each in-host test as its own test.
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { launchChromium } from '../../../devkit/chromium';
import { CodeServer, ensureCodeServer, startCodeServer } from '../../../devkit/codeServer';
import { onCleanup, withTimeout } from '../../../devkit/cleanup';
import { Stack, startStack } from '../../../devkit/stack';
import { generateTraces } from '../../../devkit/stack/datagen';
import { sleep } from '../../../devkit/wait';
import { openWorkbench } from '../../../devkit/workbench';
import { makeEhgWorkspace, makeWorkspace, startControlServer } from '../backend';
import { GatewayTap } from '../gatewayTap';
import {
  CONFIG_ENV,
  describeError,
  InHostConfig,
  InHostPhase,
  ResultsFile,
  TEST_EXTENSION_DIR,
  TestResult,
} from '../shared';
import {
  assertNoExtensionErrors,
  BACKGROUND_NICENESS,
  checkShutdown,
  CI,
  dbFingerprint,
  editorDirs,
  INHOST_ENTRY,
  INHOST_ORDER,
  INHOST_GREP,
  keepEvidence,
  log,
  newContext,
  ONLY,
  PHASE_TIMEOUT_MS,
  RESULTS_DIR,
  SCHEDULER_INTERVAL_MS,
  SERIAL,
  setBrowser,
  TEST_BUNDLE,
  USER_SETTINGS,
} from './env';

/** The fault phase's request limit: short, so that "slower than the limit" is quick to reach. */
const FAULTS_REQUEST_TIMEOUT_S = 2;

/** A stack and its control endpoint; `local` when it runs in this process (its gateway and simulator at hand). */
export interface Backend {
  name: string;
  url: string;
  keys: Stack['keys'];
  databaseUrl: string;
  controlUrl: string;
  local?: { stack: Stack; tap: GatewayTap };
}

/** The in-process stack and tap of a backend, for the suites that drive its gateway or simulator directly. */
export function local(b: Backend): { stack: Stack; tap: GatewayTap } {
  if (!b.local) throw new Error(`the ${b.name} stack runs in a process of its own: no gateway or simulator here`);
  return b.local;
}

/** What a phase produced: the in-host tests' results, then the harness's own checks and problems. */
export interface PhaseOutcome {
  results: TestResult[];
}

type GroupName = 'trusted' | 'liveness' | 'hold' | 'restricted' | 'faults' | 'commands';
const GROUP_PHASES: Record<GroupName, InHostPhase[]> = {
  trusted: ['first-open', 'reopen'],
  liveness: ['liveness'],
  hold: ['hold-open', 'hold-closed'],
  restricted: ['restricted'],
  faults: ['faults'],
  commands: ['commands'],
};
const ALL_GROUPS: GroupName[] = ['trusted', 'liveness', 'hold', 'restricted', 'faults', 'commands'];
/**
 * The lanes (the default; E2E_LANES=serial runs the groups in one): the session (first open, then the
 * reload: the dedup check, the tree, the status bar and the adaptive scheduler's timed scenarios) and
 * the unkind scheduler scenarios (slow rounds, a failed revival, every transition timed), each with
 * its stack in a process of its own and the first claim on the CPU (the other editors run niced);
 * hold, restricted, faults and the commands in a third; the browser suites on a fourth stack (web) in
 * the outer mocha, beside them. The stage took 380-390 s in two lanes, the session lane being the
 * critical path (its reload phase alone 345 s, 197 s of it the unkind scenarios).
 */
const LANES: Array<{ name: string; groups: GroupName[]; ownProcess?: boolean }> = SERIAL
  ? [{ name: 'serial', groups: ALL_GROUPS }]
  : [
      { name: 'session', groups: ['trusted'], ownProcess: true },
      // The unkind scheduler scenarios, timed like the session lane's: a stack (and simulator) of their own.
      { name: 'liveness', groups: ['liveness'], ownProcess: true },
      // The commands window last: nothing it leaves running can reach the restricted window's "no write" checks.
      { name: 'faults', groups: ['hold', 'restricted', 'faults', 'commands'] },
    ];

/** Whether E2E_ONLY lets a group run. */
function groupOn(g: GroupName): boolean {
  return ONLY.has(g);
}

/** The phases this run reports, in report order. */
export function plannedPhases(): InHostPhase[] {
  return ALL_GROUPS.filter((g) => groupOn(g)).flatMap((g) => GROUP_PHASES[g]);
}

class Deferred<T> {
  resolve!: (v: T) => void;
  reject!: (e: unknown) => void;
  readonly promise = new Promise<T>((res, rej) => {
    this.resolve = res;
    this.reject = rej;
  });
}

const phaseOutcomes = new Map<InHostPhase, Deferred<PhaseOutcome>>(
  plannedPhases().map((p) => [p, new Deferred<PhaseOutcome>()]),
);
let lanesDone: Promise<void> = Promise.resolve();

let stopping = false;
/** Set on an interruption: lanes start no further phase. */
export function stopLanes(): void {
  stopping = true;
}

function settlePhase(phase: InHostPhase, outcome: PhaseOutcome): void {
  phaseOutcomes.get(phase)?.resolve(outcome);
}
function failed(group: string, title: string, err: unknown): TestResult {
  log(`FAILED ${group}: ${title}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
  return { group, title, state: 'failed', durationMs: 0, error: describeError(err) };
}

/** The results of one in-host phase, when its lane has run it. */
export function phaseOutcome(phase: InHostPhase): Promise<PhaseOutcome> {
  const d = phaseOutcomes.get(phase);
  if (!d) throw new Error(`phase ${phase} is not planned in this run`);
  return d.promise;
}
export function allLanesDone(): Promise<void> {
  return lanesDone;
}

/** Starts a stack with traces for the fixture analyzer, a tap on its gateway and a control endpoint. */
export async function startBackend(name: string, seedDemoScope?: string): Promise<Backend> {
  const stackLog = fs.createWriteStream(path.join(RESULTS_DIR, `stack-${name}.log`));
  const stack = await withTimeout(
    startStack({
      log: (line) => stackLog.write(`${line}\n`),
      seedDemoScope,
      scheduler: { intervalMs: SCHEDULER_INTERVAL_MS },
    }),
    120_000,
    `starting the local stack (${name})`,
  );
  onCleanup(`stack (${name})`, async () => {
    await stack.stop();
    stackLog.end();
  });
  keepSignalsToHarness();
  // Traces for the workspace analyzer (the fixture's stand-in) to find bottlenecks in.
  await generateTraces(stack.databaseUrl);
  const tap = new GatewayTap(stack.gateway);
  const control = await startControlServer(stack, tap);
  onCleanup(`control server (${name})`, () => control.close());
  log(`stack ${name} up at ${stack.url}`);
  const { url, keys, databaseUrl } = stack;
  return { name, url, keys, databaseUrl, controlUrl: control.url, local: { stack, tap } };
}

/** A stack with its control endpoint in a child process (harness/backendProcess.ts). */
export async function startBackendProcess(name: string): Promise<Backend> {
  const logFile = path.join(RESULTS_DIR, `stack-${name}.log`);
  const child = spawn(process.execPath, [path.join(__dirname, 'backendProcess.js'), String(SCHEDULER_INTERVAL_MS)], {
    stdio: ['pipe', 'pipe', fs.openSync(logFile, 'a')],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  onCleanup(`stack process (${name})`, async () => {
    child.kill('SIGTERM');
    await withTimeout(exited, 30_000, `the ${name} stack process to stop`).catch(() => child.kill('SIGKILL'));
  });
  const line = await withTimeout(
    new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (c: Buffer) => {
        out += c.toString();
        const nl = out.indexOf('\n');
        if (nl >= 0) resolve(out.slice(0, nl));
      });
      child.once('exit', (code) => reject(new Error(`the ${name} stack process exited (${code}); see ${logFile}`)));
    }),
    120_000,
    `starting the local stack (${name}, own process)`,
  );
  const ready = JSON.parse(line) as Omit<Backend, 'name' | 'local'>;
  log(`stack ${name} up at ${ready.url} (own process, pid ${child.pid})`);
  return { name, ...ready };
}

/**
 * The stack installs its own SIGINT/SIGTERM handlers, which exit the process as soon as Postgres has
 * stopped, before the harness could stop code-server and the browser. The harness stops the stacks
 * itself (cleanups in the root after-hook and on a signal), so it keeps signals to itself; the stack's
 * exit hook stays as the last resort.
 */
const harnessSignalHandlers = new Set<(...args: unknown[]) => void>();
export function ownSignalHandler(fn: (...args: unknown[]) => void): void {
  harnessSignalHandlers.add(fn);
}
function keepSignalsToHarness(): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    for (const listener of process.listeners(signal)) {
      if (!harnessSignalHandlers.has(listener as (...args: unknown[]) => void))
        process.removeListener(signal, listener);
    }
  }
}

/** The run's temporary root (workspaces and editors' folders), and the stacks by use. */
export interface Setup {
  root: string;
  web: Backend;
  backends: Backend[];
  /** The restricted workspace's .env key (a key no one else uses), for the key scan. */
  restrictedToken?: string;
}
let setupPromise: Promise<Setup> | undefined;

/** The editor, the browser, the web stack, then the lanes (started, not awaited). Once per run. */
export function setup(): Promise<Setup> {
  setupPromise ??= doSetup();
  return setupPromise;
}

async function doSetup(): Promise<Setup> {
  try {
    ensureCodeServer(log);
  } catch (err) {
    if (CI)
      console.error(
        '\n*** CI: the editor could not be started, so nothing was tested. This is a failure, not a skip. ***\n',
      );
    throw err;
  }
  try {
    const b = await withTimeout(launchChromium(), 90_000, 'launching Chromium');
    onCleanup('browser', () => b.close());
    setBrowser(b);
    log(`Chromium ${b.version()} launched`);
  } catch (err) {
    if (CI)
      console.error(
        '\n*** CI: the browser could not be started, so the UI was NOT tested. This is a failure, not a skip. ***\n',
      );
    throw err;
  }
  const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'ehg-e2e-')));
  onCleanup('workspaces', () => Promise.resolve(fs.rmSync(root, { recursive: true, force: true })));
  const missing = [TEST_BUNDLE, INHOST_ENTRY].filter((f) => !fs.existsSync(f));
  const s: Setup = { root, web: undefined as unknown as Backend, backends: [] };
  // The web stack: demo runs seeded for the ui workspace's scope.
  const webReady = startBackend('web', path.join(root, 'ui-workspace'));
  webReady.catch(() => undefined);
  const lanePromises = LANES.map(async (lane) => {
    const phases = lane.groups.filter(groupOn).flatMap((g) => GROUP_PHASES[g]);
    if (!phases.length) return;
    try {
      if (missing.length)
        throw new Error(`missing build output: ${missing.join(', ')} (run \`npm run build:test && npm run compile\`)`);
      const backend = SERIAL
        ? await webReady
        : lane.ownProcess
          ? await startBackendProcess(lane.name)
          : await startBackend(lane.name);
      if (!SERIAL) s.backends.push(backend);
      for (const g of lane.groups) if (groupOn(g)) await runGroup(g, backend, s);
    } catch (err) {
      for (const p of phases)
        settlePhase(p, { results: [failed(p, `the ${lane.name} lane starts (stack, editor)`, err)] });
    }
  });
  lanesDone = Promise.all(lanePromises).then(() => undefined);
  s.web = await webReady;
  s.backends.unshift(s.web);
  return s;
}

/** One code-server for a group's phases, sharing one page (so the second phase is a reload). */
async function runGroup(group: GroupName, backend: Backend, s: Setup): Promise<void> {
  const envFor = (key: string) => ({ SUPABASE_URL: backend.url, SUPABASE_SERVICE_ROLE_KEY: key });
  let workspace: string;
  let trust = false;
  let forbiddenToken: string | undefined;
  let userSettings: Record<string, unknown> = {};
  let beforePhase: ((phase: InHostPhase) => Promise<Partial<InHostConfig>>) | undefined;
  let afterPhase: ((phase: InHostPhase, server: CodeServer) => Promise<TestResult[]>) | undefined;
  let cleanupGroup: (() => Promise<TestResult[]>) | undefined;
  switch (group) {
    case 'trusted':
      // The fixture EHG workspace: its SESSION_START run is executed by the extension (slowly, so that
      // the reload between the two phases happens mid-run).
      workspace = makeEhgWorkspace(s.root, 'trusted-workspace', envFor(backend.keys.serviceRole), 'slow:30000');
      break;
    case 'liveness':
      // Not an EHG checkout (nothing to analyse on open): the window only watches the scheduler.
      workspace = makeWorkspace(s.root, 'liveness-workspace', envFor(backend.keys.serviceRole));
      break;
    case 'commands':
      // A fresh EHG workspace (its SESSION_START run finishes normally): Trigger, Cancel, Refresh, Copy
      // Run ID, Show Run Details and the comparison with the previous run.
      workspace = makeEhgWorkspace(s.root, 'commands-workspace', envFor(backend.keys.serviceRole), 'normal');
      break;
    case 'hold':
      // The window reloads while its SESSION_START run is claimed and held for the CLI hook (before its
      // analysis starts); the next window finds it cancelled (WINDOW_CLOSED).
      workspace = makeEhgWorkspace(s.root, 'hold-workspace', envFor(backend.keys.serviceRole), 'normal');
      break;
    case 'restricted': {
      // Restricted Mode: a .env holding a key no one else uses, so a leak is detectable.
      const { stack } = local(backend);
      forbiddenToken = stack.makeJwt({ role: 'service_role', e2e: 'restricted-workspace-env' });
      s.restrictedToken = forbiddenToken;
      workspace = makeWorkspace(s.root, 'restricted-workspace', envFor(forbiddenToken));
      trust = true;
      beforePhase = async () => {
        stack.gateway.clearLog();
        return { dbFingerprintBefore: await dbFingerprint(stack) };
      };
      break;
    }
    case 'faults': {
      const { stack, tap } = local(backend);
      // The gateway is closed before the window opens (down at start). Not an EHG checkout: runs are
      // only enqueued (as for a deployment with a worker), which is what these cases count.
      workspace = makeWorkspace(s.root, 'faults-workspace', envFor(backend.keys.serviceRole));
      userSettings = {
        'ehgTelemetry.requestTimeoutSeconds': FAULTS_REQUEST_TIMEOUT_S,
        'ehgTelemetry.analysis.executor': 'external',
      };
      beforePhase = async () => {
        const dbFingerprintBefore = await dbFingerprint(stack);
        await stack.gateway.close();
        return { dbFingerprintBefore, gatewayDownAtStart: true };
      };
      afterPhase = async (_phase, server) => {
        const checks: TestResult[] = [];
        try {
          checks.push(
            await harnessCheck(
              'faults',
              'deactivation with requests in flight: the extension host exits < 1 s after it starts terminating, and the requests are cut off',
              () => checkShutdown(server, tap),
            ),
          );
          checks.push(
            await harnessCheck('faults', 'the extension host logged no error from the extension', () =>
              assertNoExtensionErrors(server.userDataDir),
            ),
          );
        } finally {
          stack.gateway.setFault(null);
          await stack.gateway.listen();
        }
        return checks;
      };
      cleanupGroup = async () => {
        const out: TestResult[] = [];
        stack.gateway.setFault(null);
        await stack.gateway
          .listen()
          .catch((err) => out.push(failed('faults', 'the gateway listens again after the fault phase', err)));
        await stack.scheduler?.start().catch(() => undefined);
        return out;
      };
      break;
    }
  }
  const phases = GROUP_PHASES[group];
  const configFile = path.join(RESULTS_DIR, `inhost-${group}-config.json`);
  let server: CodeServer | undefined;
  let settled = 0;
  try {
    server = await startCodeServer({
      ...editorDirs(s.root, group),
      workspaceTrust: trust,
      userSettings: { ...USER_SETTINGS, ...userSettings },
      niceness: group === 'trusted' || group === 'liveness' ? 0 : BACKGROUND_NICENESS,
      env: { [CONFIG_ENV]: configFile },
      logFile: path.join(RESULTS_DIR, `code-server-${group}.log`),
      saveLogsTo: path.join(RESULTS_DIR, `editor-logs-${group}`),
      log,
    });
    const srv = server;
    const stopServer = onCleanup(`code-server (${group})`, () => srv.stop());
    const { context, page, shown, consoleLog } = await newContext(`inhost-${group}`);
    const closeContext = onCleanup(`browser context (${group})`, () => context.close());
    const base = {
      supabaseUrl: backend.url,
      keys: backend.keys,
      databaseUrl: backend.databaseUrl,
      workspace,
      controlUrl: backend.controlUrl,
      schedulerIntervalMs: SCHEDULER_INTERVAL_MS,
      forbiddenToken,
      userDataDir: srv.userDataDir,
      order: INHOST_ORDER,
      grep: INHOST_GREP,
    };
    try {
      for (const phase of phases) {
        const results: TestResult[] = [];
        if (stopping) {
          results.push(failed(phase, `in-host phase "${phase}" runs`, new Error('interrupted')));
        } else {
          try {
            const config: InHostConfig = { ...base, ...(await beforePhase?.(phase)), phase, resultsFile: '' };
            await runInHostPhase(srv, page, configFile, config, results);
          } catch (err) {
            results.push(failed(phase, `in-host phase "${phase}" completes`, err));
          }
          if (afterPhase && !stopping) results.push(...(await afterPhase(phase, srv)));
        }
        if (cleanupGroup && phase === phases[phases.length - 1]) results.push(...(await cleanupGroup()));
        settlePhase(phase, { results });
        settled++;
      }
    } finally {
      await keepEvidence(group, srv.userDataDir, context, shown, consoleLog);
      await closeContext().catch(() => undefined);
      await stopServer();
    }
  } catch (err) {
    for (const phase of phases.slice(settled))
      settlePhase(phase, { results: [failed(phase, `the ${group} in-host phases start`, err)] });
    if (cleanupGroup && settled === 0) await cleanupGroup().catch(() => undefined);
  }
}

/** A check the harness makes itself (on an editor's logs), recorded like an in-host test. */
async function harnessCheck(group: string, title: string, fn: () => Promise<void> | void): Promise<TestResult> {
  const started = Date.now();
  try {
    await fn();
    log(`${group}: ✓ ${title}`);
    return { group, title, state: 'passed', durationMs: Date.now() - started };
  } catch (err) {
    const r = failed(group, title, err);
    return { ...r, durationMs: Date.now() - started };
  }
}

/** Loads the workbench with the development extension and the in-host suite, and waits for its results. */
async function runInHostPhase(
  server: CodeServer,
  page: import('playwright-core').Page,
  configFile: string,
  config: InHostConfig,
  results: TestResult[],
): Promise<void> {
  const phase = config.phase;
  const resultsFile = path.join(RESULTS_DIR, `inhost-${phase}.json`);
  fs.rmSync(resultsFile, { force: true });
  fs.writeFileSync(configFile, JSON.stringify({ ...config, resultsFile }, null, 2));
  const url = server.workbenchUrl(config.workspace, {
    extensionDevelopmentPath: TEST_EXTENSION_DIR,
    extensionTestsPath: INHOST_ENTRY,
  });
  log(`in-host phase "${phase}": loading the workbench`);
  const started = Date.now();
  let body: ResultsFile | undefined;
  try {
    await openWorkbench(page, url);
    log(`in-host phase "${phase}": workbench up after ${Date.now() - started} ms; waiting for the suite`);
    const deadline = started + PHASE_TIMEOUT_MS;
    for (;;) {
      if (fs.existsSync(resultsFile)) {
        try {
          body = JSON.parse(fs.readFileSync(resultsFile, 'utf8')) as ResultsFile;
        } catch {
          // being written; read again
        }
        if (body?.done) break;
      }
      if (server.exited())
        throw new Error(`code-server exited during phase "${phase}":\n${server.output().slice(-2000)}`);
      if (Date.now() > deadline) {
        const lastTest = body?.results.at(-1)?.title;
        throw new Error(
          `in-host phase "${phase}" did not finish within ${PHASE_TIMEOUT_MS} ms${lastTest ? ` (last finished test: ${lastTest})` : ' (no test finished; did the extension host start? see the code-server log)'}`,
        );
      }
      if (stopping) throw new Error('interrupted');
      await sleep(500);
    }
  } finally {
    if (body) results.push(...body.results);
    await page.screenshot({ path: path.join(RESULTS_DIR, `inhost-${phase}.png`) }).catch(() => undefined);
  }
  if (body.fatal) throw new Error(`the in-host suite could not run: ${body.fatal}`);
  if (body.results.length === 0) throw new Error(`phase "${phase}" ran zero tests`);
  log(
    `in-host phase "${phase}": ${body.results.filter((r) => r.state === 'passed').length} passed, ${body.results.filter((r) => r.state === 'failed').length} failed in ${Date.now() - started} ms`,
  );
}
