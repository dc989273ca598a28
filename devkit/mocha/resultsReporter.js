// A mocha reporter for every stage: mocha's `spec` output for people, and, when EHG_TEST_RESULTS names a
// file, the stage's results as JSON for scripts/test-all.js (counts and each test; a failing hook counts
// as a failure). The file is written when the run ends, so a crash, a timeout or an interruption leaves
// none, and test-all counts that stage as failed. Plain JS: it loads before anything is compiled.
'use strict';
const fs = require('fs');
const path = require('path');
const Mocha = require('mocha');

const { EVENT_TEST_PASS, EVENT_TEST_FAIL, EVENT_TEST_PENDING, EVENT_RUN_END } = Mocha.Runner.constants;

class ResultsReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    const file = process.env.EHG_TEST_RESULTS;
    if (!file) return;
    const tests = [];
    const title = (t) => t.titlePath().join(' › ');
    runner.on(EVENT_TEST_PASS, (t) => tests.push({ title: title(t), state: 'passed', durationMs: t.duration ?? 0 }));
    runner.on(EVENT_TEST_FAIL, (t, err) =>
      tests.push({
        title: title(t),
        state: 'failed',
        durationMs: t.duration ?? 0,
        error: String((err && (err.stack || err.message)) || err),
      }),
    );
    runner.on(EVENT_TEST_PENDING, (t) => tests.push({ title: title(t), state: 'pending', durationMs: 0 }));
    runner.once(EVENT_RUN_END, () => {
      const count = (s) => tests.filter((t) => t.state === s).length;
      const body = { passed: count('passed'), failed: count('failed'), pending: count('pending'), tests };
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, JSON.stringify(body, null, 2));
    });
  }
}

module.exports = ResultsReporter;
