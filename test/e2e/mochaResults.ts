// A mocha reporter that hands each finished test to a callback as a TestResult, and nothing else:
// it prints nothing and never exits the process (it runs inside the extension host too).
import Mocha from 'mocha';
import { TestResult, describeError } from './shared';

export interface ResultSink {
  onResult(r: TestResult): void;
  onEnd?(): void;
}

export function collectingReporter(group: string, sink: ResultSink): typeof Mocha.reporters.Base {
  return class CollectingReporter extends Mocha.reporters.Base {
    constructor(runner: Mocha.Runner, options?: Mocha.MochaOptions) {
      super(runner, options);
      const title = (t: Mocha.Runnable) => t.titlePath().join(' › ');
      const { EVENT_TEST_PASS, EVENT_TEST_FAIL, EVENT_TEST_PENDING, EVENT_RUN_END } = Mocha.Runner.constants;
      runner.on(EVENT_TEST_PASS, (t) =>
        sink.onResult({ group, title: title(t), state: 'passed', durationMs: t.duration ?? 0 }),
      );
      // A failing hook arrives here too, titled '"before all" hook …', so it counts as a failure.
      runner.on(EVENT_TEST_FAIL, (t, err) =>
        sink.onResult({
          group,
          title: title(t),
          state: 'failed',
          durationMs: t.duration ?? 0,
          error: describeError(err),
        }),
      );
      runner.on(EVENT_TEST_PENDING, (t) => sink.onResult({ group, title: title(t), state: 'pending', durationMs: 0 }));
      runner.once(EVENT_RUN_END, () => sink.onEnd?.());
    }
  };
}
