#!/usr/bin/env node
// `npm test`: lint, then the unit, integration and e2e stages in order, output streamed as it comes. Counts each
// stage's tests (mocha's "N passing / N failing / N pending", the e2e runner's "N passed, N failed")
// and ends with one line `N passed, N failed` for all of them. Exits non-zero when any stage fails,
// ends without a count, or runs zero tests. Plain JS: it must run before anything is compiled.
'use strict';
const { spawn } = require('child_process');

const STAGES = [
  // Typed ESLint and the Prettier check: one check each, passed when the script exits 0.
  { script: 'lint', kind: 'check', timeoutMs: 5 * 60_000 },
  { script: 'test:unit', kind: 'mocha', timeoutMs: 10 * 60_000 },
  { script: 'test:integration', kind: 'mocha', timeoutMs: 15 * 60_000 },
  { script: 'test:e2e', kind: 'e2e', timeoutMs: 25 * 60_000 },
];

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;?]*[A-Za-z]/g;

function lastNumber(text, re) {
  let m;
  let last = null;
  const g = new RegExp(re.source, 'gm');
  while ((m = g.exec(text))) last = Number(m[1]);
  return last;
}

/** The counts a stage printed, or null when it printed none. */
function parseCounts(kind, text, code) {
  if (kind === 'check') return { passed: code === 0 ? 1 : 0, failed: code === 0 ? 0 : 1, pending: 0 };
  if (kind === 'e2e') {
    const g = /^(\d+) passed, (\d+) failed\s*$/gm;
    let m;
    let last = null;
    while ((m = g.exec(text))) last = { passed: Number(m[1]), failed: Number(m[2]), pending: 0 };
    return last;
  }
  const passing = lastNumber(text, /^\s*(\d+) passing\b/);
  const failing = lastNumber(text, /^\s*(\d+) failing\b/);
  const pending = lastNumber(text, /^\s*(\d+) pending\b/);
  if (passing === null && failing === null) return null;
  return { passed: passing ?? 0, failed: failing ?? 0, pending: pending ?? 0 };
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

function runStage(stage) {
  return new Promise((resolve) => {
    const started = Date.now();
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    const child = spawn(npm, ['run', stage.script], {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
      env: process.env,
    });
    current = child;
    let text = '';
    child.stdout.on('data', (c) => {
      process.stdout.write(c);
      text += c.toString();
    });
    child.stderr.on('data', (c) => {
      process.stderr.write(c);
      text += c.toString();
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      console.log(`\ntest-all: ${stage.script} did not finish within ${stage.timeoutMs / 60_000} min; stopping it`);
      killCurrent('SIGTERM');
      setTimeout(() => killCurrent('SIGKILL'), 30_000).unref();
    }, stage.timeoutMs);
    child.on('error', (err) => {
      text += `\n${err.message}`;
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      current = null;
      const counts = parseCounts(stage.kind, text.replace(ANSI, ''), code);
      const problems = [];
      if (timedOut) problems.push('timed out');
      if (code !== 0) problems.push(`exited with ${code ?? signal}`);
      if (!counts) problems.push('printed no test count');
      else if (counts.passed + counts.failed === 0) problems.push('ran zero tests');
      else if (counts.failed > 0) problems.push(`${counts.failed} failed`);
      resolve({ stage: stage.script, counts, problems, seconds: (Date.now() - started) / 1000 });
    });
  });
}

async function main() {
  const t0 = Date.now();
  const outcomes = [];
  for (const stage of STAGES) {
    if (interrupted) break;
    console.log(`\n=== npm run ${stage.script} ===\n`);
    outcomes.push(await runStage(stage));
  }
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
  // A stage that failed without counting its tests still fails the total.
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
