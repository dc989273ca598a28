// End-to-end runner (`npm run test:e2e`): the local backend (test/stack), real VS Code (code-server)
// and a real browser (Debian Chromium via playwright-core).
//
//   1. in-host, trusted   the development extension (repo root, dist/) with the in-host mocha suite,
//                         loaded twice in the same window: first open, then a reload;
//   2. in-host, restricted the same, with workspace trust on and not granted;
//   3. ui                 the packaged VSIX installed with --install-extension, driven through the page.
//
// Prints every test, then `N passed, N failed` alone on a line. Exits non-zero on any failure, on a
// timeout, on an interruption, or when no test ran. Stops the stack, code-server and the browser on
// every path. Logs and screenshots go to test-results/e2e/.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import Mocha from 'mocha';
import { chromium, Browser, BrowserContext, Page } from 'playwright-core';
import { CodeServer, REPO_ROOT, ensureCodeServer, startCodeServer } from '../../scripts/codeServer';
import { collectingReporter } from './mochaResults';
import { CONFIG_ENV, InHostConfig, InHostPhase, ResultsFile, TestResult, describeError } from './shared';
import { Stack, startStack } from '../stack';
import { makeWorkspace, startControlServer } from './backend';
import { printReport, tally } from './report';
import { setUiContext } from './ui/context';
import { openWorkbench } from './ui/workbench';

const OUT = path.join(REPO_ROOT, 'out');
const RESULTS_DIR = path.join(REPO_ROOT, 'test-results', 'e2e');
const VSIX = path.join(REPO_ROOT, 'ehg-telemetry.vsix');
const DEV_BUNDLE = path.join(REPO_ROOT, 'dist', 'extension.js');
const INHOST_ENTRY = path.join(OUT, 'test', 'e2e', 'inhost', 'index.js');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];
const VIEWPORT = { width: 1280, height: 800 };
const TOTAL_TIMEOUT_MS = Number(process.env.E2E_TIMEOUT_MS ?? 15 * 60_000);
const PHASE_TIMEOUT_MS = Number(process.env.E2E_PHASE_TIMEOUT_MS ?? 6 * 60_000);
const SCHEDULER_INTERVAL_MS = 2_000;
/** Test user settings on top of the launcher's quiet ones: a short grace makes "stale" quick to reach. */
const USER_SETTINGS = {
  'ehgTelemetry.heartbeatGraceSeconds': 1,
  'workbench.colorTheme': 'Default Dark Modern',
  'window.autoDetectColorScheme': false,
};
const CI = process.env.CI === 'true' || process.env.CI === '1';
/** For working on one part: E2E_ONLY=trusted,restricted,ui (default: all). */
const ONLY = new Set((process.env.E2E_ONLY ?? 'trusted,restricted,ui').split(',').map((s) => s.trim()));

const t0 = Date.now();
const results: TestResult[] = [];
const cleanups: Array<{ name: string; fn: () => Promise<void> }> = [];
let finishing = false;

function log(line: string): void {
  console.log(`[e2e +${((Date.now() - t0) / 1000).toFixed(1)}s] ${line}`);
}

function fail(group: string, title: string, err: unknown): void {
  results.push({ group, title, state: 'failed', durationMs: 0, error: describeError(err) });
  log(`FAILED ${group}: ${title}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
}

/** Registers a stopper for every exit path; calling the returned function stops it now, once. */
function onCleanup(name: string, fn: () => Promise<void>): () => Promise<void> {
  const entry = { name, fn };
  cleanups.push(entry);
  return async () => {
    const i = cleanups.indexOf(entry);
    if (i < 0) return;
    cleanups.splice(i, 1);
    await fn();
  };
}

async function releaseAll(): Promise<void> {
  while (cleanups.length) {
    const { name, fn } = cleanups.pop()!;
    try {
      await withTimeout(fn(), 20_000, `stopping ${name}`);
    } catch (err) {
      log(`could not stop ${name} cleanly: ${describeError(err)}`);
    }
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
    }),
  ]);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Prints every test and the summary, stops everything, and exits. Runs once. */
async function finish(code: number): Promise<never> {
  if (finishing) return new Promise<never>(() => undefined);
  finishing = true;
  await releaseAll();
  const ran = tally(results);
  if (ran.passed + ran.failed === 0) fail('setup', 'at least one e2e test ran', new Error('zero tests ran'));
  const seconds = ((Date.now() - t0) / 1000).toFixed(1);
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  fs.writeFileSync(path.join(RESULTS_DIR, 'results.json'), JSON.stringify({ seconds: Number(seconds), ...tally(results), results }, null, 2));
  const t = printReport(results, `e2e finished in ${seconds} s; logs and screenshots in ${path.relative(process.cwd(), RESULTS_DIR) || RESULTS_DIR}`);
  process.exit(t.failed > 0 || t.passed === 0 ? code || 1 : code);
}

async function newContext(browser: Browser, name: string): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: VIEWPORT, permissions: ['clipboard-read', 'clipboard-write'] });
  const page = await context.newPage();
  const consoleLog = fs.createWriteStream(path.join(RESULTS_DIR, `${name}-browser-console.log`));
  page.on('console', (m) => consoleLog.write(`[${m.type()}] ${m.text()}\n`));
  page.on('pageerror', (e) => consoleLog.write(`[pageerror] ${describeError(e)}\n`));
  context.on('close', () => consoleLog.end());
  return { context, page };
}

interface InHostPlan {
  server: CodeServer;
  page: Page;
  configFile: string;
  base: Omit<InHostConfig, 'phase' | 'resultsFile'>;
}

/** Loads the workbench with the development extension and the in-host suite, and waits for its results. */
async function runInHostPhase(plan: InHostPlan, phase: InHostPhase): Promise<void> {
  const resultsFile = path.join(RESULTS_DIR, `inhost-${phase}.json`);
  fs.rmSync(resultsFile, { force: true });
  const config: InHostConfig = { ...plan.base, phase, resultsFile };
  fs.writeFileSync(plan.configFile, JSON.stringify(config, null, 2));
  const url = plan.server.workbenchUrl(plan.base.workspace, { extensionDevelopmentPath: REPO_ROOT, extensionTestsPath: INHOST_ENTRY });
  log(`in-host phase "${phase}": loading the workbench`);
  const started = Date.now();
  let body: ResultsFile | undefined;
  try {
    await openWorkbench(plan.page, url);
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
      if (plan.server.exited()) throw new Error(`code-server exited during phase "${phase}":\n${plan.server.output().slice(-2000)}`);
      if (Date.now() > deadline) {
        const lastTest = body?.results.at(-1)?.title;
        throw new Error(`in-host phase "${phase}" did not finish within ${PHASE_TIMEOUT_MS} ms${lastTest ? ` (last finished test: ${lastTest})` : ' (no test finished; did the extension host start? see the code-server log)'}`);
      }
      await sleep(500);
    }
  } finally {
    if (body) results.push(...body.results);
    await plan.page.screenshot({ path: path.join(RESULTS_DIR, `inhost-${phase}.png`) }).catch(() => undefined);
  }
  if (body.fatal) throw new Error(`the in-host suite could not run: ${body.fatal}`);
  if (body.results.length === 0) throw new Error(`phase "${phase}" ran zero tests`);
  log(`in-host phase "${phase}": ${body.results.filter((r) => r.state === 'passed').length} passed, ${body.results.filter((r) => r.state === 'failed').length} failed in ${Date.now() - started} ms`);
}

/** One code-server for a set of in-host phases, sharing one page (so the second phase is a reload). */
async function inHostServer(
  group: string,
  opts: { browser: Browser; stack: Stack; controlUrl: string; workspace: string; trust: boolean; phases: InHostPhase[]; forbiddenToken?: string },
): Promise<void> {
  const missing = [DEV_BUNDLE, INHOST_ENTRY].filter((f) => !fs.existsSync(f));
  if (missing.length) throw new Error(`missing build output: ${missing.join(', ')} (run \`npm run package && npm run compile\`)`);
  const configFile = path.join(RESULTS_DIR, `inhost-${group}-config.json`);
  const server = await startCodeServer({
    workspaceTrust: opts.trust,
    userSettings: USER_SETTINGS,
    env: { [CONFIG_ENV]: configFile },
    logFile: path.join(RESULTS_DIR, `code-server-${group}.log`),
    saveLogsTo: path.join(RESULTS_DIR, `editor-logs-${group}`),
    log,
  });
  const stopServer = onCleanup(`code-server (${group})`, () => server.stop());
  const { context, page } = await newContext(opts.browser, `inhost-${group}`);
  const closeContext = onCleanup(`browser context (${group})`, () => context.close());
  const base = {
    supabaseUrl: opts.stack.url,
    keys: opts.stack.keys,
    databaseUrl: opts.stack.databaseUrl,
    workspace: opts.workspace,
    controlUrl: opts.controlUrl,
    schedulerIntervalMs: SCHEDULER_INTERVAL_MS,
    forbiddenToken: opts.forbiddenToken,
  };
  try {
    for (const phase of opts.phases) {
      if (finishing) break;
      try {
        await runInHostPhase({ server, page, configFile, base }, phase);
      } catch (err) {
        fail(phase, `in-host phase "${phase}" completes`, err);
      }
    }
  } finally {
    await closeContext().catch(() => undefined);
    await stopServer();
  }
}

/** The browser tests (ui/*.test.js) against the installed VSIX. */
async function uiPhase(browser: Browser, stack: Stack, workspace: string, emptyWorkspace: string): Promise<void> {
  if (!fs.existsSync(VSIX)) throw new Error(`${VSIX} is missing (run \`npm run package\`)`);
  const server = await startCodeServer({
    vsix: [VSIX],
    userSettings: USER_SETTINGS,
    logFile: path.join(RESULTS_DIR, 'code-server-ui.log'),
    saveLogsTo: path.join(RESULTS_DIR, 'editor-logs-ui'),
    log,
  });
  const stopServer = onCleanup('code-server (ui)', () => server.stop());
  const { context, page } = await newContext(browser, 'ui');
  const closeContext = onCleanup('browser context (ui)', () => context.close());
  setUiContext({ browser, context, page, server, stack, workspace, emptyWorkspace, screenshotsDir: RESULTS_DIR, schedulerIntervalMs: SCHEDULER_INTERVAL_MS });
  try {
    const files = fs.readdirSync(path.join(__dirname, 'ui')).filter((f) => f.endsWith('.test.js')).sort();
    if (!files.length) throw new Error('no ui/*.test.js files were built');
    const mocha = new Mocha({
      ui: 'bdd',
      timeout: 180_000,
      color: false,
      reporter: collectingReporter('ui', {
        onResult(r) {
          results.push(r);
          log(`ui: ${r.state === 'passed' ? '✓' : r.state === 'failed' ? '✗' : '-'} ${r.title}`);
          if (r.state === 'failed') void page.screenshot({ path: path.join(RESULTS_DIR, `ui-failure-${results.length}.png`) }).catch(() => undefined);
        },
      }),
    });
    for (const f of files) mocha.addFile(path.join(__dirname, 'ui', f));
    await new Promise<void>((resolve) => mocha.run(() => resolve()));
  } finally {
    setUiContext(undefined);
    await closeContext().catch(() => undefined);
    await stopServer();
  }
}

async function main(): Promise<void> {
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  for (const f of fs.readdirSync(RESULTS_DIR)) fs.rmSync(path.join(RESULTS_DIR, f), { recursive: true, force: true });
  log(`results, logs and screenshots: ${RESULTS_DIR}${CI ? ' (CI: a missing editor or browser is a failure)' : ''}`);

  // 1. The editor and the browser. Without them nothing here can be tested: fail, never skip.
  try {
    ensureCodeServer(log);
  } catch (err) {
    fail('setup', 'code-server is installed (scripts/install-code-server.sh)', err);
    if (CI) console.error('\n*** CI: the editor could not be started, so nothing was tested. This is a failure, not a skip. ***\n');
    return finish(1);
  }
  let browser: Browser;
  try {
    if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found (apt-get install chromium, or set CHROMIUM_PATH)`);
    browser = await withTimeout(chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 60_000 }), 90_000, 'launching Chromium');
    onCleanup('browser', () => browser.close());
    log(`Chromium ${browser.version()} launched`);
  } catch (err) {
    fail('setup', 'Chromium starts', err);
    if (CI) console.error('\n*** CI: the browser could not be started, so the UI was NOT tested. This is a failure, not a skip. ***\n');
    return finish(1);
  }

  // 2. The backend: Postgres + gateway + scheduler simulator.
  const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'ehg-e2e-')));
  onCleanup('workspaces', () => Promise.resolve(fs.rmSync(root, { recursive: true, force: true })));
  const uiWorkspacePath = path.join(root, 'ui-workspace');
  let stack: Stack;
  try {
    const stackLog = fs.createWriteStream(path.join(RESULTS_DIR, 'stack.log'));
    stack = await withTimeout(
      startStack({
        log: (line) => stackLog.write(`${line}\n`),
        seedDemoScope: uiWorkspacePath,
        scheduler: { intervalMs: SCHEDULER_INTERVAL_MS },
        worker: false, // the tests set run states themselves; a worker would race them
      }),
      120_000,
      'starting the local stack',
    );
    keepSignalsToRunner();
    onCleanup('stack', async () => {
      await stack.stop();
      stackLog.end();
    });
    log(`stack up at ${stack.url}`);
  } catch (err) {
    fail('setup', 'the local stack (test/stack) starts', err);
    return finish(1);
  }
  const control = await startControlServer(stack);
  onCleanup('control server', () => control.close());
  const controlUrl = control.url;
  const envFor = (key: string) => ({ SUPABASE_URL: stack.url, SUPABASE_SERVICE_ROLE_KEY: key });

  // 3. In-host, trusted: first open, then a reload of the same window.
  if (ONLY.has('trusted') && !finishing) {
    try {
      const trusted = makeWorkspace(root, 'trusted-workspace', envFor(stack.keys.serviceRole));
      await inHostServer('trusted', { browser, stack, controlUrl, workspace: trusted, trust: false, phases: ['first-open', 'reopen'] });
    } catch (err) {
      fail('in-host', 'the trusted in-host phases start', err);
    }
  }

  // 4. In-host, Restricted Mode: a .env holding a key no one else uses, so a leak is detectable.
  if (ONLY.has('restricted') && !finishing) {
    try {
      const forbiddenToken = stack.makeJwt({ role: 'service_role', e2e: 'restricted-workspace-env' });
      const restricted = makeWorkspace(root, 'restricted-workspace', envFor(forbiddenToken));
      await inHostServer('restricted', { browser, stack, controlUrl, workspace: restricted, trust: true, phases: ['restricted'], forbiddenToken });
    } catch (err) {
      fail('in-host', 'the restricted in-host phase starts', err);
    }
  }

  // 5. The VSIX through the browser.
  if (ONLY.has('ui') && !finishing) {
    try {
      const uiWorkspace = makeWorkspace(root, 'ui-workspace', envFor(stack.keys.serviceRole));
      const emptyWorkspace = makeWorkspace(root, 'not-configured-workspace');
      await stack.scheduler?.start();
      await stack.scheduler?.setBreaker('CLOSED');
      await uiPhase(browser, stack, uiWorkspace, emptyWorkspace);
    } catch (err) {
      fail('ui', 'the browser tests start', err);
    }
  }
  return finish(0);
}

// Every way out stops what was started.
function onSignal(signal: NodeJS.Signals): void {
  fail('runner', 'not interrupted', new Error(`interrupted (${signal})`));
  void finish(signal === 'SIGINT' ? 130 : 143);
}
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

/**
 * The stack installs its own SIGINT/SIGTERM handlers, which exit the process as soon as Postgres has
 * stopped, before this runner could stop code-server and the browser and print its summary. This
 * runner stops the stack itself (a cleanup in finish()), so it keeps signals to itself; the stack's
 * exit hook stays as the last resort.
 */
function keepSignalsToRunner(): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    for (const listener of process.listeners(signal)) {
      if (listener !== onSignal) process.removeListener(signal, listener);
    }
  }
}
process.on('unhandledRejection', (err) => fail('runner', 'no unhandled promise rejection', err));
setTimeout(() => {
  fail('runner', `finishes within ${TOTAL_TIMEOUT_MS / 1000} s`, new Error(`the e2e run timed out after ${TOTAL_TIMEOUT_MS} ms`));
  void finish(1);
}, TOTAL_TIMEOUT_MS);

void main().catch((err) => {
  fail('runner', 'the runner itself does not crash', err);
  return finish(1);
});
