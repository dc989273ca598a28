// Guards the two rules for text the user sees (issue 12):
//  - every notification goes through src/ui/notify.ts, which applies notificationText (database or
//    server text must not become a command link), so src/ calls no vscode.window.show*Message itself;
//  - the notification helpers, and the prompt / placeHolder / title of input boxes, quick picks and
//    progress, get an l10n call (vscode.l10n.t or the seam t), never a bare English literal.
// The scanner reads the source as text; it is checked against violating snippets below, so it can fail.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { REPO, sourceFiles } from '../../devkit/l10nBundle';

const HELPER = path.join(REPO, 'src', 'ui', 'notify.ts');

/** A call of notify.ts's helpers: which argument is the message. */
const HELPER_CALLS: Array<{ re: RegExp; arg: number }> = [
  { re: /(?<![\w.$])(?:info|warn|error|warnModal|warnWithDetail)\(/g, arg: 0 },
  { re: /(?<![\w.$])notify\(/g, arg: 1 },
  // NotificationPrefs.show(kind, severity, text, ...actions), which calls notify.
  { re: /\bprefs\??\.show\(/g, arg: 2 },
];
/** Option keys whose value the user reads: showInputBox / showQuickPick / withProgress. */
const OPTION_KEYS = /\b(prompt|placeHolder|title)\s*:\s*/g;
/** vscode.window.show{Information,Warning,Error}Message, called or referenced (`const show = …`). */
const DIRECT_SHOW = /\bwindow\s*\.\s*show(?:Information|Warning|Error)Message\b/g;
/** A string or template literal that starts with a letter: English words, not an l10n call. */
const BARE_LITERAL = /^(['"`])[A-Za-z]/;

/** The source with comment lines blanked (same line numbers), so prose about the APIs is not flagged. */
function withoutComments(source: string): string {
  return source
    .split('\n')
    .map((line) => (/^\s*(\/\/|\/\*|\*)/.test(line) ? '' : line))
    .join('\n');
}

/** The start of the `n`th top-level argument of the call whose `(` is just before `from`; -1 if none. */
function argumentStart(s: string, from: number, n: number): number {
  let depth = 0;
  let index = 0;
  let start = from;
  for (let i = from; i < s.length; i++) {
    const c = s[i];
    if (c === "'" || c === '"' || c === '`') {
      // Skip the literal (a template's ${…} is skipped with it; good enough to find commas).
      for (i++; i < s.length && s[i] !== c; i++) if (s[i] === '\\') i++;
      continue;
    }
    if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') {
      if (depth === 0) return index === n && /\S/.test(s.slice(start, i)) ? skipSpace(s, start) : -1;
      depth--;
    } else if (c === ',' && depth === 0) {
      if (index === n) return skipSpace(s, start);
      index++;
      start = i + 1;
    }
  }
  return -1;
}

function skipSpace(s: string, i: number): number {
  while (i < s.length && /\s/.test(s[i])) i++;
  return i;
}

function lineOf(s: string, index: number): number {
  return s.slice(0, index).split('\n').length;
}

/** The rule violations in one file's source, as `file:line: what`. */
export function userStringViolations(source: string, file: string): string[] {
  const s = withoutComments(source);
  const out: string[] = [];
  const bare = (at: number) => BARE_LITERAL.test(s.slice(at, at + 2));
  for (const m of s.matchAll(DIRECT_SHOW))
    out.push(
      `${file}:${lineOf(s, m.index)}: ${m[0].replace(/\s+/g, '')} outside src/ui/notify.ts (use info/warn/error)`,
    );
  for (const { re, arg } of HELPER_CALLS) {
    for (const m of s.matchAll(new RegExp(re.source, 'g'))) {
      const at = argumentStart(s, m.index + m[0].length, arg);
      if (at >= 0 && bare(at))
        out.push(
          `${file}:${lineOf(s, at)}: ${m[0]}… is given a bare literal, not an l10n call: ${s.slice(at, at + 40).replace(/\s+/g, ' ')}`,
        );
    }
  }
  for (const m of s.matchAll(OPTION_KEYS)) {
    const at = m.index + m[0].length;
    if (bare(at))
      out.push(
        `${file}:${lineOf(s, at)}: ${m[1]}: is a bare literal, not an l10n call: ${s.slice(at, at + 40).replace(/\s+/g, ' ')}`,
      );
  }
  return out;
}

describe('user-facing strings: notifications through notify.ts, words through l10n', () => {
  it('src/ calls no vscode.window.show*Message outside notify.ts, and gives no bare literal to the helpers or to prompt/placeHolder/title', () => {
    const files = sourceFiles().filter((f) => f !== HELPER);
    assert.ok(
      files.some((f) => f.endsWith(path.join('ui', 'commands', 'runs.ts'))),
      'the commands (ui/commands/) are scanned',
    );
    const bad = files.flatMap((f) => userStringViolations(fs.readFileSync(f, 'utf8'), path.relative(REPO, f)));
    assert.deepStrictEqual(bad, []);
  });

  it('notify.ts is where the show*Message calls are (the scan excludes exactly that file)', () => {
    const src = fs.readFileSync(HELPER, 'utf8');
    assert.strictEqual([...withoutComments(src).matchAll(DIRECT_SHOW)].length, 4);
    assert.match(src, /notificationText\(text\)/);
    assert.match(src, /notificationText\(options\.detail\)/);
  });

  describe('the scanner finds violations (so the test above can fail)', () => {
    const cases: Array<[string, string, number]> = [
      ['a direct call', "void vscode.window.showInformationMessage(vscode.l10n.t('Hi'));", 1],
      ['a direct call split over lines', "void vscode.window\n  .showErrorMessage(vscode.l10n.t('Hi'), 'OK');", 1],
      ['a reference', 'const show = vscode.window.showWarningMessage;', 1],
      ['a bare literal to info', "void info('EHG Telemetry: done.');", 1],
      ['a bare template to warn', 'void warn(`EHG Telemetry: ${x} failed`, showLog);', 1],
      ['a bare literal to warnModal', "await warnModal('Remove it?', detail, clear);", 1],
      ['a bare literal as the text of notify', "void notify('warning', 'Something broke');", 1],
      ['a bare literal to prefs.show', "void this.prefs.show('runFailed', 'warning', 'Run failed', showLabel);", 1],
      ['a bare prompt', "showInputBox({ prompt: 'URL of the project' })", 1],
      ['a bare placeHolder', 'showQuickPick(items, { placeHolder: "Which run?" })', 1],
      ['a bare template title', 'withProgress({ location, title: `EHG Telemetry: testing ${o}…` }, f)', 1],
      ['several at once', "info('a');\nwarn('b');\nx({ title: 'c' });", 3],
    ];
    for (const [name, snippet, n] of cases)
      it(name, () => {
        const found = userStringViolations(snippet, 'snippet.ts');
        assert.strictEqual(found.length, n, found.join('\n'));
      });

    const fine: Array<[string, string]> = [
      ['l10n calls', "void info(vscode.l10n.t('EHG Telemetry: done.'), vscode.l10n.t('Show'));"],
      ['the seam', "void warn(t('Could not load runs'));"],
      ['a variable', 'void error(text, showLog);\nwarnModal(message, detail, action);'],
      ['notify with an l10n call', "void notify(severity, vscode.l10n.t('Done'), showLabel);"],
      [
        'options with l10n calls and a constant',
        "showInputBox({ title: vscode.l10n.t('T'), prompt: t('P'), placeHolder: EXAMPLE_URL })",
      ],
      ['a literal that is not words', "x({ title: '' }); info('$(check)');"],
      [
        'other methods of the same name',
        "d.log.error('Command failed', e); console.warn('x'); this.log.info('Backend reachable again.');",
      ],
      ['prose in comments', "// call vscode.window.showInformationMessage('x') through info()\n/* title: 'x' */"],
    ];
    for (const [name, snippet] of fine)
      it(`allows ${name}`, () => assert.deepStrictEqual(userStringViolations(snippet, 'snippet.ts'), []));
  });
});
