// Types and names shared by the e2e runner (a plain Node process) and the in-host suite (loaded into
// VS Code's extension host). No `vscode` import here: the runner loads this file too.
import type { TestingApi, TestTreeItem } from '../../src/testingApi';
import * as path from 'path';
import type { Fault } from '../../devkit/stack/edge';

/**
 * The test build (`npm run build:test`, esbuild.js --test): an extension folder of its own with the
 * test hooks. In-host suites load it with --extensionDevelopmentPath; the VSIX never has them.
 */
export const TEST_EXTENSION_DIR = path.resolve(__dirname, '..', '..', '..', 'dist-test');

/** Environment variable holding the path of the JSON config file the in-host suite reads. */
export const CONFIG_ENV = 'EHG_E2E_CONFIG';
export const EXTENSION_ID = 'ehg-engineer.ehg-telemetry';

/** In-host phases, in the order the runner loads them. */
export type InHostPhase =
  'first-open' | 'reopen' | 'liveness' | 'commands' | 'restricted' | 'faults' | 'hold-open' | 'hold-closed';

export interface InHostConfig {
  phase: InHostPhase;
  /** Where the in-host reporter writes its results (rewritten on every test, `done` at the end). */
  resultsFile: string;
  supabaseUrl: string;
  keys: { anon: string; authenticated: string; serviceRole: string };
  databaseUrl: string;
  /** Absolute path of the workspace folder the page opened (= the expected scope_id). */
  workspace: string;
  /** The runner's control endpoint (drives the scheduler simulator, reads the gateway's request log). */
  controlUrl: string;
  /** The scheduler simulator's poll interval. */
  schedulerIntervalMs: number;
  /** A string that must never reach the backend in this phase (e.g. the restricted workspace's .env key). */
  forbiddenToken?: string;
  /** The code-server user-data-dir (its logs/ hold the extension's log file). */
  userDataDir?: string;
  /** dbFingerprint() of telemetry_analysis_runs taken by the runner before the window opened. */
  dbFingerprintBefore?: string;
  /** faults phase: the gateway was closed before the window opened. */
  gatewayDownAtStart?: boolean;
  /** The order of the suites and tests (E2E_INHOST_ORDER): as declared, or reversed to show they are independent. */
  order?: InHostOrder;
  /** E2E_GREP: run only the in-host tests whose full title matches (a developer's knob; the stage runs all). */
  grep?: string;
}

export type InHostOrder = 'declared' | 'reverse';

/**
 * One value for every row of telemetry_analysis_runs except the run ids in $1 (a uuid[]); the
 * heartbeat is left out (the scheduler simulator rewrites it). Equal fingerprints: nothing changed.
 */
export const DB_FINGERPRINT_SQL =
  "select count(*)::int as n, coalesce(md5(string_agg(t::text, '|' order by t.id)), '') as md5 from telemetry_analysis_runs t where not (t.run_id = any($1::uuid[]))";

/** A gateway fault as JSON: the gateway's own Fault without its `match` function (not serialisable). */
export type FaultSpec = Omit<Fault, 'match'>;

export interface TestResult {
  /** Where it ran: an in-host phase or `ui` (browser) or `setup`. */
  group: string;
  title: string;
  state: 'passed' | 'failed' | 'pending';
  durationMs: number;
  error?: string;
}

export interface ResultsFile {
  phase: string;
  startedAt: string;
  done: boolean;
  results: TestResult[];
  /** Set when the suite could not run at all (e.g. mocha failed to load a file). */
  fatal?: string;
}

/** The control calls the in-host suite may make (see backend.ts, startControlServer). */
export type ControlMethod =
  | 'scheduler.setBreaker'
  | 'scheduler.pause'
  | 'scheduler.setStopping'
  | 'scheduler.slowRounds'
  | 'scheduler.fastRounds'
  | 'scheduler.failSpawns'
  | 'scheduler.watcherTick'
  | 'scheduler.stop'
  | 'scheduler.silence'
  | 'scheduler.start'
  | 'scheduler.writeOnce'
  | 'scheduler.deleteRow'
  | 'scheduler.crash'
  | 'scheduler.revive'
  | 'scheduler.claimRevival'
  | 'scheduler.setQueueDepth'
  | 'scheduler.setAdaptive'
  | 'scheduler.clearRounds'
  | 'scheduler.restoreRounds'
  | 'scheduler.state'
  | 'gateway.requestLog'
  | 'gateway.clearLog'
  | 'gateway.setFault'
  | 'gateway.close'
  | 'gateway.listen'
  | 'gateway.isListening'
  | 'gateway.inFlight';

/** What the extension's activate() returns for tests: the extension's own types (type-only import). */
export type RunsTreeItemSnapshot = TestTreeItem;
export type StatusBarSnapshot = ReturnType<TestingApi['statusBar']>;
export interface EhgTelemetryTestApi {
  testing: TestingApi;
}

/** Text of an error, with its stack, for a result line. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.stack ?? `${err.name}: ${err.message}`;
  return String(err);
}
