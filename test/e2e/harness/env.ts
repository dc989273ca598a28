// What every part of the e2e stage shares: where results go, the settings every editor gets, the one
// Chromium, the evidence each editor leaves for the key scan, and the checks the harness makes on an
// editor's logs (no extension error, the shutdown with requests in flight). Plain Node, no mocha here.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { Browser, BrowserContext, Page } from 'playwright-core';
import { CodeServer, REPO_ROOT, startCodeServer } from '../../../devkit/codeServer';
import { onCleanup, withTimeout } from '../../../devkit/cleanup';
import type { Stack } from '../../../devkit/stack';
import { waitFor } from '../../../devkit/wait';
import { GatewayTap } from '../gatewayTap';
import { captureShown, Shown } from '../security/capture';
import { DB_FINGERPRINT_SQL, describeError, InHostOrder, TEST_EXTENSION_DIR } from '../shared';

export const OUT = path.join(REPO_ROOT, 'out');
export const RESULTS_DIR = path.join(REPO_ROOT, 'test-results', 'e2e');
export const VSIX = path.join(REPO_ROOT, 'ehg-telemetry.vsix');
/** The test build's (npm run build:test) bundle of the wiring (src/app.ts): the only one with the test hooks. */
export const TEST_BUNDLE = path.join(TEST_EXTENSION_DIR, 'dist', 'app.js');
export const INHOST_ENTRY = path.join(OUT, 'test', 'e2e', 'inhost', 'index.js');
const VIEWPORT = { width: 1280, height: 800 };
/** The whole stage's limit (mocha's hook timeout for waiting on the lanes). */
export const TOTAL_TIMEOUT_MS = Number(process.env.E2E_TIMEOUT_MS ?? 15 * 60_000);
// 6 min: the longest phase holds the scheduler's unkind scenarios (slow rounds, a death after slow
// writes, a failed revival, every transition), about 3.5 min of real waiting at a 2 s base.
export const PHASE_TIMEOUT_MS = Number(process.env.E2E_PHASE_TIMEOUT_MS ?? 8 * 60_000);
export const SCHEDULER_INTERVAL_MS = 2_000;
/** Test user settings on top of the launcher's quiet ones: a short grace makes "stale" quick to reach. */
export const USER_SETTINGS = {
  'ehgTelemetry.heartbeatGraceSeconds': 1,
  'workbench.colorTheme': 'Default Dark Modern',
  'window.autoDetectColorScheme': false,
};
export const CI = process.env.CI === 'true' || process.env.CI === '1';
/** For working on one part: E2E_ONLY=trusted,liveness,hold,restricted,faults,commands,ui,security (default: all). */
export const ONLY = new Set(
  (process.env.E2E_ONLY ?? 'trusted,liveness,hold,restricted,faults,commands,ui,security')
    .split(',')
    .map((s) => s.trim()),
);
/**
 * By default the in-host groups run in three lanes, each with its own stack, beside the browser suites
 * (about 4 min for the stage instead of over 11 serially). E2E_LANES=serial runs them one after the
 * other on one stack, before the browser suites (for a slow machine, or to compare).
 */
export const SERIAL = process.env.E2E_LANES === 'serial';
/**
 * The nice value of every editor but the session lane's when the lanes run in parallel (the default): its reload
 * phase holds the scheduler's liveness scenarios, bound by time (the product's promises), so its
 * window gets the CPU first.
 */
export const BACKGROUND_NICENESS = SERIAL ? 0 : 10;
/** E2E_GREP=regexp runs only the in-host tests whose full title matches it (a developer's knob, e.g. one scenario). */
export const INHOST_GREP: string | undefined = process.env.E2E_GREP || undefined;
/** E2E_INHOST_ORDER=reverse runs the in-host suites' tests in reverse (see inhost/index.ts). */
export const INHOST_ORDER: InHostOrder = process.env.E2E_INHOST_ORDER === 'reverse' ? 'reverse' : 'declared';

const t0 = Date.now();
export function log(line: string): void {
  console.log(`[e2e +${((Date.now() - t0) / 1000).toFixed(1)}s] ${line}`);
}

/** The one browser, launched by the root hooks. */
let theBrowser: Browser | undefined;
export function setBrowser(b: Browser): void {
  theBrowser = b;
}
export function browser(): Browser {
  if (!theBrowser) throw new Error('Chromium is not running (the root hook launches it)');
  return theBrowser;
}

/** What one editor (code-server + browser context) kept, for the key scan at the end. */
export interface EditorEvidence {
  group: string;
  userDataDir: string;
  storage: unknown;
  shown: Shown;
  consoleLog: string;
}
export const evidence: EditorEvidence[] = [];
/** Things the harness could not do that a test must report (e.g. the browser storage was unreadable). */
export const harnessProblems: Array<{ title: string; error: string }> = [];

export async function newContext(
  name: string,
): Promise<{ context: BrowserContext; page: Page; shown: Shown; consoleLog: string }> {
  const context = await browser().newContext({
    viewport: VIEWPORT,
    permissions: ['clipboard-read', 'clipboard-write'],
  });
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
export function editorDirs(root: string, group: string): { userDataDir: string; extensionsDir: string } {
  return {
    userDataDir: path.join(root, 'editors', group, 'user-data'),
    extensionsDir: path.join(root, 'editors', group, 'extensions'),
  };
}

/** Keeps what the browser context holds (localStorage, IndexedDB) and showed, before it is closed. */
export async function keepEvidence(
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
    harnessProblems.push({
      title: `the browser storage of ${group} can be read for the key scan`,
      error: describeError(err),
    });
  }
  evidence.push({ group, userDataDir, storage, shown, consoleLog });
}

/** A code-server with the VSIX installed as a user installs it, and a browser context for it. */
export async function installedEditor(root: string, group: string) {
  if (!fs.existsSync(VSIX)) throw new Error(`${VSIX} is missing (run \`npm run package\`)`);
  const server = await startCodeServer({
    ...editorDirs(root, group),
    vsix: [VSIX],
    userSettings: USER_SETTINGS,
    niceness: BACKGROUND_NICENESS,
    logFile: path.join(RESULTS_DIR, `code-server-${group}.log`),
    saveLogsTo: path.join(RESULTS_DIR, `editor-logs-${group}`),
    log,
  });
  const stopServer = onCleanup(`code-server (${group})`, () => server.stop());
  const browserContext = await newContext(group);
  const closeContext = onCleanup(`browser context (${group})`, () => browserContext.context.close());
  return { server, stopServer, closeContext, ...browserContext };
}

export async function dbFingerprint(stack: Stack): Promise<string> {
  const [row] = await stack.query<{ n: number; md5: string }>(DB_FINGERPRINT_SQL, [[]]);
  return `${row.n}:${row.md5}`;
}

/** Every file called `name` under `dir`, newest first. */
export function filesNamed(dir: string, name: string): string[] {
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
export function assertNoExtensionErrors(userDataDir: string): void {
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
export async function checkShutdown(server: CodeServer, tap: GatewayTap): Promise<void> {
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

/** The distinctive keys the security suite used (set by security.e2e.ts), for the key scan. */
export const securityKeys: { envKey?: string; userKey?: string } = {};

/** The mocha files `<dir>/*.test.js` built next to the e2e files, sorted: required inside a describe. */
export function requireSuiteFiles(dir: string): void {
  const files = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.test.js'))
    .sort();
  if (!files.length) throw new Error(`no ${dir}/*.test.js files were built`);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  for (const f of files) require(path.join(dir, f));
}
