// Text from the database is untrusted: it may be huge, contain control characters, Markdown,
// HTML or command links. Everything shown in the UI passes through these helpers.

const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** Coerces an untrusted value to a bounded single-line string, or null when absent. */
export function cleanText(value: unknown, maxLength = 500): string | null {
  if (value === null || value === undefined) return null;
  let s: string;
  if (typeof value === 'string') s = value;
  else if (typeof value === 'number' || typeof value === 'boolean') s = String(value);
  else return null;
  s = s.replace(CONTROL, '').replace(/\s+/g, ' ').trim();
  return truncate(s, maxLength);
}

/** Cuts to maxLength with an ellipsis, never splitting a surrogate pair. */
function truncate(s: string, maxLength: number): string {
  if (s.length <= maxLength) return s;
  const cut = /[\uD800-\uDBFF]/.test(s[maxLength - 2] ?? '') ? maxLength - 2 : maxLength - 1;
  return `${s.slice(0, Math.max(0, cut))}…`;
}

/** Like cleanText but keeps line breaks (for error messages shown in documents). */
export function cleanMultiline(value: unknown, maxLength = 20_000): string | null {
  if (typeof value !== 'string') return cleanText(value, maxLength);
  const s = value.replace(CONTROL, '').replace(/\r\n?/g, '\n').trim();
  return truncate(s, maxLength);
}

/**
 * Escapes text for a Markdown string so it renders literally: every ASCII punctuation character is
 * backslash-escaped (CommonMark allows that for all of them), which neutralises links, command
 * links, autolinks, emphasis, HTML tags and entity references. Line breaks become spaces.
 */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\r\n\u2028\u2029]+/g, ' ').replace(/[!-/:-@[-`{-~]/g, '\\$&');
}

/** Parses an untrusted timestamp; null for anything that is not a real date. */
export function parseTimestamp(value: unknown): Date | null {
  if (typeof value !== 'string' && typeof value !== 'number') return null;
  const d = new Date(value);
  return Number.isFinite(d.getTime()) ? d : null;
}

/** Parses an untrusted finite number (numbers or numeric strings); null otherwise. */
export function parseNumber(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'string' && value.trim() !== '' && /^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(value.trim())) {
    const n = Number(value);
    return Number.isFinite(n) ? n : null;
  }
  return null;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Text for a notification (showInformationMessage and friends), which plain-text everything except
 * `[label](https:… | command:… | file:…)`, which it turns into a link. Database text must not become
 * a link (above all a command link), so a zero-width space goes between `]` and `(`: it reads the
 * same and no longer matches the link syntax.
 */
export function notificationText(text: string): string {
  return text.replace(/\]\(/g, ']\u200b(');
}

/**
 * Text for a quick pick's label, description or placeholder: they render `$(name)` as an icon, so a
 * database or workspace string could dress itself up as one; a zero-width space after the `$` keeps it
 * literal.
 */
export function pickText(text: string): string {
  return text.replace(/\$\(/g, '$\u200b(');
}
