// How many rows a runs-list refresh asks for: every loaded page at once, never more than
// MAX_LISTED_RUNS, so the request and its look-ahead row stay under PostgREST's max-rows (1,000).
import * as assert from 'assert';
import { listLimit, MAX_LISTED_RUNS } from '../../src/data/backend';

describe('listLimit', () => {
  const cases: Array<[pageSize: number, pages: number, rows: number]> = [
    [20, 1, 20],
    [20, 3, 60],
    [20, 25, 500],
    [20, 50, 500],
    [200, 2, 400],
    [200, 3, 500],
    [200, 50, 500],
    [1, 0, 1],
    [0, 1, 1],
  ];
  for (const [pageSize, pages, rows] of cases)
    it(`${pages} page(s) of ${pageSize} → ${rows} rows`, () => assert.strictEqual(listLimit(pageSize, pages), rows));

  it('with the look-ahead row, the largest request stays under max-rows', () => {
    assert.ok(MAX_LISTED_RUNS + 1 <= 1000);
    assert.strictEqual(listLimit(200, 1_000), MAX_LISTED_RUNS);
  });
});
