// Repository check, run by `npm run lint` (it reads every source and runs @vscode/l10n-dev, seconds, so it
// is not a unit test): the l10n bundle is complete and current: every message passed to vscode.l10n.t or
// to the pure modules' seam t (src/domain/l10n.ts) is a key of l10n/bundle.l10n.json, and the bundle is
// exactly what `npm run l10n` writes. The seam itself is tested in test/unit/l10n.test.ts.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { BUNDLE, buildBundle, REPO, SEAM_CALL, SEAM_IMPORT, sourceFiles } from '../../devkit/l10nBundle';

interface Call {
  file: string;
  line: number;
  /** The message when the first argument is a plain string literal, else null. */
  message: string | null;
  source: string;
}

/** Reads a string literal at `s[i]` (a quote); null when it is not a plain literal (a template with ${}, a concatenation). */
function literalAt(s: string, i: number): string | null {
  const q = s[i];
  if (q !== "'" && q !== '"' && q !== '`') return null;
  let out = '';
  for (let j = i + 1; j < s.length; j++) {
    const c = s[j];
    if (c === '\\') {
      const n = s[++j];
      out += n === 'n' ? '\n' : n === 't' ? '\t' : n;
      continue;
    }
    if (q === '`' && c === '$' && s[j + 1] === '{') return null;
    if (c === q) {
      const after = s.slice(j + 1).match(/^\s*([,)+])/);
      return after && after[1] !== '+' ? out : null;
    }
    out += c;
  }
  return null;
}

/** Every l10n call in src/ (vscode.l10n.t, and the seam t in files that import it), found without l10n-dev. */
function l10nCalls(): Call[] {
  const calls: Call[] = [];
  for (const file of sourceFiles()) {
    // The one call that passes the seam's messages on to vscode.l10n.t.
    if (file === path.join(REPO, 'src', 'ui', 'l10n.ts')) continue;
    const src = fs.readFileSync(file, 'utf8');
    const patterns = [/\bl10n\.t\(/g];
    if (SEAM_IMPORT.test(src)) patterns.push(new RegExp(SEAM_CALL.source, 'g'));
    for (const re of patterns) {
      for (const m of src.matchAll(re)) {
        const start = m.index + m[0].length;
        const argStart = start + (/^\s*/.exec(src.slice(start))?.[0].length ?? 0);
        calls.push({
          file: path.relative(REPO, file),
          line: src.slice(0, m.index).split('\n').length,
          message: literalAt(src, argStart),
          source: src.slice(m.index, m.index + 80).replace(/\s+/g, ' '),
        });
      }
    }
  }
  return calls;
}

describe('l10n: the bundle', function () {
  this.timeout(60_000);
  const bundle = JSON.parse(fs.readFileSync(BUNDLE, 'utf8')) as Record<string, string>;
  const calls = l10nCalls();

  it('finds the calls it checks (vscode.l10n.t in the UI and the seam t in src/domain)', () => {
    assert.ok(calls.length > 200, `only ${calls.length} calls found`);
    assert.ok(calls.some((c) => c.file.startsWith('src/domain/') && c.message === '1 finding'));
    assert.ok(calls.some((c) => c.file.startsWith('src/ui/') && c.message === "Don't Show Again"));
    assert.ok(calls.some((c) => c.file === 'src/data/errors.ts'));
  });

  it('every message is a string literal (l10n-dev cannot extract anything else)', () => {
    const bad = calls.filter((c) => c.message === null).map((c) => `${c.file}:${c.line}: ${c.source}`);
    assert.deepStrictEqual(bad, []);
  });

  it('every message in src/ is in l10n/bundle.l10n.json (run `npm run l10n` when this fails)', () => {
    const missing = calls
      .filter((c) => c.message !== null && !(c.message in bundle))
      .map((c) => `${c.file}:${c.line}: ${JSON.stringify(c.message)}`);
    assert.deepStrictEqual(missing, []);
  });

  it('the bundle is exactly what `npm run l10n` writes from the current sources (nothing stale, nothing extra)', async () => {
    assert.deepStrictEqual(bundle, await buildBundle());
  });

  it('every entry is its own English text, and each key is a call in src/', () => {
    const used = new Set(calls.map((c) => c.message));
    for (const [k, v] of Object.entries(bundle)) {
      assert.strictEqual(v, k);
      assert.ok(used.has(k), `${JSON.stringify(k)} is in the bundle but no call uses it`);
    }
  });

  it('package.json points VS Code at the bundle and the VSIX ships it', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { l10n?: string };
    assert.strictEqual(pkg.l10n, './l10n');
    const ignore = fs.readFileSync(path.join(REPO, '.vscodeignore'), 'utf8').split('\n');
    assert.ok(ignore.includes('!l10n/bundle.l10n.json'), '.vscodeignore lets l10n/bundle.l10n.json into the VSIX');
  });
});
