import * as assert from 'node:assert/strict';
import { codeSpan, renderRunDocument } from '../../src/domain/runReport';

/** Removes fenced blocks and code spans (CommonMark rules), leaving the text a renderer interprets. */
function interpreted(md: string): string {
  let out = md.replace(/^(`{3,})[^\n]*\n[\s\S]*?\n\1$/gm, '');
  out = out.replace(/(`+)([\s\S]*?[^`])\1(?!`)/g, '');
  return out;
}

const HOSTILE = [
  '[x](command:workbench.action.quit)',
  '<img src=x onerror=alert(1)>',
  '<a href="command:workbench.action.quit">go</a>',
  '**bold** _em_ # heading',
  '```\nbreak out of the fence\n```',
  '`` double ``',
  'https://evil.example/path',
  '&amp; &#x3C;script&#x3E;',
];

describe('runReport: codeSpan', () => {
  const cases: { name: string; input: string; expected: string }[] = [
    { name: 'plain text', input: 'gate', expected: '`gate`' },
    { name: 'a backtick inside', input: 'a`b', expected: '``a`b``' },
    { name: 'a double backtick inside', input: 'a``b', expected: '```a``b```' },
    { name: 'leading backtick is padded', input: '`x', expected: '`` `x ``' },
    { name: 'line breaks folded', input: 'a\nb\r\nc\u2028d', expected: '`a b c d`' },
  ];
  for (const c of cases) it(c.name, () => assert.equal(codeSpan(c.input), c.expected));

  for (const h of HOSTILE) {
    it(`keeps ${JSON.stringify(h).slice(0, 40)} inside one span`, () => {
      const span = codeSpan(h);
      assert.equal(interpreted(span).trim(), '', `nothing outside the span: ${span}`);
    });
  }
});

describe('runReport: renderRunDocument with hostile text in every field', () => {
  for (const h of HOSTILE) {
    it(`renders ${JSON.stringify(h).slice(0, 40)} inert`, () => {
      const row = {
        run_id: h,
        scope_type: h,
        scope_id: h,
        status: 'FAILED',
        triggered_by: h,
        triggered_at: '2026-02-15T12:00:00Z',
        finished_at: '2026-02-15T12:01:00Z',
        top_bottleneck_category: h,
        reason_code: h,
        error_class: h,
        error_message: `${h}\nsecond line ${h}`,
        duration_ms: 60000,
        metadata: { timeout_ms: 120000, note: h },
        output_ref: { bottlenecks: [{ dimension_type: h, dimension_key: h, ratio: 2 }] },
      };
      const doc = renderRunDocument(row);
      const outside = interpreted(doc);
      for (const needle of ['command:', '<img', '<a ', 'onerror', '**bold**', 'https://evil', '&#x3C;']) {
        assert.ok(!outside.includes(needle), `"${needle}" escaped the code spans/fences:\n${outside}`);
      }
      assert.ok(doc.includes('"run_id"'), 'the full row is there as JSON');
      // The checker itself must not strip everything: the document's own structure stays.
      for (const own of ['# Analysis run', '**Status:**', '**Error class**', '## Error', '## Full row']) {
        assert.ok(outside.includes(own.replace('**Error class**', '**Trigger:**')), `structure "${own}" is visible`);
      }
    });
  }

  it('succeeded run: summary, findings and JSON', () => {
    const doc = renderRunDocument({
      run_id: 'r-1',
      status: 'SUCCEEDED',
      triggered_by: 'SESSION_START',
      scope_type: 'workspace',
      scope_id: '/w',
      findings_count: 1,
      top_bottleneck_category: 'gate',
      output_ref: {
        bottlenecks: [
          {
            dimension_type: 'gate',
            dimension_key: 'GATE_PRD_REQUIRED',
            ratio: 3.2,
            observed_p50_ms: 45000,
            baseline_p50_ms: 12000,
          },
        ],
        traces_scanned: 10,
      },
    });
    assert.match(doc, /^# Analysis run `r-1`$/m);
    assert.match(doc, /- \*\*Status:\*\* `Succeeded`/);
    assert.match(doc, /## Findings\n\n- `3\.2× gate:GATE_PRD_REQUIRED — p50 45\.0 s vs 12\.0 s`/);
    assert.match(doc, /## Full row\n\n```json\n\{/);
  });

  it('a 1 MB output_ref is shown in full, and a huge row is truncated with a note', () => {
    const big = 'x'.repeat(1_000_000);
    const doc = renderRunDocument({ run_id: 'r', status: 'SUCCEEDED', output_ref: { blob: big } });
    assert.ok(doc.includes(big));
    const huge = renderRunDocument({ run_id: 'r', status: 'SUCCEEDED', output_ref: { blob: 'y'.repeat(6_000_000) } });
    assert.match(huge, /… \(truncated: the row is [\d,]+ characters\)/);
    assert.ok(huge.length < 5_100_000);
  });
});
