import * as assert from 'node:assert/strict';
import {
  cleanMultiline,
  cleanText,
  escapeMarkdown,
  isRecord,
  parseNumber,
  parseTimestamp,
  pickText,
} from '../../src/domain/text';
import { findUnescaped, HOSTILE_TEXTS } from './helpers';

describe('text: findUnescaped (the checker itself)', () => {
  const cases: { name: string; input: string; expected: string | null }[] = [
    { name: 'plain words are fine', input: 'hello world 42', expected: null },
    { name: 'escaped bracket is fine', input: '\\[x\\]', expected: null },
    { name: 'bare bracket is caught', input: 'a[b', expected: '[' },
    { name: 'escaped backslash then bare paren is caught', input: '\\\\(', expected: '(' },
    { name: 'lone trailing backslash is caught', input: 'abc\\', expected: '\\' },
    { name: 'backslash before a letter is caught', input: '\\a', expected: '\\' },
    { name: 'line feed is caught', input: 'a\nb', expected: '\n' },
    { name: 'colon is caught', input: 'command:x', expected: ':' },
    { name: 'ampersand is caught', input: 'a&b', expected: '&' },
  ];
  for (const c of cases) {
    it(c.name, () => assert.equal(findUnescaped(c.input)?.char ?? null, c.expected));
  }
});

describe('text: escapeMarkdown', () => {
  const specials = [
    '[',
    ']',
    '(',
    ')',
    '<',
    '>',
    '*',
    '_',
    '`',
    ':',
    '&',
    '!',
    '#',
    '|',
    '~',
    '\\',
    '"',
    "'",
    '.',
    '-',
    '+',
    '=',
    '{',
    '}',
  ];
  const cases: { name: string; input: string }[] = [
    ...HOSTILE_TEXTS.map((t) => ({ name: `hostile: ${JSON.stringify(t).slice(0, 60)}`, input: t })),
    ...specials.map((ch) => ({ name: `single ${JSON.stringify(ch)}`, input: `a${ch}b${ch}${ch}` })),
    {
      name: 'every ASCII printable character',
      input: Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join(''),
    },
    { name: 'CRLF, CR, LF and blank lines', input: 'a\r\n\r\nb\rc\n\nd' },
  ];
  for (const c of cases) {
    it(`leaves nothing unescaped and no line break — ${c.name}`, () => {
      const out = escapeMarkdown(c.input);
      assert.equal(findUnescaped(out), null, `unescaped in ${JSON.stringify(out)}`);
      assert.ok(!/[\r\n]/.test(out));
    });
  }

  const exact: { name: string; input: string; expected: string }[] = [
    { name: 'command link', input: '[x](command:a)', expected: '\\[x\\]\\(command\\:a\\)' },
    { name: 'html', input: '<b>', expected: '\\<b\\>' },
    { name: 'entity', input: '&amp;', expected: '\\&amp\\;' },
    { name: 'newlines become one space each run', input: 'a\r\n\nb', expected: 'a b' },
    { name: 'letters, digits and non-ASCII untouched', input: 'abc 123 é 日本', expected: 'abc 123 é 日本' },
  ];
  for (const c of exact) {
    it(`exact: ${c.name}`, () => assert.equal(escapeMarkdown(c.input), c.expected));
  }
});

describe('text: cleanText', () => {
  const cases: { name: string; input: unknown; max?: number; expected: string | null }[] = [
    { name: 'null', input: null, expected: null },
    { name: 'undefined', input: undefined, expected: null },
    { name: 'object', input: { toString: () => 'x' }, expected: null },
    { name: 'array', input: ['a'], expected: null },
    { name: 'number', input: 42, expected: '42' },
    { name: 'boolean', input: false, expected: 'false' },
    { name: 'trims and collapses whitespace', input: '  a \t\n b  ', expected: 'a b' },
    { name: 'CRLF and unicode line separators collapse', input: 'a\r\nb\u2028c\u2029d', expected: 'a b c d' },
    {
      name: 'C0/C1 control characters removed',
      input: 'a\u0000b\u0007c\u001bd\u007fe\u0085f\u009fg',
      expected: 'abcdefg',
    },
    { name: 'bidi overrides and isolates removed', input: 'x\u202Ey\u202Az\u2066w\u2069v\u202Du', expected: 'xyzwvu' },
    { name: 'ANSI escape loses its ESC', input: '\u001b[31mred', expected: '[31mred' },
    { name: 'empty string stays empty', input: '', expected: '' },
    { name: 'truncates with an ellipsis', input: 'abcdef', max: 4, expected: 'abc…' },
    { name: 'exact length is not truncated', input: 'abcd', max: 4, expected: 'abcd' },
  ];
  for (const c of cases) {
    it(c.name, () => assert.equal(cleanText(c.input, c.max), c.expected));
  }

  it('bounds a 10,000-character string to the limit', () => {
    const out = cleanText('x'.repeat(10_000), 200);
    assert.equal(out?.length, 200);
    assert.ok(out?.endsWith('…'));
  });

  it('bounds a 1 MB string quickly (default limit 500)', () => {
    const t0 = Date.now();
    const out = cleanText('ab\n\u202e'.repeat(250_000));
    assert.ok(Date.now() - t0 < 500);
    assert.equal(out?.length, 500);
    assert.ok(!/[\n\u202e]/.test(out ?? ''));
  });

  it('never leaves a lone surrogate when truncating astral characters', () => {
    for (const max of [2, 3, 4, 5, 10, 11]) {
      const out = cleanText('😀'.repeat(100), max) ?? '';
      assert.ok(out.length <= max, `length ${out.length} > ${max}`);
      assert.ok(
        !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(out),
        `lone surrogate for max=${max}: ${JSON.stringify(out)}`,
      );
    }
  });
});

describe('text: cleanMultiline', () => {
  const cases: { name: string; input: unknown; max?: number; expected: string | null }[] = [
    { name: 'keeps LF', input: 'a\nb', expected: 'a\nb' },
    { name: 'normalises CRLF and CR', input: 'a\r\nb\rc', expected: 'a\nb\nc' },
    { name: 'removes control and bidi characters', input: 'a\u0000\u202eb\u001b', expected: 'ab' },
    { name: 'non-string number falls back to cleanText', input: 12, expected: '12' },
    { name: 'object is null', input: { a: 1 }, expected: null },
    { name: 'null', input: null, expected: null },
    { name: 'truncates', input: 'abcdef', max: 3, expected: 'ab…' },
  ];
  for (const c of cases) {
    it(c.name, () => assert.equal(cleanMultiline(c.input, c.max), c.expected));
  }
});

describe('text: parseTimestamp', () => {
  const cases: { name: string; input: unknown; expected: number | null }[] = [
    {
      name: 'ISO with offset',
      input: '2026-02-15T13:25:26.330+00:00',
      expected: Date.UTC(2026, 1, 15, 13, 25, 26, 330),
    },
    { name: 'ISO Z', input: '2026-02-15T13:25:26Z', expected: Date.UTC(2026, 1, 15, 13, 25, 26) },
    { name: 'epoch number', input: 1000, expected: 1000 },
    { name: 'garbage string', input: 'yesterday-ish', expected: null },
    { name: 'empty string', input: '', expected: null },
    { name: 'NaN', input: NaN, expected: null },
    { name: 'object', input: { at: '2026-01-01' }, expected: null },
    { name: 'null', input: null, expected: null },
    { name: 'boolean', input: true, expected: null },
  ];
  for (const c of cases) {
    it(c.name, () => assert.equal(parseTimestamp(c.input)?.getTime() ?? null, c.expected));
  }
});

describe('text: parseNumber', () => {
  const cases: { name: string; input: unknown; expected: number | null }[] = [
    { name: 'integer', input: 5, expected: 5 },
    { name: 'float', input: 3.2, expected: 3.2 },
    { name: 'numeric string', input: '45000', expected: 45000 },
    { name: 'numeric string with spaces', input: ' 12.5 ', expected: 12.5 },
    { name: 'negative string', input: '-3', expected: -3 },
    { name: 'exponent string', input: '1e3', expected: 1000 },
    { name: 'overflowing exponent string', input: '1e400', expected: null },
    { name: 'Infinity', input: Infinity, expected: null },
    { name: 'NaN', input: NaN, expected: null },
    { name: 'hex string', input: '0x10', expected: null },
    { name: 'empty string', input: '', expected: null },
    { name: 'words', input: '12 apples', expected: null },
    { name: 'object', input: { v: 1 }, expected: null },
    { name: 'boolean', input: true, expected: null },
    { name: 'null', input: null, expected: null },
  ];
  for (const c of cases) {
    it(c.name, () => assert.equal(parseNumber(c.input), c.expected));
  }

  it('rejects a 1 MB digit string with a trailing letter quickly', () => {
    const t0 = Date.now();
    assert.equal(parseNumber(`${'9'.repeat(1_000_000)}x`), null);
    assert.ok(Date.now() - t0 < 500);
  });
});

describe('text: isRecord', () => {
  const cases: { name: string; input: unknown; expected: boolean }[] = [
    { name: 'object', input: {}, expected: true },
    { name: 'array', input: [], expected: false },
    { name: 'null', input: null, expected: false },
    { name: 'string', input: 'x', expected: false },
  ];
  for (const c of cases) {
    it(c.name, () => assert.equal(isRecord(c.input), c.expected));
  }
});

describe('pickText (quick-pick labels render $(icon))', () => {
  it('keeps $(name) literal, whatever the text around it', () => {
    assert.equal(pickText('$(alert) GATE'), '$\u200b(alert) GATE');
    assert.equal(pickText('a$(x)b$(y)'), 'a$\u200b(x)b$\u200b(y)');
    assert.ok(!/\$\(/.test(pickText('$($($(')), 'no $( left');
  });
  it('leaves other text alone', () => {
    assert.equal(pickText('scripts/gates/x.js:12'), 'scripts/gates/x.js:12');
    assert.equal(pickText('$ (not an icon)'), '$ (not an icon)');
  });
});
