// The in-host phases as mocha suites: each phase's suite waits for its lane (harness/lanes.ts) to run
// the phase inside VS Code's extension host, then holds one test per in-host result (and per check the
// harness made on that window's logs), which fails with the in-host error. A phase that could not run,
// timed out or ran zero tests adds a failing test saying so. So every in-host test counts once here.
import Mocha from 'mocha';
import { TOTAL_TIMEOUT_MS } from './harness/env';
import { phaseOutcome, plannedPhases, setup } from './harness/lanes';
import { TestResult } from './shared';

function testFor(r: TestResult): Mocha.Test {
  const test = new Mocha.Test(r.title, function (this: Mocha.Context) {
    if (r.state === 'pending') this.skip();
    if (r.state === 'failed') {
      const err = new Error(r.error ?? 'failed in the extension host (no error text)');
      err.stack = `${r.error ?? ''}\n    (from phase ${r.group}: the in-host suite, or the harness around it)`;
      throw err;
    }
  });
  test.duration = r.durationMs;
  return test;
}

for (const phase of plannedPhases()) {
  describe(`in-host ${phase}`, function () {
    before(async function () {
      this.timeout(TOTAL_TIMEOUT_MS);
      await setup();
      const { results } = await phaseOutcome(phase);
      const suite = this.test!.parent!;
      // The placeholder below only makes mocha run this suite's hooks; the phase's results replace it.
      suite.tests = [];
      for (const r of results) suite.addTest(testFor(r));
      if (!results.length)
        suite.addTest(
          testFor({
            group: phase,
            title: `phase "${phase}" ran tests`,
            state: 'failed',
            durationMs: 0,
            error: 'no result at all',
          }),
        );
    });
    it(`in-host phase "${phase}" (replaced by its results)`, () => {
      throw new Error('the phase results did not replace this placeholder');
    });
  });
}
