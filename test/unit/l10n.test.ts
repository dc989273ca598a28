// The l10n seam of the pure modules (src/domain/l10n.ts): its English default and the shape rules of
// messages. That the bundle is complete and current is a repository check of `npm run lint`
// (test/lint/l10nBundle.test.ts).
import * as assert from 'assert';
import { english, setTranslate, t } from '../../src/domain/l10n';
import { findingsText, tracesText } from '../../src/domain/format';

describe('l10n: the seam for the pure modules', () => {
  afterEach(() => setTranslate(undefined));

  const english_cases: Array<[string, Array<string | number | boolean>, string]> = [
    ['plain', [], 'plain'],
    ['{0} findings', [3], '3 findings'],
    ['{1} before {0}', ['a', 'b'], 'b before a'],
    ['{0} and {0}', ['x'], 'x and x'],
    ['missing {1}', ['only'], 'missing {1}'],
    ['{0}', [false], 'false'],
    // An argument is inserted as it is: a placeholder inside database text is not filled in again.
    ['{0}: {1}', ['key {1}', 'v'], 'key {1}: v'],
    ['{0}', ['$& $1 $$'], '$& $1 $$'],
  ];
  for (const [message, args, expected] of english_cases)
    it(`English: ${JSON.stringify(message)} with ${JSON.stringify(args)}`, () => {
      assert.strictEqual(english(message, ...args), expected);
      assert.strictEqual(t(message, ...args), expected);
    });

  it('uses the installed translator (as the UI installs vscode.l10n.t), and English again after reset', () => {
    setTranslate((m, ...a) => `<${m}|${a.join(',')}>`);
    assert.strictEqual(t('{0} findings', 3), '<{0} findings|3>');
    assert.strictEqual(findingsText(2), '<{0} findings|2>');
    setTranslate(undefined);
    assert.strictEqual(findingsText(2), '2 findings');
  });

  it('plural text is two whole messages, not a word added to a number', () => {
    const seen: string[] = [];
    setTranslate((m, ...a) => (seen.push(m), english(m, ...a)));
    assert.deepStrictEqual(
      [findingsText(0), findingsText(1), findingsText(2), tracesText(1), tracesText(12)],
      ['0 findings', '1 finding', '2 findings', '1 trace', '12 traces'],
    );
    assert.deepStrictEqual(seen, ['{0} findings', '1 finding', '{0} findings', '1 trace', '{0} traces']);
  });
});
