#!/usr/bin/env node
// `npm test`: lint, then the unit, integration and e2e stages in order, output streamed as it comes. Each
// mocha stage reports through devkit/mocha/resultsReporter.js, which writes its counts as JSON to the file
// named in EHG_TEST_RESULTS; this summary reads those files (never mocha's text) and ends with one line
// `N passed, N failed` for all stages. Lint counts as one check (ESLint, Prettier, tsc) plus the mocha
// tests it runs last (test/lint/). A stage fails when it exits non-zero, writes no results (a crash, a timeout, an interruption),
// runs zero tests or has a failure. Plain JS: it must run before anything is compiled.
'use strict';
const { spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const REPORTER = path.join(__dirname, '..', 'devkit', 'mocha', 'resultsReporter.js');
const STAGES = [
  // Typed ESLint, Prettier and tsc: one check, passed when they pass; then the mocha tests of test/lint/.
  { script: 'lint', kind: 'check', timeoutMs: 5 * 60_000 },
  { script: 'test:unit', kind: 'mocha', timeoutMs: 10 * 60_000 },
  { script: 'test:integration', kind: 'mocha', timeoutMs: 15 * 60_000 },
  { script: 'test:e2e', kind: 'mocha', timeoutMs: 25 * 60_000 },
];

/** The counts a stage's results file holds, or null when it wrote none (or an unreadable one). */
function readCounts(file) {
  try {
    const body = JSON.parse(fs.readFileSync(file, 'utf8'));
    const n = (v) => (Number.isInteger(v) && v >= 0 ? v : NaN);
    const counts = { passed: n(body.passed), failed: n(body.failed), pending: n(body.pending ?? 0) };
    return Object.values(counts).every(Number.isFinite) ? counts : null;
  } catch {
    return null;
  }
}

let current = null;
let interrupted = false;
function killCurrent(signal) {
  if (current && current.pid) {
    try {
      process.kill(-current.pid, signal);
    } catch {
      // already gone
    }
  }
}
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    // The stage runs in its own process group: pass the signal on so it can stop what it started.
    killCurrent(sig);
    setTimeout(() => killCurrent('SIGKILL'), 30_000).unref();
    console.log(`\ntest-all: ${sig}, stopping`);
    interrupted = true;
  });
}

function runStage(stage, resultsDir) {
  return new Promise((resolve) => {
    const started = Date.now();
    const resultsFile = path.join(resultsDir, `${stage.script.replace(/[^\w-]/g, '_')}.json`);
    fs.rmSync(resultsFile, { force: true });
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    // The reporter is named on mocha's command line (after `--`: appended to the script's mocha call).
    const args = stage.kind === 'mocha' ? ['run', stage.script, '--', '--reporter', REPORTER] : ['run', stage.script];
    const child = spawn(npm, args, {
      stdio: ['ignore', 'inherit', 'inherit'],
      detached: true,
      env: { ...process.env, EHG_TEST_RESULTS: resultsFile },
    });
    current = child;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      console.log(`\ntest-all: ${stage.script} did not finish within ${stage.timeoutMs / 60_000} min; stopping it`);
      killCurrent('SIGTERM');
      setTimeout(() => killCurrent('SIGKILL'), 30_000).unref();
    }, stage.timeoutMs);
    let spawnError = null;
    child.on('error', (err) => {
      spawnError = err;
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      current = null;
      let counts = readCounts(resultsFile);
      // A check stage (lint) is one check (ESLint, Prettier, the type check), plus the mocha tests it ran
      // last, which only run when the check before them passed.
      if (stage.kind === 'check' && counts) counts = { ...counts, passed: counts.passed + 1 };
      else if (!counts && stage.kind === 'check' && !timedOut)
        counts = { passed: code === 0 ? 1 : 0, failed: code === 0 ? 0 : 1, pending: 0 };
      const problems = [];
      if (spawnError) problems.push(spawnError.message);
      if (timedOut) problems.push('timed out');
      if (code !== 0) problems.push(`exited with ${code ?? signal}`);
      if (!counts) problems.push('wrote no test results');
      else if (counts.passed + counts.failed === 0) problems.push('ran zero tests');
      else if (counts.failed > 0) problems.push(`${counts.failed} failed`);
      resolve({ stage: stage.script, counts, problems, seconds: (Date.now() - started) / 1000 });
    });
  });
}

async function main() {
  const t0 = Date.now();
  const resultsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ehg-test-all-'));
  const outcomes = [];
  for (const stage of STAGES) {
    if (interrupted) break;
    console.log(`\n=== npm run ${stage.script} ===\n`);
    outcomes.push(await runStage(stage, resultsDir));
  }
  fs.rmSync(resultsDir, { recursive: true, force: true });
  let passed = 0;
  let failed = 0;
  console.log('\n=== test summary ===');
  for (const o of outcomes) {
    const c = o.counts ?? { passed: 0, failed: 0, pending: 0 };
    passed += c.passed;
    failed += c.failed;
    const verdict = o.problems.length ? `FAILED (${o.problems.join(', ')})` : 'ok';
    console.log(
      `  ${o.stage.padEnd(18)} ${String(c.passed).padStart(4)} passed ${String(c.failed).padStart(3)} failed${c.pending ? ` ${c.pending} pending` : ''}  ${o.seconds.toFixed(1)} s  ${verdict}`,
    );
  }
  const stageFailures = outcomes.filter((o) => o.problems.length).length + (STAGES.length - outcomes.length);
  if (outcomes.length < STAGES.length)
    console.log(`  interrupted: ${STAGES.length - outcomes.length} stage(s) not run`);
  // A stage that failed without counting a failed test (a crash, a timeout, an interruption, zero tests) still fails the total.
  const uncounted =
    outcomes.filter((o) => o.problems.length && (!o.counts || o.counts.failed === 0)).length +
    (STAGES.length - outcomes.length);
  console.log(`  total ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  console.log(`${passed} passed, ${failed + uncounted} failed`);
  process.exit(stageFailures > 0 || interrupted ? 1 : 0);
}

main().catch((err) => {
  console.error(err);
  console.log('0 passed, 1 failed');
  process.exit(1);
});
