// Writes l10n/bundle.l10n.json: every message of the extension's code, as @vscode/l10n-dev finds
// them. l10n-dev sees `vscode.l10n.t('…')` calls; the pure modules call the seam `t('…')` of
// src/domain/l10n.ts instead (they must not import vscode), so their text is handed to the extractor
// with those calls spelled `l10n.t('…')` of '@vscode/l10n', which it understands.
//
// `npm run l10n` runs this; test/lint/l10nBundle.test.ts (part of `npm run lint`) fails when the committed bundle is stale.
import * as fs from 'fs';
import * as path from 'path';

/** The repository: the nearest folder above this file with a package.json (run from out/devkit or, transpiled
 * on the fly, from devkit/). */
export const REPO = (function repoRoot(dir: string): string {
  return fs.existsSync(path.join(dir, 'package.json')) || path.dirname(dir) === dir ? dir : repoRoot(path.dirname(dir));
})(path.dirname(__dirname));
export const BUNDLE = path.join(REPO, 'l10n', 'bundle.l10n.json');

/** Files that import the seam's `t` (from src/domain/l10n.ts). */
export const SEAM_IMPORT = /import\s*\{[^}]*\bt\b[^}]*\}\s*from\s*'(?:\.\.?\/)+(?:domain\/)?l10n';/;
/** A call of the seam's `t` (not a method such as `vscode.l10n.t`, not a longer name). */
export const SEAM_CALL = /(?<![\w.$])t\(/g;

/** Every .ts file of the extension (src/, without the webview, whose text comes from the extension). */
export function sourceFiles(dir = path.join(REPO, 'src')): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (p !== path.join(REPO, 'src', 'webview')) out.push(...sourceFiles(p));
    } else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(p);
  }
  return out.sort();
}

/** The source as l10n-dev should read it: seam calls become `l10n.t(` of '@vscode/l10n'. */
export function forExtractor(source: string): string {
  if (!SEAM_IMPORT.test(source)) return source;
  return `import * as l10n from '@vscode/l10n';\n${source.replace(SEAM_CALL, 'l10n.t(')}`;
}

/** The bundle for the current sources, keys sorted. */
export async function buildBundle(): Promise<Record<string, string>> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { getL10nJson } = require('@vscode/l10n-dev') as {
    getL10nJson: (files: Array<{ contents: string; extension: string }>) => Promise<Record<string, unknown>>;
  };
  const json = await getL10nJson(
    sourceFiles().map((f) => ({ contents: forExtractor(fs.readFileSync(f, 'utf8')), extension: '.ts' })),
  );
  const out: Record<string, string> = {};
  for (const k of Object.keys(json).sort()) {
    const v = json[k];
    // An entry with a translator comment is { message, comment }; these sources have none.
    const message = typeof v === 'string' ? v : (v as { message?: unknown }).message;
    out[k] = typeof message === 'string' ? message : k;
  }
  return out;
}

if (require.main === module) {
  void buildBundle().then((bundle) => {
    fs.mkdirSync(path.dirname(BUNDLE), { recursive: true });
    fs.writeFileSync(BUNDLE, `${JSON.stringify(bundle, null, 2)}\n`);
    console.log(`${path.relative(REPO, BUNDLE)}: ${Object.keys(bundle).length} messages`);
  });
}
