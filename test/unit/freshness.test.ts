import * as assert from 'node:assert/strict';
import { isStale } from '../../src/domain/freshness';
import { formatAge } from '../../src/domain/format';

describe('freshness: isStale', () => {
  const now = new Date('2026-02-15T12:00:00Z');
  const ago = (ms: number) => new Date(now.getTime() - ms);
  const cases: { name: string; loadedAt: Date | null; intervalMs: number; expected: boolean }[] = [
    { name: 'never loaded: nothing to call stale', loadedAt: null, intervalMs: 60_000, expected: false },
    { name: 'just loaded', loadedAt: ago(1_000), intervalMs: 60_000, expected: false },
    { name: 'within interval + slack', loadedAt: ago(74_000), intervalMs: 60_000, expected: false },
    { name: 'past interval + slack (backoff)', loadedAt: ago(76_000), intervalMs: 60_000, expected: true },
    { name: 'active interval is shorter', loadedAt: ago(30_000), intervalMs: 10_000, expected: true },
    {
      name: 'clock skew (loaded in the future)',
      loadedAt: new Date(now.getTime() + 60_000),
      intervalMs: 10_000,
      expected: false,
    },
  ];
  for (const c of cases) it(c.name, () => assert.equal(isStale(c.loadedAt, now, c.intervalMs), c.expected));
  it('the age the view shows for a 4-minute-old list', () => assert.equal(formatAge(ago(4 * 60_000), now), '4m ago'));
});
