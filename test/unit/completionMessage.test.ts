// The completion notification of a run this window started: its wording, which new bottlenecks it
// names (worst first, at most MAX_NAMED_NEW), what it says when none are new or nothing was compared,
// and that database text in it stays plain text (a notification turns [label](command:…) into a link).
import * as assert from 'node:assert/strict';
import {
  completionMessage,
  FinishedRun,
  MAX_NAMED_NEW,
  wantsCompletionNotice,
} from '../../src/domain/completionMessage';
import { setTranslate } from '../../src/domain/l10n';
import { Bottleneck } from '../../src/domain/run';
import { ComparableRun, compareRuns, RunComparison } from '../../src/domain/runComparison';
import { notificationText } from '../../src/domain/text';
import { bn, HOSTILE_TEXTS } from './helpers';

/** VS Code's own link syntax in notification messages (src/vs/base/common/linkedText.ts). */
const NOTIFICATION_LINK = /\[([^\]]+)\]\(((?:https?:\/\/|command:|file:)[^)\s]+)(?: (["'])(.+?)(\3))?\)/gi;

const prev = (bottlenecks: Bottleneck[], over: Partial<ComparableRun> = {}): ComparableRun => ({
  runId: 'prev',
  finishedAt: new Date('2026-02-01T00:00:00Z'),
  bottlenecks,
  insufficientData: false,
  ...over,
});
const run = (over: Partial<FinishedRun> = {}): FinishedRun => ({
  status: 'SUCCEEDED',
  findingsCount: 3,
  topBottleneckCategory: 'gate',
  errorClass: null,
  ...over,
});

const A = bn('gate', 'GATE_PRD_REQUIRED', 3.24);
const B = bn('phase', 'LEAD', 2);
const C = bn('subagent', 'TESTING', 1.55);
const D = bn('gate', 'GATE_X', 1.2);
const E = bn('phase', 'EXEC', 1.1);

describe('completionMessage: what a finished run of this window says', () => {
  afterEach(() => setTranslate(undefined));

  const cases: Array<[string, FinishedRun, RunComparison | null, string]> = [
    [
      'one new bottleneck among known ones is named with its ratio',
      run(),
      compareRuns([A, B], prev([B])),
      'EHG Telemetry: analysis finished with 3 findings (worst: gate); new since the previous run: gate:GATE_PRD_REQUIRED 3.2×.',
    ],
    [
      'several new ones: worst first, as the run lists them',
      run(),
      compareRuns([A, B, C], prev([])),
      'EHG Telemetry: analysis finished with 3 findings (worst: gate); new since the previous run: gate:GATE_PRD_REQUIRED 3.2×, phase:LEAD 2.0×, subagent:TESTING 1.6×.',
    ],
    [
      `more than ${MAX_NAMED_NEW} new: the first ${MAX_NAMED_NEW} named, the rest counted`,
      run({ findingsCount: 5 }),
      compareRuns([A, B, C, D, E], prev([bn('gate', 'OLD', 2)])),
      'EHG Telemetry: analysis finished with 5 findings (worst: gate); new since the previous run: gate:GATE_PRD_REQUIRED 3.2×, phase:LEAD 2.0×, subagent:TESTING 1.6× and 2 more.',
    ],
    [
      'worse, better and unchanged ones are not "new"',
      run({ findingsCount: 3 }),
      compareRuns([A, B, C], prev([bn('gate', 'GATE_PRD_REQUIRED', 1.5), bn('phase', 'LEAD', 3), C])),
      'EHG Telemetry: analysis finished with 3 findings (worst: gate); no new bottlenecks since the previous run.',
    ],
    [
      'none new, no category: says so without the worst',
      run({ topBottleneckCategory: null, findingsCount: 1 }),
      compareRuns([A], prev([A])),
      'EHG Telemetry: analysis finished with 1 finding; no new bottlenecks since the previous run.',
    ],
    [
      'new ones, no category',
      run({ topBottleneckCategory: null, findingsCount: 1 }),
      compareRuns([A], prev([])),
      'EHG Telemetry: analysis finished with 1 finding; new since the previous run: gate:GATE_PRD_REQUIRED 3.2×.',
    ],
    [
      'the first run of its scope claims nothing about what is new',
      run(),
      compareRuns([A], null),
      'EHG Telemetry: analysis finished with 3 findings (worst: gate).',
    ],
    [
      'not compared (the request failed): nothing about what is new',
      run({ topBottleneckCategory: null, findingsCount: 2 }),
      null,
      'EHG Telemetry: analysis finished with 2 findings.',
    ],
    [
      'an unknown ratio reads ?×',
      run(),
      compareRuns([bn('gate', 'G', null)], prev([])),
      'EHG Telemetry: analysis finished with 3 findings (worst: gate); new since the previous run: gate:G ?×.',
    ],
    [
      'failed, with its error class',
      run({ status: 'FAILED', errorClass: 'DatabaseError' }),
      null,
      'EHG Telemetry: analysis run failed (DatabaseError).',
    ],
    ['failed, no error class', run({ status: 'FAILED' }), null, 'EHG Telemetry: analysis run failed.'],
    [
      'timed out: never a comparison',
      run({ status: 'TIMED_OUT', errorClass: 'TimeoutError' }),
      compareRuns([A], prev([])),
      'EHG Telemetry: analysis run timed out (TimeoutError).',
    ],
    ['timed out, no error class', run({ status: 'TIMED_OUT' }), null, 'EHG Telemetry: analysis run timed out.'],
  ];
  for (const [name, r, c, expected] of cases) it(name, () => assert.equal(completionMessage(r, c), expected));

  it('each shape is one whole message for translators (no spliced fragments)', () => {
    const seen: string[] = [];
    setTranslate((m, ...a) => {
      seen.push(m);
      return `«${m}»(${a.join('|')})`;
    });
    const text = completionMessage(run(), compareRuns([A], prev([])));
    assert.equal(
      seen.at(-1),
      'EHG Telemetry: analysis finished with {0} (worst: {1}); new since the previous run: {2}.',
    );
    assert.ok(text.startsWith('«EHG Telemetry: analysis finished with {0} (worst: {1}); new since'), text);
  });

  it('which runs are worth a notification: findings, failures and timeouts only', () => {
    assert.equal(wantsCompletionNotice({ status: 'SUCCEEDED', findingsCount: 2 }), true);
    assert.equal(wantsCompletionNotice({ status: 'SUCCEEDED', findingsCount: 0 }), false);
    assert.equal(wantsCompletionNotice({ status: 'SUCCEEDED', findingsCount: null }), false);
    assert.equal(wantsCompletionNotice({ status: 'FAILED', findingsCount: null }), true);
    assert.equal(wantsCompletionNotice({ status: 'TIMED_OUT', findingsCount: null }), true);
    assert.equal(wantsCompletionNotice({ status: 'CANCELLED', findingsCount: null }), false);
  });
});

describe('completionMessage: hostile database text stays plain text', () => {
  for (const hostile of HOSTILE_TEXTS) {
    it(`key, category and error class ${JSON.stringify(hostile).slice(0, 50)}`, () => {
      const texts = [
        completionMessage(run({ topBottleneckCategory: hostile }), compareRuns([bn('gate', hostile, 2)], prev([]))),
        completionMessage(run({ topBottleneckCategory: null }), compareRuns([bn(hostile, 'k', 2)], prev([]))),
        completionMessage(run({ status: 'FAILED', errorClass: hostile }), null),
        completionMessage(run({ status: 'TIMED_OUT', errorClass: hostile }), null),
      ];
      for (const text of texts) {
        assert.deepEqual(
          [...text.matchAll(NOTIFICATION_LINK)].map((m) => m[0]),
          [],
          text,
        );
        assert.ok(!/[\r\n]/.test(text), `one line: ${JSON.stringify(text)}`);
      }
    });
  }

  it('the link syntax is recognised before it is neutralised (the check above can fail)', () => {
    const link = '[x](command:workbench.action.quit)';
    assert.equal([...link.matchAll(NOTIFICATION_LINK)].length, 1);
    assert.equal([...notificationText(link).matchAll(NOTIFICATION_LINK)].length, 0);
    // It still reads the same (a zero-width space between "]" and "(").
    assert.equal(notificationText(link).replace(/\u200b/g, ''), link);
  });

  it('a very long key is cut, and a placeholder in it is not filled in', () => {
    const text = completionMessage(run(), compareRuns([bn('gate', `{0}{1}{2}${'k'.repeat(5000)}`, 2)], prev([])));
    assert.ok(text.length < 400, `${text.length} characters`);
    assert.ok(text.includes('gate:{0}{1}{2}kkk'), text);
  });
});
