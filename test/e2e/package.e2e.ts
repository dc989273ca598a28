// The package checks: the production VSIX carries no test hook, and the scan that says so finds every
// one of them in the test build (so it can fail). Needs only the build outputs.
import * as assert from 'assert';
import * as fs from 'fs';
import { scanText, scanVsix, TEST_API_PATTERNS } from './bundleScan';
import { TEST_BUNDLE, VSIX } from './harness/env';

describe('package', () => {
  it('the production VSIX contains none of the test API names', () => {
    const { scanned, hits } = scanVsix(VSIX);
    for (const bundle of ['extension/dist/extension.js', 'extension/dist/app.js'])
      assert.ok(scanned.includes(bundle), `the VSIX holds ${bundle} (scanned: ${scanned.join(', ')})`);
    assert.deepStrictEqual(
      hits.map((h) => `${h.file}: ${h.name} in …${h.context}…`),
      [],
      'test-only names in the VSIX',
    );
  });

  it('the same scan finds every test API name in the test build (it can fail)', () => {
    const hits = scanText(TEST_BUNDLE, fs.readFileSync(TEST_BUNDLE, 'utf8'));
    const found = new Set(hits.map((h) => h.name));
    const missing = TEST_API_PATTERNS.map((p) => p.name).filter((n) => n !== '__EHG_TEST_HOOKS__' && !found.has(n));
    assert.deepStrictEqual(missing, [], `names the scan did not find in ${TEST_BUNDLE}`);
  });
});
