// Shared helpers for the unit tests (no test cases here).
import type { Bottleneck } from '../../src/domain/run';

/** ASCII punctuation: every character CommonMark lets a backslash escape. */
const ASCII_PUNCT = /[!-/:-@[-`{-~]/;

/**
 * Returns the first unescaped Markdown-significant character in `s` (with its index), or null.
 * A backslash escapes exactly the next character; a backslash that escapes nothing (end of string,
 * or followed by a non-punctuation character) counts as unescaped itself.
 * Line breaks (CR, LF) count as violations too: escaped text must stay on one line.
 */
export function findUnescaped(s: string): { index: number; char: string } | null {
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '\r' || c === '\n') return { index: i, char: c };
    if (c === '\\') {
      const next = s[i + 1];
      if (next !== undefined && ASCII_PUNCT.test(next)) {
        i++;
        continue;
      }
      return { index: i, char: c };
    }
    if (ASCII_PUNCT.test(c)) return { index: i, char: c };
  }
  return null;
}

/** Hostile strings used across the parsing tests. */
export const HOSTILE_TEXTS: readonly string[] = [
  '[x](command:workbench.action.quit)',
  '[click](command:ehgTelemetry.clearCredentials?%5B%5D "title")',
  '<img src=x onerror=alert(1)>',
  '<script>alert(1)</script>',
  '**bold** __bold__ *it* _it_',
  'https://evil.example/path?a=1&b=2',
  '<https://evil.example>',
  'www.evil.example',
  'mail me: evil@evil.example',
  '&amp; &lt; &#x3C; &#60;',
  '`code` ```fence```',
  '![img](https://evil.example/x.png)',
  '[ref]: https://evil.example',
  '# heading\n---\n> quote\n- list',
  'a\\[b\\](c)', // already "escaped" by an attacker
  'trailing backslash \\',
  '| table | cell |',
  '~~strike~~ $math$ ^sup^',
  'line1\r\nline2\rline3\nline4',
];

export function isoAt(ms: number): string {
  return new Date(ms).toISOString();
}

export const b64url = (s: string): string => Buffer.from(s, 'utf8').toString('base64url');
/** An unsigned-looking JWT with the given payload (the signature is fixed junk). */
export const jwt = (payload: unknown, header: unknown = { alg: 'HS256', typ: 'JWT' }): string =>
  `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}.${b64url('signature-bytes-0123456789')}`;
export const SERVICE_JWT = jwt({
  iss: 'supabase',
  ref: 'abcd',
  role: 'service_role',
  iat: 1700000000,
  exp: 2000000000,
});
export const ANON_JWT = jwt({ iss: 'supabase', ref: 'abcd', role: 'anon', iat: 1700000000, exp: 2000000000 });

/** A bottleneck with ratio × a 1 s baseline (the comparison and completion-message tables). */
export function bn(type: string, key: string, ratio: number | null): Bottleneck {
  return {
    dimensionType: type,
    dimensionKey: key,
    observedP50Ms: ratio === null ? null : ratio * 1000,
    baselineP50Ms: 1000,
    ratio,
    sampleCount: 5,
    exceedanceCount: 3,
    evidenceTraceIds: [],
    improvementId: null,
  };
}
