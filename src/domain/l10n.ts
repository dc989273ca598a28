// The translation seam for the pure modules (src/domain, src/data/errors.ts), which must not import
// vscode. They word their text with `t('literal {0}', value)`; at activation the UI installs
// `vscode.l10n.t` (src/ui/l10n.ts). Until then, and in unit tests, `t` is English with the same `{0}`
// substitution as `vscode.l10n.t`.
//
// The first argument must be a string literal: devkit/l10nBundle.ts collects these calls into
// l10n/bundle.l10n.json, and a unit test fails when the bundle is stale. Plural text is two whole
// messages (`n === 1 ? t('1 finding') : t('{0} findings', n)`), never a word added to a number.

export type Translate = (message: string, ...args: Array<string | number | boolean>) => string;

/** English: the message itself, with `{0}`, `{1}`… replaced by the arguments (unknown ones left as they are). */
export const english: Translate = (message, ...args) =>
  message.replace(/\{(\d+)\}/g, (match, index: string) => {
    const i = Number(index);
    return i < args.length ? String(args[i]) : match;
  });

// Kept on globalThis so the lazily loaded data bundle (dist/supabaseBackend.js, its own copy of this
// module) uses the translator the extension bundle installed.
const KEY = Symbol.for('ehg-telemetry.l10n.translate');
type Holder = { [KEY]?: Translate };

/** Installs the translator (undefined: back to English). Called once by the UI. */
export function setTranslate(fn: Translate | undefined): void {
  (globalThis as Holder)[KEY] = fn;
}

/** Translates a message (a string literal) and fills in its `{0}`… placeholders. */
export function t(message: string, ...args: Array<string | number | boolean>): string {
  return ((globalThis as Holder)[KEY] ?? english)(message, ...args);
}
