// The same in-host suite under @vscode/test-electron, for a machine that can download VS Code from
// Microsoft's update service (not this one: there, use `npm run test:e2e`, which runs it in code-server).
//
//   npm run compile && npm run build && node out/test/e2e/electron.js
//
// VS Code desktop is downloaded into .vscode-test/ (VSCODE_VERSION, default the engine's 1.100.3).
// Phases as in the e2e stage (test/e2e/harness/lanes.ts): first open and a reload (a second launch on the same user data) in a trusted
// workspace, then Restricted Mode. The browser tests (ui/) need code-server and are not run here.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { runTests } from '@vscode/test-electron';
import { REPO_ROOT, writeUserSettings } from '../../devkit/codeServer';
import { startStack } from '../../devkit/stack';
import { makeWorkspace, startControlServer } from './backend';
import { CONFIG_ENV, InHostConfig, InHostPhase, ResultsFile, TEST_EXTENSION_DIR, TestResult } from './shared';

interface Tally {
  passed: number;
  failed: number;
  pending: number;
}

function tally(results: readonly TestResult[]): Tally {
  return {
    passed: results.filter((r) => r.state === 'passed').length,
    failed: results.filter((r) => r.state === 'failed').length,
    pending: results.filter((r) => r.state === 'pending').length,
  };
}

/** Prints every test, the failures with their errors, a footer line, and `N passed, N failed` last. */
function printReport(results: readonly TestResult[], footer: string): Tally {
  const t = tally(results);
  console.log('\nE2E results');
  for (const r of results) {
    const mark = r.state === 'passed' ? '✓' : r.state === 'failed' ? '✗' : '-';
    console.log(`  ${mark} [${r.group}] ${r.title}${r.state === 'pending' ? ' (pending)' : ` (${r.durationMs} ms)`}`);
  }
  const failures = results.filter((r) => r.state === 'failed');
  if (failures.length) {
    console.log('\nFailures');
    failures.forEach((r, i) => {
      console.log(`  ${i + 1}) [${r.group}] ${r.title}`);
      for (const line of (r.error ?? '').split('\n').slice(0, 25)) console.log(`     ${line}`);
    });
  }
  console.log(`\n${footer}${t.pending ? ` (${t.pending} pending)` : ''}`);
  console.log(`${t.passed} passed, ${t.failed} failed`);
  return t;
}

const RESULTS_DIR = path.join(REPO_ROOT, 'test-results', 'e2e-electron');
const INHOST_ENTRY = path.join(REPO_ROOT, 'out', 'test', 'e2e', 'inhost', 'index.js');
const SCHEDULER_INTERVAL_MS = 2_000;

async function main(): Promise<number> {
  const t0 = Date.now();
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  const results: TestResult[] = [];
  const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'ehg-e2e-electron-')));
  const stack = await startStack({ scheduler: { intervalMs: SCHEDULER_INTERVAL_MS } });
  const control = await startControlServer(stack);
  try {
    const envFor = (key: string) => ({ SUPABASE_URL: stack.url, SUPABASE_SERVICE_ROLE_KEY: key });
    const forbiddenToken = stack.makeJwt({ role: 'service_role', e2e: 'restricted-workspace-env' });
    const plans: Array<{
      group: string;
      workspace: string;
      trust: boolean;
      phases: InHostPhase[];
      forbiddenToken?: string;
    }> = [
      {
        group: 'trusted',
        workspace: makeWorkspace(root, 'trusted-workspace', envFor(stack.keys.serviceRole)),
        trust: false,
        phases: ['first-open', 'reopen'],
      },
      {
        group: 'liveness',
        workspace: makeWorkspace(root, 'liveness-workspace', envFor(stack.keys.serviceRole)),
        trust: false,
        phases: ['liveness'],
      },
      {
        group: 'commands',
        workspace: makeWorkspace(root, 'commands-workspace', envFor(stack.keys.serviceRole)),
        trust: false,
        phases: ['commands'],
      },
      {
        group: 'restricted',
        workspace: makeWorkspace(root, 'restricted-workspace', envFor(forbiddenToken)),
        trust: true,
        phases: ['restricted'],
        forbiddenToken,
      },
    ];
    for (const plan of plans) {
      const userDataDir = path.join(root, `user-data-${plan.group}`);
      writeUserSettings(userDataDir, {
        'ehgTelemetry.heartbeatGraceSeconds': 1,
        ...(plan.trust ? { 'security.workspace.trust.enabled': true } : {}),
      });
      const configFile = path.join(RESULTS_DIR, `inhost-${plan.group}-config.json`);
      for (const phase of plan.phases) {
        const resultsFile = path.join(RESULTS_DIR, `inhost-${phase}.json`);
        fs.rmSync(resultsFile, { force: true });
        const config: InHostConfig = {
          phase,
          resultsFile,
          supabaseUrl: stack.url,
          keys: stack.keys,
          databaseUrl: stack.databaseUrl,
          workspace: plan.workspace,
          controlUrl: control.url,
          schedulerIntervalMs: SCHEDULER_INTERVAL_MS,
          forbiddenToken: plan.forbiddenToken,
        };
        fs.writeFileSync(configFile, JSON.stringify(config, null, 2));
        try {
          await runTests({
            version: process.env.VSCODE_VERSION ?? '1.100.3',
            extensionDevelopmentPath: TEST_EXTENSION_DIR,
            extensionTestsPath: INHOST_ENTRY,
            extensionTestsEnv: { [CONFIG_ENV]: configFile },
            launchArgs: [
              plan.workspace,
              '--user-data-dir',
              userDataDir,
              '--disable-extensions',
              ...(plan.trust ? [] : ['--disable-workspace-trust']),
            ],
          });
        } catch (err) {
          results.push({
            group: phase,
            title: `VS Code runs phase "${phase}"`,
            state: 'failed',
            durationMs: 0,
            error: String(err),
          });
        }
        if (!fs.existsSync(resultsFile)) {
          results.push({
            group: phase,
            title: `phase "${phase}" reports results`,
            state: 'failed',
            durationMs: 0,
            error: `no ${resultsFile}`,
          });
          continue;
        }
        const body = JSON.parse(fs.readFileSync(resultsFile, 'utf8')) as ResultsFile;
        results.push(...body.results);
        if (body.fatal)
          results.push({
            group: phase,
            title: 'the in-host suite loads',
            state: 'failed',
            durationMs: 0,
            error: body.fatal,
          });
        if (!body.done)
          results.push({
            group: phase,
            title: 'the in-host suite finishes',
            state: 'failed',
            durationMs: 0,
            error: 'VS Code exited before the suite finished',
          });
      }
    }
  } finally {
    await control.close();
    await stack.stop();
    fs.rmSync(root, { recursive: true, force: true });
  }
  const t = printReport(results, `e2e (Electron) finished in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return t.failed > 0 || t.passed === 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    console.log('0 passed, 1 failed');
    process.exit(1);
  },
);
