// End-to-end runner (`npm run test:e2e`): the local backend (test/stack), real VS Code (code-server)
// and a real browser (Debian Chromium via playwright-core).
//
//   0. package            the VSIX's bundles hold none of the test hooks' names (and the test build does);
//   1. in-host, trusted   the test build (dist-test/, with the test hooks) with the in-host mocha suite,
//                         loaded twice in the same window: first open, then a reload;
//   2. in-host, restricted the same, with workspace trust on and not granted;
//   3. faults             in-host, trusted: the backend down at start / mid-session / flapping, slow,
//                         error answers, hostile rows, bad settings, wrong keys; then the extension
//                         host's shutdown with requests in flight (measured here, from its log);
//   4. ui                 the packaged VSIX installed with --install-extension, driven through the page;
//   5. security           the VSIX again: hostile text in real hovers, Configure Connection… typed in,
//                         a workspace trying to redirect the key; then a scan of everything every
//                         editor and browser context kept, for every key used.
//
// Prints every test, then `N passed, N failed` alone on a line. Exits non-zero on any failure, on a
// timeout, on an interruption, or when no test ran. Stops the stack, code-server and the browser on
// every path. Logs and screenshots go to test-results/e2e/.
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import Mocha from 'mocha';
import { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium } from '../../devkit/chromium';
import { CodeServer, REPO_ROOT, ensureCodeServer, startCodeServer } from '../../devkit/codeServer';
import { collectingReporter } from './mochaResults';
import {
  CONFIG_ENV,
  DB_FINGERPRINT_SQL,
  TEST_EXTENSION_DIR,
  InHostConfig,
  InHostOrder,
  InHostPhase,
  ResultsFile,
  TestResult,
  describeError,
} from './shared';
import { GatewayTap } from './gatewayTap';
import { captureShown, Shown } from './security/capture';
import { setSecurityContext } from './security/context';
import { KeyScanner, Secret, storageItems } from './security/keyScan';
import { startRecordingServer } from './security/recorder';
import { Stack, startStack } from '../../devkit/stack';
import { makeEhgWorkspace, makeWorkspace, startControlServer } from './backend';
import { generateTraces } from '../../devkit/stack/datagen';
import { printReport, tally } from './report';
import { scanText, scanVsix, TEST_API_PATTERNS } from './bundleScan';
import { setUiContext } from './ui/context';
import { openWorkbench } from '../../devkit/workbench';
import { onCleanup, releaseAll as releaseAllWith, withTimeout } from '../../devkit/cleanup';
import { sleep, waitFor } from '../../devkit/wait';

const OUT = path.join(REPO_ROOT, 'out');
const RESULTS_DIR = path.join(REPO_ROOT, 'test-results', 'e2e');
const VSIX = path.join(REPO_ROOT, 'ehg-telemetry.vsix');
/** The test build's (npm run build:test) bundle of the wiring (src/app.ts): the only one with the test hooks. */
const TEST_BUNDLE = path.join(TEST_EXTENSION_DIR, 'dist', 'app.js');
const INHOST_ENTRY = path.join(OUT, 'test', 'e2e', 'inhost', 'index.js');
const VIEWPORT = { width: 1280, height: 800 };
const TOTAL_TIMEOUT_MS = Number(process.env.E2E_TIMEOUT_MS ?? 15 * 60_000);
// 8 min: the reload phase holds the scheduler's timed scenarios (crash, slow rounds, a death after slow
// writes, a failed revival, every transition), about 6.5 min of real waiting at a 2 s base.
const PHASE_TIMEOUT_MS = Number(process.env.E2E_PHASE_TIMEOUT_MS ?? 8 * 60_000);
const SCHEDULER_INTERVAL_MS = 2_000;
/** Test user settings on top of the launcher's quiet ones: a short grace makes "stale" quick to reach. */
const USER_SETTINGS = {
  'ehgTelemetry.heartbeatGraceSeconds': 1,
  'workbench.colorTheme': 'Default Dark Modern',
  'window.autoDetectColorScheme': false,
};
const CI = process.env.CI === 'true' || process.env.CI === '1';
/** For working on one part: E2E_ONLY=trusted,restricted,faults,ui,security (default: all). */
const ONLY = new Set(
  (process.env.E2E_ONLY ?? 'trusted,hold,restricted,faults,ui,security').split(',').map((s) => s.trim()),
);
/** E2E_INHOST_ORDER=reverse runs the in-host suites' tests in reverse (see inhost/index.ts). */
const INHOST_ORDER: InHostOrder = process.env.E2E_INHOST_ORDER === 'reverse' ? 'reverse' : 'declared';
/** The fault phase's request limit: short, so that "slower than the limit" is quick to reach. */
const FAULTS_REQUEST_TIMEOUT_S = 2;

/** What one editor (code-server + browser context) kept, for the key scan at the end. */
interface EditorEvidence {
  group: string;
  userDataDir: string;
  storage: unknown;
  shown: Shown;
  consoleLog: string;
}
const evidence: EditorEvidence[] = [];

const t0 = Date.now();
const results: TestResult[] = [];
let finishing = false;

function log(line: string): void {
  console.log(`[e2e +${((Date.now() - t0) / 1000).toFixed(1)}s] ${line}`);
}

function fail(group: string, title: string, err: unknown): void {
  results.push({ group, title, state: 'failed', durationMs: 0, error: describeError(err) });
  log(`FAILED ${group}: ${title}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
}

function releaseAll(): Promise<void> {
  return releaseAllWith(log, 20_000);
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
  fs.writeFileSync(
    path.join(RESULTS_DIR, 'results.json'),
    JSON.stringify({ seconds: Number(seconds), ...tally(results), results }, null, 2),
  );
  const t = printReport(
    results,
    `e2e finished in ${seconds} s; logs and screenshots in ${path.relative(process.cwd(), RESULTS_DIR) || RESULTS_DIR}`,
  );
  process.exit(t.failed > 0 || t.passed === 0 ? code || 1 : code);
}

async function newContext(
  browser: Browser,
  name: string,
): Promise<{ context: BrowserContext; page: Page; shown: Shown; consoleLog: string }> {
  const context = await browser.newContext({ viewport: VIEWPORT, permissions: ['clipboard-read', 'clipboard-write'] });
  const shown = await captureShown(context);
  const page = await context.newPage();
  const consoleFile = path.join(RESULTS_DIR, `${name}-browser-console.log`);
  const consoleLog = fs.createWriteStream(consoleFile);
  page.on('console', (m) => consoleLog.write(`[${m.type()}] ${m.text()}\n`));
  page.on('pageerror', (e) => consoleLog.write(`[pageerror] ${describeError(e)}\n`));
  context.on('close', () => consoleLog.end());
  return { context, page, shown, consoleLog: consoleFile };
}

/** Folders for one editor under the run's temporary root, kept until the key scan at the end. */
function editorDirs(root: string, group: string): { userDataDir: string; extensionsDir: string } {
  return {
    userDataDir: path.join(root, 'editors', group, 'user-data'),
    extensionsDir: path.join(root, 'editors', group, 'extensions'),
  };
}

/** Keeps what the browser context holds (localStorage, IndexedDB) and showed, before it is closed. */
async function keepEvidence(
  group: string,
  userDataDir: string,
  context: BrowserContext,
  shown: Shown,
  consoleLog: string,
): Promise<void> {
  let storage: unknown = null;
  try {
    storage = await withTimeout(
      context.storageState({ indexedDB: true }),
      30_000,
      `reading the browser storage (${group})`,
    );
  } catch (err) {
    fail(group, 'the browser storage can be read for the key scan', err);
  }
  evidence.push({ group, userDataDir, storage, shown, consoleLog });
}

/** A test the runner itself performs (outside mocha): recorded like the others. */
async function runnerTest(group: string, title: string, fn: () => Promise<void> | void): Promise<void> {
  const started = Date.now();
  try {
    await fn();
    results.push({ group, title, state: 'passed', durationMs: Date.now() - started });
    log(`${group}: ✓ ${title}`);
  } catch (err) {
    results.push({ group, title, state: 'failed', durationMs: Date.now() - started, error: describeError(err) });
    log(`FAILED ${group}: ${title}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
  }
}

async function dbFingerprint(stack: Stack): Promise<string> {
  const [row] = await stack.query<{ n: number; md5: string }>(DB_FINGERPRINT_SQL, [[]]);
  return `${row.n}:${row.md5}`;
}

interface InHostPlan {
  server: CodeServer;
  page: Page;
  configFile: string;
  base: Omit<InHostConfig, 'phase' | 'resultsFile'>;
  /** Runs just before the window opens; what it returns is added to the phase's config. */
  beforePhase?: (phase: InHostPhase) => Promise<Partial<InHostConfig>>;
}

/** Loads the workbench with the development extension and the in-host suite, and waits for its results. */
async function runInHostPhase(plan: InHostPlan, phase: InHostPhase): Promise<void> {
  const resultsFile = path.join(RESULTS_DIR, `inhost-${phase}.json`);
  fs.rmSync(resultsFile, { force: true });
  const config: InHostConfig = { ...plan.base, ...(await plan.beforePhase?.(phase)), phase, resultsFile };
  fs.writeFileSync(plan.configFile, JSON.stringify(config, null, 2));
  const url = plan.server.workbenchUrl(plan.base.workspace, {
    extensionDevelopmentPath: TEST_EXTENSION_DIR,
    extensionTestsPath: INHOST_ENTRY,
  });
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
      if (plan.server.exited())
        throw new Error(`code-server exited during phase "${phase}":\n${plan.server.output().slice(-2000)}`);
      if (Date.now() > deadline) {
        const lastTest = body?.results.at(-1)?.title;
        throw new Error(
          `in-host phase "${phase}" did not finish within ${PHASE_TIMEOUT_MS} ms${lastTest ? ` (last finished test: ${lastTest})` : ' (no test finished; did the extension host start? see the code-server log)'}`,
        );
      }
      await sleep(500);
    }
  } finally {
    if (body) results.push(...body.results);
    await plan.page.screenshot({ path: path.join(RESULTS_DIR, `inhost-${phase}.png`) }).catch(() => undefined);
  }
  if (body.fatal) throw new Error(`the in-host suite could not run: ${body.fatal}`);
  if (body.results.length === 0) throw new Error(`phase "${phase}" ran zero tests`);
  log(
    `in-host phase "${phase}": ${body.results.filter((r) => r.state === 'passed').length} passed, ${body.results.filter((r) => r.state === 'failed').length} failed in ${Date.now() - started} ms`,
  );
}

/** One code-server for a set of in-host phases, sharing one page (so the second phase is a reload). */
async function inHostServer(
  group: string,
  opts: {
    browser: Browser;
    stack: Stack;
    controlUrl: string;
    workspace: string;
    trust: boolean;
    phases: InHostPhase[];
    forbiddenToken?: string;
    root: string;
    userSettings?: Record<string, unknown>;
    beforePhase?: (phase: InHostPhase) => Promise<Partial<InHostConfig>>;
    /** Runs after the phase's suite finished, with the server still up (its logs readable). */
    afterPhase?: (phase: InHostPhase, server: CodeServer) => Promise<void>;
  },
): Promise<void> {
  const missing = [TEST_BUNDLE, INHOST_ENTRY].filter((f) => !fs.existsSync(f));
  if (missing.length)
    throw new Error(`missing build output: ${missing.join(', ')} (run \`npm run build:test && npm run compile\`)`);
  const configFile = path.join(RESULTS_DIR, `inhost-${group}-config.json`);
  const server = await startCodeServer({
    ...editorDirs(opts.root, group),
    workspaceTrust: opts.trust,
    userSettings: { ...USER_SETTINGS, ...opts.userSettings },
    env: { [CONFIG_ENV]: configFile },
    logFile: path.join(RESULTS_DIR, `code-server-${group}.log`),
    saveLogsTo: path.join(RESULTS_DIR, `editor-logs-${group}`),
    log,
  });
  const stopServer = onCleanup(`code-server (${group})`, () => server.stop());
  const { context, page, shown, consoleLog } = await newContext(opts.browser, `inhost-${group}`);
  const closeContext = onCleanup(`browser context (${group})`, () => context.close());
  const base = {
    supabaseUrl: opts.stack.url,
    keys: opts.stack.keys,
    databaseUrl: opts.stack.databaseUrl,
    workspace: opts.workspace,
    controlUrl: opts.controlUrl,
    schedulerIntervalMs: SCHEDULER_INTERVAL_MS,
    forbiddenToken: opts.forbiddenToken,
    userDataDir: server.userDataDir,
    order: INHOST_ORDER,
  };
  try {
    for (const phase of opts.phases) {
      if (finishing) break;
      try {
        await runInHostPhase({ server, page, configFile, base, beforePhase: opts.beforePhase }, phase);
      } catch (err) {
        fail(phase, `in-host phase "${phase}" completes`, err);
      }
      if (opts.afterPhase && !finishing) await opts.afterPhase(phase, server);
    }
  } finally {
    await keepEvidence(group, server.userDataDir, context, shown, consoleLog);
    await closeContext().catch(() => undefined);
    await stopServer();
  }
}

/** A code-server with the VSIX installed as a user installs it, and a browser context for it. */
async function installedEditor(browser: Browser, root: string, group: string) {
  if (!fs.existsSync(VSIX)) throw new Error(`${VSIX} is missing (run \`npm run package\`)`);
  const server = await startCodeServer({
    ...editorDirs(root, group),
    vsix: [VSIX],
    userSettings: USER_SETTINGS,
    logFile: path.join(RESULTS_DIR, `code-server-${group}.log`),
    saveLogsTo: path.join(RESULTS_DIR, `editor-logs-${group}`),
    log,
  });
  const stopServer = onCleanup(`code-server (${group})`, () => server.stop());
  const browserContext = await newContext(browser, group);
  const closeContext = onCleanup(`browser context (${group})`, () => browserContext.context.close());
  return { server, stopServer, closeContext, ...browserContext };
}

/** The browser tests (ui/*.test.js) against the installed VSIX. */
async function uiPhase(
  browser: Browser,
  stack: Stack,
  workspace: string,
  emptyWorkspace: string,
  root: string,
): Promise<void> {
  const { server, stopServer, context, page, shown, consoleLog, closeContext } = await installedEditor(
    browser,
    root,
    'ui',
  );
  setUiContext({
    browser,
    context,
    page,
    server,
    stack,
    workspace,
    emptyWorkspace,
    screenshotsDir: RESULTS_DIR,
    schedulerIntervalMs: SCHEDULER_INTERVAL_MS,
  });
  try {
    await runMochaDir('ui', 'ui', page);
  } finally {
    setUiContext(undefined);
    await keepEvidence('ui', server.userDataDir, context, shown, consoleLog);
    await closeContext().catch(() => undefined);
    await stopServer();
  }
}

/** Runs the mocha files `<dir>/*.test.js` (built next to this file) as group `group`. */
async function runMochaDir(group: string, dir: string, page: Page): Promise<void> {
  const files = fs
    .readdirSync(path.join(__dirname, dir))
    .filter((f) => f.endsWith('.test.js'))
    .sort();
  if (!files.length) throw new Error(`no ${dir}/*.test.js files were built`);
  const mocha = new Mocha({
    ui: 'bdd',
    timeout: 180_000,
    color: false,
    reporter: collectingReporter(group, {
      onResult(r) {
        results.push(r);
        log(`${group}: ${r.state === 'passed' ? '✓' : r.state === 'failed' ? '✗' : '-'} ${r.title}`);
        if (r.state === 'failed')
          void page
            .screenshot({ path: path.join(RESULTS_DIR, `${group}-failure-${results.length}.png`) })
            .catch(() => undefined);
      },
    }),
  });
  for (const f of files) mocha.addFile(path.join(__dirname, dir, f));
  await new Promise<void>((resolve) => mocha.run(() => resolve()));
}

/** The security browser tests (security/*.test.js) against the installed VSIX. */
async function securityPhase(
  browser: Browser,
  stack: Stack,
  tap: GatewayTap,
  root: string,
  keys: { envKey: string; userKey: string },
): Promise<void> {
  if (!fs.existsSync(VSIX)) throw new Error(`${VSIX} is missing (run \`npm run package\`)`);
  const recorder = await startRecordingServer();
  const closeRecorder = onCleanup('recording server', () => recorder.close());
  const envWorkspace = makeWorkspace(root, 'security-env-workspace', {
    SUPABASE_URL: stack.url,
    SUPABASE_SERVICE_ROLE_KEY: keys.envKey,
  });
  // Tries both ways a workspace could point the extension elsewhere: workspace settings, and a .env
  // URL without a key (hoping the stored key gets paired with it).
  const redirectWorkspace = makeWorkspace(root, 'security-redirect-workspace', { SUPABASE_URL: recorder.url });
  fs.mkdirSync(path.join(redirectWorkspace, '.vscode'), { recursive: true });
  fs.writeFileSync(
    path.join(redirectWorkspace, '.vscode', 'settings.json'),
    JSON.stringify({ 'ehgTelemetry.supabaseUrl': recorder.url, 'ehgTelemetry.useWorkspaceEnv': true }, null, 2),
  );
  const { server, stopServer, context, page, shown, consoleLog, closeContext } = await installedEditor(
    browser,
    root,
    'security',
  );
  setSecurityContext({
    context,
    page,
    server,
    stack,
    tap,
    recorder,
    envWorkspace,
    redirectWorkspace,
    envKey: keys.envKey,
    userKey: keys.userKey,
    shown,
    screenshotsDir: RESULTS_DIR,
  });
  try {
    await runMochaDir('security', 'security', page);
    await runnerTest('security', 'the extension host logged no error from the extension', () =>
      assertNoExtensionErrors(server.userDataDir),
    );
  } finally {
    setSecurityContext(undefined);
    await keepEvidence('security', server.userDataDir, context, shown, consoleLog);
    await closeContext().catch(() => undefined);
    await stopServer();
    await closeRecorder();
  }
}

/** Every file called `name` under `dir`, newest first. */
function filesNamed(dir: string, name: string): string[] {
  const out: Array<{ file: string; mtime: number }> = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name === name) out.push({ file: p, mtime: fs.statSync(p).mtimeMs });
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return out.sort((a, b) => b.mtime - a.mtime).map((x) => x.file);
}

/** Errors the extension host logged that point at this extension's code or id. */
function assertNoExtensionErrors(userDataDir: string): void {
  const bad: string[] = [];
  for (const file of filesNamed(path.join(userDataDir, 'logs'), 'remoteexthost.log')) {
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    lines.forEach((line, i) => {
      if (!/\[error\]/.test(line)) return;
      const context = lines.slice(i, i + 15).join('\n');
      if (/ehg-telemetry|ehgTelemetry|\/dist\/(extension|supabaseBackend)\.js/.test(context)) bad.push(context);
    });
  }
  assert.deepStrictEqual(bad, [], `the extension host logged errors from the extension:\n${bad.join('\n---\n')}`);
}

/** The extension host's own log times (local time, ms): "YYYY-MM-DD hh:mm:ss.mmm [info] …". */
function logTime(line: string): number {
  const m = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}\.\d{3})/.exec(line);
  return m ? new Date(`${m[1]}T${m[2]}`).getTime() : NaN;
}

/**
 * Deactivation with requests in flight. When an in-host suite ends, the workbench stops the extension
 * host: it logs "Extension host terminating", deactivates every extension (ours disposes its
 * subscriptions, which aborts its requests), and logs "exiting" once all deactivations have finished
 * (or after 5 s, VS Code's limit). The fault suite's last test left requests waiting on a gateway that
 * answers in 120 s; here: the host exits < 1 s after it started terminating, and each of those
 * requests is cut off by then (the gateway sees its connection close).
 */
async function checkShutdown(server: CodeServer, tap: GatewayTap): Promise<void> {
  const { terminating, exiting } = await waitFor(
    () => {
      const file = filesNamed(path.join(server.userDataDir, 'logs'), 'remoteexthost.log')[0];
      const lines = file ? fs.readFileSync(file, 'utf8').split('\n') : [];
      const t = lines.findIndex((l) => l.includes('Extension host terminating'));
      const x = lines.findIndex((l, i) => i > t && t >= 0 && /Extension host (with pid \d+ )?exiting/.test(l));
      return {
        file,
        terminating: t >= 0 ? logTime(lines[t]) : NaN,
        exiting: x >= 0 ? logTime(lines[x]) : NaN,
        found: x >= 0,
      };
    },
    {
      message: 'the extension host to log terminating, then exiting, after the suite ended',
      until: (r) => r.found,
      timeoutMs: 20_000,
      describe: (r) => `log ${r.file ?? 'none'}: terminating ${r.terminating}, exiting ${r.exiting}`,
    },
  );
  assert.ok(Number.isFinite(terminating) && Number.isFinite(exiting), 'log times parse');
  const waiting = tap.requests.filter(
    (r) =>
      r.at < terminating &&
      (r.answeredAt === null || r.answeredAt > terminating) &&
      (r.closedAt === null || r.closedAt > terminating - 50),
  );
  assert.ok(
    waiting.length >= 2,
    `requests waiting on the gateway when the host began to terminate: ${waiting.length} (the suite's last test leaves at least 2)`,
  );
  const took = exiting - terminating;
  assert.ok(
    took < 1_000,
    `the extension host took ${took} ms from "terminating" to "exiting" with ${waiting.length} requests in flight (limit 1000 ms)`,
  );
  const late = waiting.filter((r) => r.closedAt === null || r.closedAt - terminating > 1_000);
  assert.deepStrictEqual(
    late.map(
      (r) =>
        `${r.method} ${r.url} closed ${r.closedAt === null ? 'never' : `${r.closedAt - terminating} ms after terminating`}`,
    ),
    [],
    'every request in flight was cut off within 1 s',
  );
  log(
    `shutdown: ${took} ms from terminating to exiting; ${waiting.length} requests in flight closed ${waiting.map((r) => (r.closedAt ?? NaN) - terminating).join(', ')} ms after terminating`,
  );
}

/**
 * The key scan: every key the tests used, in everything every editor and browser context kept. Keys
 * may be only in SecretStorage (code-server keeps it AES-sealed in one localStorage item, so it is
 * listed, not searched) and in the workspace .env files that hold them.
 */
async function keyScan(
  root: string,
  secrets: Secret[],
  canary: { stackUrl: string; envWorkspaceEnv: string | null },
): Promise<void> {
  const scanner = new KeyScanner(secrets);
  const allowed: Array<{ secret: string; where: string }> = [];
  const secretStorageItems: string[] = [];
  const texts: Record<string, string[]> = { settings: [], extensionLogs: [], storage: [], notifications: [] };
  for (const e of evidence) {
    allowed.push(...scanner.dir(e.userDataDir, `${e.group} user-data-dir`));
    for (const f of filesNamed(e.userDataDir, 'settings.json'))
      texts.settings.push(`${e.group}\n${fs.readFileSync(f, 'utf8')}`);
    for (const f of filesNamed(path.join(e.userDataDir, 'logs'), 'EHG Telemetry.log'))
      texts.extensionLogs.push(`${e.group}\n${fs.readFileSync(f, 'utf8')}`);
    for (const f of filesNamed(e.userDataDir, 'state.vscdb'))
      texts.storage.push(`${e.group} ${f}\n${fs.readFileSync(f).toString('latin1')}`);
    for (const item of storageItems(e.storage)) {
      if (item.secretStorage) {
        secretStorageItems.push(`${e.group}: ${item.where} (${item.text.length} characters)`);
        allowed.push(
          ...scanner
            .inText(item.text)
            .map((secret) => ({ secret, where: `${e.group}: SecretStorage (${item.where})` })),
        );
        continue;
      }
      texts.storage.push(`${e.group} ${item.where}\n${item.text}`);
      scanner.text(item.text, `${e.group} browser storage: ${item.where}`);
    }
    e.shown.notifications.forEach((n, i) => scanner.text(n, `${e.group} notification #${i + 1}`));
    texts.notifications.push(...e.shown.notifications.map((n) => `${e.group}: ${n}`));
    if (fs.existsSync(e.consoleLog)) scanner.bytes(fs.readFileSync(e.consoleLog), `${e.group} browser console`);
  }
  // Workspaces: a key may sit in the .env at a workspace's root, nowhere else.
  for (const ws of fs.readdirSync(root).filter((d) => d !== 'editors')) {
    allowed.push(
      ...scanner.dir(
        path.join(root, ws),
        `workspace ${ws}`,
        (f) => path.basename(f) === '.env' && path.dirname(f) === path.join(root, ws),
      ),
    );
  }
  const { files, bytes, texts: nTexts } = scanner.stats;
  log(
    `key scan: ${files} files, ${(bytes / 1e6).toFixed(1)} MB, ${nTexts} texts; allowed places: ${JSON.stringify(allowed)}; SecretStorage items: ${JSON.stringify(secretStorageItems)}`,
  );
  await runnerTest(
    'security',
    `key scan: no key in editor logs, settings, state.vscdb, browser storage, notifications or console outside SecretStorage and .env (${evidence.length} editors, ${files} files, ${nTexts} texts)`,
    () => {
      assert.ok(evidence.length > 0, 'at least one editor left evidence to scan');
      assert.deepStrictEqual(
        scanner.findings,
        [],
        `keys found where they must not be:\n${scanner.findings.map((f) => `${f.secret} in ${f.where}`).join('\n')}`,
      );
    },
  );
  await runnerTest(
    'security',
    'key scan finds what it must: each .env key in its .env, the configured URL in settings, the connection in the log, globalState and the sealed SecretStorage item in storage',
    () => {
      const envHits = allowed.filter((a) => a.where.startsWith('workspace '));
      assert.ok(envHits.length > 0, 'the scan found no key in any workspace .env (so it cannot find keys at all)');
      if (canary.envWorkspaceEnv)
        assert.ok(
          envHits.some((a) => a.where.includes(canary.envWorkspaceEnv!)),
          `the security .env key in ${canary.envWorkspaceEnv}: ${JSON.stringify(envHits)}`,
        );
      if (evidence.some((e) => e.group === 'security')) {
        const origin = new URL(canary.stackUrl).origin;
        assert.ok(
          texts.settings.some(
            (t) => t.startsWith('security') && t.includes(`"ehgTelemetry.supabaseUrl": "${canary.stackUrl}"`),
          ),
          "the security editor's user settings.json holds the configured URL (settings were scanned)",
        );
        assert.ok(
          texts.extensionLogs.some(
            (t) => t.startsWith('security') && t.includes(`Connection: ${origin} (from user settings)`),
          ),
          'the extension log of the security editor was scanned',
        );
        assert.ok(
          texts.storage.some(
            (t) => t.startsWith('security') && t.includes('ehgTelemetry.storedOrigins') && t.includes(origin),
          ),
          'globalState (ehgTelemetry.storedOrigins) was among the storage scanned',
        );
        assert.ok(
          secretStorageItems.some((t) => t.startsWith('security')),
          'SecretStorage (the sealed "secrets.provider" localStorage item) exists in the security browser context',
        );
        assert.ok(
          texts.notifications.some((t) => t.startsWith('security') && t.includes(`connected to ${origin}`)),
          'the notifications the user saw were scanned',
        );
      }
    },
  );
}

/** The packaged VSIX carries no test hook; the scan that says so finds them in the test build. */
async function packageChecks(): Promise<void> {
  await runnerTest('package', 'the production VSIX contains none of the test API names', () => {
    const { scanned, hits } = scanVsix(VSIX);
    for (const bundle of ['extension/dist/extension.js', 'extension/dist/app.js'])
      assert.ok(scanned.includes(bundle), `the VSIX holds ${bundle} (scanned: ${scanned.join(', ')})`);
    assert.deepStrictEqual(
      hits.map((h) => `${h.file}: ${h.name} in …${h.context}…`),
      [],
      'test-only names in the VSIX',
    );
  });
  await runnerTest('package', 'the same scan finds every test API name in the test build (it can fail)', () => {
    const hits = scanText(TEST_BUNDLE, fs.readFileSync(TEST_BUNDLE, 'utf8'));
    const found = new Set(hits.map((h) => h.name));
    const missing = TEST_API_PATTERNS.map((p) => p.name).filter((n) => n !== '__EHG_TEST_HOOKS__' && !found.has(n));
    assert.deepStrictEqual(missing, [], `names the scan did not find in ${TEST_BUNDLE}`);
  });
}

async function main(): Promise<void> {
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  for (const f of fs.readdirSync(RESULTS_DIR)) fs.rmSync(path.join(RESULTS_DIR, f), { recursive: true, force: true });
  log(`results, logs and screenshots: ${RESULTS_DIR}${CI ? ' (CI: a missing editor or browser is a failure)' : ''}`);
  await packageChecks();

  // 1. The editor and the browser. Without them nothing here can be tested: fail, never skip.
  try {
    ensureCodeServer(log);
  } catch (err) {
    fail('setup', 'code-server is installed (scripts/install-code-server.sh)', err);
    if (CI)
      console.error(
        '\n*** CI: the editor could not be started, so nothing was tested. This is a failure, not a skip. ***\n',
      );
    return finish(1);
  }
  let browser: Browser;
  try {
    browser = await withTimeout(launchChromium(), 90_000, 'launching Chromium');
    onCleanup('browser', () => browser.close());
    log(`Chromium ${browser.version()} launched`);
  } catch (err) {
    fail('setup', 'Chromium starts', err);
    if (CI)
      console.error(
        '\n*** CI: the browser could not be started, so the UI was NOT tested. This is a failure, not a skip. ***\n',
      );
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
      }),
      120_000,
      'starting the local stack',
    );
    // Traces for the workspace analyzer (the fixture's stand-in) to find bottlenecks in.
    await generateTraces(stack.databaseUrl);
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
  const tap = new GatewayTap(stack.gateway);
  const control = await startControlServer(stack, tap);
  onCleanup('control server', () => control.close());
  const controlUrl = control.url;
  const envFor = (key: string) => ({ SUPABASE_URL: stack.url, SUPABASE_SERVICE_ROLE_KEY: key });
  const restrictedToken = stack.makeJwt({ role: 'service_role', e2e: 'restricted-workspace-env' });

  // 3. In-host, trusted: first open, then a reload of the same window.
  if (ONLY.has('trusted') && !finishing) {
    try {
      // The fixture EHG workspace: its SESSION_START run is executed by the extension (slowly, so that
      // the reload between the two phases happens mid-run).
      const trusted = makeEhgWorkspace(root, 'trusted-workspace', envFor(stack.keys.serviceRole), 'slow:30000');
      await inHostServer('trusted', {
        browser,
        stack,
        controlUrl,
        workspace: trusted,
        trust: false,
        phases: ['first-open', 'reopen'],
        root,
      });
    } catch (err) {
      fail('in-host', 'the trusted in-host phases start', err);
    }
  }

  // 3b. In-host, trusted: the window reloads while its SESSION_START run is claimed and held for the
  // CLI hook (before its analysis starts); the next window finds it cancelled (WINDOW_CLOSED).
  if (ONLY.has('hold') && !finishing) {
    try {
      const heldWs = makeEhgWorkspace(root, 'hold-workspace', envFor(stack.keys.serviceRole), 'normal');
      await inHostServer('hold', {
        browser,
        stack,
        controlUrl,
        workspace: heldWs,
        trust: false,
        phases: ['hold-open', 'hold-closed'],
        root,
      });
    } catch (err) {
      fail('in-host', 'the hold in-host phases start', err);
    }
  }

  // 4. In-host, Restricted Mode: a .env holding a key no one else uses, so a leak is detectable.
  if (ONLY.has('restricted') && !finishing) {
    try {
      const forbiddenToken = restrictedToken;
      const restricted = makeWorkspace(root, 'restricted-workspace', envFor(forbiddenToken));
      await inHostServer('restricted', {
        browser,
        stack,
        controlUrl,
        workspace: restricted,
        trust: true,
        phases: ['restricted'],
        forbiddenToken,
        root,
        beforePhase: async () => {
          stack.gateway.clearLog();
          return { dbFingerprintBefore: await dbFingerprint(stack) };
        },
      });
    } catch (err) {
      fail('in-host', 'the restricted in-host phase starts', err);
    }
  }

  // 5. In-host, faults: the gateway is closed before the window opens (down at start).
  if (ONLY.has('faults') && !finishing) {
    try {
      const faults = makeWorkspace(root, 'faults-workspace', envFor(stack.keys.serviceRole));
      await inHostServer('faults', {
        browser,
        stack,
        controlUrl,
        workspace: faults,
        trust: false,
        phases: ['faults'],
        root,
        // Not an EHG checkout: runs are only enqueued (as for a deployment with a worker), which is what these cases count.
        userSettings: {
          'ehgTelemetry.requestTimeoutSeconds': FAULTS_REQUEST_TIMEOUT_S,
          'ehgTelemetry.analysis.executor': 'external',
        },
        beforePhase: async () => {
          const dbFingerprintBefore = await dbFingerprint(stack);
          await stack.gateway.close();
          return { dbFingerprintBefore, gatewayDownAtStart: true };
        },
        afterPhase: async (_phase, server) => {
          try {
            await runnerTest(
              'faults',
              'deactivation with requests in flight: the extension host exits < 1 s after it starts terminating, and the requests are cut off',
              () => checkShutdown(server, tap),
            );
            await runnerTest('faults', 'the extension host logged no error from the extension', () =>
              assertNoExtensionErrors(server.userDataDir),
            );
          } finally {
            stack.gateway.setFault(null);
            await stack.gateway.listen();
          }
        },
      });
    } catch (err) {
      fail('in-host', 'the faults in-host phase starts', err);
    } finally {
      stack.gateway.setFault(null);
      await stack.gateway
        .listen()
        .catch((err) => fail('faults', 'the gateway listens again after the fault phase', err));
      await stack.scheduler?.start().catch(() => undefined);
    }
  }

  // 6. The VSIX through the browser.
  if (ONLY.has('ui') && !finishing) {
    try {
      const uiWorkspace = makeEhgWorkspace(root, 'ui-workspace', envFor(stack.keys.serviceRole));
      const emptyWorkspace = makeWorkspace(root, 'not-configured-workspace');
      await stack.scheduler?.start();
      await stack.scheduler?.setBreaker('CLOSED');
      await uiPhase(browser, stack, uiWorkspace, emptyWorkspace, root);
    } catch (err) {
      fail('ui', 'the browser tests start', err);
    }
  }

  // 7. Security through the browser, then the key scan over every editor this run used.
  // Distinctive keys (a unique claim each) that the gateway accepts, so the scan cannot miss them.
  const scanId = Date.now().toString(36);
  const envKey = stack.makeJwt({ role: 'service_role', ref: 'localstack', e2e_scan: `security-env-${scanId}` });
  const userKey = stack.makeJwt({ role: 'service_role', ref: 'localstack', e2e_scan: `security-user-${scanId}` });
  if (ONLY.has('security') && !finishing) {
    try {
      await stack.scheduler?.start();
      await stack.scheduler?.setBreaker('CLOSED');
      await securityPhase(browser, stack, tap, root, { envKey, userKey });
    } catch (err) {
      fail('security', 'the browser security tests start', err);
    }
  }
  if (!finishing && evidence.length) {
    const secrets: Secret[] = [
      { name: 'service-role key (.env of trusted/faults/ui workspaces)', value: stack.keys.serviceRole },
      { name: 'anon key', value: stack.keys.anon },
      { name: 'authenticated key', value: stack.keys.authenticated },
      { name: 'restricted workspace .env key', value: restrictedToken },
      { name: 'security .env key', value: envKey },
      { name: 'key typed into Configure Connection…', value: userKey },
    ];
    await keyScan(root, secrets, {
      stackUrl: stack.url,
      envWorkspaceEnv: ONLY.has('security') ? 'security-env-workspace' : null,
    });
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
  fail(
    'runner',
    `finishes within ${TOTAL_TIMEOUT_MS / 1000} s`,
    new Error(`the e2e run timed out after ${TOTAL_TIMEOUT_MS} ms`),
  );
  void finish(1);
}, TOTAL_TIMEOUT_MS);

void main().catch((err) => {
  fail('runner', 'the runner itself does not crash', err);
  return finish(1);
});
