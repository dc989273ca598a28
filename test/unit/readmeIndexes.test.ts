// The README's "Large tables" advice is the SQL the bench measures (scripts/bench/recommendedIndexes.ts):
// a reader who runs the README's statement gets the index whose figures the bench printed.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { RECOMMENDED_INDEX_SQL, RECOMMENDED_SCOPE_INDEX_SQL } from '../../devkit/recommendedIndexes';

const ROOT = path.resolve(__dirname, '..', '..');

function largeTablesSqlStatements(): string[] {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('### Large tables');
  assert.ok(start >= 0, 'README.md has no "### Large tables" section');
  const rest = readme.slice(readme.indexOf('\n', start));
  const next = rest.search(/^#{1,3} /m);
  const section = next >= 0 ? rest.slice(0, next) : rest;
  return [...section.matchAll(/```sql\n([\s\S]*?)```/g)].map((m) => m[1].trim().replace(/;$/, '').replace(/\s+/g, ' '));
}

describe('README: recommended indexes', () => {
  it('recommends exactly the indexes the bench measures, in the same words', () => {
    assert.deepStrictEqual(largeTablesSqlStatements(), [RECOMMENDED_INDEX_SQL, RECOMMENDED_SCOPE_INDEX_SQL]);
  });
});
