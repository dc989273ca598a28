// Entry point loaded by VS Code's extension host as `extensionTestsPath` (the @vscode/test-electron
// contract: `run()` is called inside the host). Runs the phase's mocha files and writes the results to
// the JSON file named in the config; never exits the process (the page stays open, the runner stops it).
import * as fs from 'fs';
import * as path from 'path';
import Mocha from 'mocha';
import { InHostConfig, InHostOrder, InHostPhase, ResultsFile, TestResult, describeError } from '../shared';
import { collectingReporter } from '../mochaResults';
import { readConfig } from './config';
import { installCrashRecorder } from './crashes';

const PHASE_FILES: Record<InHostPhase, string[]> = {
  // The first time the workspace opens: the extension activates and enqueues one SESSION_START run.
  'first-open': ['activation.test.js', 'sessionStart.test.js'],
  // The window reloaded (a second extension host on the same user data): no second SESSION_START;
  // then everything that changes runs (after the dedup check, so it cannot disturb it).
  reopen: ['reopen.test.js', 'runsTree.test.js', 'statusBar.test.js', 'schedulerLiveness.test.js'],
  // A window of its own on a stack of its own (the third lane): the unkind scheduler scenarios (slow
  // rounds, a failed revival, every transition timed), each setting up what it times from.
  liveness: ['schedulerUnkind.test.js'],
  // A window of its own (a fresh EHG workspace on the second lane's stack): the commands, the
  // comparison with the previous run and the drill-down (evidence, item, Go to Definition). None needs
  // the reload's history, and the liveness scenarios' window does not need theirs.
  commands: ['commands.test.js', 'comparison.test.js', 'drillDown.test.js'],
  // The window reloads while its SESSION_START run is held for the CLI hook, then the next window.
  'hold-open': ['holdOpen.test.js'],
  'hold-closed': ['holdClosed.test.js'],
  // Workspace trust enabled and not granted.
  restricted: ['restricted.test.js'],
  // Backend faults and bad input (the gateway is down when the window opens; request timeout 2 s).
  faults: ['faults.test.js'],
};

/**
 * With order "reverse" every suite's tests and child suites run in reverse, to show that no test
 * relies on another's state. What stays first, in its declared order, is the phase's subject, which
 * only a fresh window can show: the first open's activation ("activates without being asked") and the reload's own checks
 * (before other suites trigger or cancel runs). The faults phase is one scripted scenario and keeps
 * its order: its first case needs the gateway down since the window opened, its last leaves requests
 * in flight for the runner's shutdown check.
 */
const FIRST_IN_ANY_ORDER: Partial<Record<InHostPhase, string>> = {
  'first-open': 'activation.test.js',
  reopen: 'reopen.test.js',
};
const ORDER_IS_THE_SCENARIO: InHostPhase[] = ['faults'];

function reverseSuite(suite: Mocha.Suite): void {
  suite.tests.reverse();
  suite.suites.reverse();
  suite.suites.forEach(reverseSuite);
}

function applyOrder(mocha: Mocha, phase: InHostPhase, order: InHostOrder): void {
  if (order !== 'reverse' || ORDER_IS_THE_SCENARIO.includes(phase)) return;
  const root = mocha.suite;
  const first = FIRST_IN_ANY_ORDER[phase];
  // The pinned file keeps its declared order too: e.g. "activates on startup without being asked"
  // can only fail if no other test activated the extension first.
  const pinned = root.suites.filter((s) => first !== undefined && path.basename(s.file ?? '') === first);
  const rest = root.suites.filter((s) => !pinned.includes(s)).reverse();
  rest.forEach(reverseSuite);
  root.tests.reverse();
  root.suites = [...pinned, ...rest];
}

/** Rewrites the results file after every test, so a hang still leaves what ran. */
function fileReporterFor(phase: string, file: string, startedAt: string) {
  const results: TestResult[] = [];
  const write = (done: boolean) => {
    const body: ResultsFile = { phase, startedAt, done, results };
    fs.writeFileSync(`${file}.tmp`, JSON.stringify(body, null, 2));
    fs.renameSync(`${file}.tmp`, file);
  };
  return collectingReporter(phase, {
    onResult(r) {
      results.push(r);
      write(false);
    },
    onEnd: () => write(true),
  });
}

export async function run(): Promise<void> {
  const startedAt = new Date().toISOString();
  let config: InHostConfig | undefined;
  // First thing: record unhandled rejections and uncaught exceptions for the suites that assert on them.
  installCrashRecorder();
  try {
    config = readConfig();
    const files = PHASE_FILES[config.phase];
    if (!files) throw new Error(`unknown in-host phase ${JSON.stringify(config.phase)}`);
    const mocha = new Mocha({
      ui: 'bdd',
      timeout: 60_000,
      slow: 10_000,
      color: false,
      reporter: fileReporterFor(config.phase, config.resultsFile, startedAt),
    });
    if (config.grep) mocha.grep(config.grep);
    for (const f of files) mocha.addFile(path.join(__dirname, f));
    // Load now (not in run()) so the order can be applied to the loaded suites.
    const loader = mocha as unknown as { loadFiles(): void; lazyLoadFiles(on: boolean): void };
    loader.loadFiles();
    loader.lazyLoadFiles(true);
    applyOrder(mocha, config.phase, config.order ?? 'declared');
    await new Promise<void>((resolve) => mocha.run(() => resolve()));
  } catch (err) {
    // The suite could not even start: say so in the results file, which the runner treats as a failure.
    const file = config?.resultsFile;
    const body: ResultsFile = {
      phase: config?.phase ?? 'unknown',
      startedAt,
      done: true,
      results: [],
      fatal: describeError(err),
    };
    if (file) fs.writeFileSync(file, JSON.stringify(body, null, 2));
    console.error('[ehg e2e] in-host suite could not run:', err);
  }
}
